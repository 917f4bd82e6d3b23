//! Deliberately broken policies ("mutants", feature `mutants`, off by default): each variant
//! switches one rule off where the reference makes the decision, so `tests/tests/mutants.rs`
//! can show that the conformance suite fails a target that breaks it. Never in a release build.

/// One broken rule. A server gets at most one ([`crate::net::ServerConfig::mutation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The 101 names the first offered subprotocol, `sip` or not, and a handshake that does
    /// not offer `sip` is accepted (breaks 7118-4.1-b/c, 7936-2-a).
    EchoAnySubprotocol,
    /// Any single `Sec-WebSocket-Version` gets 101 (breaks 6455-4.2.2-a).
    AcceptAnyVersion,
    /// Text frames are not checked for UTF-8: every message is handled as if binary
    /// (breaks 6455-5.6-a, 6455-7.4.1-b).
    SkipUtf8Validation,
    /// The proxy's own Via says `WS` on a request it sends down a WSS flow (breaks 7118-5.1-a).
    WsViaOnWss,
    /// One Record-Route entry (the ingress side's) even when the transports differ
    /// (breaks 5658-6.2-a).
    SingleRecordRoute,
    /// A closed flow stays live: its bindings are not invalidated and requests for it are
    /// written into the dead connection and lost (breaks 5626-7-d).
    DeadFlowTreatedAsLive,
    /// A final response to a non-INVITE request goes out twice, as two WebSocket messages
    /// (breaks 3261-17.2-a: one final response per transaction).
    DuplicateFinalResponse,
    /// A final response to a non-INVITE request goes out twice in one WebSocket message
    /// (breaks 7118-5-c: one SIP message per WebSocket message).
    BundledResponses,
}

impl Mutation {
    pub const ALL: [Mutation; 8] = [
        Mutation::EchoAnySubprotocol,
        Mutation::AcceptAnyVersion,
        Mutation::SkipUtf8Validation,
        Mutation::WsViaOnWss,
        Mutation::SingleRecordRoute,
        Mutation::DeadFlowTreatedAsLive,
        Mutation::DuplicateFinalResponse,
        Mutation::BundledResponses,
    ];
}
