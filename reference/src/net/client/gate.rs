//! RFC 6455 §4.1, connection requirement 2 (row 6455-4.1-c): "there MUST be no more than one
//! connection in a CONNECTING state" to one IP address and port; a further attempt waits
//! until that one is established or has failed.
//!
//! One process-wide table maps a socket address to a fair (FIFO) async mutex. An attempt
//! takes the address's mutex before its TCP connect and holds the guard until the 101 has
//! been validated or the attempt failed; the next attempt to the same address starts then.
//! Entries live only while someone holds or waits for them (weak references), so the table
//! stays as small as the number of addresses being connected to at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Table = HashMap<SocketAddr, Weak<AsyncMutex<()>>>;

static CONNECTING: LazyLock<Mutex<Table>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Held while a connection to `addr` is CONNECTING; dropping it lets the next attempt go.
#[derive(Debug)]
pub(crate) struct Connecting {
    _guard: OwnedMutexGuard<()>,
}

/// Waits until no other attempt of this process is CONNECTING to `addr`, then marks this
/// one as CONNECTING.
pub(crate) async fn connecting(addr: SocketAddr) -> Connecting {
    let gate = {
        let mut table = CONNECTING.lock().unwrap_or_else(PoisonError::into_inner);
        table.retain(|_, w| w.strong_count() > 0);
        match table.get(&addr).and_then(Weak::upgrade) {
            Some(g) => g,
            None => {
                let g = Arc::new(AsyncMutex::new(()));
                table.insert(addr, Arc::downgrade(&g));
                g
            }
        }
    };
    Connecting {
        _guard: gate.lock_owned().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn req_6455_4_1_c_one_connecting_per_address_others_wait() {
        let a: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        let b: SocketAddr = "127.0.0.1:10".parse().expect("addr");
        let first = connecting(a).await;
        // Another address is not held up.
        let other = tokio::time::timeout(Duration::from_millis(100), connecting(b)).await;
        assert!(other.is_ok(), "a different address connects at once");
        // The same address waits while the first is CONNECTING...
        let waiting = tokio::spawn(connecting(a));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a second attempt must wait");
        // ...and goes as soon as it resolves.
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(1), waiting).await;
        assert!(
            matches!(second, Ok(Ok(_))),
            "released after the first resolved"
        );
        drop(other);
        drop(second);
        let table = CONNECTING.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(
            table.get(&a).and_then(Weak::upgrade).is_none(),
            "no entry outlives its attempts"
        );
    }
}
