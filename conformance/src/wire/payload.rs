//! The payload language of the frame steps: how a feature writes the bytes of a frame, in a
//! table cell or in the step text, and the frame tables built from it (RFC 6455 §5.2). It
//! only turns text into bytes and [`RawFrame`]s; what it needs from the scenario (a rendered
//! REGISTER, the last Ping sent) it asks of a [`Render`].
//!
//! # Payloads
//! Frame payloads are written in a small language (table cells and step text alike):
//! - `"text"` with the escapes `\r \n \t \\ \" \xNN`; `CRLF` (also `CRLF CRLF`);
//!   `hex:ff fe 00`; `code(1000)` (a Close status code, 2 bytes big-endian);
//!   `empty` or `nothing` (no bytes);
//! - `register(alice)`: the Outbound REGISTER of
//!   [`World::register_text`](crate::world::World::register_text) for the user on the sending
//!   connection; `register(alice, "Zoë €")` gives its From a display name;
//! - `repeat(125, hex:00 ff 80)`: the pattern repeated to exactly that many bytes;
//! - `the last Ping's payload`: what the client's last Ping carried;
//! - parts joined with ` + ` are concatenated;
//! - `X up to CUT` sends the start of `X`; `... up to CUT` continues it and `... the rest`
//!   finishes it. A cut is a fraction (`1/3`) or `N byte(s) into "€"` (N bytes past the
//!   start of the first occurrence of that text).
//!
//! # Frame tables
//! A frame table has a header row naming its columns, each optional: `opcode` (`text`,
//! `binary`, `continuation`, `close`, `ping`, `pong`, or a number like `0x3`; default
//! `text`), `fin` (`1`/`0`; default 1), `mask` (`yes`/`no`; default yes), `rsv` (`RSV1`,
//! `RSV2`, `RSV3` joined with `+`, or `0`), `length` (`shortest`, `7-bit`, `16-bit`,
//! `64-bit`, or `declares N`: the 64-bit field holding N whatever the payload), `payload`.

use super::frame::{Length, RawFrame};
use crate::step::StepError;

/// A payload the scenario got wrong: the harness's fault, not the target's.
pub fn bad_scenario(e: String) -> StepError {
    StepError::harness(format!("the scenario's payload: {e}"))
}

/// Everything a payload needs from the scenario: renders SIP text with its placeholders.
pub trait Render {
    /// The Outbound REGISTER for `user`, its From with the display name if one is given.
    fn register(&mut self, user: &str, display: Option<&str>) -> Result<Vec<u8>, String>;
    /// What the client's last Ping carried, if it sent one.
    fn last_ping(&mut self) -> Option<Vec<u8>>;
}

/// Where a sliced payload (`X up to CUT`, `... the rest`) stands.
#[derive(Default)]
pub struct Slicing {
    source: Vec<u8>,
    at: usize,
}

/// Split at `sep` outside quotes and parentheses.
fn split_top(spec: &str, sep: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut escaped = false;
    let mut cur = String::new();
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < spec.len() {
        let c = spec[i..].chars().next().unwrap_or(' ');
        if !quoted && depth == 0 && bytes[i..].starts_with(sep.as_bytes()) {
            parts.push(std::mem::take(&mut cur));
            i += sep.len();
            continue;
        }
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && c == '(' {
            depth += 1;
        } else if !quoted && c == ')' {
            depth -= 1;
        }
        cur.push(c);
        i += c.len_utf8();
    }
    parts.push(cur);
    parts
}

/// A quoted string with escapes, to bytes.
fn quoted(s: &str) -> Result<Vec<u8>, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("{s:?} is not a quoted string"))?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let h: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&h, 16).map_err(|_| format!("bad escape \\x{h}"))?);
            }
            other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    sipws_reference::hex::decode(&digits).ok_or_else(|| format!("bad hex: {s}"))
}

/// The arguments of `name(a, b)`.
fn call(s: &str, name: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        split_top(inner, ",")
            .into_iter()
            .map(|a| a.trim().to_string())
            .collect(),
    )
}

fn part(p: &str, r: &mut dyn Render) -> Result<Vec<u8>, String> {
    let p = p.trim();
    if p.is_empty() || p == "empty" || p == "nothing" {
        return Ok(Vec::new());
    }
    if p.starts_with('"') {
        return quoted(p);
    }
    if let Some(h) = p.strip_prefix("hex:") {
        return hex(h);
    }
    if p.split_whitespace().all(|t| t == "CRLF") {
        return Ok(b"\r\n".repeat(p.split_whitespace().count()));
    }
    if p == "the last Ping's payload" {
        return r
            .last_ping()
            .ok_or_else(|| "the client has sent no Ping yet".to_string());
    }
    if let Some(args) = call(p, "code") {
        let code: u16 = args
            .first()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("{p}: expected code(<number>)"))?;
        return Ok(code.to_be_bytes().to_vec());
    }
    if let Some(args) = call(p, "repeat") {
        let [n, pat] = args.as_slice() else {
            return Err(format!("{p}: expected repeat(<count>, <pattern>)"));
        };
        let n: usize = n.parse().map_err(|_| format!("{p}: bad count"))?;
        let pat = payload_parts(pat, r)?;
        if pat.is_empty() {
            return Err(format!("{p}: empty pattern"));
        }
        return Ok(pat.iter().copied().cycle().take(n).collect());
    }
    if let Some(args) = call(p, "register") {
        return match args.as_slice() {
            [user] => r.register(user, None),
            [user, display] => {
                let d = String::from_utf8(quoted(display)?)
                    .map_err(|_| format!("{p}: the display name must be text"))?;
                r.register(user, Some(&d))
            }
            _ => Err(format!(
                "{p}: expected register(<user>) or register(<user>, \"name\")"
            )),
        };
    }
    Err(format!("cannot read the payload {p:?}"))
}

