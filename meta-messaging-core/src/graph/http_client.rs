//! The `reqwest::ClientBuilder` every HTTP client of this crate starts from, with its TLS set.

use super::error::Result;

/// A `reqwest::ClientBuilder` whose TLS backend is the one this crate's features choose, for any
/// `reqwest::Client` of yours that reaches Meta (or anything else over HTTPS).
///
/// Under the default `rustls` feature, reqwest is built without a crypto provider of its own
/// (ring is the faster first build; reqwest ships only aws-lc-rs), so a bare
/// `reqwest::Client::new()` panics unless a process-wide provider is installed. This builder
/// instead carries a rustls configuration with the process-wide provider when the host
/// installed one (`CryptoProvider::install_default`) and ring's otherwise, TLS 1.2 and 1.3, the
/// platform's certificate verifier and ALPN for HTTP/2 and HTTP/1.1, which is what reqwest sets
/// up itself with its own provider. Because the configuration is ready-made, reqwest's own TLS
/// settings on the returned builder (`add_root_certificate`, `min_tls_version`, ...) do not
/// apply to it.
///
/// With `rustls-aws-lc` or `native-tls` on, reqwest has a backend of its own and this is
/// `reqwest::Client::builder()`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use meta_messaging_core::graph::{GraphClient, http_client_builder};
///
/// let http = http_client_builder()?.pool_max_idle_per_host(4).build()?;
/// let client = GraphClient::builder().http_client(http).build()?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`GraphError::Configuration`](super::GraphError::Configuration) when the platform's
/// certificate verifier cannot be set up (no CA certificate found on the system).
pub fn http_client_builder() -> Result<reqwest::ClientBuilder> {
    let builder = reqwest::Client::builder();
    #[cfg(all(
        feature = "rustls",
        not(feature = "rustls-aws-lc"),
        not(feature = "native-tls")
    ))]
    let builder = builder.tls_backend_preconfigured(ring::client_config()?);
    Ok(builder)
}

/// reqwest's rustls setup, with the process-wide provider or else ring's: reqwest built without
/// a provider of its own (the `rustls` feature alone) cannot make it.
#[cfg(all(
    feature = "rustls",
    not(feature = "rustls-aws-lc"),
    not(feature = "native-tls")
))]
mod ring {
    use std::sync::Arc;

    use rustls::ClientConfig;
    use rustls_platform_verifier::Verifier;

    use crate::graph::error::{GraphError, Result};

    /// The configuration reqwest would build with its own provider, given the process-wide
    /// provider when the host installed one, and ring's otherwise.
    pub(super) fn client_config() -> Result<ClientConfig> {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let verifier = Verifier::new(Arc::clone(&provider)).map_err(tls_error)?;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .dangerous()
            // Not dangerous: the platform verifier checks the chain and the host name.
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        // reqwest leaves ALPN of a ready-made configuration alone; without h2 offered, every
        // connection would stay on HTTP/1.1.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    fn tls_error(source: rustls::Error) -> GraphError {
        GraphError::Configuration {
            message: "cannot set up TLS for HTTPS to Meta (no CA certificates found on this \
                      system?): install the ca-certificates package, or build with the \
                      `native-tls` feature"
                .into(),
            source: Some(Box::new(source)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// No process-wide crypto provider is installed in this test binary: under the default
    /// `rustls` feature a plain `reqwest::Client::new()` would panic here.
    #[test]
    fn builds_a_client_without_a_process_wide_provider() {
        http_client_builder().unwrap().build().unwrap();
        crate::graph::GraphClient::new().unwrap();
    }

    /// A TLS server that reads the client's hello: the client starts a handshake (its crypto
    /// provider works) and offers HTTP/2 and HTTP/1.1.
    #[cfg(feature = "rustls")]
    #[tokio::test]
    async fn offers_http2_and_http1_in_the_tls_handshake() {
        use std::io::Read;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut acceptor = rustls::server::Acceptor::default();
            loop {
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "the client closed before its hello");
                acceptor.read_tls(&mut &buf[..n]).unwrap();
                if let Some(accepted) = acceptor.accept().map_err(|(e, _)| e).unwrap() {
                    let hello = accepted.client_hello();
                    let alpn: Vec<Vec<u8>> = hello.alpn().unwrap().map(<[u8]>::to_vec).collect();
                    return (hello.server_name().map(str::to_owned), alpn);
                }
            }
        });
        let client = http_client_builder()
            .unwrap()
            .resolve("graph.test", addr)
            .build()
            .unwrap();
        // The server drops the connection after the hello, so the request fails.
        let sent = client
            .get(format!("https://graph.test:{}/", addr.port()))
            .send()
            .await;
        assert!(sent.is_err());
        let (name, alpn) = server.join().unwrap();
        assert_eq!(name.as_deref(), Some("graph.test"));
        assert_eq!(alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }
}
