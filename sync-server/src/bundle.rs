//! Sync by USB stick, the server's side: a station laptop relays a device's outbox bundle
//! (`POST /v1/bundles`); the server opens it with that device's recovery secret, pushes it as
//! that device (the same checks, the same policy, the same stored answers as a push), and answers
//! with the device's return bundle: the push's answers and the pages of the log after the
//! bundle's cursor, for the device's user, sealed for the device alone (see [`protocol::bundle`]).
//!
//! The laptop that relays is any signed-in, active user's: it learns how many changes the bundle
//! held and how many had been answered before, never what they say.

use protocol::bundle::{
    BundleError, BundleRelayRequest, BundleRelayResponse, MAX_RETURN_PAGE_BYTES, MAX_RETURN_PAGES, OutboxBundle,
    ReturnBundle, from_base64, read_header, to_base64,
};
use protocol::{ApiError, PullQuery};
use uuid::Uuid;

use crate::batch::Batch;
use crate::error::check_client_schema;
use crate::server::{Server, account_deactivated, authenticate, device_revoked, user_active};

pub(crate) fn relay(
    server: &Server,
    bearer: &str,
    client_schema: u32,
    request: BundleRelayRequest,
) -> Result<BundleRelayResponse, ApiError> {
    check_client_schema(client_schema)?;
    let relayer = authenticate(&*server.storage().read()?, bearer, server.now())?;
    let bytes = from_base64(&request.bundle).map_err(|e| refused(&e))?;
    let header = read_header(&bytes).map_err(|e| refused(&e))?;

    let batch = Batch::begin(server.storage().as_ref(), server.now())?;
    // A device the server does not know has no secret here: its seal cannot hold.
    let Some(device) = batch.read().device(header.device_id)? else {
        return Err(refused(&BundleError::Tampered));
    };
    if batch.read().device_revoked_at(device.id)?.is_some() {
        tracing::warn!(device = %device.id, relayer = %relayer.device_id, "a revoked device's bundle was refused");
        return Err(device_revoked());
    }
    let secret = batch.read().device_secret(device.id)?.ok_or_else(|| refused(&BundleError::Tampered))?;
    let bundle = OutboxBundle::open(&bytes, &secret).map_err(|e| {
        tracing::warn!(device = %device.id, relayer = %relayer.device_id, code = e.code(), "a bundle was refused");
        refused(&e)
    })?;
    if !user_active(batch.read(), device.user_id)? {
        return Err(account_deactivated());
    }
    // The device's user as the server records it: the bundle's own word is not taken for it.
    let changes = u32::try_from(bundle.push.changes.len()).unwrap_or(u32::MAX);
    let (push, answered_before) = crate::push::push_as(server, batch, device.user_id, device.id, bundle.push)?;

    let mut pages = Vec::new();
    let mut after = bundle.pull_after;
    let mut bytes_so_far = 0;
    loop {
        let page = server.pull_for(device.user_id, device.id, PullQuery { after, limit: None })?;
        let (has_more, next) = (page.has_more, page.next_cursor);
        bytes_so_far += serde_json::to_vec(&page).map(|v| v.len()).unwrap_or(0);
        pages.push(page);
        if !has_more || next <= after || pages.len() >= MAX_RETURN_PAGES || bytes_so_far >= MAX_RETURN_PAGE_BYTES {
            break;
        }
        after = next;
    }
    let answer = ReturnBundle {
        bundle_id: Uuid::now_v7(),
        answers: bundle.bundle_id,
        device_id: device.id,
        created_at: server.now(),
        push,
        pages,
    };
    let sealed = answer.seal(&secret).map_err(|e| refused(&e))?;
    tracing::info!(device = %device.id, relayer = %relayer.device_id, changes, answered_before,
        pages = answer.pages.len(), "a bundle was relayed");
    Ok(BundleRelayResponse {
        bundle: to_base64(&sealed),
        device_id: device.id,
        changes,
        answered_before: u32::try_from(answered_before).unwrap_or(u32::MAX),
    })
}

fn refused(error: &BundleError) -> ApiError {
    error.to_api_error()
}