fn payload_parts(spec: &str, r: &mut dyn Render) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for p in split_top(spec, " + ") {
        out.extend(part(&p, r)?);
    }
    Ok(out)
}

/// Where a cut falls in `source`.
fn cut(source: &[u8], spec: &str) -> Result<usize, String> {
    let spec = spec.trim();
    if let Some((n, m)) = spec.split_once('/') {
        let n: usize = n.trim().parse().map_err(|_| format!("bad cut {spec:?}"))?;
        let m: usize = m.trim().parse().map_err(|_| format!("bad cut {spec:?}"))?;
        if m == 0 || n > m {
            return Err(format!("bad cut {spec:?}"));
        }
        return Ok(source.len() * n / m);
    }
    let (n, rest) = spec
        .split_once(" byte")
        .ok_or_else(|| format!("bad cut {spec:?}: use 1/3 or 1 byte into \"€\""))?;
    let n: usize = n.trim().parse().map_err(|_| format!("bad cut {spec:?}"))?;
    let needle = rest
        .trim_start_matches('s')
        .trim()
        .strip_prefix("into ")
        .ok_or_else(|| format!("bad cut {spec:?}"))?;
    let needle = quoted(needle.trim())?;
    let at = source
        .windows(needle.len().max(1))
        .position(|w| w == needle.as_slice())
        .ok_or_else(|| format!("{spec:?}: the text does not occur in the payload"))?;
    Ok((at + n).min(source.len()))
}

/// A payload in the language of the module documentation; `slicing` carries a sliced
/// payload from one frame to the next.
pub fn payload(spec: &str, r: &mut dyn Render, slicing: &mut Slicing) -> Result<Vec<u8>, String> {
    let spec = spec.trim();
    if spec == "... the rest" {
        let out = slicing.source[slicing.at.min(slicing.source.len())..].to_vec();
        slicing.at = slicing.source.len();
        return Ok(out);
    }
    if let Some(c) = spec.strip_prefix("... up to ") {
        let end = cut(&slicing.source, c)?;
        if end < slicing.at {
            return Err(format!("{spec:?} cuts before the previous cut"));
        }
        let out = slicing.source[slicing.at..end].to_vec();
        slicing.at = end;
        return Ok(out);
    }
    let pieces = split_top(spec, " up to ");
    if let [source, c] = pieces.as_slice() {
        let source = payload_parts(source, r)?;
        let end = cut(&source, c)?;
        let out = source[..end].to_vec();
        *slicing = Slicing { source, at: end };
        return Ok(out);
    }
    payload_parts(spec, r)
}

/// An opcode by name (`text`, `Ping`...) or number (`0x3`), RFC 6455 §5.2.
pub fn opcode(s: &str) -> Result<u8, String> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "" | "text" => 0x1,
        "binary" => 0x2,
        "continuation" => 0x0,
        "close" => 0x8,
        "ping" => 0x9,
        "pong" => 0xA,
        other => {
            let n = other
                .strip_prefix("0x")
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|n| *n <= 0xF);
            n.ok_or_else(|| format!("unknown opcode {s:?}"))?
        }
    })
}

fn yes_no(s: &str, default: bool) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "1" | "yes" | "y" | "true" => Ok(true),
        "0" | "no" | "n" | "false" => Ok(false),
        other => Err(format!("expected yes/no or 1/0, got {other:?}")),
    }
}

fn rsv(s: &str) -> Result<u8, String> {
    let mut bits = 0;
    for t in s.split(['+', ',', ' ']).filter(|t| !t.is_empty()) {
        bits |= match t.to_ascii_uppercase().as_str() {
            "0" | "-" | "NONE" => 0,
            "RSV1" => 0b100,
            "RSV2" => 0b010,
            "RSV3" => 0b001,
            other => return Err(format!("unknown RSV bit {other:?}")),
        };
    }
    Ok(bits)
}

fn length(s: &str) -> Result<Length, String> {
    Ok(match s.trim() {
        "" | "shortest" => Length::Shortest,
        "7-bit" => Length::Bits7,
        "16-bit" => Length::Bits16,
        "64-bit" => Length::Bits64,
        other => match other
            .strip_prefix("declares ")
            .map(|n| n.trim().parse::<u64>())
        {
            Some(Ok(n)) => Length::Declared(n),
            _ => return Err(format!("unknown length form {other:?}")),
        },
    })
}

