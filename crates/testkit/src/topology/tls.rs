//! A `redis-server` that speaks only TLS, with the test CAs it is checked against.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{Guarded, Scratch, Wire, common_args, free_port_pairs, wait_until};

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

/// A certificate `<name>.crt` / `<name>.key` in `dir` for `127.0.0.1` and
/// `localhost`, signed by the CA `<ca>.crt`. Usable by a server and by a
/// client alike: Cluster nodes, replicas and Sentinels connect to one
/// another as TLS clients and show the same certificate then.
fn make_node_certificate(dir: &Path, name: &str, ca: &str) {
    let (key, csr, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
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
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join(&ext),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
         extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap_or_else(|e| panic!("cannot write {ext}: {e}"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
    );
}

/// The CA (`ca.crt`), an unrelated CA (`wrong-ca.crt`) and a node
/// certificate signed by the first (`server.crt` / `server.key`), in `dir`.
pub(super) fn make_certificates(dir: &Path) {
    make_ca(dir, "ca");
    make_ca(dir, "wrong-ca");
    make_node_certificate(dir, "server", "ca");
}

/// [`make_certificates`], and a second CA (`data-ca.crt`) signing a
/// certificate for the data nodes (`data.crt` / `data.key`), and a file
/// trusting both CAs (`both-cas.crt`): a Sentinel topology whose Sentinels
/// and data nodes show certificates of different CAs.
pub(super) fn make_split_certificates(dir: &Path) {
    make_certificates(dir);
    make_ca(dir, "data-ca");
    make_node_certificate(dir, "data", "data-ca");
    let mut both = std::fs::read(dir.join("ca.crt")).expect("read ca.crt");
    both.extend(std::fs::read(dir.join("data-ca.crt")).expect("read data-ca.crt"));
    std::fs::write(dir.join("both-cas.crt"), both).expect("write both-cas.crt");
}

/// The arguments of a server that listens on `port` for TLS only, showing
/// `<certificate>.crt` and trusting the CAs in `trust`, all files in `dir`.
/// Clients may show a certificate (it is then checked) or none: the
/// nodes show theirs to one another, the store shows none.
pub(super) fn tls_args(port: u16, dir: &Path, certificate: &str, trust: &str) -> Vec<String> {
    let mut args = common_args(port, dir);
    // `--port 0` after the common `--port`: the last one wins, so only
    // the TLS port listens.
    for (k, v) in [
        ("--port", "0".to_owned()),
        ("--tls-port", port.to_string()),
        (
            "--tls-cert-file",
            dir.join(format!("{certificate}.crt")).display().to_string(),
        ),
        (
            "--tls-key-file",
            dir.join(format!("{certificate}.key")).display().to_string(),
        ),
        ("--tls-ca-cert-file", dir.join(trust).display().to_string()),
        ("--tls-auth-clients", "optional".to_owned()),
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
        let server = Guarded::spawn(port, &tls_args(port, dir, "server", "ca.crt"));
        let wire = Wire::Tls {
            ca: dir.join("ca.crt"),
        };
        wait_until("the TLS redis-server", || wire.pings(port));
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
