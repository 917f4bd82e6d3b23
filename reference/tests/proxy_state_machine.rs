//! A state-machine property test of the proxy's no-connect semantics (spec/requirements.md 5626-7-c,
//! 5626-7-d, 5626-5.3.1-b, 3261-16.5-a): random sequences of connect / register /
//! re-register / unregister / close / request events, checked after every step against a model:
//! - no decision ever opens a connection (`Action::Forward`) towards a WebSocket client;
//! - a request for a user reaches exactly the live flow of its newest binding, or gets 480
//!   (known user, no live binding) / 404 (never registered);
//! - a request routed by flow token reaches that flow while it lives, and gets 430 after;
//! - no binding survives its flow.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use sipws_reference::proxy::{Action, Config, Expiry, Listener, Proxy, Time};
use sipws_reference::sip::{Host, Message};
use sipws_reference::transport::{Flow, FlowId, Transport, WssParamStyle};

const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// A UDP phone that sends the requests; always there.
const CALLER: FlowId = FlowId(1000);

#[derive(Debug, Clone)]
enum Op {
    Connect {
        secure: bool,
    },
    Register {
        user: usize,
        reg_id: u32,
        flow: FlowId,
    },
    Unregister {
        user: usize,
        reg_id: u32,
        flow: FlowId,
    },
    Close {
        flow: FlowId,
    },
    Request {
        user: usize,
    },
    ByToken {
        flow: FlowId,
    },
    Tick {
        secs: u64,
    },
}

#[derive(Debug, Clone, Default)]
struct Model {
    next_flow: u64,
    open: BTreeMap<FlowId, Transport>,
    /// (user, reg_id) -> (flow, last written, expires at)
    bindings: BTreeMap<(usize, u32), (FlowId, u64, u64)>,
    known: BTreeSet<usize>,
    /// Every flow ever opened, for token requests after close.
    ever: BTreeSet<FlowId>,
    now: u64,
}

const EXPIRES_SECS: u64 = 600;

impl Model {
    fn target(&self, user: usize) -> Option<FlowId> {
        self.bindings
            .iter()
            .filter(|((u, _), _)| *u == user)
            .max_by_key(|(_, (_, at, _))| *at)
            .map(|(_, (f, _, _))| *f)
    }
}

struct ModelMachine;

impl ReferenceStateMachine for ModelMachine {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            next_flow: 1,
            ..Model::default()
        })
        .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        let open: Vec<FlowId> = state.open.keys().copied().collect();
        let ever: Vec<FlowId> = state.ever.iter().copied().collect();
        let user = 0..USERS.len();
        let mut choices: Vec<(u32, BoxedStrategy<Op>)> = vec![
            (
                2,
                any::<bool>()
                    .prop_map(|secure| Op::Connect { secure })
                    .boxed(),
            ),
            (
                3,
                user.clone().prop_map(|user| Op::Request { user }).boxed(),
            ),
            (1, (1u64..700).prop_map(|secs| Op::Tick { secs }).boxed()),
        ];
        if !open.is_empty() {
            let pick = proptest::sample::select(open);
            choices.push((
                4,
                (user.clone(), 1u32..=2, pick.clone())
                    .prop_map(|(user, reg_id, flow)| Op::Register { user, reg_id, flow })
                    .boxed(),
            ));
            choices.push((
                1,
                (user, 1u32..=2, pick.clone())
                    .prop_map(|(user, reg_id, flow)| Op::Unregister { user, reg_id, flow })
                    .boxed(),
            ));
            choices.push((2, pick.prop_map(|flow| Op::Close { flow }).boxed()));
        }
        if !ever.is_empty() {
            choices.push((
                2,
                proptest::sample::select(ever)
                    .prop_map(|flow| Op::ByToken { flow })
                    .boxed(),
            ));
        }
        proptest::strategy::Union::new_weighted(choices).boxed()
    }

    fn preconditions(state: &Model, op: &Op) -> bool {
        match op {
            Op::Register { flow, .. } | Op::Unregister { flow, .. } | Op::Close { flow } => {
                state.open.contains_key(flow)
            }
            Op::ByToken { flow } => state.ever.contains(flow),
            _ => true,
        }
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        state.now += 1;
        match op {
            Op::Connect { secure } => {
                let id = FlowId(state.next_flow);
                state.next_flow += 1;
                let t = if *secure {
                    Transport::Wss
                } else {
                    Transport::Ws
                };
                state.open.insert(id, t);
                state.ever.insert(id);
            }
            Op::Register { user, reg_id, flow } => {
                state.known.insert(*user);
                let expires = state.now + EXPIRES_SECS * 1000;
                state
                    .bindings
                    .insert((*user, *reg_id), (*flow, state.now, expires));
            }
            Op::Unregister { user, reg_id, .. } => {
                state.bindings.remove(&(*user, *reg_id));
            }
            Op::Close { flow } => {
                state.open.remove(flow);
                state.bindings.retain(|_, (f, _, _)| f != flow);
            }
            Op::Tick { secs } => {
                state.now += secs * 1000;
                let now = state.now;
                state.bindings.retain(|_, (_, _, exp)| *exp > now);
            }
            Op::Request { .. } | Op::ByToken { .. } => {}
        }
        state
    }
}

struct System {
    proxy: Proxy,
    now: u64,
    seq: u32,
}

