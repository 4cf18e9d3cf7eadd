//! A `redis-server` that speaks only TLS, with the test CAs it is checked against.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{Guarded, Scratch, common_args, free_port_pairs, wait_until};

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl not runnable ({e}); install it"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed test CA `<name>.crt` / `<name>.key` in `dir`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=Passport test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// The CA (`ca.crt`), an unrelated CA (`wrong-ca.crt`) and a server certificate for
/// `127.0.0.1` and `localhost` signed by the first (`server.crt` / `server.key`), in `dir`.
fn make_certificates(dir: &Path) {
    make_ca(dir, "ca");
    make_ca(dir, "wrong-ca");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write server.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// The arguments of a server that listens on `port` for TLS only, with the certificates
/// [`make_certificates`] wrote in `dir`.
fn tls_args(port: u16, dir: &Path) -> Vec<String> {
    let mut args = common_args(port, dir);
    // `--port 0` after the common `--port`: the last one wins, so only
    // the TLS port listens.
    for (k, v) in [
        ("--port", "0".to_owned()),
        ("--tls-port", port.to_string()),
        (
            "--tls-cert-file",
            dir.join("server.crt").display().to_string(),
        ),
        (
            "--tls-key-file",
            dir.join("server.key").display().to_string(),
        ),
        (
            "--tls-ca-cert-file",
            dir.join("ca.crt").display().to_string(),
        ),
        ("--tls-auth-clients", "no".to_owned()),
    ] {
        args.push(k.to_owned());
        args.push(v);
    }
    args
}

/// A `redis-server` that speaks only TLS, with a certificate for
/// `127.0.0.1` and `localhost` signed by a CA made for it; killed on drop.
#[derive(Debug)]
pub struct TlsRedisServer {
    server: Guarded,
    scratch: Scratch,
}

impl TlsRedisServer {
    /// Makes a CA, a server certificate and a second, unrelated CA, and
    /// starts the server on a free port.
    ///
    /// # Panics
    /// When `openssl` or a TLS-capable `redis-server` is missing, or the
    /// server does not come up.
    pub fn start() -> Self {
        let scratch = Scratch::new("tls");
        let dir = scratch.path();
        make_certificates(dir);
        let port = free_port_pairs(1)[0];
        let args = tls_args(port, dir);
        let server = Guarded::spawn(port, &args);
        let ca = dir.join("ca.crt");
        wait_until("the TLS redis-server", || {
            Command::new("redis-cli")
                .args(["--tls", "--cacert"])
                .arg(&ca)
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "PING"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG")
                .unwrap_or(false)
        });
        Self { server, scratch }
    }

    /// `rediss://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.server.port)
    }

    /// The TLS port.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.scratch.path().join("ca.crt")
    }

    /// The PEM file of a CA that did not sign it: a client trusting only
    /// this one must refuse the server.
    pub fn wrong_ca_file(&self) -> PathBuf {
        self.scratch.path().join("wrong-ca.crt")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_server_answers_with_its_ca_only() {
        let tls = TlsRedisServer::start();
        let ping = |ca: &Path| {
            Command::new("redis-cli")
                .args(["--tls", "--cacert"])
                .arg(ca)
                .args(["-h", "127.0.0.1", "-p", &tls.port().to_string(), "PING"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG")
                .unwrap_or(false)
        };
        assert!(ping(&tls.ca_file()));
        assert!(!ping(&tls.wrong_ca_file()));
        assert!(tls.url().starts_with("rediss://"));
    }
}
