//! The routing side of a case's world: the parties besides the WebSocket connections (the UDP
//! phones and the listener of [`crate::wire`]), the dialog state each party keeps (RFC 3261
//! §12.1), what was sent and received for later judgement, and the routing placeholders.
//!
//! `"x" sends, with routing placeholders:` fills, before the shared placeholders of
//! [`World::render`]: `{listener}` (ip:port of the listener), `{target-ws}` and `{target-wss}`
//! (host:port of the target's endpoints) and `{host:NAME}` (the `.invalid` host of connection
//! NAME), so a message can name addresses only known at run time.

use std::collections::HashMap;

use sipws_reference::sip::Message;

use super::World;
use crate::evidence::printable;
use crate::judge::dialog::{self, Dialog};
use crate::judge::sip::status;
use crate::step::{StepError, StepResult};
use crate::wire::listener::Listener;
use crate::wire::phone::Phone;

/// What the routing steps keep between steps, reached through [`World::routing`].
#[derive(Default)]
pub struct Routing {
    pub listener: Option<Listener>,
    pub phones: HashMap<String, Phone>,
    /// Dialog state per party (RFC 3261 §12.1), recorded from an INVITE or its 2xx.
    pub dialogs: HashMap<String, Dialog>,
    /// The last message each connection sent with routing placeholders, as sent.
    pub sent: HashMap<String, String>,
    /// The INVITE each WebSocket party received, kept when later requests replace
    /// `World::last_request`.
    pub invites: HashMap<String, Message>,
}

impl World {
    pub fn routing(&mut self) -> &mut Routing {
        self.ext::<Routing>()
    }

    /// A placeholder's value for a connection (`{host}`, `{branch}`, `{n}`), without the
    /// framing `render` adds.
    pub fn placeholder(&mut self, name: &str, conn: &str) -> String {
        self.render(name, conn)
            .trim_end_matches(['\r', '\n'])
            .to_string()
    }

    /// host:port of the target's WebSocket endpoint, IPv6 literals bracketed; a skip when the
    /// target has none.
    fn endpoint(&self, secure: bool) -> Result<String, StepError> {
        let ep = if secure {
            &self.target.wss
        } else {
            &self.target.ws
        };
        let ep = ep.as_ref().ok_or_else(|| {
            StepError::Skip(format!(
                "the target has no {} endpoint",
                if secure { "wss://" } else { "ws://" }
            ))
        })?;
        Ok(if ep.host.contains(':') {
            format!("[{}]:{}", ep.host, ep.port)
        } else {
            format!("{}:{}", ep.host, ep.port)
        })
    }

    /// Fill the routing placeholders of a message written in a feature.
    pub fn fill_routing(&mut self, text: &str) -> Result<String, StepError> {
        let mut t = text.to_string();
        if t.contains("{listener}") {
            let addr = self
                .routing()
                .listener
                .as_ref()
                .map(Listener::addr)
                .ok_or_else(|| StepError::harness("{listener} needs a listener step first"))?;
            t = t.replace("{listener}", &addr.to_string());
        }
        if t.contains("{target-ws}") {
            t = t.replace("{target-ws}", &self.endpoint(false)?);
        }
        if t.contains("{target-wss}") {
            t = t.replace("{target-wss}", &self.endpoint(true)?);
        }
        Ok(fill_hosts(&t, |name| self.conn_host(name)))
    }

    pub fn phone(&mut self, name: &str) -> Result<&mut Phone, StepError> {
        self.routing()
            .phones
            .get_mut(name)
            .ok_or_else(|| StepError::harness(format!("no UDP phone {name:?}")))
    }

    /// The last request of `method` a party received: a UDP phone's, or a connection's.
    pub fn received(&mut self, method: &str, party: &str) -> Result<Message, StepError> {
        if let Some((m, _)) = self
            .routing()
            .phones
            .get(party)
            .and_then(|p| p.requests.get(method))
        {
            return Ok(m.clone());
        }
        if let Some(m) = self
            .last_request
            .get(party)
            .filter(|m| m.method().is_some_and(|x| x.to_string() == method))
        {
            return Ok(m.clone());
        }
        if method == "INVITE"
            && let Some(m) = self.routing().invites.get(party)
        {
            return Ok(m.clone());
        }
        Err(StepError::harness(format!(
            "{party} has received no {method} yet"
        )))
    }

    /// Judge the last `method` request `party` received. A UDP phone's datagrams are in no
    /// transcript, so a broken judgement of one carries the message as evidence.
    pub fn judge_received(
        &mut self,
        method: &str,
        party: &str,
        judge: impl FnOnce(&mut World, &Message) -> StepResult,
    ) -> StepResult {
        let m = self.received(method, party)?;
        match judge(self, &m) {
            Err(StepError::Broken { message, cap })
                if self.routing().phones.contains_key(party) =>
            {
                let raw = if m.raw().is_empty() {
                    m.to_bytes()
                } else {
                    m.raw().to_vec()
                };
                Err(StepError::Broken {
                    message: format!(
                        "{message}\nthe {method} the UDP phone {party} received:\n{}",
                        printable(&raw)
                    ),
                    cap,
                })
            }
            other => other,
        }
    }

    /// Read responses on a connection until a final one (1xx skipped, bounded), keep it as the
    /// last response and return its status. A 2xx to an INVITE sets up the caller's dialog
    /// (RFC 3261 §12.1.2).
    pub async fn final_response(&mut self, conn: &str) -> Result<u16, StepError> {
        let r = self.next_final(conn).await?;
        let code = status(&r).unwrap_or_default();
        if (200..300).contains(&code) && r.cseq().is_some_and(|c| c.method.to_string() == "INVITE")
        {
            let d = dialog::uac(&r).map_err(|e| {
                StepError::broken(format!("the 2xx to the INVITE cannot set up a dialog: {e}"))
            })?;
            self.routing().dialogs.insert(conn.to_string(), d);
        }
        Ok(code)
    }

    /// The dialog of `party` for its next request of `method`, and that request's CSeq number
    /// (advanced for anything but an ACK).
    pub fn next_in_dialog(
        &mut self,
        party: &str,
        method: &str,
    ) -> Result<(Dialog, u32), StepError> {
        let d = self
            .routing()
            .dialogs
            .get_mut(party)
            .ok_or_else(|| StepError::harness(format!("{party} is in no dialog")))?;
        let cseq = d.next_cseq(method);
        Ok((d.clone(), cseq))
    }
}

/// Fill `{host:NAME}` with `host(NAME)`.
fn fill_hosts(text: &str, mut host: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{host:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "{host:".len()..];
        match after.find('}') {
            Some(j) => {
                out.push_str(&host(&after[..j]));
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_placeholders_are_filled_by_name() {
        let t = fill_hosts("Via: SIP/2.0/WS {host:alice};x={host:b}{host:", |n| {
            format!("<{n}>")
        });
        assert_eq!(t, "Via: SIP/2.0/WS <alice>;x=<b>{host:");
    }
}
