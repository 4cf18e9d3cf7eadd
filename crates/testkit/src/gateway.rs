//! A fake SMS gateway: an HTTP/1.1 server on `127.0.0.1:0` that records
//! every request (method, target, headers, body) and answers from a script
//! or a handler. Plain HTTP over a socket, so a suite of any crate can point
//! a sender at it and the test kit depends on no crate of ours.
//!
//! ```no_run
//! # async fn demo() {
//! use passport_testkit::{Answer, FakeGateway};
//!
//! // A refusal, then 200 for every later request.
//! let gateway = FakeGateway::start([Answer::status(500)]).await;
//! let url = gateway.url("/sms");
//! // ... send through a sender configured with `url`, then:
//! let requests = gateway.requests();
//! # drop((url, requests));
//! # }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request as the gateway received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `POST`, as sent.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased (a repeated header keeps its last value).
    pub headers: HashMap<String, String>,
    /// The body's bytes (`Content-Length` of them).
    pub body: Vec<u8>,
}

impl Request {
    /// The header `name` (lower case), or `""`.
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).cloned().unwrap_or_default()
    }
}

/// How the gateway answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    hang: bool,
}

impl Answer {
    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            hang: false,
        }
    }

    /// `status` with a JSON body (`Content-Type: application/json`).
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            body: body.into().into_bytes(),
            ..Self::status(status)
        }
        .header("Content-Type", "application/json")
    }

    /// Reads the request and never answers: the connection stays open until
    /// the client gives up and closes it.
    pub fn hang() -> Self {
        Self {
            hang: true,
            ..Self::status(0)
        }
    }

    /// The same answer with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The same answer, sent `delay` after the request has been read.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// The fake gateway. It serves until the test's tokio runtime ends.
#[derive(Debug, Clone)]
pub struct FakeGateway {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeGateway {
    /// Answers requests with `script` in order, then `200` to the rest.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(script: impl IntoIterator<Item = Answer>) -> Self {
        let script = Mutex::new(script.into_iter().collect::<Vec<_>>().into_iter());
        Self::answering(move |_| lock(&script).next().unwrap_or(Answer::status(200))).await
    }

    /// Answers every request with what `handler` makes of it.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn answering(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&recorded), Arc::clone(&handler)));
            }
        });
        Self { addr, requests }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path_and_query>`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// Every request received so far, in order. A request is recorded before
    /// it is answered, so once a client has its answer the request is here.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked leaves plain data behind.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves requests on one connection until it closes.
async fn serve(stream: TcpStream, recorded: Arc<Mutex<Vec<Request>>>, handler: Arc<Handler>) {
    let mut stream = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let answer = handler(&request);
        lock(&recorded).push(request);
        if answer.hang {
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
            return;
        }
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
        for (name, value) in &answer.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", answer.body.len()));
        let out = stream.get_mut();
        if out.write_all(head.as_bytes()).await.is_err()
            || out.write_all(&answer.body).await.is_err()
        {
            return;
        }
    }
}

/// One request off the connection; `None` when it closes or what arrives
/// is not HTTP/1.1 (a TLS handshake, say).
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `request` on a fresh connection and returns the whole answer.
    async fn exchange(gateway: &FakeGateway, request: &str) -> String {
        let mut stream = TcpStream::connect(gateway.addr()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    const POST: &str =
        "POST /sms?t=1 HTTP/1.1\r\nHost: x\r\nX-Key: Abc\r\nContent-Length: 4\r\n\r\nbody";

    #[tokio::test]
    async fn records_the_request_and_follows_the_script_then_200() {
        let gateway =
            FakeGateway::start([Answer::status(302).header("Location", "/elsewhere")]).await;
        let first = exchange(&gateway, POST).await;
        assert!(first.starts_with("HTTP/1.1 302 "), "{first}");
        assert!(first.contains("Location: /elsewhere\r\n"), "{first}");
        assert!(exchange(&gateway, POST).await.starts_with("HTTP/1.1 200 "));
        let requests = gateway.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].target, "/sms?t=1");
        assert_eq!(requests[0].header("x-key"), "Abc");
        assert_eq!(requests[0].body, b"body");
        assert_eq!(
            gateway.url("/a"),
            format!("http://127.0.0.1:{}/a", gateway.port())
        );
    }

    #[tokio::test]
    async fn a_json_answer_carries_its_body_and_type() {
        let gateway =
            FakeGateway::answering(|r| Answer::json(400, format!("{{\"len\":{}}}", r.body.len())))
                .await;
        let answer = exchange(&gateway, POST).await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(
            answer.contains("Content-Type: application/json\r\n"),
            "{answer}"
        );
        assert!(answer.ends_with("\r\n\r\n{\"len\":4}"), "{answer}");
    }

    #[tokio::test]
    async fn a_delayed_answer_waits_and_a_hang_never_answers() {
        let gateway = FakeGateway::start([
            Answer::status(201).after(Duration::from_millis(200)),
            Answer::hang(),
        ])
        .await;
        let started = std::time::Instant::now();
        let answer = exchange(&gateway, POST).await;
        assert!(answer.starts_with("HTTP/1.1 201 "), "{answer}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(exchange(&gateway, POST).await, "", "closed unanswered");
        assert_eq!(gateway.requests().len(), 2);
    }
}
