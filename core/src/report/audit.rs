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
}

impl Station {
    /// Every `wipe-start` entry that no `wipe` result names: a wipe killed (SIGKILL, a
    /// power cut, a crash) after it began, whose targets are partly overwritten. Each
    /// with its sequence number and a description naming its targets.
    pub fn unfinished_wipes(&self) -> Result<Vec<(i64, String)>> {
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
                (
                    e.seq,
                    format!(
                        "the wipe {} began at {} ({}) never recorded a result: {} may be partly overwritten",
                        e.payload
                            .as_ref()
                            .and_then(|p| p.get("method"))
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                        e.at,
                        e.actor,
                        targets.join(", ")
                    ),
                )
            })
            .collect())
    }

    /// What needs attention: overdue or never-returned carry-outs, requests pending
    /// over a week, handovers without receipt, media whose whereabouts are unknown,
    /// failed wipes, wipes that never recorded a result, downloads never marked
    /// deleted.
    pub fn audit(&self) -> Result<Vec<Finding>> {
        let now = Timestamp::now();
        let week_ago = Timestamp::from(now.utc() - Duration::days(7));
        let mut findings = Vec::new();
        let mut add = |kind: &str, id: &dyn std::fmt::Display, detail: String| {
            findings.push(Finding {
                kind: kind.into(),
                id: id.to_string(),
                detail,
            });
        };
        for c in self.carryouts(CarryoutFilter::All)? {
            if c.state == CarryoutState::Out && c.return_by < now {
                add(
                    "overdue-carryout",
                    &c.id,
                    format!(
                        "{} taken to {} was due back {} and is not returned",
                        c.what, c.destination, c.return_by
                    ),
                );
            }
            if c.personal_data && c.encrypted == "no" && c.state != CarryoutState::Rejected {
                add(
                    "unencrypted-carryout",
                    &c.id,
                    format!("{} holds personal data and is not encrypted", c.what),
                );
            }
        }
        for r in self.requests(true)? {
            if r.requested_at < week_ago {
                add(
                    "pending-request",
                    &r.id,
                    format!(
                        "{} by {} has waited since {}",
                        r.summary, r.requester, r.requested_at
                    ),
                );
            }
        }
        let handovers = self.handovers()?;
        for h in &handovers {
            if h.direction == Direction::Send && h.confirmed_at.is_none() {
                add(
                    "unconfirmed-handover",
                    &h.id,
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
                add(
                    "media-whereabouts-unknown",
                    &m.id,
                    format!(
                        "{} (serial {}) is marked out with no open carry-out or handover",
                        m.kind, m.serial
                    ),
                );
            }
        }
        for w in self.wipe_rows()? {
            let status = cell(w.get("status"));
            if status != "erased" {
                add(
                    "failed-wipe",
                    &cell(w.get("id")),
                    format!(
                        "the wipe of {} ({}) ended {status}",
                        cell(w.get("target")),
                        cell(w.get("serial"))
                    ),
                );
            }
        }
        let mut backdated = self.ledger.entries(&LogFilter {
            kind: Some("retain".into()),
            ..Default::default()
        })?;
        backdated.extend(self.ledger.entries(&LogFilter {
            kind: Some("retain-event".into()),
            ..Default::default()
        })?);
        for e in backdated {
            if let Some(reason) = e
                .payload
                .as_ref()
                .and_then(|p| p.get("backdate_reason"))
                .and_then(Value::as_str)
            {
                let since = e
                    .payload
                    .as_ref()
                    .and_then(|p| {
                        p.get("event_date")
                            .filter(|d| !d.is_null())
                            .or(p.get("since"))
                    })
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                add(
                    "backdated-retention",
                    &e.subject,
                    format!(
                        "registered by {} with its period starting {since}, earlier than its files or this station: {reason}",
                        e.actor
                    ),
                );
            }
        }
        for (seq, detail) in self.unfinished_wipes()? {
            add("unfinished-wipe", &format!("seq {seq}"), detail);
        }
        for d in self.downloads()? {
            if d.approval == RequestState::Approved && d.deleted_at.is_none() {
                add(
                    "download-not-deleted",
                    &d.id,
                    format!("{} from {} has no recorded deletion", d.content, d.system),
                );
            }
        }
        Ok(findings)
    }
}
