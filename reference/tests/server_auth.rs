//! SIP digest authentication end to end (RFC 3261 §22, RFC 8760): the reference server with
//! `[auth]` on and the reference client with a password, over real loopback sockets. The
//! right password registers (SHA-256 answered), a wrong one fails with a clear error, one
//! user's credentials cannot register another's AoR (403), and a MESSAGE between two users
//! passes the proxy's 407 challenge.

mod client_support;

use std::net::SocketAddr;

use client_support::*;
use sipws_reference::net::client::{Client, ClientError};
use sipws_reference::net::config::CredentialEntry;
use sipws_reference::net::{Server, ServerConfig, ServerHandle};
use sipws_reference::sip::{HeaderName, Message};
use sipws_reference::ua::UaCredentials;
use tokio::time::timeout;

async fn server() -> (ServerHandle, SocketAddr) {
    let mut c = ServerConfig::loopback_ephemeral();
    c.listen.wss = sipws_reference::net::Listen::Off;
    c.auth.enabled = true;
    c.auth.users = vec![
        CredentialEntry::with_password("alice", "wonderland"),
        CredentialEntry::with_password("bob", "builder"),
    ];
    let s = Server::bind(c).await.expect("the server binds");
    assert_eq!(
        s.auth_realm(),
        Some("127.0.0.1"),
        "the realm defaults to the domain"
    );
    let ws = s.addrs().ws.expect("ws");
    (s.spawn(), ws)
}

async fn client(ws: SocketAddr, user: &str, password: Option<&str>) -> Client {
    let mut o = options(&format!("ws://{ws}"), user);
    if let Some(p) = password {
        o.ua = o.ua.with_password(p);
    }
    Client::connect(o).await.expect("ws connects")
}

/// The SIP messages the client received, parsed.
fn received(c: &Client) -> Vec<Message> {
    c.traffic()
        .iter()
        .filter(|t| t.direction == sipws_reference::net::client::Direction::Received)
        .filter_map(|t| Message::parse(&t.bytes).ok())
        .collect()
}

fn failure_status(e: &ClientError) -> Option<u16> {
    e.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_3261_22_register_with_the_right_password_works_and_a_wrong_one_fails_clearly() {
    let (handle, ws) = server().await;

    let alice = client(ws, "alice", Some("wonderland")).await;
    let reply = timeout(WAIT, alice.register())
        .await
        .expect("bounded")
        .expect("the right password registers");
    assert!(reply.registration.expires > 0);
    let challenges: Vec<Message> = received(&alice)
        .into_iter()
        .filter(|m| m.status_line().is_some_and(|s| s.code == 401))
        .collect();
    assert_eq!(challenges.len(), 1, "one challenge, then 200");
    let offered: Vec<String> = challenges[0]
        .values(&HeaderName::WwwAuthenticate)
        .map(|v| v.to_string())
        .collect();
    assert!(offered[0].contains("algorithm=SHA-256"), "{offered:?}");
    assert!(offered[1].contains("algorithm=MD5"), "{offered:?}");
    assert_eq!(
        timeout(WAIT, handle.binding_count())
            .await
            .expect("bounded"),
        1
    );
    timeout(WAIT, alice.unregister())
        .await
        .expect("bounded")
        .expect("the refresh credentials unregister too");
    alice.close().await;

    let wrong = client(ws, "alice", Some("guess")).await;
    let err = timeout(WAIT, wrong.register())
        .await
        .expect("bounded")
        .expect_err("a wrong password never registers");
    assert_eq!(failure_status(&err), Some(401));
    let text = err.to_string();
    assert!(text.contains("401") && text.contains("refused"), "{text}");
    wrong.close().await;

    let none = client(ws, "alice", None).await;
    let err = timeout(WAIT, none.register())
        .await
        .expect("bounded")
        .expect_err("no password, no registration");
    assert!(err.to_string().contains("no password configured"), "{err}");
    none.close().await;

    assert_eq!(
        timeout(WAIT, handle.binding_count())
            .await
            .expect("bounded"),
        0
    );
    timeout(WAIT, handle.shutdown()).await.expect("shuts down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_3261_10_3_alices_credentials_cannot_register_bobs_aor() {
    let (handle, ws) = server().await;
    let mut o = options(&format!("ws://{ws}"), "bob");
    o.ua.credentials = Some(UaCredentials {
        username: "alice".into(),
        password: "wonderland".into(),
    });
    let mallory = Client::connect(o).await.expect("ws connects");
    let err = timeout(WAIT, mallory.register())
        .await
        .expect("bounded")
        .expect_err("refused");
    assert_eq!(failure_status(&err), Some(403), "{err}");
    assert_eq!(
        timeout(WAIT, handle.binding_count())
            .await
            .expect("bounded"),
        0
    );
    mallory.close().await;
    timeout(WAIT, handle.shutdown()).await.expect("shuts down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn req_3261_22_3_message_between_users_answers_the_proxys_407() {
    let (handle, ws) = server().await;
    let bob = client(ws, "bob", Some("builder")).await;
    timeout(WAIT, bob.register())
        .await
        .expect("bounded")
        .expect("bob registers");
    let alice = client(ws, "alice", Some("wonderland")).await;
    let r = timeout(WAIT, alice.message("sip:bob@127.0.0.1", "text/plain", "hi"))
        .await
        .expect("bounded")
        .expect("the MESSAGE is delivered once authenticated");
    assert_eq!(r.status, 200);
    assert!(
        received(&alice)
            .iter()
            .any(|m| m.status_line().is_some_and(|s| s.code == 407)),
        "the proxy challenged first"
    );
    alice.close().await;
    bob.close().await;
    timeout(WAIT, handle.shutdown()).await.expect("shuts down");
}
