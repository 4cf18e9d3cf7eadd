//! `TestApp`: the application on a free port, over an instrumented store
//! (counts its calls, remembers captcha answers), with a recording SMS sender; and a
//! small HTTP/1.1 client that sends exactly the bytes a test writes.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use code_store::testing::InstrumentedStore;
use code_store::{MemoryConfig, MemoryStore, RedisConfig, RedisStore, SharedStore};
use passport_server::{Application, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use verify::{RecordingSender, SmsSender};

/// A fresh captcha id.
pub fn code_id(n: u32) -> String {
    format!("0b7d3c5e-8f7a-4c1e-9d2b-{n:012x}")
}

/// Captcha answers as the instrumented store saw them written.
pub trait Answers {
    /// The captcha answer last stored for `id`.
    fn answer(&self, id: &str) -> String;

    /// A typed text that cannot be the answer stored for `id`.
    fn wrong_answer(&self, id: &str) -> &'static str {
        if self.answer(id) == "XXXX" {
            "YYYY"
        } else {
            "XXXX"
        }
    }
}

impl Answers for InstrumentedStore {
    fn answer(&self, id: &str) -> String {
        self.last_put(&format!("ImageCode_{id}"))
            .unwrap_or_else(|| panic!("no captcha stored for {id}"))
    }
}

/// Which store the app runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Memory,
    /// A Redis at this URL, under a key prefix of the test's own.
    Redis {
        url: String,
        prefix: String,
    },
}

impl Backend {
    pub fn redis(url: &str, test: &str) -> Self {
        Backend::Redis {
            url: url.to_owned(),
            prefix: passport_testkit::unique_prefix(test),
        }
    }
}

/// Settings for tests: loopback, free ports, one worker, the repo's page.
pub fn test_settings() -> Settings {
    let mut s = Settings::defaults();
    s.server.host = "127.0.0.1".to_owned();
    s.server.port = 0;
    s.server.workers = 1;
    s.server.metrics_addr = "127.0.0.1:0".to_owned();
    s.server.static_dir = web_dir().to_string_lossy().into_owned();
    s
}

pub fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

pub struct TestApp {
    pub port: u16,
    pub metrics_port: Option<u16>,
    pub store: Arc<InstrumentedStore>,
    pub sender: Arc<RecordingSender>,
}

impl TestApp {
    /// The app on the memory store with default test settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(Backend::Memory, |_| {}).await
    }

    /// The app on `backend`, with `configure` applied to the test settings.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings();
        configure(&mut settings);
        let inner: SharedStore = match backend {
            Backend::Memory => Arc::new(MemoryStore::new(MemoryConfig {
                key_prefix: String::new(),
                ..settings.store.memory.clone()
            })),
            Backend::Redis { url, prefix } => Arc::new(
                RedisStore::new(RedisConfig {
                    url,
                    key_prefix: prefix,
                    ..RedisConfig::default()
                })
                .expect("redis store"),
            ),
        };
        Self::spawn_on(inner, settings).await
    }

    /// The app over `inner` (shared between apps when cloned).
    pub async fn spawn_on(inner: SharedStore, settings: Settings) -> Self {
        let store = Arc::new(InstrumentedStore::new(inner));
        let sender = Arc::new(RecordingSender::default());
        let app = Application::build_with(
            settings,
            Arc::clone(&store) as SharedStore,
            Arc::clone(&sender) as Arc<dyn SmsSender>,
        )
        .await
        .expect("app builds");
        let port = app.port();
        let metrics_port = app.metrics_port();
        tokio::spawn(app.run_until_stopped());
        Self {
            port,
            metrics_port,
            store,
            sender,
        }
    }

    pub fn request(&self, method: &str, target: &str) -> Request {
        Request::new(self.port, method, target)
    }

    pub async fn get(&self, target: &str) -> Response {
        self.request("GET", target).send().await
    }

    /// GET a captcha for `id`.
    pub async fn image_code(&self, id: &str) -> Response {
        self.get(&format!("/passport/image_code?code_id={id}"))
            .await
    }

    /// POST a JSON body to `path`.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        self.request("POST", path).json(body).send().await
    }

    /// POST /passport/sms_code.
    pub async fn sms_code(&self, mobile: &str, typed: &str, id: &str) -> Response {
        self.post_json(
            "/passport/sms_code",
            &serde_json::json!({ "mobile": mobile, "image_code": typed, "image_code_id": id }),
        )
        .await
    }

    /// A captcha for `id`, answered right for `mobile`.
    pub async fn captcha_then_sms(&self, mobile: &str, id: &str) -> Response {
        let image = self.image_code(id).await;
        assert_eq!(image.status, 200, "captcha for {id}: {}", image.text());
        let answer = self.store.answer(id);
        self.sms_code(mobile, &answer, id).await
    }

    /// The last SMS code sent to `mobile`.
    pub fn last_code(&self, mobile: &str) -> String {
        self.sender
            .sent()
            .iter()
            .rev()
            .find(|m| m.mobile.as_str() == mobile)
            .map(|m| m.code.as_str().to_owned())
            .unwrap_or_else(|| panic!("no SMS sent to {mobile}"))
    }
}

