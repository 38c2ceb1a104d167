//! Signing keys are registered only with a proof that the device holds their secret: a proof
//! made for this user and this device, verified strictly.

mod common;

use common::*;
use domain::entity::EntityKind;
use domain::field;
use ed25519_dalek::SigningKey;
use protocol::{LoginRequest, codes};
use uuid::Uuid;

fn keys_of(world: &World, user: domain::Id) -> Vec<String> {
    let state = world.state(EntityKind::User, user).expect("user");
    state.get(field::user::SIGNING_KEYS).and_then(|k| serde_json::from_value(k.clone()).ok()).unwrap_or_default()
}

fn supervisor_login(key: &SigningKey, device: Uuid, proof: Option<String>) -> LoginRequest {
    LoginRequest {
        username: "sup".into(),
        password: PASSWORD.into(),
        device_id: Some(device),
        device_name: "督导的笔记本".into(),
        signing_key: Some(domain::signoff::public_key_hex(key)),
        signing_key_proof: proof,
    }
}

#[test]
fn a_key_with_a_proof_made_for_this_user_and_device_is_registered() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[11; 32]);
    let device = Uuid::now_v7();
    let proof = domain::signoff::prove_key(&key, world.supervisor_s, device);
    world.server.login(supervisor_login(&key, device, Some(proof))).expect("signed in");
    assert_eq!(keys_of(&world, world.supervisor_s), vec![domain::signoff::public_key_hex(&key)]);
}

#[test]
fn a_key_without_a_proof_is_not_registered_but_an_older_client_still_signs_in() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[12; 32]);
    world.server.login(supervisor_login(&key, Uuid::now_v7(), None)).expect("an older client signs in");
    assert!(keys_of(&world, world.supervisor_s).is_empty());
}

#[test]
fn a_proof_by_another_key_or_for_another_device_or_user_refuses_the_sign_in() {
    let world = World::new();
    let key = SigningKey::from_bytes(&[13; 32]);
    let other_key = SigningKey::from_bytes(&[14; 32]);
    let device = Uuid::now_v7();
    let wrong = [
        domain::signoff::prove_key(&other_key, world.supervisor_s, device),
        domain::signoff::prove_key(&key, world.supervisor_s, Uuid::now_v7()),
        domain::signoff::prove_key(&key, world.supervisor_t, device),
        "00".repeat(64),
        "not hex".into(),
    ];
    for proof in wrong {
        let refused = world.server.login(supervisor_login(&key, device, Some(proof.clone()))).expect_err("refused");
        assert_eq!(refused.code, codes::KEY_PROOF_INVALID, "{proof}");
        assert!(refused.message_en.contains("proof") && !refused.message_zh.is_empty());
    }
    assert!(keys_of(&world, world.supervisor_s).is_empty(), "nothing registered");
    assert_eq!(sync_server::error::status_of(codes::KEY_PROOF_INVALID), axum::http::StatusCode::BAD_REQUEST);
}
