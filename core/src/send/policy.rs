//! The office's policy on sending personal data, kept in the ledger: by default every
//! send needs a request approved beforehand by a manager other than the sender (002
//! art.4-7). An office relaxes that only with a recorded policy change — a `policy`
//! entry a manager makes, with the reason — never by editing a file. `[send] approval
//! = "required"` in config.toml can only make a station stricter.

use serde::Serialize;
use serde_json::json;

use crate::clock::Timestamp;
use crate::config::SendApproval;
use crate::error::{Field, Result};
use crate::ledger::Writer;
use crate::people::Role;
use crate::registers::requests::one_line;
use crate::station::Station;

/// The subject of the entries that set the send-approval policy.
const SEND_APPROVAL: &str = "send-approval";

/// The policy in force and the entry that set it.
#[derive(Debug, Clone, Serialize)]
pub struct SendPolicyState {
    /// Whether a send needs an approved request, by the ledger.
    pub approval: SendApproval,
    /// Whether config.toml makes this station require it anyway.
    pub required_by_config: bool,
    /// The manager who last changed it; none while it is the default.
    pub set_by: Option<String>,
    /// When.
    pub set_at: Option<Timestamp>,
    /// Why.
    pub reason: Option<String>,
}

/// The send-approval policy as the proven `policy` entries set it: `required` unless
/// the latest of them relaxed it.
pub(crate) fn send_approval_in(w: &Writer<'_>) -> Result<SendPolicyState> {
    let mut state = SendPolicyState {
        approval: SendApproval::Required,
        required_by_config: false,
        set_by: None,
        set_at: None,
        reason: None,
    };
    for e in w.prover().about(SEND_APPROVAL)? {
        if e.kind != "policy" {
            continue;
        }
        let field = |key: &str| {
            e.payload
                .as_ref()
                .and_then(|p| p.get(key)?.as_str().map(str::to_owned))
        };
        // A value the vocabulary does not know is a damaged entry: it relaxes nothing.
        state.approval = match field("value").as_deref() {
            Some("none") => SendApproval::None,
            _ => SendApproval::Required,
        };
        state.set_by = Some(e.actor.clone());
        state.set_at = Some(e.at);
        state.reason = field("reason");
    }
    Ok(state)
}

impl Station {
    /// The send-approval policy in force at this station.
    pub fn send_policy(&mut self) -> Result<SendPolicyState> {
        let required_by_config = self.config.send.approval == SendApproval::Required;
        let mut state = self.write(|w| send_approval_in(w))?;
        state.required_by_config = required_by_config;
        Ok(state)
    }

    /// Changes the send-approval policy (a manager, with the reason, recorded in the
    /// ledger where every station reads it).
    pub fn set_send_policy(
        &mut self,
        approval: SendApproval,
        reason: &str,
    ) -> Result<SendPolicyState> {
        self.actor
            .require_role(&[Role::Manager], "change the sending policy")?;
        let reason = one_line(Field::Reason, reason, 1000)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let value = match approval {
                SendApproval::None => "none",
                SendApproval::Required => "required",
            };
            w.append(
                &actor,
                "policy",
                SEND_APPROVAL,
                &json!({ "setting": SEND_APPROVAL, "value": value, "reason": reason }),
            )?;
            Ok(())
        })?;
        self.send_policy()
    }
}
