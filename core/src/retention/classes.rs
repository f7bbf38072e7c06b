//! Retention classes: their periods and legal basis, fixed in the ledger (the `init`
//! entry, then signed amendments that lengthen a class or add one refining another,
//! never shorter).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Trigger;
use crate::error::{ConfigProblem, Denial, Error, Field, Result, Rule};
use crate::people::Role;
use crate::registers::requests::one_line;
use crate::station::Station;

/// A retention class as the ledger fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixedClass {
    /// Its name (`system-data`).
    pub name: String,
    /// How many years items of it are kept.
    pub years: u32,
    /// What starts the period.
    pub trigger: Trigger,
    /// The rule that sets the period.
    pub basis: String,
    /// For a class an office added: the class it refines (never shorter).
    pub like: Option<String>,
    /// The ledger entry that fixed its period and basis; none for a default of this
    /// custody version in a ledger made before classes were recorded.
    pub seq: Option<i64>,
}

/// The classes in force after the recorded entries, oldest first: the defaults, the
/// classes recorded at `init`, then every amendment. A period is never shortened,
/// whatever an entry says.
fn fold_classes(entries: &[crate::ledger::Entry]) -> BTreeMap<String, FixedClass> {
    let mut classes: BTreeMap<String, FixedClass> = crate::config::default_classes()
        .into_iter()
        .map(|(name, c)| {
            let fixed = FixedClass {
                name: name.clone(),
                years: c.years,
                trigger: c.trigger,
                basis: c.basis,
                like: None,
                seq: None,
            };
            (name, fixed)
        })
        .collect();
    let mut set = |name: &str, value: &Value, seq: i64| {
        let Some(years) = value["years"].as_u64().and_then(|y| u32::try_from(y).ok()) else {
            return;
        };
        let basis = value["basis"].as_str().unwrap_or_default().to_owned();
        let like = value["like"].as_str().map(str::to_owned);
        match classes.get_mut(name) {
            Some(c) => {
                c.years = c.years.max(years);
                c.basis = basis;
                c.seq = Some(seq);
            }
            None => {
                let trigger = match value["trigger"].as_str() {
                    Some("event") => Trigger::Event,
                    _ => Trigger::Created,
                };
                classes.insert(
                    name.to_owned(),
                    FixedClass {
                        name: name.to_owned(),
                        years,
                        trigger,
                        basis,
                        like,
                        seq: Some(seq),
                    },
                );
            }
        }
    };
    for e in entries {
        let Some(payload) = &e.payload else { continue };
        match e.kind.as_str() {
            "init" => {
                for (name, value) in payload["retention_classes"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    set(name, value, e.seq);
                }
            }
            "retention-class" => {
                if let Some(name) = payload["name"].as_str() {
                    set(name, payload, e.seq);
                }
            }
            _ => {}
        }
    }
    classes
}

impl Station {
    /// The retention classes in force, from the proven entries that fixed them.
    pub fn retention_classes(&self) -> Result<Vec<FixedClass>> {
        Ok(self.classes_by_name()?.into_values().collect())
    }

    pub(super) fn classes_by_name(&self) -> Result<BTreeMap<String, FixedClass>> {
        let mut prover = self.ledger.prover(self.key.public());
        let mut entries = vec![prover.entry(1)?];
        entries.extend(prover.of_kind("retention-class")?);
        entries.sort_by_key(|e| e.seq);
        let classes = fold_classes(&entries);
        // config.toml no longer sets classes; one that still does and disagrees
        // with the ledger is a config someone edited to shorten or reword one.
        for (name, c) in &self.config.retention.classes {
            let agrees = classes.get(name).is_some_and(|f| {
                f.years == c.years && f.trigger == c.trigger && f.basis == c.basis
            });
            if !agrees {
                return Err(Error::Config {
                    path: self.home.join("config.toml"),
                    problem: ConfigProblem::ClassDiffers { name: name.clone() },
                });
            }
        }
        Ok(classes)
    }

    /// Adds a retention class that refines `like` (never shorter), or amends an
    /// existing one: a longer period (never shorter) and its basis. Managers only;
    /// signed and recorded as a `retention-class` entry.
    pub fn set_retention_class(
        &mut self,
        name: &str,
        years: u32,
        basis: &str,
        like: Option<&str>,
    ) -> Result<FixedClass> {
        self.actor
            .require_role(&[Role::Manager], "set retention classes")?;
        let valid_name = !name.is_empty()
            && name.len() <= 40
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(Error::BadValue {
                field: Field::ClassName,
                value: name.to_owned(),
                rule: Rule::Described("use 1 to 40 lower-case letters, digits and hyphens"),
            });
        }
        if !(1..=100).contains(&years) {
            return Err(Error::BadValue {
                field: Field::Years,
                value: years.to_string(),
                rule: Rule::Range { min: 1, max: 100 },
            });
        }
        let basis = one_line(Field::Basis, basis, 500)?;
        let classes = self.classes_by_name()?;
        let (trigger, like, previous) = self.class_change(&classes, name, years, like)?;
        let actor = self.actor.name.clone();
        let payload = json!({
            "name": name, "years": years, "trigger": trigger, "basis": basis,
            "like": like, "previous": previous,
        });
        self.write(|w| w.append(&actor, "retention-class", "", &payload))?;
        self.classes_by_name()?
            .remove(name)
            .ok_or_else(|| Error::Tampered {
                seq: 0,
                problem: format!("the class {name} just recorded is not among the proven entries"),
            })
    }

    /// What a change to class `name` keeps of it: the trigger, the class it refines
    /// and (for an amendment) its previous period and basis; refused when it would
    /// shorten a class or a class it refines.
    fn class_change(
        &self,
        classes: &BTreeMap<String, FixedClass>,
        name: &str,
        years: u32,
        like: Option<&str>,
    ) -> Result<(Trigger, Option<String>, Option<Value>)> {
        Ok(match (classes.get(name), like) {
            (Some(_), Some(_)) => {
                return Err(Error::ClassBase {
                    name: name.to_owned(),
                    exists: true,
                });
            }
            (Some(current), None) => {
                if years < current.years {
                    return Err(Error::NotAllowed {
                        actor: self.actor.name.clone(),
                        action: format!("shorten retention class {name}"),
                        reason: Box::new(Denial::ClassShortened {
                            years: current.years,
                            basis: current.basis.clone(),
                        }),
                    });
                }
                (
                    current.trigger,
                    current.like.clone(),
                    Some(json!({ "years": current.years, "basis": current.basis })),
                )
            }
            (None, None) => {
                return Err(Error::ClassBase {
                    name: name.to_owned(),
                    exists: false,
                });
            }
            (None, Some(base)) => {
                let Some(base_class) = classes.get(base) else {
                    return Err(Error::BadValue {
                        field: Field::BaseClass,
                        value: base.to_owned(),
                        rule: Rule::OneOf(classes.keys().cloned().collect()),
                    });
                };
                if years < base_class.years {
                    return Err(Error::NotAllowed {
                        actor: self.actor.name.clone(),
                        action: format!("add retention class {name}"),
                        reason: Box::new(Denial::ShorterThanBase {
                            base: base.to_owned(),
                            years: base_class.years,
                            basis: base_class.basis.clone(),
                        }),
                    });
                }
                (base_class.trigger, Some(base.to_owned()), None)
            }
        })
    }
}
