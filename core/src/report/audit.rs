//! `report audit`: what needs attention — overdue and unencrypted carry-outs, requests
//! pending over a week, handovers without receipt, media whose whereabouts are
//! unknown, failed and unfinished wipes, backdated retention, downloads never deleted.

use chrono::Duration;
use serde::Serialize;
use serde_json::Value;

use super::cell;
use crate::clock::Timestamp;
use crate::error::Result;
use crate::ledger::LogFilter;
use crate::ledger::store::Query;
use crate::registers::carryout::{CarryoutFilter, CarryoutState};
use crate::registers::handover::Direction;
use crate::registers::media::MediaStatus;
use crate::registers::requests::RequestState;
use crate::station::Station;

/// One thing the audit found that needs attention.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What kind of problem (`overdue-carryout`, `pending-request`, …).
    pub kind: String,
    /// The record concerned.
    pub id: String,
    /// What is wrong, in words.
    pub detail: String,
    /// The values `detail` is made of, by name (`what`, `to`, `due`, …), so that a
    /// front end can word the finding in its person's language.
    pub facts: std::collections::BTreeMap<String, String>,
}

impl Station {
    /// Every `wipe-start` entry that no `wipe` result names: a wipe killed (SIGKILL, a
    /// power cut, a crash) after it began, whose targets are partly overwritten. Each
    /// with its sequence number and a description naming its targets.
    pub fn unfinished_wipes(&self) -> Result<Vec<(i64, String)>> {
        Ok(self
            .unfinished()?
            .into_iter()
            .map(|u| (u.seq, u.detail))
            .collect())
    }

