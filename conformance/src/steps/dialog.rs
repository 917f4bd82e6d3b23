//! Steps of a dialog through the target between WebSocket parties (and, for the caller, a UDP
//! phone on the other side): the final response that sets up the caller's dialog (RFC 3261
//! §12.1.2), the callee accepting the INVITE (§12.1.1), and in-dialog requests built from the
//! recorded route set (§12.2.1.1), once with the flow token of RFC 7118 §8.2 tampered with so
//! the target must refuse it (RFC 5626 §5.3.1). The dialog state and the request text are
//! [`crate::judge::dialog`]'s.

use crate::judge::dialog;
use crate::step;
use crate::step::{Args, StepDef, StepError, StepResult};
use crate::suite::CaseStep;
use crate::world::World;

pub const STEPS: &[StepDef<World>] = &[
    RECEIVES_FINAL_STATUS,
    ACCEPTS_INVITE,
    SENDS_IN_DIALOG,
    SENDS_IN_DIALOG_TAMPERED,
];

/// Reads up to the final response; a 2xx to an INVITE sets up the caller's dialog.
const RECEIVES_FINAL_STATUS: StepDef<World> = step!(
    r#""(?<conn>\w+)" receives a final response with status (?<status>\d{3})"#,
    receives_final_status
);
async fn receives_final_status(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let want = a.parse("status")?;
    let got = w.final_response(&a.conn("conn")).await?;
    dialog::final_status(got, want)
}

/// Answers the INVITE the connection received with a 200 that copies its Record-Route and
/// names the connection in Contact, and records the callee's dialog.
const ACCEPTS_INVITE: StepDef<World> =
    step!(r#""(?<conn>\w+)" accepts the INVITE"#, accepts_invite);
async fn accepts_invite(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    let conn = a.conn("conn");
    let req = w.received("INVITE", &conn)?;
    let tag = w.placeholder("acc{n}", &conn);
    let user = w.user(&conn);
    let contact = w.placeholder(&format!("<sip:{user}@{{host}};transport=ws>"), &conn);
    let resp = dialog::answer(&req, 200, &tag, &contact)?;
    let d = dialog::uas(&req, &tag)
        .map_err(|e| StepError::broken(format!("the INVITE cannot set up a dialog: {e}")))?;
    let st = w.routing();
    st.dialogs.insert(conn.clone(), d);
    st.invites.insert(conn.clone(), req);
    w.send_sip(&conn, &String::from_utf8_lossy(&resp.to_bytes()), false)
        .await
}

/// An in-dialog request on the connection; with `tamper`, the first user part of the route
/// set (where the flow token is) has one character changed.
async fn send_in_dialog(w: &mut World, conn: &str, method: &str, tamper: bool) -> StepResult {
    let (d, cseq) = w.next_in_dialog(conn, method)?;
    let mut routes = d.route_set.clone();
    if tamper {
        let (old, new) = dialog::flip_token(&mut routes).ok_or_else(|| {
            StepError::Skip(
                "the target's Record-Route has no user part that could hold a flow token".into(),
            )
        })?;
        w.observe(format!("token {old} changed to {new}"));
    }
    let token = if w.is_secure(conn) { "WSS" } else { "WS" };
    let text = dialog::request(
        &d,
        method,
        cseq,
        &format!("SIP/2.0/{token} {{host}}"),
        &routes,
    );
    let text = w.render(&text, conn);
    w.send_sip(conn, &text, false).await
}

const SENDS_IN_DIALOG: StepDef<World> = step!(
    r#""(?<conn>\w+)" sends (?<method>[A-Z]+) in the dialog"#,
    sends_in_dialog
);
async fn sends_in_dialog(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    send_in_dialog(w, &a.conn("conn"), a.text("method")?, false).await
}

const SENDS_IN_DIALOG_TAMPERED: StepDef<World> = step!(
    r#""(?<conn>\w+)" sends (?<method>[A-Z]+) in the dialog with one character of the flow token changed"#,
    sends_in_dialog_tampered
);
async fn sends_in_dialog_tampered(w: &mut World, a: Args, _: &CaseStep) -> StepResult {
    send_in_dialog(w, &a.conn("conn"), a.text("method")?, true).await
}
