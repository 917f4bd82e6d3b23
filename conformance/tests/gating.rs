//! What the `@needs:` tags of the features gate on follows the RFCs, not the reference: a case
//! skips only for a capability its clauses depend on.

use sipws::suite::load;

/// RFC 5627 (GRUU) does not depend on RFC 5626 (Outbound): a registrar may hand out GRUUs
/// without Outbound. A case whose requirements are all GRUU rows needs `gruu` and not
/// `outbound`, so a GRUU registrar without Outbound (Kamailio 5.6) is judged on them.
#[test]
fn gruu_cases_need_gruu_not_outbound() {
    let cases = load().expect("the features load");
    let gruu: Vec<_> = cases
        .iter()
        .filter(|c| c.info.reqs.iter().any(|r| r.starts_with("5627-")))
        .filter(|c| !c.info.reqs.iter().any(|r| r.starts_with("5626-")))
        .collect();
    assert!(gruu.len() >= 10, "only {} GRUU cases", gruu.len());
    for c in gruu {
        assert!(
            c.info.needs.iter().any(|n| n == "gruu"),
            "{} cites GRUU rows but does not need gruu",
            c.info.id
        );
        assert!(
            !c.info.needs.iter().any(|n| n == "outbound"),
            "{} cites no Outbound row but needs outbound",
            c.info.id
        );
    }
}

/// Path (RFC 3327) is optional: a case that judges a Path answer as a MUST needs `path`.
#[test]
fn path_echo_cases_need_path() {
    let cases = load().expect("the features load");
    let echo: Vec<_> = cases
        .iter()
        .filter(|c| c.info.reqs.iter().any(|r| r == "3327-5.3-a"))
        .filter(|c| c.info.level == sipws::verdict::Level::Must)
        .collect();
    assert!(!echo.is_empty());
    for c in echo {
        assert!(
            c.info.needs.iter().any(|n| n == "path"),
            "{} judges Path as a MUST without needing path",
            c.info.id
        );
    }
}

/// Every `@needs:` tag names a capability the profile knows.
#[test]
fn every_need_is_a_known_capability() {
    for c in load().expect("the features load") {
        for n in &c.info.needs {
            assert!(
                sipws::profile::CAPABILITIES.contains(&n.as_str()),
                "{}: unknown need {n}",
                c.info.id
            );
        }
    }
}