    /// The unfinished wipes with the values their description is made of.
    fn unfinished(&self) -> Result<Vec<Unfinished>> {
        let finished: std::collections::BTreeSet<i64> = self
            .ledger
            .entries(&LogFilter {
                kind: Some("wipe".into()),
                ..Default::default()
            })?
            .iter()
            .filter_map(|e| e.payload.as_ref()?.get("start_seq")?.as_i64())
            .collect();
        let started = self.ledger.entries(&LogFilter {
            kind: Some("wipe-start".into()),
            ..Default::default()
        })?;
        Ok(started
            .into_iter()
            .filter(|e| !finished.contains(&e.seq))
            .map(|e| {
                let targets: Vec<String> = e
                    .payload
                    .as_ref()
                    .and_then(|p| p.get("targets"))
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .map(|t| {
                                let device = &t["device"];
                                let path = device["path"].as_str().unwrap_or("?");
                                match device["serial"].as_str() {
                                    Some(serial) => format!("{path} (serial {serial})"),
                                    None => path.to_string(),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let method = e
                    .payload
                    .as_ref()
                    .and_then(|p| p.get("method"))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned();
                let targets = targets.join(", ");
                Unfinished {
                    seq: e.seq,
                    detail: format!(
                        "the wipe {method} began at {} ({}) never recorded a result: {targets} may be partly overwritten; continue it with custody wipe --resume {}",
                        e.at, e.actor, e.seq,
                    ),
                    method,
                    at: e.at.to_string(),
                    actor: e.actor,
                    targets,
                }
            })
            .collect())
    }

    /// What needs attention: overdue or never-returned carry-outs, requests pending
    /// over a week, handovers without receipt, media whose whereabouts are unknown,
    /// failed wipes, wipes that never recorded a result, backdated retention,
    /// downloads never marked deleted.
    pub fn audit(&self) -> Result<Vec<Finding>> {
        let mut findings = Findings(Vec::new());
        self.audit_carryouts(&mut findings)?;
        self.audit_requests(&mut findings)?;
        self.audit_media(&mut findings)?;
        self.audit_wipes(&mut findings)?;
        self.audit_retention(&mut findings)?;
        self.audit_batches(&mut findings)?;
        // Kept past its period, not held: personal data kept past need (My Number
        // data so kept breaches the My Number Act art.20).
        let today = crate::clock::today().to_string();
        for item in self.retained_due(None)? {
            let Some(due) = item.due.as_deref().filter(|d| *d < today.as_str()) else {
                continue;
            };
            if item.hold_reason.is_some() {
                continue;
            }
            findings.add(
                "retention-overdue",
                &item.id,
                &[("class", item.class.clone()), ("due", due.to_owned())],
                format!(
                    "kept under class {} past {due}, when it could be disposed of; dispose of it or record why it is still needed (a hold)",
                    item.class
                ),
            );
        }
        // Sends whose receipt was not confirmed within the configured days.
        let days = i64::from(self.config.send.confirm_within_days);
        let limit = Timestamp::from(Timestamp::now().utc() - Duration::days(days));
        for s in self.sends()? {
            if s.confirmed_at.is_none() && s.at < limit {
                findings.add(
                    "unconfirmed-send",
                    &s.id,
                    &[
                        ("to", s.to.clone()),
                        ("at", s.at.to_string()),
                        ("days", days.to_string()),
                    ],
                    format!(
                        "sent to {} on {} has no confirmed receipt after {days} days",
                        s.to, s.at
                    ),
                );
            }
        }
        // Disposals that no manager has checked afterwards (000 art.18-5).
        for row in self.disposal_rows()? {
            if !row["checker"].is_null() {
                continue;
            }
            let text = |key: &str| row[key].as_str().unwrap_or("").to_owned();
            let id = if row["certificate"].is_null() {
                text("item")
            } else {
                text("certificate")
            };
            findings.add(
                "unchecked-disposal",
                &id,
                &[("item", text("item")), ("by", text("executor"))],
                format!(
                    "the disposal of {} by {} has no check by a manager afterwards",
                    text("item"),
                    text("executor")
                ),
            );
        }
        for o in self.operations()? {
            if o.checked_at.is_none() {
                findings.add(
                    "unchecked-operation",
                    &o.id,
                    &[
                        ("operation", o.kind.to_string()),
                        ("content", o.content.clone()),
                        ("by", o.by.clone()),
                        ("on", o.done_on.clone()),
                    ],
                    format!(
                        "the {} of {} by {} on {} has not been checked by another person",
                        o.kind, o.content, o.by, o.done_on
                    ),
                );
            }
        }
        for d in self.downloads()? {
            if d.approval == RequestState::Approved && d.deleted_at.is_none() {
                findings.add(
                    "download-not-deleted",
                    &d.id,
                    &[("content", d.content.clone()), ("system", d.system.clone())],
                    format!("{} from {} has no recorded deletion", d.content, d.system),
                );
            }
        }
        Ok(findings.0)
    }

    /// Carry-outs out past their return time, and personal data carried unencrypted.
    fn audit_carryouts(&self, findings: &mut Findings) -> Result<()> {
        let now = Timestamp::now();
        for c in self.carryouts(CarryoutFilter::All)? {
            if c.state == CarryoutState::Out && c.return_by < now {
                findings.add(
                    "overdue-carryout",
                    &c.id,
                    &[
                        ("what", c.what.clone()),
                        ("to", c.destination.clone()),
                        ("due", c.return_by.deadline()),
                    ],
                    format!(
                        "{} taken to {} was due back {} and is not returned",
                        c.what,
                        c.destination,
                        c.return_by.deadline()
                    ),
                );
            }
            if c.personal_data && c.encrypted == "no" && c.state != CarryoutState::Rejected {
                findings.add(
                    "unencrypted-carryout",
                    &c.id,
                    &[("what", c.what.clone())],
                    format!("{} holds personal data and is not encrypted", c.what),
                );
            }
        }
        Ok(())
    }

    /// Requests waiting for a decision for more than a week.
    fn audit_requests(&self, findings: &mut Findings) -> Result<()> {
        let week_ago = Timestamp::from(Timestamp::now().utc() - Duration::days(7));
        for r in self.requests(true)? {
            if r.requested_at < week_ago {
                findings.add(
                    "pending-request",
                    &r.id,
                    &[
                        ("summary", r.summary.clone()),
                        ("requester", r.requester.clone()),
                        ("since", r.requested_at.to_string()),
                    ],
                    format!(
                        "{} by {} has waited since {}",
                        r.summary, r.requester, r.requested_at
                    ),
                );
            }
        }
        Ok(())
    }

    /// Handovers sent without a confirmed receipt, and media marked out that no open
    /// carry-out or handover explains.
    /// Serials of open contractor batches past the day their certificates were due,
    /// with no certificate since the batch (a vendor's one accepted by a manager) and
    /// no recorded destruction.
    fn audit_batches(&self, findings: &mut Findings) -> Result<()> {
        let today = crate::clock::today().to_string();
        let db = self.ledger.db();
        let validator = db.json_text("c.body", &["validator", "name"]);
        let overdue: Vec<(String, String, String, String, String)> = db.map(
            &format!(
                "SELECT b.id, b.contractor, b.due_on, i.media, i.serial \
                 FROM disposal_batches b JOIN batch_items i ON i.batch = b.id \
                 JOIN records r ON r.id = b.id \
                 WHERE b.closed_at IS NULL AND b.due_on < ?1 \
                 AND NOT EXISTS (SELECT 1 FROM media m WHERE m.id = i.media AND m.retired_reason = 'destroyed') \
                 AND NOT EXISTS (SELECT 1 FROM certificates c JOIN records cr ON cr.id = c.id \
                     WHERE c.serial = i.serial AND cr.seq > r.seq AND \
                     ((c.kind = 'erasure' AND c.status = 'erased') OR \
                      (c.kind = 'vendor' AND {validator} IS NOT NULL))) \
                 ORDER BY b.id, i.serial"
            ),
            crate::ledger::store::args![today],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        for (batch, contractor, due, media, serial) in overdue {
            findings.add(
                "batch-overdue",
                &batch,
                &[
                    ("serial", serial.clone()),
                    ("media", media.clone()),
                    ("contractor", contractor.clone()),
                    ("due", due.clone()),
                ],
                format!(
                    "serial {serial} ({media}) handed to {contractor} has no certificate or recorded destruction; it was due on {due}"
                ),
            );
        }
        Ok(())
    }

    fn audit_media(&self, findings: &mut Findings) -> Result<()> {
        let handovers = self.handovers()?;
        for h in &handovers {
            if h.direction == Direction::Send && h.confirmed_at.is_none() {
                findings.add(
                    "unconfirmed-handover",
                    &h.id,
                    &[
                        ("media", h.media.to_string()),
                        ("to", h.counterparty.clone()),
                        ("at", h.at.to_string()),
                    ],
                    format!(
                        "{} sent to {} on {} has no confirmed receipt",
                        h.media, h.counterparty, h.at
                    ),
                );
            }
        }
        let carryouts = self.carryouts(CarryoutFilter::Open)?;
        for m in self.media(Some(MediaStatus::Out))? {
            let explained = carryouts
                .iter()
                .any(|c| c.media.as_ref() == Some(&m.id) && c.state == CarryoutState::Out)
                || handovers
                    .iter()
                    .any(|h| h.media == m.id && h.direction == Direction::Send);
            if !explained {
                findings.add(
                    "media-whereabouts-unknown",
                    &m.id,
                    &[("kind", m.kind.to_string()), ("serial", m.serial.clone())],
                    format!(
                        "{} (serial {}) is marked out with no open carry-out or handover",
                        m.kind, m.serial
                    ),
                );
            }
        }
        Ok(())
    }

    /// Wipes that did not erase (unless resumed since to erasure), and wipes that
    /// never recorded a result.
    fn audit_wipes(&self, findings: &mut Findings) -> Result<()> {
        // A wipe's place: its wipe-start entry and the target's index in it.
        let results = self.ledger.entries(&LogFilter {
            kind: Some("wipe".into()),
            ..Default::default()
        })?;
        let place = |p: &Value| {
            Some((
                p.get("start_seq")?.as_i64()?,
                p.get("target_index")?.as_u64()?,
            ))
        };
        let finished: std::collections::BTreeSet<(i64, u64)> = results
            .iter()
            .filter_map(|e| e.payload.as_ref())
            .filter(|p| p["status"] == "erased")
            .filter_map(place)
            .collect();
        let resumed: std::collections::BTreeSet<&str> = results
            .iter()
            .filter(|e| {
                e.payload
                    .as_ref()
                    .and_then(place)
                    .is_some_and(|at| finished.contains(&at))
            })
            .map(|e| e.subject.as_str())
            .collect();
        for w in self.wipe_rows()? {
            let status = cell(w.get("status"));
            if status != "erased" && !resumed.contains(cell(w.get("id")).as_str()) {
                findings.add(
                    "failed-wipe",
                    &cell(w.get("id")),
                    &[
                        ("target", cell(w.get("target"))),
                        ("serial", cell(w.get("serial"))),
                        ("status", status.clone()),
                    ],
                    format!(
                        "the wipe of {} ({}) ended {status}",
                        cell(w.get("target")),
                        cell(w.get("serial"))
                    ),
                );
            }
        }
        for u in self.unfinished()? {
            findings.add(
                "unfinished-wipe",
                &format!("seq {}", u.seq),
                &[
                    ("seq", u.seq.to_string()),
                    ("method", u.method),
                    ("at", u.at),
                    ("by", u.actor),
                    ("targets", u.targets),
                ],
                u.detail,
            );
        }
        Ok(())
    }

    /// Items registered, or given an event date, earlier than their files or this
    /// station, with the reason recorded.
    fn audit_retention(&self, findings: &mut Findings) -> Result<()> {
        let mut backdated = self.ledger.entries(&LogFilter {
            kind: Some("retain".into()),
            ..Default::default()
        })?;
        backdated.extend(self.ledger.entries(&LogFilter {
            kind: Some("retain-event".into()),
            ..Default::default()
        })?);
        for e in backdated {
            let Some(p) = e.payload.as_ref() else {
                continue;
            };
            let Some(reason) = p.get("backdate_reason").and_then(Value::as_str) else {
                continue;
            };
            let since = p
                .get("event_date")
                .filter(|d| !d.is_null())
                .or(p.get("since"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            findings.add(
                "backdated-retention",
                &e.subject,
                &[
                    ("by", e.actor.clone()),
                    ("since", since.to_owned()),
                    ("reason", reason.to_owned()),
                ],
                format!(
                    "registered by {} with its period starting {since}, earlier than its files or this station: {reason}",
                    e.actor
                ),
            );
        }
        Ok(())
    }
}

/// A wipe that began and never recorded a result.
struct Unfinished {
    seq: i64,
    method: String,
    at: String,
    actor: String,
    targets: String,
    detail: String,
}

/// The findings so far.
struct Findings(Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        kind: &str,
        id: &dyn std::fmt::Display,
        facts: &[(&str, String)],
        detail: String,
    ) {
        self.0.push(Finding {
            kind: kind.into(),
            id: id.to_string(),
            detail,
            facts: facts
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
        });
    }
}
