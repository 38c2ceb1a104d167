//! A bundle file comes from a USB stick that passed through other hands: whatever its bytes,
//! reading it answers an error or a bundle, and never panics.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use protocol::PushRequest;
use protocol::bundle::{BundleError, OutboxBundle, ReturnBundle, from_base64, read_header};
use uuid::Uuid;

const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn sealed_outbox() -> Vec<u8> {
    OutboxBundle {
        bundle_id: Uuid::from_u128(1),
        device_id: Uuid::from_u128(2),
        user_id: Uuid::from_u128(3),
        created_at: DateTime::<Utc>::from_timestamp_millis(1_780_000_000_000).unwrap_or_default(),
        push: PushRequest { changes: Vec::new() },
        pull_after: 7,
    }
    .seal(SECRET)
    .unwrap_or_default()
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_never_a_bundle_and_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_header(&bytes);
        prop_assert!(OutboxBundle::open(&bytes, SECRET).is_err());
        prop_assert!(ReturnBundle::open(&bytes, Uuid::from_u128(2), SECRET).is_err());
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_are_refused(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = sealed_outbox();
        bytes.truncate(62);
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(OutboxBundle::open(&bytes, SECRET), Err(BundleError::Tampered));
    }

    #[test]
    fn a_bundle_with_any_byte_changed_is_refused(at in 0usize..10_000, by in 1u8..=255) {
        let mut bytes = sealed_outbox();
        let at = at % bytes.len();
        bytes[at] ^= by;
        prop_assert!(OutboxBundle::open(&bytes, SECRET).is_err());
    }

    #[test]
    fn any_text_as_a_relayed_bundle_or_secret_never_panics(text in "\\PC{0,200}", secret in "\\PC{0,80}") {
        if let Ok(bytes) = from_base64(&text) {
            let _ = OutboxBundle::open(&bytes, &secret);
        }
        let _ = OutboxBundle::open(&sealed_outbox(), &secret);
    }
}
