//! Building what the UA sends: requests (RFC 3261 §8.1.1) and responses (§8.2.6), with the
//! RFC 7118 Via token and `Content-Length` always written (spec/requirements.md A6: send it, never
//! require it).

use crate::sip::response::{copied_headers, reason_phrase};
use crate::sip::{
    Contact, Header, HeaderName, HeaderValue, Host, Message, Method, NameAddr, Params, RequestLine,
    SipUri, StartLine, StatusLine, Uri, Version, Via,
};

use super::config::WsTransport;

/// Max-Forwards of every request we originate (RFC 3261 §8.1.1.6).
pub const MAX_FORWARDS: u32 = 70;
/// Option tags with Outbound on: Path (3327-5.1-a), Outbound (5626-4.2.1-a, 4.3-a), GRUU
/// (5627-4.1-a) — `Supported: path, outbound, gruu` as RFC 7118 §8.1 F3 and §8.2 F1.
pub const SUPPORTED_OUTBOUND: &[&str] = &["path", "outbound", "gruu"];
/// Option tags with Outbound off.
pub const SUPPORTED_PLAIN: &[&str] = &["path", "gruu"];
/// The methods this UA handles (Allow, RFC 3261 §20.5).
pub const ALLOW: &[&str] = &["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "MESSAGE"];

/// Our Via: `SIP/2.0/WS` or `SIP/2.0/WSS` (7118-5.1-a), the sent-by host without a port, as
/// RFC 7118 §8.1 F3 writes it.
pub fn via(transport: WsTransport, host: &str, branch: &str) -> Via {
    let mut params = Params::new();
    params.set("branch", Some(branch));
    Via {
        protocol: "SIP".into(),
        version: "2.0".into(),
        transport: transport.via_token().into(),
        host: Host::Domain(host.to_string()),
        port: None,
        params,
    }
}

pub use crate::sip::scan::quote;

/// `uri` as a From/To value. A plain URI is written bare, as RFC 7118 §8 does
/// (`From: sip:alice@example.com;tag=...`); one with a display name, parameters or headers in
/// angle brackets, where RFC 3261 §20.10 requires them.
pub fn address(uri: &SipUri, display: Option<&str>) -> NameAddr {
    NameAddr {
        display: display.map(quote),
        uri: Uri::Sip(uri.clone()),
        bracketed: display.is_some() || !uri.params.is_empty() || !uri.headers.is_empty(),
        params: Params::new(),
    }
}

/// Everything a request is made of.
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub via: Via,
    pub from: NameAddr,
    pub to: NameAddr,
    pub call_id: String,
    pub cseq: u32,
    pub routes: Vec<NameAddr>,
    pub supported: Option<&'static [&'static str]>,
    pub contact: Option<Contact>,
    pub extra: Vec<Header>,
    /// Content-Type (already checked) and body.
    pub body: Option<(String, Vec<u8>)>,
}

fn tokens(list: &[&str]) -> HeaderValue {
    HeaderValue::Tokens(list.iter().map(|s| s.to_string()).collect())
}

pub fn allow_header() -> Header {
    Header::new(HeaderName::Allow, tokens(ALLOW))
}

pub fn supported_header(list: &[&str]) -> Header {
    Header::new(HeaderName::Supported, tokens(list))
}

fn content_headers(headers: &mut Vec<Header>, body: Option<(String, Vec<u8>)>) -> Vec<u8> {
    let body = match body {
        Some((ct, b)) => {
            headers.push(Header::new(HeaderName::ContentType, HeaderValue::Text(ct)));
            b
        }
        None => Vec::new(),
    };
    headers.push(Header::new(
        HeaderName::ContentLength,
        HeaderValue::Number(u32::try_from(body.len()).unwrap_or(u32::MAX)),
    ));
    body
}

impl Request {
    /// Headers in the order of RFC 7118 §8.2 F1: Via, From, To, Call-ID, CSeq, Max-Forwards,
    /// Supported, Route, Contact, then the rest, Content-Type and Content-Length.
    pub fn build(self) -> Message {
        let mut h = vec![
            Header::new(HeaderName::Via, HeaderValue::Via(vec![self.via])),
            Header::new(HeaderName::From, HeaderValue::Address(self.from)),
            Header::new(HeaderName::To, HeaderValue::Address(self.to)),
            Header::new(HeaderName::CallId, HeaderValue::CallId(self.call_id)),
            Header::new(
                HeaderName::CSeq,
                HeaderValue::CSeq(crate::sip::CSeq {
                    seq: self.cseq,
                    method: self.method.clone(),
                }),
            ),
            Header::new(HeaderName::MaxForwards, HeaderValue::Number(MAX_FORWARDS)),
        ];
        if let Some(s) = self.supported {
            h.push(supported_header(s));
        }
        if !self.routes.is_empty() {
            h.push(Header::new(
                HeaderName::Route,
                HeaderValue::Addresses(self.routes),
            ));
        }
        if let Some(c) = self.contact {
            h.push(Header::new(HeaderName::Contact, HeaderValue::Contact(c)));
        }
        h.extend(self.extra);
        let body = content_headers(&mut h, self.body);
        Message::new(
            StartLine::Request(RequestLine {
                method: self.method,
                uri: self.uri,
                version: Version::SIP_2_0,
            }),
            h,
            body,
        )
    }
}

/// The reason phrase we write (RFC 3261 §21; the registrar's and proxy's table for the rest).
pub fn reason(code: u16) -> &'static str {
    match code {
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        202 => "Accepted",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => reason_phrase(code),
    }
}

