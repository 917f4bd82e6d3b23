//! `Sec-WebSocket-Extensions` syntax (RFC 6455 §9.1, ABNF in §4.3).
//!
//! This implementation supports no extension, so a server never lists one in its 101
//! (RFC 6455 §4.2.2 (4) /extensions/: "Extensions not listed by the client MUST NOT be
//! listed"). The header is still parsed: on the server because a value that violates the
//! ABNF makes the handshake invalid (RFC 6455 §4.2.1: "including but not limited to any
//! violations of the ABNF grammar ... MUST stop processing"), and on the client to find the
//! extension names a 101 claims (RFC 6455 §4.1, validation step 5).
//!
//! Grammar (RFC 2616 "implied *LWS": OWS may surround `,`, `;` and `=`):
//! ```text
//! extension-list  = 1#extension
//! extension       = extension-token *( ";" extension-param )
//! extension-token = registered-token = token
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; a quoted-string value, once unescaped, MUST conform to token
//! ```
//! Several field lines form one list (RFC 6455 §11.3.2, RFC 7230 §3.2.2); empty list
//! elements are skipped (RFC 7230 §7), but a field set holding no extension at all breaks
//! `1#extension`.

use super::http::{is_tchar, is_token};

/// One extension offer or selection: its token and its parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension-token.
    pub name: String,
    /// `(name, value)` pairs; a quoted-string value is given unescaped.
    pub params: Vec<(String, Option<String>)>,
}

/// Why a `Sec-WebSocket-Extensions` field set is not an `extension-list`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    /// The field(s) are present but hold no extension (`1#extension` needs one).
    #[error("Sec-WebSocket-Extensions holds no extension (extension-list = 1#extension)")]
    Empty,
    /// The value breaks the grammar at `offset` of field line number `field` (0-based).
    #[error(
        "Sec-WebSocket-Extensions field {field} breaks the extension-list grammar at byte {offset}"
    )]
    Syntax {
        /// Index of the field line among those with this name.
        field: usize,
        /// Byte offset inside that field's value.
        offset: usize,
    },
}

fn skip_ows(v: &[u8], mut p: usize) -> usize {
    while matches!(v.get(p), Some(b' ') | Some(b'\t')) {
        p += 1;
    }
    p
}

fn token(v: &[u8], p: usize) -> Option<(String, usize)> {
    let len = v.get(p..)?.iter().take_while(|&&b| is_tchar(b)).count();
    if len == 0 {
        return None;
    }
    let s = std::str::from_utf8(v.get(p..p + len)?).ok()?;
    Some((s.to_owned(), p + len))
}

/// `quoted-string` at `p` (RFC 7230 §3.2.6); returns the unescaped text and the next index.
fn quoted(v: &[u8], p: usize) -> Option<(String, usize)> {
    if v.get(p) != Some(&b'"') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = p + 1;
    loop {
        match *v.get(i)? {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), i + 1)),
            b'\\' => {
                let c = *v.get(i + 1)?;
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                if !(c == b'\t' || c == b' ' || (0x21..=0x7e).contains(&c) || c >= 0x80) {
                    return None;
                }
                out.push(c);
                i += 2;
            }
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            c if c == b'\t'
                || c == b' '
                || c == 0x21
                || (0x23..=0x7e).contains(&c)
                || c >= 0x80 =>
            {
                out.push(c);
                i += 1;
            }
            _ => return None,
        }
    }
}

