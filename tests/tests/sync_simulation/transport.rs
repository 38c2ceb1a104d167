//! The transport: the server's own methods, reached as over the wire (push bodies and replies
//! and pull pages through their JSON, a proxy's body limit), with the session refreshed as the
//! app's HTTP transport does it, and with faults.

use chrono::{DateTime, NaiveDate, Utc};
use domain::change::Write;
use domain::policy::Actor;
use protocol::{
    ApiError, ChecksumResponse, PullQuery, PullResponse, PushRequest, PushResponse, RefreshRequest, SnapshotQuery,
    SnapshotResponse, codes,
};
use store::{DbKey, Store, StoreError};
use sync_client::{Transport, TransportError};
use sync_server::Server;

use crate::Fault;

/// The tokens a device holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    /// The device the session is for.
    pub device: uuid::Uuid,
}

/// A write the user makes on the app's own connection while a round runs.
pub struct MidRoundWrite {
    pub path: std::path::PathBuf,
    pub key: DbKey,
    pub actor: Actor,
    pub writes: Vec<Write>,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

pub struct SimTransport<'a> {
    pub server: &'a Server,
    pub tokens: &'a mut Tokens,
    pub online: bool,
    /// Applies to the next call, then is spent.
    pub fault: Fault,
    /// The next refresh is processed by the server but its reply is lost.
    pub lose_refresh_reply: bool,
    pub last_push: &'a mut Option<PushResponse>,
    pub last_pull: &'a mut Option<PullResponse>,
    /// The largest request body the way to the server takes.
    pub body_limit: usize,
    /// Recorded before the round's first pull, after its push.
    pub mid_round: Option<MidRoundWrite>,
    pub mid_round_result: &'a mut Option<Result<Vec<domain::change::Change>, StoreError>>,
    /// How many refreshes the server answered in this round.
    pub refreshes: &'a mut usize,
}

/// The error the app's HTTP transport makes of an error answer.
pub fn transport_error(e: ApiError) -> TransportError {
    match e.code.as_str() {
        codes::UNAUTHORIZED | codes::TOKEN_EXPIRED | codes::BAD_CREDENTIALS => TransportError::Unauthorized(e.code),
        codes::CLIENT_TOO_OLD => TransportError::ClientTooOld,
        _ => TransportError::Api(e),
    }
}

fn is_auth(e: &ApiError) -> bool {
    e.code == codes::TOKEN_EXPIRED || e.code == codes::UNAUTHORIZED
}

/// A push as the HTTP layer takes it: the body as JSON within the proxy's limit, decoded by the
/// server, answered as JSON.
pub fn wire_push(
    server: &Server,
    token: &str,
    schema: u32,
    body: &[u8],
    body_limit: usize,
) -> Result<PushResponse, ApiError> {
    if body.len() > body_limit {
        return Err(ApiError::new(codes::TOO_LARGE, "请求过大", format!("request body of {} bytes", body.len())));
    }
    let request: PushRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(codes::MALFORMED, "请求格式错误", format!("push body: {e}")))?;
    server.push(token, schema, request)
}

