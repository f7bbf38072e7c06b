//! The registers the regulations ask for, each a record in the ledger with its own
//! table: requests and their approvals (shared by every workflow that needs
//! permission), the media register, carry-outs, media handovers and downloads of
//! personal data.
//!
//! Every register follows one pattern (docs/design.md, "How to add a register"): a
//! workflow checks the actor and the inputs, appends an entry, and the entry's
//! projection rows are written by [`crate::ledger`]'s replay of it; decisions read
//! the proven entries, lists read the table.

pub mod batch;
pub mod carryout;
pub mod destroy;
pub mod download;
pub mod files;
pub mod handover;
pub mod incident;
pub mod media;
pub mod operation;
pub mod requests;