fn parse_field(v: &[u8], field: usize, out: &mut Vec<Extension>) -> Result<(), ExtensionError> {
    let err = |offset: usize| ExtensionError::Syntax { field, offset };
    let mut p = 0;
    loop {
        p = skip_ows(v, p);
        match v.get(p) {
            None => return Ok(()),
            Some(b',') => {
                p += 1;
                continue;
            }
            Some(_) => {}
        }
        let (name, np) = token(v, p).ok_or_else(|| err(p))?;
        p = skip_ows(v, np);
        let mut params = Vec::new();
        while v.get(p) == Some(&b';') {
            p = skip_ows(v, p + 1);
            let (pname, np) = token(v, p).ok_or_else(|| err(p))?;
            p = skip_ows(v, np);
            let mut value = None;
            if v.get(p) == Some(&b'=') {
                p = skip_ows(v, p + 1);
                let (val, np) = if v.get(p) == Some(&b'"') {
                    let (val, np) = quoted(v, p).ok_or_else(|| err(p))?;
                    // RFC 6455 §9.1: the unescaped quoted-string value MUST conform to token.
                    if !is_token(&val) {
                        return Err(err(p));
                    }
                    (val, np)
                } else {
                    token(v, p).ok_or_else(|| err(p))?
                };
                value = Some(val);
                p = skip_ows(v, np);
            }
            params.push((pname, value));
        }
        out.push(Extension { name, params });
        match v.get(p) {
            None => return Ok(()),
            Some(b',') => p += 1,
            Some(_) => return Err(err(p)),
        }
    }
}

/// Parses all `Sec-WebSocket-Extensions` field values (wire order) as one list.
/// No field at all is the null value: `Ok(vec![])`.
pub fn parse_extensions(values: &[&[u8]]) -> Result<Vec<Extension>, ExtensionError> {
    let mut out = Vec::new();
    for (field, v) in values.iter().enumerate() {
        parse_field(v, field, &mut out)?;
    }
    if !values.is_empty() && out.is_empty() {
        return Err(ExtensionError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(values: &[&[u8]]) -> Result<Vec<String>, ExtensionError> {
        parse_extensions(values).map(|v| v.into_iter().map(|e| e.name).collect())
    }

    #[test]
    fn parses_browser_offer() {
        let got =
            parse_extensions(&[b"permessage-deflate; client_max_window_bits, x-foo;a=\"1\" ; b"])
                .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "permessage-deflate");
        assert_eq!(
            got[0].params,
            vec![("client_max_window_bits".to_string(), None)]
        );
        assert_eq!(
            got[1].params,
            vec![("a".into(), Some("1".into())), ("b".into(), None)]
        );
    }

    #[test]
    fn several_fields_form_one_list_and_empty_elements_are_skipped() {
        assert_eq!(names(&[b"a,,", b" , b"]).unwrap(), vec!["a", "b"]);
        assert_eq!(names(&[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn rejects_grammar_violations() {
        assert_eq!(names(&[b""]), Err(ExtensionError::Empty));
        assert_eq!(names(&[b" , "]), Err(ExtensionError::Empty));
        assert_eq!(
            names(&[b"a b"]),
            Err(ExtensionError::Syntax {
                field: 0,
                offset: 2
            })
        );
        assert_eq!(
            names(&[b"ok", b"a;"]),
            Err(ExtensionError::Syntax {
                field: 1,
                offset: 2
            })
        );
        assert_eq!(
            names(&[b"a;p=\"x y\""]),
            Err(ExtensionError::Syntax {
                field: 0,
                offset: 4
            })
        );
        assert_eq!(
            names(&[b"a;p=\"unterminated"]),
            Err(ExtensionError::Syntax {
                field: 0,
                offset: 4
            })
        );
        assert_eq!(
            names(&[b"\"a\""]),
            Err(ExtensionError::Syntax {
                field: 0,
                offset: 0
            })
        );
        assert_eq!(
            names(&[b"a;p="]),
            Err(ExtensionError::Syntax {
                field: 0,
                offset: 4
            })
        );
    }

    #[test]
    fn quoted_pair_is_unescaped() {
        let got = parse_extensions(&[b"a;p=\"1\\0\""]).unwrap();
        assert_eq!(got[0].params[0].1.as_deref(), Some("10"));
    }

    proptest! {
        #[test]
        fn never_panics(a in proptest::collection::vec(any::<u8>(), 0..64),
                        b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_extensions(&[&a, &b]);
        }
    }
}
