//! Erasure: wiping disks, media and image files (the workflow around
//! [`custody_wipe`]), the signed certificates that prove it (and disposal
//! certificates, and receipts of vendors' certificates), and their PDF rendering.

pub mod certificate;
pub mod hidden;
pub mod pdf;
mod resume;
pub mod smart;
mod tool;
mod wipe;

pub use resume::{DeviceChange, JOURNAL_FORMAT, ResumeProblem};
pub use wipe::*;
