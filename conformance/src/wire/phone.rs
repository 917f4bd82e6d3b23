//! The UDP phone: a UDP socket of the harness that registers on the target's SIP/UDP side with
//! `Contact: <sip:USER@IP:PORT;transport=udp>` and plays RFC 7118 §8.2's Bob. It reads
//! requests with retransmissions skipped (RFC 3261 §17.2.3: the same transaction again) and
//! OPTIONS answered (a keep-alive or capability probe, no step's business), answers them, and
//! sends in-dialog requests to the target, its outbound proxy.
//!
//! Its datagrams are in no transcript: a verdict on what it received carries the message.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use sipws_reference::sip::response::response;
use sipws_reference::sip::{Message, Method, Via};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::listener::local_ip_towards;
use crate::evidence::printable;
use crate::step::{StepError, StepResult};

/// Provisional responses skipped while waiting for a final one.
pub const MAX_PROVISIONAL: usize = 10;

/// RFC 3261 §17.1.1.1 T1: the first retransmission interval over UDP.
const T1: Duration = Duration::from_millis(500);

pub struct Phone {
    /// The user part of its AoR and Contact.
    pub user: String,
    socket: UdpSocket,
    pub local: SocketAddr,
    /// The target's SIP/UDP address: the phone's outbound proxy.
    pub server: SocketAddr,
    /// Messages read while waiting for the other kind.
    inbox: VecDeque<(Message, SocketAddr)>,
    /// Requests already taken (method, branch, CSeq): retransmissions are skipped.
    seen: HashSet<String>,
    /// The last request of each method, with where it came from.
    pub requests: HashMap<String, (Message, SocketAddr)>,
    /// The last request taken, the one an answer goes to.
    pub last: Option<(Message, SocketAddr)>,
}

/// What identifies a request for the retransmission check: the method and the top Via's
/// branch, as RFC 3261 §17.2.3 matches a request to its server transaction, and the CSeq
/// number.
fn transaction_key(m: &Message) -> String {
    format!(
        "{} {} {}",
        m.method().map(ToString::to_string).unwrap_or_default(),
        m.top_via().and_then(Via::branch).unwrap_or_default(),
        m.cseq().map(|c| c.seq).unwrap_or_default()
    )
}

fn is_final(m: &Message) -> bool {
    m.status_line().is_some_and(|s| s.code >= 200)
}

impl Phone {
    /// A phone for `user` on a UDP socket of the local address facing `server`, port the OS
    /// picks.
    pub async fn bind(user: String, server: SocketAddr) -> Result<Phone, StepError> {
        let ip = local_ip_towards(server)
            .await
            .map_err(|e| StepError::harness(format!("no local address towards {server}: {e}")))?;
        let socket = UdpSocket::bind((ip, 0))
            .await
            .map_err(|e| StepError::harness(format!("binding the UDP phone: {e}")))?;
        let local = socket
            .local_addr()
            .map_err(|e| StepError::harness(e.to_string()))?;
        Ok(Phone {
            user,
            socket,
            local,
            server,
            inbox: VecDeque::new(),
            seen: HashSet::new(),
            requests: HashMap::new(),
            last: None,
        })
    }

