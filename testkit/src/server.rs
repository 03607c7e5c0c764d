//! A local HTTP server on 127.0.0.1 (a free port) that stops when dropped: what the Slack sink,
//! the Lambda Runtime API and the throttling proxy run on.

use std::net::SocketAddr;

pub struct LocalServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl LocalServer {
    /// Serve `app` in the current tokio runtime.
    pub async fn start(app: axum::Router) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `reqwest` client builder for the stand-ins' own plain-HTTP hops (proxy → moto).
///
/// In the workspace build reqwest's features are unified with the notifier's, which uses
/// `rustls-no-provider` (ring, chosen in `lambda/src/deliver.rs`): a client then needs a
/// process-wide rustls crypto provider even when it only speaks http://. Install ring's once.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