impl SimTransport<'_> {
    fn refresh(&mut self) -> Result<(), TransportError> {
        let request = RefreshRequest { refresh_token: self.tokens.refresh.clone() };
        if std::mem::take(&mut self.lose_refresh_reply) {
            let _ = self.server.refresh(request);
            return Err(TransportError::Offline("refresh reply lost".into()));
        }
        let session = self.server.refresh(request).map_err(transport_error)?;
        *self.refreshes += 1;
        self.adopt(&session);
        Ok(())
    }

    fn adopt(&mut self, session: &protocol::Session) {
        self.tokens.access = session.access_token.clone();
        self.tokens.refresh = session.refresh_token.clone();
        self.tokens.device = session.device_id;
    }

    /// One call with the fault of the round, refreshing the session once on a 401 as the app's
    /// transport does; a stale fault answers with the reply before.
    fn deliver<R: Clone>(
        &mut self,
        call: impl Fn(&Server, &str) -> Result<R, ApiError>,
        last: Option<&mut Option<R>>,
    ) -> Result<R, TransportError> {
        if !self.online {
            return Err(TransportError::Offline("partitioned".into()));
        }
        let fault = std::mem::replace(&mut self.fault, Fault::None);
        let server = self.server;
        let mut answer = match fault {
            Fault::DropRequest => return Err(TransportError::Offline("request lost".into())),
            Fault::DropReply => {
                let _ = call(server, &self.tokens.access);
                return Err(TransportError::Offline("reply lost".into()));
            }
            Fault::Duplicate => {
                let _ = call(server, &self.tokens.access);
                call(server, &self.tokens.access)
            }
            _ => call(server, &self.tokens.access),
        };
        if let Err(e) = &answer
            && is_auth(e)
        {
            self.refresh()?;
            answer = call(server, &self.tokens.access);
        }
        let answer = answer.map_err(transport_error)?;
        if let Some(last) = last {
            let previous = last.replace(answer.clone());
            if fault == Fault::Stale
                && let Some(previous) = previous
            {
                return Ok(previous);
            }
        }
        Ok(answer)
    }

    fn write_mid_round(&mut self) {
        let Some(w) = self.mid_round.take() else { return };
        let result = Store::open_with_key(&w.path, &w.key)
            .and_then(|mut second| second.record(&w.actor, w.writes, w.now, w.today));
        *self.mid_round_result = Some(result);
    }
}

impl Transport for SimTransport<'_> {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let cut = match self.fault {
            Fault::CutReply(n) => Some(n as usize),
            _ => None,
        };
        let body = serde_json::to_vec(request).map_err(|e| TransportError::Offline(format!("encode: {e}")))?;
        let limit = self.body_limit;
        let mut slot = std::mem::take(self.last_push);
        let result =
            self.deliver(|s, token| wire_push(s, token, domain::SCHEMA_VERSION, &body, limit), Some(&mut slot));
        *self.last_push = slot;
        let response = result?;
        // The reply crosses the wire as JSON too.
        let text = serde_json::to_string(&response).map_err(|e| TransportError::Offline(format!("reply: {e}")))?;
        let mut response: PushResponse =
            serde_json::from_str(&text).map_err(|e| TransportError::Offline(format!("reply unreadable: {e}")))?;
        if let Some(n) = cut {
            response.results.truncate(n);
        }
        Ok(response)
    }

    fn pull(&mut self, query: PullQuery) -> Result<PullResponse, TransportError> {
        self.write_mid_round();
        let mut slot = std::mem::take(self.last_pull);
        // What the HTTP layer sends: the page as built from the log's stored JSON.
        let result = self.deliver(
            |s, token| {
                let text = s.pull_json(token, domain::SCHEMA_VERSION, query)?;
                serde_json::from_str::<PullResponse>(&text)
                    .map_err(|e| ApiError::new("reply_unreadable", "回复无法读取", format!("pull page: {e}")))
            },
            Some(&mut slot),
        );
        *self.last_pull = slot;
        match result {
            // A page the device cannot read is, to the app, a reply it could not read.
            Err(TransportError::Api(e)) if e.code == "reply_unreadable" => Err(TransportError::Offline(e.message_en)),
            other => other,
        }
    }

    fn checksum(&mut self) -> Result<ChecksumResponse, TransportError> {
        self.deliver(|s, token| s.checksum(token), None)
    }

    fn snapshot(&mut self, query: &SnapshotQuery) -> Result<SnapshotResponse, TransportError> {
        self.deliver(|s, token| s.snapshot(token, query.clone()), None)
    }

    fn device_id(&self) -> Option<uuid::Uuid> {
        Some(self.tokens.device)
    }

    fn new_device(&mut self) -> Result<Option<protocol::Session>, TransportError> {
        let request = protocol::NewDeviceRequest { device_name: format!("{} (副本)", self.tokens.device.simple()) };
        let session = self.deliver(|s, token| s.new_device(token, request.clone()), None)?;
        self.adopt(&session);
        Ok(Some(session))
    }

    fn hand_over(&mut self) -> Result<(), TransportError> {
        if !self.online {
            return Err(TransportError::Offline("partitioned".into()));
        }
        let request = protocol::HandoverRequest { refresh_token: self.tokens.refresh.clone() };
        let session = self.server.handover(request).map_err(transport_error)?;
        self.adopt(&session);
        Ok(())
    }
}
