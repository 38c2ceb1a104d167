//! The engine's view of the server: four calls, each answered or failed as a whole.

use protocol::{ChecksumResponse, PullQuery, PullResponse, PushRequest, PushResponse, SnapshotQuery, SnapshotResponse};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// No answer: no network, refused, timed out, cut mid-reply. Whatever was sent may or may
    /// not have been processed; resending is always safe.
    #[error("offline: {0}")]
    Offline(String),
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
}
