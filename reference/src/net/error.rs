//! Errors of the I/O shell: what stops a server from starting. Once it runs, faults on one
//! connection are logged and end that connection only.

use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum NetError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen for {transport} on {addr}: {source}")]
    Bind {
        transport: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the system random source failed")]
    Random,
}
