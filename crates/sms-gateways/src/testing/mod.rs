//! Stand-in providers (feature `test-util`), for this crate's tests and for
//! any suite that sends through a real gateway configuration: an HTTP/1.1
//! server on `127.0.0.1:0` per provider that re-derives the signature of
//! every request from what came over the wire, checks the fields against
//! the gateway's configuration, and answers with that provider's documented
//! success and error bodies (each cited beside it).
//!
//! ```no_run
//! # #[cfg(feature = "tencent")]
//! # async fn demo(mut config: sms_gateways::tencent::TencentConfig) {
//! use sms_gateways::testing::{self, Provider};
//!
//! // `config` as the sender will use it; the stand-in holds the true key.
//! let provider = Provider::start(testing::tencent(&config)).await;
//! config.endpoint = provider.endpoint();
//! // ... send through a sender built from `config`, then:
//! let sent = provider.sent();
//! # }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use verify::{MobileRule, SendError, SmsCode, SmsMessage, SmsSender};

#[cfg(feature = "aliyun")]
mod aliyun;
#[cfg(feature = "tencent")]
mod tencent;
#[cfg(feature = "twilio")]
mod twilio;
#[cfg(feature = "yuntongxun")]
mod yuntongxun;

#[cfg(feature = "aliyun")]
pub use aliyun::aliyun;
#[cfg(feature = "tencent")]
pub use tencent::tencent;
#[cfg(feature = "twilio")]
pub use twilio::twilio;
#[cfg(feature = "yuntongxun")]
pub use yuntongxun::yuntongxun;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST`.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// The header `name` (lower case), or `""`.
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).cloned().unwrap_or_default()
    }
}

/// What the provider accepted: the number as it arrived and the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The recipient in the provider's own form (`+8613812345678` ...).
    pub to: String,
    /// The code the message carries.
    pub code: String,
}

/// How the stand-in answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status and JSON body; nothing accepted.
    Json(u16, String),
    /// Status and JSON body of an accepted message, which is recorded.
    Accepted(u16, String, Sent),
    /// Reads the request and never answers.
    Hang,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A stand-in provider on `127.0.0.1:0`. It serves until the test's runtime
/// ends.
#[derive(Debug)]
pub struct Provider {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Provider {
    /// Binds a free loopback port and answers every request with `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (recorded, accepted) = (Arc::clone(&requests), Arc::clone(&sent));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Log {
                    requests: Arc::clone(&recorded),
                    sent: Arc::clone(&accepted),
                };
                tokio::spawn(serve(stream, log, Arc::clone(&handler)));
            }
        });
        Self {
            addr,
            requests,
            sent,
        }
    }

    /// `http://127.0.0.1:<port>`, the `endpoint` to configure.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.sent).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A handler that panicked leaves plain data behind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Log {
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

async fn serve(stream: TcpStream, log: Log, handler: Arc<Handler>) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let reply = handler(&request);
        lock(&log.requests).push(request);
        let (status, body) = match reply {
            Reply::Json(status, body) => (status, body),
            Reply::Accepted(status, body, sent) => {
                lock(&log.sent).push(sent);
                (status, body)
            }
            Reply::Hang => {
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
                return;
            }
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let out = stream.get_mut();
        if out.write_all(head.as_bytes()).await.is_err()
            || out.write_all(body.as_bytes()).await.is_err()
        {
            return;
        }
    }
}

async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let len: usize = headers
        .get("content-length")
        .map_or(Some(0), |v| v.parse().ok())?;
    let mut body = vec![0; len];
    stream.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// The message the sender tests send: `13812345678`, code `042042`,
/// 5 minutes.
pub fn message() -> SmsMessage {
    SmsMessage {
        mobile: MobileRule::default()
            .parse("13812345678")
            .expect("a mainland number"),
        code: SmsCode::parse("042042").expect("six digits"),
        ttl: Duration::from_secs(300),
        id: "7d1f3c52-8a4b-4e61-9f0a-2b3c4d5e6f70".to_owned(),
    }
}

/// Sends [`message`] through `sender`, which must fail, and returns why.
pub async fn send_error(sender: &dyn SmsSender) -> SendError {
    sender
        .send(&message())
        .await
        .expect_err("the send must fail")
}

/// An `endpoint` whose port was bound a moment ago and is closed now.
pub async fn closed_endpoint() -> String {
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port")
        .local_addr()
        .expect("bound address");
    format!("http://{addr}")
}