/// The frames of a table (first row: column names).
pub fn frames_from_table(
    table: &[Vec<String>],
    r: &mut dyn Render,
) -> Result<Vec<RawFrame>, String> {
    let (head, rows) = table
        .split_first()
        .ok_or_else(|| "the frame table is empty".to_string())?;
    let col = |name: &str| {
        head.iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let known = ["opcode", "fin", "mask", "rsv", "length", "payload"];
    if let Some(h) = head
        .iter()
        .find(|h| !known.contains(&h.trim().to_ascii_lowercase().as_str()))
    {
        return Err(format!(
            "unknown column {h:?} (columns: {})",
            known.join(", ")
        ));
    }
    let mut slicing = Slicing::default();
    let mut frames = Vec::new();
    for row in rows {
        let cell = |name: &str| {
            col(name)
                .and_then(|i| row.get(i))
                .map_or("", String::as_str)
        };
        let mut f = RawFrame::new(
            opcode(cell("opcode"))?,
            payload(cell("payload"), r, &mut slicing)?,
        )
        .fin(yes_no(cell("fin"), true)?)
        .rsv(rsv(cell("rsv"))?)
        .length(length(cell("length"))?);
        if !yes_no(cell("mask"), true)? {
            f = f.unmasked();
        }
        frames.push(f);
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Render for Fixed {
        fn register(&mut self, user: &str, display: Option<&str>) -> Result<Vec<u8>, String> {
            Ok(format!("REGISTER {user} {}", display.unwrap_or("-")).into_bytes())
        }
        fn last_ping(&mut self) -> Option<Vec<u8>> {
            Some(b"p".to_vec())
        }
    }

    fn pay(spec: &str) -> Vec<u8> {
        payload(spec, &mut Fixed, &mut Slicing::default()).expect("valid payload")
    }

    #[test]
    fn payload_language() {
        assert_eq!(pay(r#""x1""#), b"x1");
        assert_eq!(pay(r#""a\r\n\x00\"""#), b"a\r\n\x00\"");
        assert_eq!(pay("CRLF CRLF"), b"\r\n\r\n");
        assert_eq!(pay("hex:c0 af"), [0xc0, 0xaf]);
        assert_eq!(pay("code(1000) + hex:ff"), [0x03, 0xe8, 0xff]);
        assert_eq!(pay("repeat(5, hex:01 02)"), [1, 2, 1, 2, 1]);
        assert_eq!(pay(r#"repeat(3, "x")"#), b"xxx");
        assert_eq!(
            pay(r#"register(alice, "Zoë €")"#),
            "REGISTER alice Zoë €".as_bytes()
        );
        assert_eq!(pay("the last Ping's payload"), b"p");
        assert_eq!(pay("empty"), b"");
        assert!(payload("bogus(1)", &mut Fixed, &mut Slicing::default()).is_err());
        assert!(payload("hex:abc", &mut Fixed, &mut Slicing::default()).is_err());
    }

    #[test]
    fn slices_cover_the_source_exactly_once() {
        let mut s = Slicing::default();
        let a = payload(r#""abcdefghi" up to 1/3"#, &mut Fixed, &mut s).expect("ok");
        let b = payload("... up to 2/3", &mut Fixed, &mut s).expect("ok");
        let c = payload("... the rest", &mut Fixed, &mut s).expect("ok");
        assert_eq!(
            (a.as_slice(), b.as_slice(), c.as_slice()),
            (&b"abc"[..], &b"def"[..], &b"ghi"[..])
        );
        let mut s = Slicing::default();
        let a = payload(r#""x€y" up to 1 byte into "€""#, &mut Fixed, &mut s).expect("ok");
        assert_eq!(a, [b'x', 0xE2]);
        assert_eq!(
            payload("... the rest", &mut Fixed, &mut s).expect("ok"),
            [0x82, 0xAC, b'y']
        );
    }

    #[test]
    fn frame_tables() {
        let t = |rows: &[&[&str]]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect()
        };
        let frames = frames_from_table(
            &t(&[
                &["opcode", "fin", "mask", "rsv", "payload"],
                &["text", "0", "no", "RSV1+RSV3", r#""ab""#],
                &["0xB", "", "", "", ""],
            ]),
            &mut Fixed,
        )
        .expect("valid");
        assert_eq!(frames[0].to_bytes(), vec![0x51, 0x02, b'a', b'b']);
        assert_eq!(
            (frames[1].opcode, frames[1].fin, frames[1].mask.is_some()),
            (0xB, true, true)
        );
        assert!(frames_from_table(&t(&[&["opcod"], &["text"]]), &mut Fixed).is_err());
        assert!(frames_from_table(&t(&[&["opcode"], &["0x10"]]), &mut Fixed).is_err());
    }
}
