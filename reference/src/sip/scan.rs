//! A byte cursor over one header value (already unfolded) and the character classes of
//! RFC 3261 §25.1. Every typed parser in this module is written on top of it.

use super::error::{ErrorKind, ParseError, Result};

/// `token` characters (RFC 3261 §25.1): alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" /
/// "`" / "'" / "~".
pub fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// `word` characters (RFC 3261 §25.1), used by Call-ID.
pub fn is_word(b: u8) -> bool {
    is_token(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// `unreserved` = alphanum / mark (RFC 3261 §25.1).
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// Characters of `user` besides escapes (unreserved / user-unreserved).
pub fn is_user(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}

/// Characters of `password` besides escapes.
pub fn is_password(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',')
}

/// `paramchar` besides escapes: param-unreserved / unreserved.
pub fn is_paramchar(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

/// `hname`/`hvalue` characters besides escapes: hnv-unreserved / unreserved.
pub fn is_hnv(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$')
}

/// A cursor over a header value or start-line element. Offsets are byte offsets into the
/// string it was created over.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub fn peek_at(&self, n: usize) -> Option<u8> {
        self.s.as_bytes().get(self.pos + n).copied()
    }

    pub fn rest_from(&self, from: usize, to: usize) -> &'a str {
        &self.s[from..to]
    }

    pub fn slice(&self, from: usize) -> &'a str {
        &self.s[from..self.pos]
    }

    /// An error at the current position.
    pub fn err(&self, kind: ErrorKind) -> ParseError {
        ParseError::new(kind, self.pos)
    }

    /// "Unexpected character" at the current position, or "unexpected end".
    pub fn unexpected(&self, expected: &'static str) -> ParseError {
        match self.rest().chars().next() {
            Some(found) => self.err(ErrorKind::Unexpected { found, expected }),
            None => self.err(ErrorKind::UnexpectedEnd(expected)),
        }
    }

    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, b: u8, expected: &'static str) -> Result<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Skip SP and HTAB. Values are unfolded before they reach a cursor, so this is LWS/SWS.
    pub fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// `SWS c SWS` (SEMI, COMMA, EQUAL, SLASH, COLON of RFC 3261 §25.1): consume it if the next
    /// non-blank character is `c`; otherwise leave the cursor where it was.
    pub fn eat_sep(&mut self, c: u8) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.eat(c) {
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    pub fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !pred(b) {
                break;
            }
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// `1*token`.
    pub fn token(&mut self, expected: &'static str) -> Result<&'a str> {
        let t = self.take_while(is_token);
        if t.is_empty() {
            Err(self.unexpected(expected))
        } else {
            Ok(t)
        }
    }

    /// Characters of `class` or `%HEXHEX` escapes; at least one when `nonempty`.
    pub fn escaped_run(
        &mut self,
        class: impl Fn(u8) -> bool,
        nonempty: bool,
        expected: &'static str,
    ) -> Result<&'a str> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'%') => {
                    let ok = self.peek_at(1).is_some_and(|b| b.is_ascii_hexdigit())
                        && self.peek_at(2).is_some_and(|b| b.is_ascii_hexdigit());
                    if !ok {
                        return Err(self.err(ErrorKind::BadEscape));
                    }
                    self.pos += 3;
                }
                Some(b) if class(b) => self.pos += 1,
                _ => break,
            }
        }
        if nonempty && self.pos == start {
            return Err(self.unexpected(expected));
        }
        Ok(&self.s[start..self.pos])
    }

    /// A `quoted-string` (RFC 3261 §25.1), returned as written, quotes included.
    /// qdtext is LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; quoted-pair is "\" followed by
    /// %x00-09 / %x0B-0C / %x0E-7F.
    pub fn quoted_string(&mut self) -> Result<&'a str> {
        let start = self.pos;
        self.expect(b'"', "'\"'")?;
        loop {
            match self.peek() {
                None => return Err(ParseError::new(ErrorKind::UnterminatedQuote, start)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(&self.s[start..self.pos]);
                }
                Some(b'\\') => match self.peek_at(1) {
                    Some(b) if b <= 0x7f && b != b'\n' && b != b'\r' => self.pos += 2,
                    _ => return Err(self.unexpected("a quoted-pair")),
                },
                Some(b) if b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b) || b >= 0x80 => {
                    self.pos += 1
                }
                Some(_) => return Err(self.unexpected("qdtext")),
            }
        }
    }
}

/// `s` as a quoted-string, `"` and `\` escaped (RFC 3261 §25.1): display names, digest
/// parameters. [`unquote`] reverses it.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// The content of a quoted-string with its quotes removed and quoted-pairs resolved.
/// Input that is not quoted is returned unchanged.
pub fn unquote(s: &str) -> String {
    let inner = match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => return s.to_string(),
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Split a header value at top-level commas: commas inside quoted strings and inside `<...>`
/// do not split (RFC 3261 §7.3.1). Items are trimmed; each comes with its byte offset.
/// Used for headers this codec keeps as text; the typed parsers split while they parse.
pub fn split_list(value: &str) -> Vec<(usize, &str)> {
    let bytes = value.as_bytes();
    let mut items = Vec::new();
    let (mut start, mut i) = (0, 0);
    let (mut in_quote, mut in_angle) = (false, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'<' if !in_quote => in_angle = true,
            b'>' if !in_quote => in_angle = false,
            b',' if !in_quote && !in_angle => {
                push_trimmed(&mut items, value, start, i);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push_trimmed(&mut items, value, start, bytes.len());
    items
}

fn push_trimmed<'a>(items: &mut Vec<(usize, &'a str)>, value: &'a str, start: usize, end: usize) {
    let item = &value[start..end.min(value.len())];
    let lead = item.len() - item.trim_start().len();
    let item = item.trim();
    if !item.is_empty() {
        items.push((start + lead, item));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_list_respects_quotes_and_angles() {
        let v = r#""Bell, A." <sip:a@b;x=1,2>, <sip:c@d>;q=0.5 , "x\"," <sip:e@f>"#;
        let items: Vec<&str> = split_list(v).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            items,
            vec![
                r#""Bell, A." <sip:a@b;x=1,2>"#,
                "<sip:c@d>;q=0.5",
                r#""x\"," <sip:e@f>"#
            ]
        );
    }

    #[test]
    fn split_list_reports_offsets_and_drops_empty_items() {
        assert_eq!(split_list("a, ,b"), vec![(0, "a"), (4, "b")]);
    }

    #[test]
    fn quoted_string_with_escapes_and_utf8() {
        let mut c = Cursor::new(r#""a \"b\" ü" rest"#);
        assert_eq!(c.quoted_string().unwrap(), r#""a \"b\" ü""#);
        assert_eq!(unquote(r#""a \"b\" ü""#), r#"a "b" ü"#);
    }

    #[test]
    fn unterminated_quote_reports_its_start() {
        let err = Cursor::new(r#"x "abc"#).quoted_string();
        assert!(err.is_err());
        let mut c = Cursor::new(r#""abc"#);
        assert_eq!(
            c.quoted_string().unwrap_err(),
            ParseError::new(ErrorKind::UnterminatedQuote, 0)
        );
    }

    #[test]
    fn bad_escape_is_refused() {
        let mut c = Cursor::new("ab%4");
        assert_eq!(
            c.escaped_run(is_user, true, "user").unwrap_err().kind,
            ErrorKind::BadEscape
        );
    }
}
