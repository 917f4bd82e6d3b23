//! Parse throughput of the RFC 7118 §8 INVITE and REGISTER, against a baseline measured in
//! the same run: `httparse` tokenizing the same bytes with the start line rewritten to
//! HTTP/1.1 and folded lines joined (it splits names from values and checks characters, but
//! builds no typed values and allocates nothing).
//!
//! Run: `cargo bench -p sipws-reference --bench parse`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sipws_reference::sip::Message;

const INVITE: &[u8] = include_bytes!("../../tests/data/rfc7118/8.2-f1-invite.sip");
const REGISTER: &[u8] = include_bytes!("../../tests/data/rfc7118/8.1-f3-register.sip");
const RR_INVITE: &[u8] = include_bytes!("../../tests/data/rfc7118/8.2-f3-invite.sip");

/// The same message as an HTTP/1.1 request httparse accepts: `SIP/2.0` in the request line
/// becomes `HTTP/1.1`, and folded lines are joined (httparse refuses obsolete folding).
fn as_http(msg: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(msg);
    text.replacen(" SIP/2.0\r\n", " HTTP/1.1\r\n", 1)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .into_bytes()
}

fn httparse_headers(http: &[u8]) -> Option<usize> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(http) {
        Ok(httparse::Status::Complete(_)) => Some(req.headers.len()),
        _ => None,
    }
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in [
        ("rfc7118-8.2-f1-invite", INVITE),
        ("rfc7118-8.1-f3-register", REGISTER),
        ("rfc7118-8.2-f3-invite-record-routed", RR_INVITE),
    ] {
        // A benchmark of input that does not parse would measure an error path.
        assert!(Message::parse(bytes).is_ok(), "{name} must parse");
        let http = as_http(bytes);
        assert!(
            httparse_headers(&http).is_some(),
            "{name}: baseline must parse"
        );
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("sipws-parse", |b| {
            b.iter(|| Message::parse(black_box(bytes)))
        });
        group.bench_function("baseline-httparse", |b| {
            b.iter(|| httparse_headers(black_box(&http)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
