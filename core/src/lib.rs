//! custody-core: the workflows of custody.

pub mod seal;
