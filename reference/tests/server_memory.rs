//! What an idle, registered WebSocket connection costs the server in heap memory: the server
//! must hold tens of thousands of them, so each should cost a few KiB. A counting allocator
//! measures the live heap before and after a bounded number of connections register and go
//! idle; the figure is printed and held to a generous bound, so a regression (a
//! per-connection read buffer, a channel block, a TLS-sized future on plain WS) fails.
//!
//! One test in this binary: the allocator counts the whole process.

mod counting_alloc;
mod server_support;

use std::io::Write;

use server_support::*;
use sipws_reference::ws::OpCode;
use sipws_reference::ws::codec::Event;

const CONNECTIONS: usize = 300;

#[test]
fn an_idle_registered_ws_connection_costs_a_few_kib() {
    let server = TestServer::start();
    // Warm up: one connection through every path, so one-off allocations (runtime, proxy
    // tables' first growth) are not counted per connection.
    let mut warm = RawWs::connect(server.ws());
    warm.send(
        OpCode::Text,
        outbound_register("warm", &server.domain, "WS").as_bytes(),
    );
    assert!(matches!(warm.next(), Seen::Event(Event::Message { .. })));
    server.wait_bindings(1);

    let before = counting_alloc::live_bytes();
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let mut c = RawWs::connect(server.ws());
        let reg = outbound_register(&format!("user{i}"), &server.domain, "WS");
        c.send(OpCode::Text, reg.as_bytes());
        match c.next() {
            Seen::Event(Event::Message { payload, .. }) => {
                assert!(payload.starts_with(b"SIP/2.0 200 "), "registration {i}");
            }
            other => panic!("registration {i}: {other:?}"),
        }
        c.stream.flush().expect("flush");
        clients.push(c.stream);
    }
    server.wait_bindings(CONNECTIONS + 1);
    // Let every connection task settle in its idle wait.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let after = counting_alloc::live_bytes();
    // The clients' own heap: a Vec of sockets (no heap per std TcpStream).
    let client_side = (CONNECTIONS * std::mem::size_of::<std::net::TcpStream>()) as isize;
    let per_connection = (after - before - client_side) / CONNECTIONS as isize;
    println!("live heap per idle registered WS connection: {per_connection} bytes");
    assert!(
        per_connection < 8 * 1024,
        "an idle registered WS connection costs {per_connection} bytes of heap"
    );
    drop(clients);
    server.wait_bindings(1);
    server.shutdown();
}
