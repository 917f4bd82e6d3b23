//! 10,000 REGISTERs for distinct AoRs, then every connection closed: no binding may be left
//! (RFC 5626 §7, RFC 7118 §5: a binding dies with the flow it came in on, 5626-7-d), and the
//! process's resident memory is measured before, at the peak and after.
//!
//! Shape: 1,000 WebSocket connections × 10 AoRs each (fewer connections with more AoRs each
//! when the open-file limit is low: client and server ends are both in this process). A real
//! deployment has one AoR per browser connection; many AoRs per flow is the harder case for
//! the cleanup (one flow's close must remove all of its bindings), and 1,000 concurrently held
//! connections give the per-connection figure at the same time.
//!
//! One test in this binary: RSS is the whole process's, so no other test may run beside it.
//! Run with `--nocapture` (release for the README's figures) to see the figures.

mod counting_alloc;
mod hostile_support;

use std::time::Duration;

use hostile_support::*;
use sipws_reference::ws::OpCode;
use tokio::task::JoinSet;

const REGISTRATIONS: usize = 10_000;

fn live_kib() -> isize {
    counting_alloc::live_bytes() / 1024
}

/// Asks glibc's malloc to give free memory back to the OS, to show how much of the RSS after
/// the close is the allocator's cache (glibc only; elsewhere nothing is done).
fn trim_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only releases free pages of its own arenas; it takes no
        // pointer and is safe to call at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_registrations_then_all_connections_closed_leave_no_binding() {
    // Two descriptors per connection (both ends here) plus headroom for the runtime.
    let fd_room = open_files_limit().map_or(2000, |n| n.saturating_sub(256) / 2) as usize;
    let connections = fd_room.clamp(50, 1000);
    let per_connection = REGISTRATIONS.div_ceil(connections);
    let srv = Srv::start(|_| {}).await;
    // Warm-up: one user through every path, so one-off allocations are not counted.
    well_behaved_user(srv.ws(), "warm-up", &srv.domain).await;
    srv.wait_idle("after the warm-up").await;
    let before = rss_kib();
    let live_before = live_kib();

    let mut held = Vec::with_capacity(connections);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for batch in (0..connections).collect::<Vec<_>>().chunks(100) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "registering took over 60 s"
        );
        let mut set = JoinSet::new();
        for &c in batch {
            let (ws, domain) = (srv.ws(), srv.domain.clone());
            set.spawn(async move {
                let mut conn = AsyncWs::connect(ws).await;
                for k in 0..per_connection {
                    let user = format!("u{c}-{k}");
                    let reg = register_cseq(&user, &domain, &format!("r-{user}"), 1);
                    conn.send(OpCode::Text, reg.as_bytes())
                        .await
                        .expect("send a REGISTER");
                }
                for k in 0..per_connection {
                    let answer = conn.next_sip().await;
                    assert!(
                        answer.starts_with(b"SIP/2.0 200 "),
                        "connection {c}, REGISTER {k}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
                conn
            });
        }
        while let Some(r) = within("a batch of registrations", 4 * WAIT, set.join_next()).await {
            held.push(r.expect("a registering connection"));
        }
    }
    let total = connections * per_connection;
    let stats = srv
        .wait_for("every binding", WAIT, |s| s.bindings == total)
        .await;
    assert_eq!(stats.connections, connections);
    let peak = rss_kib();
    let live_peak = live_kib();

    // Every connection closed (TCP FIN, as a browser tab that goes away).
    drop(held);
    let stats = srv
        .wait_for("no binding left", Duration::from_secs(30), |s| {
            s.bindings == 0 && s.connections == 0 && s.sockets == 0
        })
        .await;
    assert_eq!(stats.flows, 0, "{stats:?}");
    let after = rss_kib();
    let live_after = live_kib();
    trim_allocator();
    let trimmed = rss_kib();

    let per_conn = peak.saturating_sub(before) as f64 / connections as f64;
    eprintln!(
        "{total} REGISTERs ({connections} connections x {per_connection} AoRs):\n  \
         RSS before {before} KiB, peak {peak} KiB, after close {after} KiB, \
         after malloc_trim {trimmed} KiB\n  \
         live heap before {live_before} KiB, peak {live_peak} KiB, after close {live_after} KiB\n  \
         {per_conn:.1} KiB of RSS per connection held (both ends, {per_connection} bindings each)"
    );
    // What the server still holds after the close is what its heap says: the connections,
    // flows and bindings are gone. What stays is the registrar's memory of the AoRs and
    // instances it saw (to answer 480 rather than 404; bounded by Location::KNOWN_LIMIT) and
    // hash tables keeping their capacity: about a tenth of the peak here, so the bound is a
    // fifth, far below what a leak of the bindings (the whole peak) would leave.
    let live_kept = live_after - live_before;
    let live_grown = live_peak - live_before;
    assert!(
        live_kept * 5 <= live_grown,
        "after closing, {live_kept} KiB of heap stayed live (peak +{live_grown} KiB)"
    );
    // The server serves on.
    well_behaved_user(srv.ws(), "good-after", &srv.domain).await;
    srv.shutdown().await;
}