/// One request, written by hand.
pub struct Request {
    port: u16,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    pub fn new(port: u16, method: &str, target: &str) -> Self {
        Self {
            port,
            method: method.to_owned(),
            target: target.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Self {
        if let Some(ct) = content_type {
            self = self.header("Content-Type", ct);
        }
        self.body = body.into();
        self
    }

    pub fn json(self, value: &serde_json::Value) -> Self {
        self.body(Some("application/json"), value.to_string())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
            self.method, self.target
        );
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    pub async fn send(self) -> Response {
        send_raw(self.port, &self.to_bytes()).await
    }

    /// Sends from `source` (any 127/8 address on loopback) instead of
    /// 127.0.0.1: another client, as the server counts clients.
    pub async fn send_from(self, source: Ipv4Addr) -> Response {
        let stream = connect_from(source, self.port).await;
        exchange(stream, &self.to_bytes()).await
    }
}

/// A connection to the app on `port` from the loopback address `source`.
pub async fn connect_from(source: Ipv4Addr, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((source, 0)))
        .unwrap_or_else(|e| panic!("bind {source}: {e}"));
    socket
        .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .expect("connect")
}

/// Writes `raw` and reads the answer until the server closes. Writing and
/// reading run together: the server may answer (and close) before it has
/// read a large request.
pub async fn send_raw(port: u16, raw: &[u8]) -> Response {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    exchange(stream, raw).await
}

/// Writes `raw` on `stream` and reads until the server closes.
async fn exchange(stream: TcpStream, raw: &[u8]) -> Response {
    let (mut reader, mut writer) = stream.into_split();
    let raw = raw.to_vec();
    let write = async move {
        // A refusal mid-request shows in the answer, not here.
        let _ = writer.write_all(&raw).await;
        let _ = writer.flush().await;
        writer
    };
    let read = async move {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf
    };
    let (_writer, buf) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(write, read) })
            .await
            .expect("the server answers within 30 s");
    Response::parse(&buf)
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// An answer as read off the wire; status 0 when there is no head.
    pub fn parse(buf: &[u8]) -> Self {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            // No answer at all (connection closed or reset): status 0.
            return Self {
                status: 0,
                headers: Vec::new(),
                body: buf.to_vec(),
            };
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = buf[end + 4..].to_vec();
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
        if chunked {
            body = dechunk(&body);
        }
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): status {} body {:?}",
                self.status,
                self.text()
            )
        })
    }

    /// The body's errno; the body must be exactly `{"errno", "errmsg"}`.
    pub fn errno(&self) -> String {
        let json = self.json();
        let object = json.as_object().expect("a JSON object");
        assert_eq!(object.len(), 2, "only errno and errmsg: {json}");
        assert!(object["errmsg"].is_string(), "{json}");
        object["errno"]
            .as_str()
            .expect("errno is a string")
            .to_owned()
    }

    pub fn errmsg(&self) -> String {
        self.json()["errmsg"].as_str().expect("errmsg").to_owned()
    }

    /// Asserts the contract's JSON error: this status and errno.
    #[track_caller]
    pub fn assert_error(&self, status: u16, errno: &str) {
        assert_eq!(
            (self.status, self.errno().as_str()),
            (status, errno),
            "body: {}",
            self.text()
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
    out
}
