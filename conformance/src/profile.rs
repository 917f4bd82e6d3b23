//! The target profile: what the target can do, found out by probing it before the cases run
//! ([`crate::discover`]), so that a case is skipped only for what the target did ("the 2xx to
//! alice's Outbound REGISTER carried no Require: outbound"), never for a flag the user did not
//! know to give. This module holds the plain data and the gating rule.
//!
//! The probe registers two fresh users (two users can register), reads the 2xx of the
//! Outbound REGISTER for `Require: outbound` (RFC 5626 §6) and a GRUU (RFC 5627 §5.1, on its
//! own: GRUU does not need Outbound), registers once more with a Path value (RFC 3327 §5.3),
//! relays an INVITE between the two users to see whether the target record-routes with a flow
//! token (RFC 5626 §5.2), and, when both URLs are given, sends a MESSAGE from a ws:// user to
//! a wss:// user to learn whether the two reach the same server. `--capability NAME` forces a
//! capability, `--capability no-NAME` denies it; both are written in the profile as declared.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Every capability a case can need (`@needs:` tags), in the order the reports list them.
pub const CAPABILITIES: &[&str] = &[
    "wss",
    "udp",
    "two-users",
    "outbound",
    "gruu",
    "path",
    "flow-token",
    "auth",
    "ws-wss-same",
];

/// One capability as the target showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub have: bool,
    /// What the target did: "the 2xx to bob's REGISTER carried Require: outbound".
    pub how: String,
}

impl Finding {
    pub fn yes(how: impl Into<String>) -> Finding {
        Finding {
            have: true,
            how: how.into(),
        }
    }

    pub fn no(how: impl Into<String>) -> Finding {
        Finding {
            have: false,
            how: how.into(),
        }
    }
}

/// Where a capability's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Found by the probe exchanges.
    Probed,
    /// Follows from the options (a URL or credentials given or not).
    Given,
    /// Forced or denied with `--capability`.
    Declared,
}

/// One capability of the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    pub have: bool,
    /// What the target did (or what was given) that says so.
    pub how: String,
    pub source: Source,
}

/// What the target can do, by capability name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub capabilities: BTreeMap<String, Capability>,
}

/// A `--capability` value that names no capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCapability(pub String);

impl fmt::Display for UnknownCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown capability {:?}: expected one of {} (or no-NAME to deny one)",
            self.0,
            CAPABILITIES.join(", ")
        )
    }
}

/// A declared capability: `NAME` forces it, `no-NAME` denies it.
pub fn parse_declared(value: &str) -> Result<(&'static str, bool), UnknownCapability> {
    let (name, have) = match value.strip_prefix("no-") {
        Some(rest) if CAPABILITIES.contains(&rest) => (rest, false),
        _ => (value, true),
    };
    CAPABILITIES
        .iter()
        .find(|c| **c == name)
        .map(|c| (*c, have))
        .ok_or_else(|| UnknownCapability(value.to_string()))
}

impl Profile {
    pub fn set(&mut self, name: &str, finding: Finding, source: Source) {
        self.capabilities.insert(
            name.to_string(),
            Capability {
                have: finding.have,
                how: finding.how,
                source,
            },
        );
    }

    pub fn probed(&mut self, name: &str, finding: Finding) {
        self.set(name, finding, Source::Probed);
    }

    pub fn get(&self, name: &str) -> Option<&Capability> {
        self.capabilities.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some_and(|c| c.have)
    }

    /// Why a case with these `@needs:` cannot run, in words of what the target did; `None`
    /// when it can. A case that mixes the ws:// and wss:// sides (it needs `wss` and
    /// `two-users`) also needs the two URLs to reach one server.
    pub fn missing(&self, needs: &[String]) -> Option<String> {
        let mixed = needs.iter().any(|n| n == "wss") && needs.iter().any(|n| n == "two-users");
        let extra = mixed.then(|| "ws-wss-same".to_string());
        needs
            .iter()
            .chain(extra.iter())
            .find_map(|n| match self.get(n) {
                Some(c) if c.have => None,
                Some(c) => Some(format!("needs {n}: {}", c.how)),
                None => Some(format!("needs {n}, which the suite cannot find out")),
            })
    }

    /// Apply `--capability` values (already checked by [`parse_declared`]).
    pub fn declare(&mut self, declared: &[String]) {
        for value in declared {
            if let Ok((name, have)) = parse_declared(value) {
                let how = if have {
                    format!("declared with --capability {name}")
                } else {
                    format!("denied with --capability no-{name}")
                };
                self.set(name, Finding { have, how }, Source::Declared);
            }
        }
    }

    /// One line per capability, for the top of the console report.
    pub fn lines(&self) -> Vec<String> {
        CAPABILITIES
            .iter()
            .filter_map(|name| {
                self.get(name).map(|c| {
                    format!(
                        "{:<12} {:<3} {}",
                        name,
                        if c.have { "yes" } else { "no" },
                        c.how
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(have: bool, how: &str) -> Capability {
        Capability {
            have,
            how: how.into(),
            source: Source::Probed,
        }
    }

    #[test]
    fn a_skip_names_what_the_target_did() {
        let mut p = Profile::default();
        p.capabilities.insert(
            "two-users".into(),
            cap(false, "REGISTER for bob@d got 403 Forbidden"),
        );
        p.capabilities.insert("wss".into(), cap(true, "given"));
        assert_eq!(
            p.missing(&["two-users".into()]).as_deref(),
            Some("needs two-users: REGISTER for bob@d got 403 Forbidden")
        );
        assert_eq!(p.missing(&["wss".into()]), None);
        assert!(p.missing(&["gruu".into()]).is_some());
    }

    #[test]
    fn a_mixed_case_needs_both_urls_on_one_server() {
        let mut p = Profile::default();
        p.capabilities.insert("wss".into(), cap(true, "given"));
        p.capabilities
            .insert("two-users".into(), cap(true, "both registered"));
        p.capabilities.insert(
            "ws-wss-same".into(),
            cap(false, "the MESSAGE did not arrive"),
        );
        assert_eq!(
            p.missing(&["wss".into(), "two-users".into()]).as_deref(),
            Some("needs ws-wss-same: the MESSAGE did not arrive")
        );
        assert_eq!(p.missing(&["two-users".into()]), None);
    }

    #[test]
    fn declared_capabilities_force_or_deny_and_typos_are_refused() {
        assert_eq!(parse_declared("outbound"), Ok(("outbound", true)));
        assert_eq!(parse_declared("no-gruu"), Ok(("gruu", false)));
        assert!(parse_declared("outbond").is_err());
        assert!(parse_declared("no-such").is_err());
        let mut p = Profile::default();
        p.capabilities
            .insert("outbound".into(), cap(false, "no Require"));
        p.declare(&["outbound".into(), "no-path".into()]);
        assert!(p.has("outbound"));
        assert_eq!(p.get("outbound").map(|c| c.source), Some(Source::Declared));
        assert!(!p.has("path"));
    }
}
