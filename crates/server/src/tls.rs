//! TLS for the server (the `tls` feature): a rustls server configuration from a PEM
//! certificate chain and private key, as the config file's `[server.tls]` names them.
//!
//! TLS 1.2 and 1.3 with rustls' default cipher suites (ring); HTTP/1.1 is announced by ALPN.
//! Files that cannot be read, hold no certificate or no key, or a key that does not match
//! the certificate are refused at start, naming the file: a server never starts half
//! configured. Without the feature, mixplane serves plain HTTP and the README's reverse-proxy
//! recipe terminates TLS in front of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

/// Why the TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading the certificate chain `{path}`: {why}")]
    Certificate { path: PathBuf, why: String },
    #[error("reading the private key `{path}`: {why}")]
    Key { path: PathBuf, why: String },
    #[error("the private key `{key}` does not fit the certificate `{cert}`: {why}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        why: String,
    },
}

/// A server's TLS configuration, cheap to clone into each connection's task.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// The configuration from a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| TlsError::Certificate {
                path: cert.to_owned(),
                why: e.to_string(),
            })?
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Certificate {
                path: cert.to_owned(),
                why: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Certificate {
                path: cert.to_owned(),
                why: "it holds no PEM `CERTIFICATE` section".into(),
            });
        }
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
            path: key.to_owned(),
            why: e.to_string(),
        })?;
        // ring rather than aws-lc-rs: no cmake and C toolchain in the build, and the one the
        // NATS client already brings. Its provider is deprecated only for lacking the
        // post-quantum key exchange, which this server then does not offer.
        #[allow(deprecated)]
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Mismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
                why: e.to_string(),
            })?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| TlsError::Mismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
                why: e.to_string(),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}
