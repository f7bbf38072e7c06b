//! Canonical JSON: the one byte form of a payload that the ledger commits to.
//!
//! Objects have their keys sorted (by byte order), there is no insignificant white
//! space, strings are UTF-8 with only the escapes JSON requires, and numbers are
//! integers. `serde_json` without `preserve_order` keeps object keys in a `BTreeMap`,
//! so serializing a [`serde_json::Value`] compactly gives exactly this form.

use serde_json::Value;

use crate::error::{Error, Result};

/// Serializes a payload canonically, refusing floating-point numbers (their text form
/// is not canonical across implementations).
pub fn to_string(value: &Value) -> Result<String> {
    check(value)?;
    serde_json::to_string(value).map_err(|e| Error::Encode {
        what: "a payload".into(),
        problem: e.to_string(),
    })
}

/// True when `text` is already in canonical form.
pub fn is_canonical(text: &str) -> bool {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            check(&value).is_ok() && serde_json::to_string(&value).ok().as_deref() == Some(text)
        }
        Err(_) => false,
    }
}

fn check(value: &Value) -> Result<()> {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => Err(Error::Encode {
            what: format!("the payload number {n}"),
            problem: "ledger payloads hold integers only".into(),
        }),
        Value::Array(items) => items.iter().try_for_each(check),
        Value::Object(map) => map.values().try_for_each(check),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_compact() {
        let text = to_string(&json!({"b": 1, "a": {"z": "持出し", "c": [1, 2]}})).unwrap();
        assert_eq!(text, r#"{"a":{"c":[1,2],"z":"持出し"},"b":1}"#);
        assert!(is_canonical(&text));
        assert!(!is_canonical(r#"{"b":1, "a":2}"#));
    }

    #[test]
    fn floats_are_refused() {
        assert!(to_string(&json!({"x": 1.5})).is_err());
    }
}
