//! Judgements of the GRUUs a registrar hands out (RFC 5627): the `pub-gruu` and `temp-gruu`
//! Contact parameters of a 200 (§5.2, §7), the public GRUU's shape (§5.1, Appendix A,
//! RFC 7118 §8.1 F4), and that a GRUU the client suggested is ignored (§5.1).

use sipws_reference::sip::scan::unquote;
use sipws_reference::sip::{NameAddr, Uri};

use super::registration::same_uri;
use crate::step::{StepError, StepResult};

/// A `pub-gruu`/`temp-gruu` value: a quoted string (RFC 5627 §7) holding a SIP URI with `gr`
/// (RFC 5627 §3.1), with a value for the public one (§5.1).
pub fn gruu_param(c: &NameAddr, name: &str, gr_value_needed: bool) -> Result<String, StepError> {
    let Some(raw) = c.params.value(name) else {
        return Err(StepError::broken(format!(
            "the Contact has no {name} although the REGISTER had Supported: gruu \
             (RFC 5627 §5.2): {c}"
        )));
    };
    if !(raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"')) {
        return Err(StepError::broken(format!(
            "{name} must be a quoted string (RFC 5627 §7); got {raw}"
        )));
    }
    let value = unquote(raw);
    let uri = match Uri::parse(&value) {
        Ok(Uri::Sip(u)) => u,
        _ => {
            return Err(StepError::broken(format!(
                "{name} must hold a SIP URI (RFC 5627 §3.1); got {value}"
            )));
        }
    };
    match uri.params.get("gr") {
        None => Err(StepError::broken(format!(
            "{name} {value} has no gr parameter (RFC 5627 §3.1: every GRUU has one)"
        ))),
        Some(None) | Some(Some("")) if gr_value_needed => Err(StepError::broken(format!(
            "{name} {value} has a gr without a value (RFC 5627 §5.1: the public GRUU adds gr \
             with a value)"
        ))),
        Some(_) => Ok(value),
    }
}

/// Both GRUUs of a Contact (RFC 5627 §5.2): (public, temporary).
pub fn check_gruus(c: &NameAddr) -> Result<(String, String), StepError> {
    Ok((
        gruu_param(c, "pub-gruu", true)?,
        gruu_param(c, "temp-gruu", false)?,
    ))
}

/// The public GRUU is the AoR with `gr` added, with a value (RFC 5627 §5.1, MUST); that the
/// value is the instance ID is what Appendix A and RFC 7118 §8.1 F4 show (SHOULD-strength).
pub fn check_pub_gruu(got: &str, expected: &str) -> StepResult {
    let (Ok(Uri::Sip(g)), Ok(Uri::Sip(e))) = (Uri::parse(got), Uri::parse(expected)) else {
        return Err(StepError::broken(format!(
            "the pub-gruu {got} is not a SIP URI"
        )));
    };
    let aor_matches =
        g.secure == e.secure && g.user == e.user && g.host.matches(&e.host) && g.port == e.port;
    let extra: Vec<String> = g
        .params
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case("gr"))
        .map(|p| p.name.clone())
        .collect();
    if !aor_matches || !extra.is_empty() {
        return Err(StepError::broken(format!(
            "the public GRUU must be the AoR with gr added (RFC 5627 §5.1); got {got}, expected \
             {expected}"
        )));
    }
    let gr = g.params.value("gr").unwrap_or("");
    if gr.is_empty() {
        return Err(StepError::broken(format!(
            "the public GRUU's gr must have a value (RFC 5627 §5.1); got {got}"
        )));
    }
    match e.params.value("gr") {
        Some(want) if !want.eq_ignore_ascii_case(gr) => Err(StepError::should(format!(
            "the public GRUU's gr is {gr}, not the instance {want} (RFC 5627 Appendix A, \
             RFC 7118 §8.1 F4)"
        ))),
        _ => Ok(()),
    }
}

/// A GRUU the registrar handed out is its own, not one the client suggested (RFC 5627 §5.1).
pub fn check_not_suggested(kind: &str, got: &str, suggested: &str) -> StepResult {
    let same = match (Uri::parse(got), Uri::parse(suggested)) {
        (Ok(g), Ok(s)) => same_uri(&g, &s),
        _ => got == suggested,
    };
    if same {
        Err(StepError::broken(format!(
            "the registrar returned the client's own {kind} {got}; RFC 5627 §5.1 says it MUST \
             ignore it"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::registration::contact_for;
    use crate::judge::registration::fixtures::*;

    #[test]
    fn gruus_must_be_quoted_sip_uris_with_gr() {
        let good = resp(GOOD_CONTACT);
        let c = contact_for(&good, "a.invalid", "alice").expect("found");
        assert_eq!(
            check_gruus(c),
            Ok((
                "sip:alice@example.com;gr=urn:uuid:1".to_string(),
                "sip:t1@example.com;gr".to_string()
            ))
        );
        let no_gruus = resp("Contact: <sip:alice@a.invalid>;+sip.instance=\"<urn:uuid:1>\"\n");
        let c = contact_for(&no_gruus, "a.invalid", "alice").expect("found");
        assert!(is_broken(&check_gruus(c).map(|_| ())));
        for (name, bad) in [
            ("pub-gruu", "sip:x@y;gr=1"),
            ("temp-gruu", "sip:t@y;gr"),
            ("temp-gruu", "\"sip:t@y\""),
            ("pub-gruu", "\"sip:x@y;gr\""),
            ("pub-gruu", "\"tel:1;gr=1\""),
        ] {
            let c = altered(&[(name, Some(bad))]);
            assert!(is_broken(&check_gruus(&c).map(|_| ())), "{name}={bad}");
        }
    }

    #[test]
    fn pub_gruu_must_be_the_aor_plus_gr() {
        let want = "sip:alice@example.com;gr=urn:uuid:1";
        assert_eq!(
            check_pub_gruu("sip:alice@EXAMPLE.com;gr=urn:uuid:1", want),
            Ok(())
        );
        assert!(is_broken(&check_pub_gruu(
            "sip:bob@example.com;gr=urn:uuid:1",
            want
        )));
        assert!(is_broken(&check_pub_gruu(
            "sip:alice@example.com;gr=urn:uuid:1;transport=ws",
            want
        )));
        assert!(is_broken(&check_pub_gruu("sip:alice@example.com;gr", want)));
        // Another gr value conforms to the MUST; the instance is what the RFCs show (SHOULD).
        assert!(is_should(&check_pub_gruu(
            "sip:alice@example.com;gr=xyz",
            want
        )));
    }

    #[test]
    fn client_suggested_gruus_are_refused() {
        let mallory = "sip:mallory@example.net;gr";
        assert!(is_broken(&check_not_suggested(
            "temp-gruu",
            "sip:mallory@EXAMPLE.net;gr",
            mallory
        )));
        assert_eq!(
            check_not_suggested("temp-gruu", "sip:tgruu.1@example.com;gr", mallory),
            Ok(())
        );
    }
}