/// A response to `req` (RFC 3261 §8.2.6.2): every Via, From, Call-ID and CSeq copied, To
/// copied with `to_tag` added unless it has a tag or the code is 100, then `extra`, the body
/// and Content-Length. Via values are copied untouched: a UA adds no `received`
/// (RFC 7118 §8.2 F10).
pub fn response(
    req: &Message,
    code: u16,
    to_tag: &str,
    extra: Vec<Header>,
    body: Option<(String, Vec<u8>)>,
) -> Message {
    let mut h = copied_headers(req, code, to_tag);
    h.extend(extra);
    let body = content_headers(&mut h, body);
    Message::new(
        StartLine::Response(StatusLine {
            version: Version::SIP_2_0,
            code,
            reason: reason(code).to_string(),
        }),
        h,
        body,
    )
}

/// The Record-Route headers of a request, copied into a dialog-forming response (RFC 3261
/// §12.1.1).
pub fn record_route_copies(req: &Message) -> Vec<Header> {
    req.headers
        .iter()
        .filter(|h| h.name == HeaderName::RecordRoute)
        .map(|h| Header::new(HeaderName::RecordRoute, h.value.clone()))
        .collect()
}

/// The ACK of a non-2xx final response to our INVITE (RFC 3261 §17.1.1.3): the INVITE's
/// Request-URI, top Via (same branch), From, Call-ID, Route and CSeq number; To from the
/// response (with its tag).
pub fn ack_for_non_2xx(invite: &Message, resp: &Message) -> Option<Message> {
    in_invite_transaction(invite, Method::Ack, resp.to()?)
}

/// The CANCEL of our INVITE (RFC 3261 §9.1): Request-URI, Call-ID, To, From, Route and the
/// top Via (same branch) of the INVITE, CSeq number with method CANCEL.
pub fn cancel_for(invite: &Message) -> Option<Message> {
    in_invite_transaction(invite, Method::Cancel, invite.to()?)
}

/// A request that belongs to the INVITE's client transaction (its ACK for a non-2xx, its
/// CANCEL): the INVITE's Request-URI, top Via with the same branch, From, Call-ID, Route and
/// CSeq number, with `method` and the given To.
fn in_invite_transaction(invite: &Message, method: Method, to: &NameAddr) -> Option<Message> {
    let StartLine::Request(line) = &invite.start else {
        return None;
    };
    let mut h = vec![
        Header::new(
            HeaderName::Via,
            HeaderValue::Via(vec![invite.top_via()?.clone()]),
        ),
        Header::new(
            HeaderName::From,
            HeaderValue::Address(invite.from()?.clone()),
        ),
        Header::new(HeaderName::To, HeaderValue::Address(to.clone())),
        Header::new(
            HeaderName::CallId,
            HeaderValue::CallId(invite.call_id()?.to_string()),
        ),
        Header::new(
            HeaderName::CSeq,
            HeaderValue::CSeq(crate::sip::CSeq {
                seq: invite.cseq()?.seq,
                method: method.clone(),
            }),
        ),
        Header::new(HeaderName::MaxForwards, HeaderValue::Number(MAX_FORWARDS)),
    ];
    let routes: Vec<NameAddr> = invite.routes().cloned().collect();
    if !routes.is_empty() {
        h.push(Header::new(
            HeaderName::Route,
            HeaderValue::Addresses(routes),
        ));
    }
    content_headers(&mut h, None);
    Some(Message::new(
        StartLine::Request(RequestLine {
            method,
            uri: line.uri.clone(),
            version: Version::SIP_2_0,
        }),
        h,
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_quoted_and_force_brackets() {
        assert_eq!(quote(r#"A "B" \C"#), r#""A \"B\" \\C""#);
        let u = SipUri::parse("sip:alice@example.com").expect("valid");
        assert_eq!(address(&u, None).to_string(), "sip:alice@example.com");
        assert_eq!(
            address(&u, Some("Alice")).to_string(),
            "\"Alice\" <sip:alice@example.com>"
        );
        let p = SipUri::parse("sip:alice@example.com;transport=ws").expect("valid");
        assert_eq!(
            address(&p, None).to_string(),
            "<sip:alice@example.com;transport=ws>"
        );
    }

    #[test]
    fn responses_copy_vias_untouched_and_always_carry_content_length() {
        let req = Message::parse(
            b"MESSAGE sip:a@a.invalid SIP/2.0\r\n\
Via: SIP/2.0/WSS proxy.example.com:443;branch=z9hG4bKp\r\n\
Via: SIP/2.0/UDP 203.0.113.22;branch=z9hG4bKb;rport=5060;received=203.0.113.22\r\n\
From: <sip:b@example.com>;tag=b\r\nTo: <sip:a@example.com>\r\nCall-ID: c\r\n\
CSeq: 3 MESSAGE\r\nMax-Forwards: 69\r\n\r\nhi",
        )
        .expect("parses");
        let r = response(&req, 200, "t", Vec::new(), None);
        let vias: Vec<String> = r.vias().map(ToString::to_string).collect();
        let orig: Vec<String> = req.vias().map(ToString::to_string).collect();
        assert_eq!(vias, orig);
        assert_eq!(r.content_length(), Some(0));
        assert_eq!(r.to().and_then(NameAddr::tag), Some("t"));
        assert_eq!(r.status_line().map(|s| s.reason.as_str()), Some("OK"));
        let again = Message::parse(&r.to_bytes()).expect("re-parses");
        assert_eq!(again, r);
        assert_eq!(reason(487), "Request Terminated");
    }
}
