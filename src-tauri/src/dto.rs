//! The types the UI sees, from the `contract` crate both sides depend on (kept under this name so
//! the shell's modules read `crate::dto::…`).

pub use contract::*;
