//! Parse throughput of the RFC 7118 §8 INVITE and REGISTER, against a baseline measured in
//! the same run: `httparse` tokenizing the same bytes with the start line rewritten to
//! HTTP/1.1 (it splits names from values and checks characters, but builds no typed values).
//!
//! Run: `cargo bench -p sipws-reference --bench parse`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sipws_reference::sip::Message;

const INVITE: &[u8] = include_bytes!("../../tests/data/rfc7118/8.2-f1-invite.sip");
const REGISTER: &[u8] = include_bytes!("../../tests/data/rfc7118/8.1-f3-register.sip");
const RR_INVITE: &[u8] = include_bytes!("../../tests/data/rfc7118/8.2-f3-invite.sip");

/// The same message with `SIP/2.0` in the request line replaced by `HTTP/1.1`, so that
/// httparse accepts it.
fn as_http(msg: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(msg);
    text.replacen(" SIP/2.0\r\n", " HTTP/1.1\r\n", 1)
        .into_bytes()
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in [
        ("rfc7118-8.2-f1-invite", INVITE),
        ("rfc7118-8.1-f3-register", REGISTER),
        ("rfc7118-8.2-f3-invite-record-routed", RR_INVITE),
    ] {
        // A benchmark of a message that does not parse would measure an error path.
        assert!(Message::parse(bytes).is_ok(), "{name} must parse");
        let http = as_http(bytes);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("sipws-parse", |b| {
            b.iter(|| Message::parse(black_box(bytes)))
        });
        group.bench_function("baseline-httparse", |b| {
            b.iter(|| {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut req = httparse::Request::new(&mut headers);
                let status = req.parse(black_box(&http));
                assert!(matches!(status, Ok(httparse::Status::Complete(_))));
                req.headers.len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
