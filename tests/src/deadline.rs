//! Deadlines for tests that wait: `test_support::deadline`, where the crates' own tests find it
//! too (a server served on loopback holds one).

pub use test_support::deadline::{Deadline, deadline};
