//! A provider stand-in for the sender tests: an HTTP/1.1 server on
//! 127.0.0.1:0 that records each request and answers it with a handler, so
//! each gateway's test can re-derive the signature of what came over the
//! wire and answer with the provider's documented bodies.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use verify::{MobileRule, SmsCode, SmsMessage};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) target: String,
    /// Names lower-cased.
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
}

/// How the stand-in answers.
pub(crate) enum Reply {
    /// Status and JSON body.
    Json(u16, String),
    /// Reads the request and never answers.
    Hang,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub(crate) struct Provider {
    pub(crate) addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Provider {
    pub(crate) async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let handler: Arc<Handler> = Arc::new(handler);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (recorded, handler) = (Arc::clone(&recorded), Arc::clone(&handler));
                tokio::spawn(serve(stream, recorded, handler));
            }
        });
        Self { addr, requests }
    }

    /// `http://127.0.0.1:<port>`, the `endpoint` to configure.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(stream: TcpStream, recorded: Arc<Mutex<Vec<Request>>>, handler: Arc<Handler>) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
        }
        let len: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; len];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let request = Request {
            method,
            target,
            headers,
            body,
        };
        let reply = handler(&request);
        recorded.lock().unwrap().push(request);
        match reply {
            Reply::Json(status, body) => {
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
            Reply::Hang => {
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
                return;
            }
        }
    }
}

/// The message every sender test sends.
pub(crate) fn message() -> SmsMessage {
    SmsMessage {
        mobile: MobileRule::default().parse("13812345678").unwrap(),
        code: SmsCode::parse("042042").unwrap(),
        ttl: Duration::from_secs(300),
        id: "7d1f3c52-8a4b-4e61-9f0a-2b3c4d5e6f70".to_owned(),
    }
}

/// A port that was bound a moment ago and is closed now.
pub(crate) async fn closed_endpoint() -> String {
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    format!("http://{addr}")
}
