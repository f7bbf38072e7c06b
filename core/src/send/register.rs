//! The send register (送付簿, 004 art.10; 001 art.21-2): every encrypted transfer sent,
//! with how its passphrase travelled, who approved and who sent it, and the
//! recipient's confirmation of receipt, recorded when they say so.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::Timestamp;
use crate::error::{Done, Error, Field, RecordKind, Result};
use crate::ledger::{LogFilter, RecordId};
use crate::registers::requests::one_line;
use crate::station::Station;

/// A transfer as the send register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// `TX-3`.
    pub id: RecordId,
    /// When it was encrypted and recorded (送付日).
    pub at: Timestamp,
    /// To whom (送付先).
    pub to: String,
    /// What: the names of the files (内容).
    pub content: String,
    /// How many files (件数).
    pub count: i64,
    /// How it is encrypted: to a passphrase or to the recipient's key.
    pub encrypted: String,
    /// How the passphrase travelled (パスワード通知方法): a channel, or `public-key`
    /// when there is none to send.
    pub password_via: String,
    /// The approved request it used, if any.
    pub request: Option<String>,
    /// Who approved that request (承認者).
    pub approver: Option<String>,
    /// Who sent it (送付者).
    pub by: String,
    /// Who on the other side confirmed receipt (受領確認).
    pub confirmed_by: Option<String>,
    /// When the confirmation was recorded.
    pub confirmed_at: Option<Timestamp>,
}

fn no_transfer(id: &RecordId) -> Error {
    Error::NoSuchRecord {
        kind: RecordKind::Transfer,
        id: id.to_string(),
    }
}

impl Station {
    /// The send register, oldest first.
    pub fn sends(&self) -> Result<Vec<Sent>> {
        let confirms = self.ledger.entries(&LogFilter {
            kind: Some("send-confirm".into()),
            ..LogFilter::default()
        })?;
        let mut sent = Vec::new();
        for e in self.ledger.entries(&LogFilter {
            kind: Some("send".into()),
            ..LogFilter::default()
        })? {
            let p = e.payload.clone().unwrap_or(Value::Null);
            let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
            let names: Vec<String> = p
                .get("files")
                .and_then(Value::as_array)
                .map(|files| {
                    files
                        .iter()
                        .filter_map(|f| f.get("path").or(Some(f)).and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let request = text("request");
            let approver = match &request {
                Some(rq) => RecordId::parse(rq)
                    .ok()
                    .and_then(|id| self.request(&id).ok())
                    .and_then(|r| r.decided_by),
                None => None,
            };
            let confirm = confirms.iter().find(|c| c.subject == e.subject);
            let passphrase = text("mode").as_deref() == Some("passphrase");
            sent.push(Sent {
                id: RecordId::parse(&e.subject)?,
                at: e.at,
                to: text("recipient").unwrap_or_default(),
                content: names.join(" / "),
                count: p.get("count").and_then(Value::as_i64).unwrap_or(0),
                encrypted: if passphrase {
                    "passphrase".into()
                } else {
                    "public-key".into()
                },
                password_via: if passphrase {
                    text("password_via").unwrap_or_default()
                } else {
                    "public-key".into()
                },
                request,
                approver,
                by: e.actor.clone(),
                confirmed_by: confirm
                    .and_then(|c| c.payload.as_ref()?.get("by")?.as_str().map(str::to_owned)),
                confirmed_at: confirm.map(|c| c.at),
            });
        }
        Ok(sent)
    }

    /// Records that the recipient confirmed receipt of transfer `id` (受領確認), as
    /// `by` (who confirmed, on their side) told the sender.
    pub fn confirm_send(&mut self, id: &RecordId, by: &str) -> Result<Sent> {
        self.actor.require_writer("confirm a receipt")?;
        let by = one_line(Field::ConfirmedBy, by, 200)?;
        let actor = self.actor.name.clone();
        self.write(|w| {
            let mut sent = false;
            let mut confirmed = None;
            for e in w.prover().about(id.as_str())? {
                match e.kind.as_str() {
                    "send" => sent = true,
                    "send-confirm" => {
                        confirmed = Some((
                            e.payload
                                .as_ref()
                                .and_then(|p| p.get("by")?.as_str().map(str::to_owned)),
                            e.at,
                        ));
                    }
                    _ => {}
                }
            }
            if !sent {
                return Err(no_transfer(id));
            }
            if let Some((by, at)) = confirmed {
                return Err(Error::AlreadyDone {
                    id: id.to_string(),
                    act: Done::Confirmed { by, at },
                });
            }
            w.append(&actor, "send-confirm", id.as_str(), &json!({ "by": by }))?;
            Ok(())
        })?;
        self.sends()?
            .into_iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| no_transfer(id))
    }
}
