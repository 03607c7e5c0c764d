//! A moto server (the AWS emulator) on 127.0.0.1, one per caller, stopped on drop, behind the
//! strict-AWS layer ([`crate::strict`]): [`Emulator::endpoint_url`] and [`Emulator::aws_env`]
//! point at the layer, [`Emulator::moto_url`] at moto itself (for seeding and moto-api calls).
//! `ELB_WATCH_STRICT=off` (or [`Emulator::start_with`]`(StrictConfig::off())`) leaves the
//! layer out.
//!
//! Needs `scripts/emulator.sh setup` to have made `.venv` (or `ELB_WATCH_MOTO_SERVER` pointing at
//! a `moto_server` executable). Each emulator has its own state, so tests run in parallel.

use crate::cbor_bridge::CborBridge;
use crate::strict::{BackgroundProxy, StrictConfig, StrictProxy};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Credentials and region the emulator accepts (any values work; these are conventional).
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

pub struct Emulator {
    child: Child,
    port: u16,
    recording: PathBuf,
    /// The strict layer in front of moto (`None` when switched off).
    strict: Option<BackgroundProxy>,
    /// In front of everything else: the SDK's CloudWatch RPC v2 CBOR → moto's JSON 1.0.
    bridge: Option<CborBridge>,
}

/// One AWS API request the emulator received while recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    /// Signing name from the Authorization header: `kms`, `iam`, `lambda`, `monitoring`, …
    pub service: String,
    /// `Encrypt`, `DescribeAlarms`, … ; for REST services (Lambda) `METHOD /path`.
    pub action: String,
    pub method: String,
}

impl RecordedCall {
    pub fn is_mutating(&self) -> bool {
        if let Some((method, _)) = self.action.split_once(' ') {
            return method != "GET" && method != "HEAD";
        }
        // KMS Decrypt reads; it changes nothing.
        self.action != "Decrypt"
            && !["Describe", "Get", "List"]
                .iter()
                .any(|p| self.action.starts_with(p))
    }
}