fn config() -> Config {
    let l = |transport, port| Listener {
        transport,
        host: Host::Domain("proxy.example.com".into()),
        port,
    };
    Config {
        domains: vec!["example.com".into()],
        listeners: vec![
            l(Transport::Udp, 5060),
            l(Transport::Ws, 80),
            l(Transport::Wss, 443),
        ],
        wss_param_style: WssParamStyle::Rfc7118,
        expires: Expiry {
            default: EXPIRES_SECS as u32,
            min: 1,
            max: 3600,
        },
        secret: b"state machine secret............".to_vec(),
        outbound: true,
        bindings: Default::default(),
        gruu: true,
        auth: None,
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn parse(text: String) -> Message {
    Message::parse(text.replace('\n', "\r\n").as_bytes()).expect("generated messages parse")
}

fn register(user: &str, reg_id: u32, expires: u32, seq: u32) -> Message {
    parse(format!(
        "REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/WS {user}.invalid;branch=z9hG4bKr{seq}
From: <sip:{user}@example.com>;tag=f{seq}
To: <sip:{user}@example.com>
Call-ID: reg-{user}-{reg_id}
CSeq: {seq} REGISTER
Max-Forwards: 70
Supported: outbound
Contact: <sip:{user}@{user}.invalid;transport=ws;ob>;reg-id={reg_id};+sip.instance=\"<urn:uuid:{user}>\";expires={expires}

"
    ))
}

fn message(ruri: &str, route: Option<&str>, seq: u32) -> Message {
    let route = route.map(|r| format!("Route: {r}\n")).unwrap_or_default();
    parse(format!(
        "MESSAGE {ruri} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKm{seq}
{route}From: <sip:phone@example.com>;tag=p{seq}
To: <{ruri}>
Call-ID: m{seq}
CSeq: 1 MESSAGE
Max-Forwards: 70

hi"
    ))
}

fn assert_no_connect(out: &[Action]) {
    assert!(
        !out.iter().any(|a| matches!(a, Action::Forward { .. })),
        "a decision dialled out: {out:#?}"
    );
}

fn status_to_caller(out: &[Action]) -> Option<u16> {
    match out {
        [Action::Send { flow, msg }] if *flow == CALLER => msg.status_line().map(|s| s.code),
        _ => None,
    }
}

impl StateMachineTest for System {
    type SystemUnderTest = System;
    type Reference = ModelMachine;

    fn init_test(_: &Model) -> System {
        let mut proxy = Proxy::new(config());
        proxy.flow_opened(Flow {
            id: CALLER,
            transport: Transport::Udp,
            local: addr(5060),
            remote: addr(5090),
        });
        System {
            proxy,
            now: 0,
            seq: 0,
        }
    }

    fn apply(mut sys: System, model: &Model, op: Op) -> System {
        sys.now += 1;
        sys.seq += 1;
        let now = Time(sys.now);
        match op {
            Op::Connect { .. } => {
                // The model has already numbered the flow: it is the newest one.
                let (&id, &transport) = model.open.iter().next_back().expect("just opened");
                sys.proxy.flow_opened(Flow {
                    id,
                    transport,
                    local: addr(if transport == Transport::Wss { 443 } else { 80 }),
                    remote: addr(40000 + id.0 as u16),
                });
            }
            Op::Register { user, reg_id, flow } => {
                let out = sys.proxy.handle(
                    register(USERS[user], reg_id, EXPIRES_SECS as u32, sys.seq),
                    flow,
                    now,
                );
                assert_no_connect(&out);
                let ok = matches!(&out[..], [Action::Send { flow: f, msg }] if *f == flow && msg.status_line().map(|s| s.code) == Some(200));
                assert!(ok, "REGISTER must get 200 on its flow: {out:#?}");
            }
            Op::Unregister { user, reg_id, flow } => {
                let out = sys
                    .proxy
                    .handle(register(USERS[user], reg_id, 0, sys.seq), flow, now);
                assert_no_connect(&out);
            }
            Op::Close { flow } => {
                sys.proxy.flow_closed(flow);
            }
            Op::Tick { secs } => {
                sys.now += secs * 1000;
                sys.proxy.tick(Time(sys.now));
            }
            Op::Request { user } => {
                let ruri = format!("sip:{}@example.com", USERS[user]);
                let out = sys.proxy.handle(message(&ruri, None, sys.seq), CALLER, now);
                assert_no_connect(&out);
                match model.target(user) {
                    Some(flow) => {
                        let ok = matches!(&out[..], [Action::Send { flow: f, msg }] if *f == flow && msg.is_request());
                        assert!(ok, "{ruri} must go to {flow}: {out:#?}");
                    }
                    None => {
                        let expected = if model.known.contains(&user) {
                            480
                        } else {
                            404
                        };
                        assert_eq!(status_to_caller(&out), Some(expected), "{ruri}: {out:#?}");
                    }
                }
            }
            Op::ByToken { flow } => {
                let token = sys.proxy.tokens().encode(flow);
                let route = format!("<sip:{token}@proxy.example.com:80;transport=ws;lr>");
                let out = sys.proxy.handle(
                    message("sip:x@x.invalid;transport=ws", Some(&route), sys.seq),
                    CALLER,
                    now,
                );
                assert_no_connect(&out);
                if model.open.contains_key(&flow) {
                    let ok = matches!(&out[..], [Action::Send { flow: f, msg }] if *f == flow && msg.is_request());
                    assert!(ok, "token request must go to {flow}: {out:#?}");
                } else {
                    assert_eq!(status_to_caller(&out), Some(430), "{out:#?}");
                }
            }
        }
        sys
    }

    fn check_invariants(sys: &System, model: &Model) {
        let loc = sys.proxy.location();
        loc.check_invariants().expect("location index consistent");
        for aor in loc.aors() {
            for b in loc.bindings(aor) {
                assert!(
                    sys.proxy.is_alive(b.flow),
                    "binding of {aor} survived its flow {}",
                    b.flow
                );
            }
        }
        assert_eq!(loc.binding_count(), model.bindings.len());
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn req_5626_7_d_no_connect_and_no_binding_outlives_its_flow(sequential 1..60 => System);
}
