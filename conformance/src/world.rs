//! The state one case runs in: the target, the probe connections it opened, the last answer
//! and what was observed where the RFCs allow several answers.

use std::sync::Arc;

use crate::target::Target;
use crate::wire::{Probe, Received, Transcript};

pub struct World {
    pub target: Arc<Target>,
    conns: Vec<(String, Probe)>,
    /// The last answer to an upgrade request.
    pub answer: Option<Received>,
    /// The Sec-WebSocket-Key of the last upgrade request sent.
    pub key: Option<String>,
    /// Observations for the verdict (which conforming alternative the target chose).
    pub observed: Vec<String>,
}

impl World {
    pub fn new(target: Arc<Target>) -> Self {
        World {
            target,
            conns: Vec::new(),
            answer: None,
            key: None,
            observed: Vec::new(),
        }
    }

    /// Add a connection under a name (`main` unless the scenario names several).
    pub fn add_conn(&mut self, name: &str, probe: Probe) {
        self.conns.retain(|(n, _)| n != name);
        self.conns.push((name.to_string(), probe));
    }

    pub fn conn(&mut self, name: &str) -> Option<&mut Probe> {
        self.conns
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }

    pub fn observe(&mut self, what: impl Into<String>) {
        self.observed.push(what.into());
    }

    /// The transcripts of every connection, in the order they were opened.
    pub fn into_evidence(self) -> Vec<Transcript> {
        self.conns
            .into_iter()
            .map(|(_, p)| p.into_transcript())
            .collect()
    }
}