pub fn moto_server_path() -> PathBuf {
    std::env::var_os("ELB_WATCH_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join(".venv/bin/moto_server"))
}

/// The command that starts moto's server: `scripts/moto_server.py` (moto with the harness's
/// corrections, e.g. NLB ARNs named `net/` as on AWS) on the Python of the venv that holds
/// `moto_server`. Takes `moto_server`'s arguments.
pub fn moto_command() -> Command {
    let mut cmd = Command::new(moto_server_path().with_file_name("python"));
    cmd.arg(crate::repo_root().join("scripts/moto_server.py"));
    cmd
}

/// The port in the line the server logs once it listens (`* Running on http://127.0.0.1:PORT`).
fn listening_port(line: &str) -> Option<u16> {
    let rest = line.split("Running on http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Starts moto on a port the kernel picks (`-p 0`) and reads which from its log. Picking a
/// free port first and handing it over raced: between the probe socket's close and moto's bind,
/// a parallel test could pick the same port, and its readiness probe would then be answered by
/// the other test's moto (seen in CI as a `DuplicateTargetGroupName` on a fresh emulator).
/// stderr is drained for the server's lifetime (moto logs every request there).
fn spawn_moto(recording: &std::path::Path) -> Result<(Child, u16)> {
    let mut child = moto_command()
        .args(["-H", "127.0.0.1", "-p", "0"])
        .env("MOTO_RECORDER_FILEPATH", recording)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", moto_server_path().display()))?;
    let stderr = child.stderr.take().context("moto's stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = listening_port(&line)
                && let Some(t) = tx.take()
            {
                let _ = t.send(port);
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(port) => Ok((child, port)),
        Err(_) => {
            let _ = child.kill();
            bail!("moto_server did not say which port it listens on within 20 s")
        }
    }
}

impl Emulator {
    /// Start a fresh emulator on a free port and wait until it answers (≤ 20 s), behind the
    /// strict layer configured by [`StrictConfig::from_env`] (all rules on by default).
    pub fn start() -> Result<Self> {
        Self::start_with(StrictConfig::from_env())
    }

    /// [`Emulator::start`] with an explicit strict-layer configuration.
    pub fn start_with(config: StrictConfig) -> Result<Self> {
        let mut emu = Self::start_moto()?;
        if config.enabled {
            emu.strict = Some(BackgroundProxy::start(&emu.moto_url(), config)?);
        }
        // Every client (SDK, CLI) goes through the CBOR bridge first; it translates CloudWatch
        // RPC v2 CBOR and forwards everything else unchanged.
        emu.bridge = Some(CborBridge::start(&emu.strict_or_moto_url())?);
        Ok(emu)
    }

    fn start_moto() -> Result<Self> {
        let server = moto_server_path();
        if !server.exists() {
            bail!(
                "{} not found: run `scripts/emulator.sh setup` first (it installs moto[server] \
                 into .venv)",
                server.display()
            );
        }
        let mut last_err = None;
        for _ in 0..3 {
            static STARTED: AtomicUsize = AtomicUsize::new(0);
            let recording = std::env::temp_dir().join(format!(
                "elb-watch-moto-{}-{}.jsonl",
                std::process::id(),
                STARTED.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_file(&recording);
            let (child, port) = spawn_moto(&recording)?;
            let mut emu = Emulator {
                child,
                port,
                recording,
                strict: None,
                bridge: None,
            };
            match emu.wait_ready(Duration::from_secs(20)) {
                Ok(()) => return Ok(emu),
                Err(e) => {
                    let _ = emu.child.kill();
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap())
    }

    fn wait_ready(&mut self, within: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto_server exited early ({status})");
            }
            if let Ok((200, _)) = self.http("GET", "/moto-api/data.json") {
                return Ok(());
            }
            if start.elapsed() > within {
                bail!(
                    "moto_server did not answer on port {} within {within:?}",
                    self.port
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// moto's own port (the strict layer listens elsewhere).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// For `--endpoint-url` / `AWS_ENDPOINT_URL`: the chain SDK → CBOR bridge → strict layer →
    /// moto (the bridge translates CloudWatch RPC v2 CBOR to JSON 1.0 and forwards the rest).
    pub fn endpoint_url(&self) -> String {
        match &self.bridge {
            Some(bridge) => bridge.url().to_string(),
            None => self.strict_or_moto_url(),
        }
    }

    /// What the bridge forwards to: the strict layer, or moto when it is off.
    fn strict_or_moto_url(&self) -> String {
        match &self.strict {
            Some(s) => s.proxy().endpoint_url(),
            None => self.moto_url(),
        }
    }

    /// The CBOR bridge (translation counts; credentials to re-sign with under IAM enforcement).
    pub fn cbor_bridge(&self) -> Option<&CborBridge> {
        self.bridge.as_ref()
    }

    /// moto itself, bypassing the strict layer: for seeding topologies and moto-api calls.
    pub fn moto_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The strict layer in front of moto, when on (its configuration and statistics).
    pub fn strict(&self) -> Option<&StrictProxy> {
        self.strict.as_ref().map(BackgroundProxy::proxy)
    }

    /// Environment for a process that should talk to this emulator (AWS CLI conventions).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint_url()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// A minimal HTTP/1.0 request to the emulator's own API; returns (status, body).
    pub fn http(&self, method: &str, path: &str) -> Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        )?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("malformed HTTP response from moto")?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Switch moto's IAM authorisation on or off (`POST /moto-api/reset-auth`; off by default).
    /// When on, every request must be signed with the access key of an IAM user created in this
    /// emulator and be allowed by that user's policies. moto 5 checks the action (named by the
    /// request's signing name: `monitoring:` for CloudWatch, `tagging:` for the Tagging API) and,
    /// only for IAM calls naming an existing role, the resource; conditions are evaluated
    /// against the request's parameters.
    ///
    /// moto cannot verify the SDK's signatures of bodiless requests; the CBOR bridge re-signs
    /// what it forwards, with the keys given to [`Self::trust_credentials`], in a form moto can
    /// verify (see `cbor_bridge/sign.rs`). Keys not given keep their own signature.
    pub fn enforce_iam(&self, on: bool) -> Result<()> {
        if let Some(bridge) = &self.bridge {
            bridge.resign_forwarded(on);
        }
        let count = if on { "0" } else { "inf" };
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "POST /moto-api/reset-auth HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{count}",
            count.len()
        )?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw)?;
        anyhow::ensure!(
            raw.split_whitespace().nth(1) == Some("200"),
            "moto refused to switch IAM authorisation: {raw}"
        );
        Ok(())
    }

    /// An access key (of an IAM user created in this emulator) the chain may re-sign requests
    /// with under [`Self::enforce_iam`].
    pub fn trust_credentials(&self, access_key_id: &str, secret_access_key: &str) {
        if let Some(bridge) = &self.bridge {
            bridge.add_credentials(access_key_id, secret_access_key);
        }
    }

    /// Start recording every API request (clears an earlier recording). With the strict layer
    /// on, the layer records what it receives (moto would also see the layer's own side calls);
    /// otherwise moto's recorder does.
    pub fn start_recording(&self) -> Result<()> {
        if let Some(strict) = self.strict() {
            strict.start_recording();
            return Ok(());
        }
        self.http("POST", "/moto-api/recorder/reset-recording")?;
        let (status, _) = self.http("POST", "/moto-api/recorder/start-recording")?;
        anyhow::ensure!(status == 200, "moto refused to start recording ({status})");
        Ok(())
    }

    /// Stop recording and return what the emulator received since `start_recording`.
    pub fn stop_recording(&self) -> Result<Vec<RecordedCall>> {
        if let Some(strict) = self.strict() {
            return Ok(strict.stop_recording());
        }
        self.http("POST", "/moto-api/recorder/stop-recording")?;
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_recorded(&serde_json::from_str(l)?))
            .collect()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.strict.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.recording);
    }
}

/// Service and action of one recorded request, whatever the protocol: JSON (`X-Amz-Target`),
/// Smithy RPC v2 CBOR (`/service/<Service>/operation/<Op>`), query (`Action=` in the form body)
/// or REST (method and path).
pub fn parse_recorded(entry: &Value) -> Result<RecordedCall> {
    let headers = entry["headers"]
        .as_object()
        .context("recording without headers")?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let service = header("Authorization")
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string();
    let method = entry["method"].as_str().unwrap_or("").to_string();
    let body = match (entry["body"].as_str(), entry["body_encoded"].as_bool()) {
        (Some(b), Some(true)) => decode_base64(b),
        (Some(b), _) => b.to_string(),
        _ => String::new(),
    };
    let target = header("X-Amz-Target");
    let url = entry["url"].as_str().unwrap_or("");
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    let action = if let Some((_, op)) = target.rsplit_once('.') {
        op.to_string()
    } else if let Some(op) = rpc_v2_operation(path) {
        op.to_string()
    } else if let Some(op) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        op.to_string()
    } else {
        format!("{method} {path}")
    };
    Ok(RecordedCall {
        service,
        action,
        method,
    })
}

/// The operation of a Smithy RPC v2 CBOR request path, `/service/<Service>/operation/<Op>`
/// (<https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html>).
fn rpc_v2_operation(path: &str) -> Option<&str> {
    let (_, op) = path.strip_prefix("/service/")?.split_once("/operation/")?;
    (!op.is_empty() && !op.contains('/')).then_some(op)
}

fn decode_base64(s: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_port_moto_listens_on_is_read_from_its_log() {
        assert_eq!(
            listening_port(" * Running on http://127.0.0.1:35679"),
            Some(35679)
        );
        assert_eq!(
            listening_port("\u{1b}[33m * Running on http://127.0.0.1:8080\u{1b}[0m"),
            Some(8080)
        );
        assert_eq!(listening_port("Press CTRL+C to quit"), None);
    }

    #[test]
    fn recorded_calls_are_classified_for_every_protocol() {
        let auth = |svc: &str| {
            format!("AWS4-HMAC-SHA256 Credential=testing/20261125/us-east-1/{svc}/aws4_request")
        };
        let kms = json!({"headers": {"Authorization": auth("kms"), "X-Amz-Target": "TrentService.Encrypt"},
                         "method": "POST", "url": "http://x/", "body": "{}", "body_encoded": false});
        let query = json!({"headers": {"authorization": auth("monitoring")}, "method": "POST",
                           "url": "http://x/", "body": "QWN0aW9uPURlc2NyaWJlQWxhcm1zJlZlcnNpb249MjAxMC0wOC0wMQ==",
                           "body_encoded": true});
        let rest = json!({"headers": {"Authorization": auth("lambda")}, "method": "GET",
                          "url": "http://127.0.0.1:5000/2015-03-31/functions/f?Qualifier=1", "body": ""});
        let kms = parse_recorded(&kms).unwrap();
        assert_eq!(
            (kms.service.as_str(), kms.action.as_str()),
            ("kms", "Encrypt")
        );
        assert!(kms.is_mutating());
        let query = parse_recorded(&query).unwrap();
        assert_eq!(
            (query.service.as_str(), query.action.as_str()),
            ("monitoring", "DescribeAlarms")
        );
        assert!(!query.is_mutating());
        let rest = parse_recorded(&rest).unwrap();
        assert_eq!(rest.action, "GET /2015-03-31/functions/f");
        assert!(!rest.is_mutating());
        let cbor = json!({"headers": {"Authorization": auth("monitoring"), "smithy-protocol": "rpc-v2-cbor"},
                          "method": "POST", "body": "oA==", "body_encoded": true,
                          "url": "http://proxy/service/GraniteServiceVersion20100801/operation/PutMetricAlarm"});
        let cbor = parse_recorded(&cbor).unwrap();
        assert_eq!(
            (cbor.service.as_str(), cbor.action.as_str()),
            ("monitoring", "PutMetricAlarm")
        );
        assert!(cbor.is_mutating());
    }
}
