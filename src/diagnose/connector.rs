//! Opens a fresh connection along the same route as the run (TCP → proxy → TLS → WebSocket),
//! without facts: for the mqtt stage's 3.1.1 retry and for follow-up probes.

use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::io::BoxIo;
use super::plan::Plan;
use super::tls::{self, Recorder};
use super::{proxy, ws};

/// True when MQTT runs straight over a plain TCP connection to the broker (no TLS, no proxy,
/// no WebSocket): only then do probes on the peer address say something about the broker.
pub fn direct_plain(plan: &Plan) -> bool {
    let t = plan.target.transport;
    !t.uses_tls() && !t.uses_ws() && plan.route.proxy.is_none()
}

/// A new connection to `peer` (the broker, or the proxy when one is used), up to TLS, and up to
/// the WebSocket upgrade when `with_ws`.
pub async fn open(plan: &Plan, peer: SocketAddr, with_ws: bool) -> Result<BoxIo, String> {
    let deadline = plan.timeout;
    let tcp = timeout(deadline, TcpStream::connect(peer))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let tcp = match &plan.route.proxy {
        Some(p) => proxy::quiet(p, &plan.target, tcp, deadline).await?,
        None => tcp,
    };
    let io: BoxIo = if plan.target.transport.uses_tls() {
        let trust = tls::trust(&plan.tls).await;
        let config = tls::client_config(&plan.tls, &trust, Recorder::default())?;
        let name = tls::server_name(&plan.server_name())?;
        let stream = timeout(
            deadline,
            tokio_rustls::TlsConnector::from(config).connect(name, tcp),
        )
        .await
        .map_err(|_| "the TLS handshake timed out".to_string())?
        .map_err(|e| e.to_string())?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    if with_ws && plan.target.transport.uses_ws() {
        ws::quiet(plan, io).await
    } else {
        Ok(io)
    }
}
