//! The engine's view of the server: four calls, each answered or failed as a whole.

use protocol::{ChecksumResponse, PullQuery, PullResponse, PushRequest, PushResponse, SnapshotQuery, SnapshotResponse};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// No answer: no network, refused, timed out, cut mid-reply. Whatever was sent may or may
    /// not have been processed; resending is always safe.
    #[error("offline: {0}")]
    Offline(String),
    /// Plain HTTP to a server on another computer, not allowed by the settings: nothing was sent.
    #[error(transparent)]
    InsecureServerUrl(crate::InsecureServerUrl),
    /// The session is no longer valid and could not be refreshed.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The server no longer accepts this client's change format.
    #[error("client too old")]
    ClientTooOld,
    /// The server answered with an error.
    #[error("{0}")]
    Api(protocol::ApiError),
}

pub trait Transport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError>;
    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError>;
    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError>;
    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError>;
    /// The server answered `device_revoked`: switch to a push-only hand-over session (the
    /// device's last refresh token buys it; see `docs/sync-protocol.md`, "Revoked devices"),
    /// so the unsent work goes to the server before the local data is wiped. A transport that
    /// cannot hand over says so, and the device keeps its data.
    /// The device the session is for, when the transport has one: the engine pushes only when
    /// it is the local database's device.
    fn device_id(&self) -> Option<uuid::Uuid> {
        None
    }

    /// A way to the server's log that fetches pages on another thread while the engine writes
    /// the last one (see `pages.rs`). `None` (the default): pages are fetched ahead on the
    /// engine's thread.
    fn page_fetcher(&mut self) -> Option<Box<dyn crate::PageFetcher>> {
        None
    }

    /// The server found another laptop pushing under this device's id (a cloned image):
    /// registers a new device for the same user, switches to its session (persisted before it
    /// is used) and answers it. `None` from a transport that cannot; the engine then renumbers
    /// under the old id instead.
    fn new_device(&mut self) -> Result<Option<protocol::Session>, TransportError> {
        Ok(None)
    }

    /// The changes handed over to this user (`GET /v1/handed-over`: refused because their case
    /// was reassigned meanwhile). `None` from a transport that cannot ask; the engine then skips
    /// the hand-over step.
    fn handed_over(&mut self) -> Result<Option<protocol::HandedOverResponse>, TransportError> {
        Ok(None)
    }

    /// Sends a decision on a handed-over change (`POST /v1/handed-over/{change_id}`); answers the
    /// change as the server has it then. `None` from a transport that cannot.
    fn decide_handed_over(
        &mut self,
        _change_id: uuid::Uuid,
        _request: &protocol::HandOverDecisionRequest,
    ) -> Result<Option<protocol::HandedOverItem>, TransportError> {
        Ok(None)
    }

    fn hand_over(&mut self) -> Result<(), TransportError> {
        Err(TransportError::Api(protocol::ApiError::new(
            protocol::codes::DEVICE_REVOKED,
            "本机已被停用，且无法交出未发送的工作",
            "this device was revoked and cannot hand over its unsent work",
        )))
    }
}
