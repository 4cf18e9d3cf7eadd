//! A graceful stop lets the request in flight finish.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use code_store::{MemoryConfig, MemoryStore, SharedStore};
use passport_server::Application;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use verify::{SendError, SmsMessage, SmsSender};

use crate::helpers::{Answers, Request, code_id, test_settings};
use code_store::testing::InstrumentedStore;

/// Tells the test a send has begun, then waits until the test opens the gate.
#[derive(Debug)]
struct GatedSender {
    entered: mpsc::UnboundedSender<()>,
    gate: Arc<Notify>,
}

#[async_trait]
impl SmsSender for GatedSender {
    async fn send(&self, _message: &SmsMessage) -> Result<(), SendError> {
        let _ = self.entered.send(());
        self.gate.notified().await;
        Ok(())
    }
}

#[tokio::test]
async fn a_graceful_stop_lets_the_request_in_flight_finish() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let gate = Arc::new(Notify::new());
    let sender = Arc::new(GatedSender {
        entered: entered_tx,
        gate: Arc::clone(&gate),
    });
    let store = Arc::new(InstrumentedStore::new(Arc::new(MemoryStore::new(
        MemoryConfig::default(),
    ))));
    let app = Application::build_with(test_settings(), Arc::clone(&store) as SharedStore, sender)
        .await
        .unwrap();
    let port = app.port();
    let stop = app.stop_handle();
    let running = tokio::spawn(app.run_until_stopped());

    let id = code_id(1);
    let image = Request::new(port, "GET", &format!("/passport/image_code?code_id={id}"))
        .send()
        .await;
    assert_eq!(image.status, 200);
    let body = serde_json::json!({"mobile": "13800138000", "image_code": store.answer(&id), "image_code_id": id});
    let in_flight = tokio::spawn(
        Request::new(port, "POST", "/passport/sms_code")
            .json(&body)
            .send(),
    );

    entered.recv().await.expect("the send began");
    let stopping = tokio::spawn({
        let stop = stop.clone();
        async move { stop.stop(true).await }
    });
    // The stop has begun once the listener refuses connections; the request
    // is still waiting at the gate then.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener never closed");
        // Polling for the listener to close, each turn re-checks.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!in_flight.is_finished());
    gate.notify_one();

    let response = in_flight.await.unwrap();
    assert_eq!((response.status, response.errno().as_str()), (200, "0"));
    stopping.await.unwrap();
    running.await.unwrap().expect("the server stopped cleanly");
}
