//! The stations that write to one ledger, each with the key that signs its
//! checkpoints.
//!
//! The first station's key is registered by the `init` entry; every other station's
//! by a `station-join` entry that a manager signs with their personal key. A
//! checkpoint is checked against the key of the station that wrote its last entry,
//! as registered at or before that entry. The registry is only ever read off a chain
//! whose personal signatures were checked ([`super::signed::Signers`]), so someone who
//! can write to the database cannot register a key of their own: that takes a
//! manager's key. A station keeps the registry it checked in its witness, so that
//! only a station that joined since costs a second look.

use std::collections::BTreeMap;

use crate::keys::StationPublicKey;

/// One registered station.
#[derive(Clone)]
pub(crate) struct Joined {
    /// The entry that registered it.
    pub(crate) since: i64,
    /// The key that signs its checkpoints.
    pub(crate) key: StationPublicKey,
}

/// The stations of a ledger, by name.
#[derive(Clone, Default)]
pub(crate) struct Stations {
    by_name: BTreeMap<String, Joined>,
}

impl std::fmt::Debug for Stations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.by_name
                    .iter()
                    .map(|(name, j)| (name, (j.since, j.key.key_id()))),
            )
            .finish()
    }
}

impl PartialEq for Stations {
    fn eq(&self, other: &Stations) -> bool {
        self.by_name.len() == other.by_name.len()
            && self.by_name.iter().zip(&other.by_name).all(|(a, b)| {
                a.0 == b.0 && a.1.since == b.1.since && a.1.key.to_base64() == b.1.key.to_base64()
            })
    }
}

impl Eq for Stations {}

impl Stations {
    /// Registers `name` with `key` at entry `since`; refuses a name or a key that is
    /// already registered.
    pub(crate) fn add(
        &mut self,
        name: &str,
        since: i64,
        key: StationPublicKey,
    ) -> std::result::Result<(), String> {
        if let Some(old) = self.by_name.get(name) {
            return Err(format!(
                "station {name} joins again, but it was registered at entry {}",
                old.since
            ));
        }
        if let Some((other, _)) = self
            .by_name
            .iter()
            .find(|(_, j)| j.key.key_id() == key.key_id())
        {
            return Err(format!(
                "station {name} joins with key {}, which is station {other}'s",
                key.key_id()
            ));
        }
        self.by_name.insert(name.to_owned(), Joined { since, key });
        Ok(())
    }

    /// The key of station `name` for a checkpoint over the first `size` entries:
    /// the station must have joined at or before entry `size`.
    pub(crate) fn key_for(
        &self,
        name: &str,
        size: i64,
    ) -> std::result::Result<&StationPublicKey, String> {
        match self.by_name.get(name) {
            Some(joined) if joined.since <= size => Ok(&joined.key),
            Some(joined) => Err(format!(
                "station {name} signed over entry {size}, before it joined at entry {}",
                joined.since
            )),
            None => Err(format!(
                "station {name} is not registered in this ledger (no manager signed its joining)"
            )),
        }
    }

    /// The registered station whose key has `key_id`.
    pub(crate) fn by_key_id(&self, key_id: &str) -> Option<(&str, &Joined)> {
        self.by_name
            .iter()
            .find(|(_, j)| j.key.key_id() == key_id)
            .map(|(name, j)| (name.as_str(), j))
    }

    /// Station `name`, if registered.
    pub(crate) fn get(&self, name: &str) -> Option<&Joined> {
        self.by_name.get(name)
    }

    /// Every station, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Joined)> {
        self.by_name.iter().map(|(n, j)| (n.as_str(), j))
    }

    /// How many stations are registered.
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }
}

/// A registered station as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StationInfo {
    /// The station's name.
    pub name: String,
    /// The entry that registered it (`init` or `station-join`).
    pub since: i64,
    /// Its key's minisign id.
    pub key_id: String,
}

impl Stations {
    /// The stations as reports show them.
    pub(crate) fn info(&self) -> Vec<StationInfo> {
        self.iter()
            .map(|(name, j)| StationInfo {
                name: name.to_owned(),
                since: j.since,
                key_id: j.key.key_id(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dir: &std::path::Path, name: &str) -> StationPublicKey {
        let dir = dir.join(name);
        std::fs::create_dir(&dir).unwrap();
        crate::keys::StationKey::generate(&dir, name)
            .unwrap()
            .public()
            .clone()
    }

    #[test]
    fn a_station_signs_only_after_it_joined_and_joins_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut stations = Stations::default();
        stations.add("desk-1", 1, key(dir.path(), "a")).unwrap();
        let second = key(dir.path(), "b");
        stations.add("desk-2", 40, second.clone()).unwrap();
        assert!(stations.key_for("desk-2", 40).is_ok());
        assert!(stations.key_for("desk-2", 39).is_err());
        assert!(stations.key_for("desk-3", 50).is_err());
        assert!(stations.add("desk-2", 41, key(dir.path(), "c")).is_err());
        assert!(stations.add("desk-4", 42, second).is_err());
        assert_eq!(stations.len(), 2);
    }
}