    /// Send the REGISTER `text` to the target, retransmitted at T1 (500 ms, RFC 3261
    /// §17.1.2.2) until a final answer or the timeout; the answer's status, `None` when there
    /// was none.
    pub async fn register(
        &mut self,
        text: &str,
        timeout: Duration,
    ) -> Result<Option<u16>, StepError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.send(text, self.server).await?;
            let slice = (Instant::now() + T1).min(deadline);
            match self.read(slice).await? {
                Some((m, _)) if !m.is_request() && is_final(&m) => {
                    return Ok(m.status_line().map(|s| s.code));
                }
                Some(_) => {}
                None if Instant::now() >= deadline => return Ok(None),
                None => {}
            }
        }
    }

    pub async fn send(&self, text: &str, to: SocketAddr) -> StepResult {
        self.socket
            .send_to(text.as_bytes(), to)
            .await
            .map(|_| ())
            .map_err(|e| StepError::harness(format!("the UDP phone cannot send: {e}")))
    }

    /// The next datagram that is SIP, or `None` at the deadline.
    async fn read(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<(Message, SocketAddr)>, StepError> {
        let mut buf = vec![0u8; 65_535];
        loop {
            let (n, from) =
                match tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf)).await {
                    Err(_) => return Ok(None),
                    Ok(Ok(x)) => x,
                    Ok(Err(e)) => {
                        return Err(StepError::harness(format!(
                            "the UDP phone cannot read: {e}"
                        )));
                    }
                };
            let bytes = &buf[..n];
            // A CRLF keep-alive some elements send over UDP.
            if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                continue;
            }
            return match Message::parse_datagram(bytes) {
                Ok(m) => Ok(Some((m, from))),
                Err(e) => Err(StepError::broken(format!(
                    "the target sent the UDP phone a datagram that is not SIP ({e}): {}",
                    printable(bytes)
                ))),
            };
        }
    }

    /// The next new request (`want_request`) or response, from the inbox or the socket.
    async fn next(
        &mut self,
        want_request: bool,
        timeout: Duration,
    ) -> Result<(Message, SocketAddr), StepError> {
        if let Some(i) = self
            .inbox
            .iter()
            .position(|(m, _)| m.is_request() == want_request)
            && let Some(found) = self.inbox.remove(i)
        {
            return Ok(found);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let Some((m, from)) = self.read(deadline).await? else {
                return Err(StepError::broken(format!(
                    "the UDP phone received no {} within the timeout",
                    if want_request { "request" } else { "response" }
                )));
            };
            if m.is_request() {
                if !self.seen.insert(transaction_key(&m)) {
                    // A retransmission of a request already taken.
                    continue;
                }
                if m.method() == Some(&Method::Options) {
                    // A keep-alive or capability probe: answered, not a step's business.
                    let resp = response(&m, 200, "opt", Vec::new());
                    self.send(&String::from_utf8_lossy(&resp.to_bytes()), from)
                        .await?;
                    continue;
                }
            }
            if m.is_request() == want_request {
                return Ok((m, from));
            }
            self.inbox.push_back((m, from));
        }
    }

    /// Take the next new request: it becomes the one to answer and the last of its method.
    pub async fn take_request(&mut self, timeout: Duration) -> Result<Message, StepError> {
        let (m, from) = self.next(true, timeout).await?;
        let method = m.method().map(ToString::to_string).unwrap_or_default();
        self.requests.insert(method, (m.clone(), from));
        self.last = Some((m.clone(), from));
        Ok(m)
    }

    /// The status of the next final response (1xx skipped, bounded).
    pub async fn final_status(&mut self, timeout: Duration) -> Result<u16, StepError> {
        for _ in 0..MAX_PROVISIONAL {
            let (m, _) = self.next(false, timeout).await?;
            if let Some(code) = m.status_line().map(|s| s.code)
                && code >= 200
            {
                return Ok(code);
            }
        }
        Err(StepError::broken(format!(
            "{MAX_PROVISIONAL} provisional responses and no final one"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Message {
        Message::parse_datagram(text.replace('\n', "\r\n").as_bytes()).expect("valid SIP")
    }

    const BYE: &str = "BYE sip:bob@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\nFrom: <sip:a@d>;tag=1\nTo: <sip:b@d>;tag=2\nCall-ID: c\nCSeq: 2 BYE\nMax-Forwards: 70\nContent-Length: 0\n\n";

    #[test]
    fn a_retransmission_has_the_key_of_its_original() {
        let key = transaction_key(&request(BYE));
        assert_eq!(key, "BYE z9hG4bK1 2");
        assert_eq!(transaction_key(&request(BYE)), key);
        assert_ne!(
            transaction_key(&request(&BYE.replace("z9hG4bK1", "z9hG4bK2"))),
            key
        );
        assert_ne!(
            transaction_key(&request(&BYE.replace("CSeq: 2", "CSeq: 3"))),
            key
        );
    }

    /// A phone and the "target" it registers with, both on loopback.
    async fn phone_and_server() -> (Phone, UdpSocket) {
        let server = UdpSocket::bind("127.0.0.1:0").await.expect("binds");
        let addr = server.local_addr().expect("bound");
        let phone = Phone::bind("bob".into(), addr).await.expect("binds");
        (phone, server)
    }

    #[tokio::test]
    async fn retransmissions_are_skipped_and_options_answered() {
        let (mut phone, server) = phone_and_server().await;
        let options = BYE
            .replace("BYE", "OPTIONS")
            .replace("z9hG4bK1", "z9hG4bKo");
        for text in [options.as_str(), BYE, BYE] {
            server
                .send_to(text.replace('\n', "\r\n").as_bytes(), phone.local)
                .await
                .expect("sends");
        }
        let m = phone
            .take_request(Duration::from_secs(5))
            .await
            .expect("the BYE");
        assert_eq!(m.method(), Some(&Method::Bye));
        assert!(phone.requests.contains_key("BYE") && phone.last.is_some());
        let mut buf = [0u8; 2048];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), server.recv_from(&mut buf))
            .await
            .expect("the OPTIONS answer in time")
            .expect("the OPTIONS answer");
        assert!(buf[..n].starts_with(b"SIP/2.0 200"));
        // The retransmitted BYE is not a new request.
        let again = phone.take_request(Duration::from_millis(200)).await;
        assert_eq!(
            again.err(),
            Some(StepError::broken(
                "the UDP phone received no request within the timeout"
            ))
        );
    }

    #[tokio::test]
    async fn a_datagram_that_is_not_sip_breaks() {
        let (mut phone, server) = phone_and_server().await;
        server
            .send_to(b"\r\n\r\n", phone.local)
            .await
            .expect("sends");
        server
            .send_to(b"hello\r\n", phone.local)
            .await
            .expect("sends");
        let got = phone.take_request(Duration::from_secs(5)).await;
        assert!(matches!(got, Err(StepError::Broken { ref message, .. })
            if message.starts_with("the target sent the UDP phone a datagram that is not SIP")));
    }
}
