//! The application layer's errors, and how each becomes the [`CommandError`] the UI reads: a
//! stable code from the catalogue [`contract::codes`] (or the domain's own code for a field or a
//! rule), the field when there is one, messages in both languages. Internal details are logged,
//! never shown.

use contract::{CommandError, codes, sentence};
use domain::Labelled;
use domain::entity::{EntityKind, FieldSpec};
use domain::rules::Rejection;
use domain::validate::{FieldError, Invalid};
use store::StoreError;
use sync_client::SyncError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Code [`codes::BAD_CREDENTIALS`].
    #[error("wrong username or password")]
    BadCredentials,
    /// Code [`codes::NOT_SIGNED_IN`].
    #[error("no one is signed in")]
    NotSignedIn,
    /// Code [`codes::SERVER_UNREACHABLE`].
    #[error("the sync server cannot be reached: {0}")]
    ServerUnreachable(String),
    /// The server's own code and messages.
    #[error("the sync server refused the sign-in: {0}")]
    SignInRefused(protocol::ApiError),
    /// Code `sync_client::InsecureServerUrl::CODE`.
    #[error(transparent)]
    InsecureServerUrl(sync_client::InsecureServerUrl),
    /// Offline sign-in after more days without contact with the server than the station
    /// allows. Code [`codes::LEASE_EXPIRED`].
    #[error("the offline lease of {days} days has run out")]
    LeaseExpired { days: i64 },
    /// Offline sign-in of an account the device has heard was deactivated. Code
    /// [`codes::ACCOUNT_DEACTIVATED`].
    #[error("the account was deactivated")]
    AccountDeactivated,
    /// What was typed is not valid for its field: the domain's code, at the field.
    #[error("{0}")]
    Invalid(FieldError),
    /// The rules refused the change: the rule's code (at the field when it names one).
    #[error("{0}")]
    Rejected(Rejection),
    /// The record asked for is not on this computer. Code [`codes::NOT_FOUND`].
    #[error("no {0:?} with this id is held here")]
    NotFound(EntityKind),
    /// The case was given to another worker (`to`, by name when known here) and left this
    /// computer `at`. Code [`codes::CASE_REASSIGNED`].
    #[error("the case was reassigned to another worker")]
    CaseReassigned { to: Option<String>, at: chrono::DateTime<chrono::Utc> },
    /// A household visit for a household without a head. Code [`codes::NO_HOUSEHOLD_HEAD`].
    #[error("the household has no member recorded as its head")]
    NoHouseholdHead,
    /// A field changed by its own use case, not by a general edit (a recipient's village, their
    /// household). Code [`codes::NOT_EDITABLE_HERE`], at the field.
    #[error("{} is not changed by this edit", .0.en)]
    NotEditableHere(&'static FieldSpec),
    /// The conflict chosen on is not open as it was shown any more (settled meanwhile, here or
    /// elsewhere, or the value that stands changed). Code [`codes::CONFLICT_CHANGED`].
    #[error("the conflict is no longer open as shown")]
    ConflictChanged,
    /// The refused change acted on is not waiting for the user any more (resent or discarded
    /// meanwhile, or never refused). Code [`codes::REFUSED_CHANGE_GONE`].
    #[error("the refused change is no longer waiting")]
    RefusedChangeGone,
    /// A report period not understood. Code [`codes::BAD_REPORT_PERIOD`], at the field `period`.
    #[error("{0}")]
    BadPeriod(contract::BadPeriod),
    /// A report could not be rendered (no CJK font on this computer, ...). Code
    /// [`codes::REPORT_NOT_RENDERED`], details logged.
    #[error("report: {0}")]
    Render(report::RenderError),
    /// A malformed request (a bug in the UI). Code [`codes::BAD_REQUEST`].
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Code [`codes::INTERNAL`], details logged.
    #[error("store: {0}")]
    Store(StoreError),
    /// Code [`codes::INTERNAL`], details logged.
    #[error("sync: {0}")]
    Sync(SyncError),
    /// A bundle of sync by USB stick was refused: its own code ([`codes::BUNDLE_STALE`], ...),
    /// at the path field.
    #[error("bundle: {0}")]
    Bundle(protocol::bundle::BundleError),
    /// A bundle file could not be read or written. Code [`codes::BUNDLE_FILE`], at the path field.
    #[error("bundle file: {en}")]
    BundleFile { zh: String, en: String },
    /// Relaying a bundle failed: the server's code and messages when it answered (a bundle it
    /// refused, a revoked device), else the sync error's.
    #[error("relay: {0}")]
    Relay(SyncError),
    /// Code [`codes::INTERNAL`], details logged.
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// Code [`codes::INTERNAL`], details logged.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// A value of `spec`'s field is wrong in this way.
    pub fn at_field(spec: &FieldSpec, invalid: Invalid) -> AppError {
        AppError::Invalid(FieldError::new(spec, invalid))
    }

    /// A value of the field `name` of `kind` is wrong in this way (a name the kind lacks is
    /// named as it is).
    pub fn at(kind: EntityKind, name: &str, invalid: Invalid) -> AppError {
        match kind.spec().field(name) {
            Some(spec) => AppError::at_field(spec, invalid),
            None => AppError::Invalid(FieldError { invalid, ..FieldError::unknown(name) }),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::WrongKey => AppError::BadCredentials,
            StoreError::Rejected(rejection) => AppError::Rejected(rejection),
            other => AppError::Store(other),
        }
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Bundle(e) => AppError::Bundle(e),
            SyncError::Store(e) => e.into(),
            other => AppError::Sync(other),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e)
    }
}

impl From<AppError> for CommandError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::BadCredentials => {
                CommandError::new(codes::BAD_CREDENTIALS, "用户名或密码错误", "Wrong username or password")
            }
            AppError::NotSignedIn => CommandError::new(codes::NOT_SIGNED_IN, "请先登录", "Please sign in first"),
            AppError::ServerUnreachable(detail) => {
                tracing::warn!(%detail, "sign-in: sync server unreachable");
                CommandError::new(
                    codes::SERVER_UNREACHABLE,
                    "无法连接同步服务器。本机首次登录需要联网，请检查服务器地址和网络。",
                    "The sync server cannot be reached. The first sign-in on this computer needs the network; check the server address and the connection.",
                )
            }
            AppError::SignInRefused(api) => CommandError::new(&api.code, api.message_zh, api.message_en),
            AppError::LeaseExpired { days } => CommandError::new(
                codes::LEASE_EXPIRED,
                format!("本机已超过{days}天未与同步服务器联系，本地数据已锁定。请联网后再登录，即可解锁。"),
                format!(
                    "This computer has not reached the sync server for more than {days} days, so its local data is locked. Connect to the network and sign in again to unlock it."
                ),
            ),
            AppError::AccountDeactivated => CommandError::new(
                codes::ACCOUNT_DEACTIVATED,
                "该账号已停用，不能再在本机登录。如有疑问请联系管理员。",
                "This account has been deactivated and can no longer sign in on this computer. Please contact the administrator.",
            ),
            AppError::InsecureServerUrl(e) => {
                CommandError::new(sync_client::InsecureServerUrl::CODE, e.message_zh(), e.message_en())
            }
            AppError::Invalid(field_error) => field_error_to_command(&field_error),
            AppError::Rejected(rejection) => rejection_to_command(&rejection),
            AppError::NotFound(kind) => CommandError::new(
                codes::NOT_FOUND,
                format!("本机没有该{}的记录（可能尚未同步，或已不在您的范围内）", kind.zh()),
                format!(
                    "This {} is not on this computer (not synced yet, or no longer within your reach).",
                    kind.en().to_lowercase()
                ),
            ),
            AppError::CaseReassigned { to, at } => {
                let on = at.with_timezone(&chrono::Local).date_naive();
                let (to_zh, to_en) = match &to {
                    Some(name) => (name.clone(), name.clone()),
                    None => ("另一位社工".to_string(), "another worker".to_string()),
                };
                CommandError::new(
                    codes::CASE_REASSIGNED,
                    format!("该个案已于 {on} 改派给{to_zh}，本机不再保存。如需了解进展，请联系{to_zh}或副站长。"),
                    format!(
                        "This case was reassigned to {to_en} on {on} and is no longer kept on this computer. Ask them or the deputy head how it is going."
                    ),
                )
            }
            AppError::NoHouseholdHead => CommandError::new(
                codes::NO_HOUSEHOLD_HEAD,
                "该家庭还没有登记户主，请先在家庭成员中设置户主",
                "The household has no head yet; set a member as the head first.",
            ),
            AppError::NotEditableHere(spec) => CommandError::new(
                codes::NOT_EDITABLE_HERE,
                format!("{}不能在此修改，请使用相应的功能（转移、家庭成员）", spec.zh),
                sentence(&format!(
                    "{} is not changed here; use its own action (transfer, household members).",
                    spec.en
                )),
            )
            .at_field(spec.name),
            AppError::ConflictChanged => CommandError::new(
                codes::CONFLICT_CHANGED,
                "该冲突已有变化（已在本机或其他电脑上处理，或现值已更新），请查看最新情况后再选择。",
                "This conflict has changed (settled here or on another computer, or the current value was updated). Look at it again and choose.",
            ),
            AppError::RefusedChangeGone => CommandError::new(
                codes::REFUSED_CHANGE_GONE,
                "该被拒修改已处理（已重新提交或已放弃），请查看最新列表。",
                "This refused change was already dealt with (sent again or discarded). Look at the list again.",
            ),
            AppError::BadPeriod(e) => CommandError::new(codes::BAD_REPORT_PERIOD, e.message_zh(), e.message_en())
                .at_field(contract::BadPeriod::FIELD),
            AppError::Render(e) => {
                tracing::error!(error = %e, "report not rendered");
                CommandError::new(
                    codes::REPORT_NOT_RENDERED,
                    "报表未能生成（本机可能缺少中文字体，如 fonts-wqy-microhei）。详情已记入日志。",
                    "The report could not be made (this computer may lack a Chinese font such as fonts-wqy-microhei). Details are in the log.",
                )
            }
            AppError::Bundle(e) => crate::bundle::bundle_error_to_command(&e),
            AppError::BundleFile { zh, en } => crate::bundle::file_error_to_command(&zh, &en),
            AppError::Relay(SyncError::Server(api)) => {
                // The protocol's bundle refusals are phrased lower-case, to follow a prefix.
                CommandError::new(&api.code, api.message_zh, sentence(&api.message_en))
                    .at_field(crate::bundle::PATH_FIELD)
            }
            AppError::Relay(SyncError::Bundle(e)) => crate::bundle::bundle_error_to_command(&e),
            AppError::Relay(e) => sync_error_to_command(&e).at_field(crate::bundle::PATH_FIELD),
            AppError::BadRequest(detail) => {
                CommandError::new(codes::BAD_REQUEST, format!("请求无效：{detail}"), format!("Bad request: {detail}"))
            }
            other => {
                tracing::error!(error = %other, "command failed");
                CommandError::new(
                    codes::INTERNAL,
                    "操作失败，本机出错。详情已记入日志。",
                    "The action failed because of an error on this computer. Details are in the log.",
                )
            }
        }
    }
}

pub fn field_error_to_command(e: &FieldError) -> CommandError {
    CommandError::new(e.code(), e.message("zh"), sentence(&e.message("en"))).at_field(&e.field)
}

pub fn rejection_to_command(rejection: &Rejection) -> CommandError {
    match rejection {
        Rejection::Invalid(field_error) => field_error_to_command(field_error),
        other => {
            let mut error = CommandError::new(other.code(), other.message_zh(), sentence(&other.to_string()));
            error.field = other.field().map(Into::into);
            error
        }
    }
}

/// A failed sync round as the status bar shows it. The details (addresses, server errors) go
/// to the log; the English message is written here to match the Chinese one in kind.
pub fn sync_error_to_command(e: &SyncError) -> CommandError {
    let message_en = match e {
        SyncError::Offline(_) => {
            "The sync server cannot be reached. Your work is kept on this computer and sent when the network is back."
                .to_string()
        }
        SyncError::SignInRequired(_) => "The sign-in has expired; please sign in again.".to_string(),
        SyncError::InsecureServerUrl(e) => e.message_en(),
        SyncError::UpdateRequired => {
            "This app is too old for the server; please update it (nothing waiting to be sent is lost).".to_string()
        }
        SyncError::Server(api) => api.message_en.clone(),
        SyncError::SequenceGap { expected } => {
            format!("The server is missing change {expected} of this computer; please contact the administrator.")
        }
        SyncError::Store(_) => "The local database failed; details are in the log.".to_string(),
        SyncError::Bundle(e) => e.message_en(),
    };
    CommandError::new(e.code(), e.message_zh(), message_en)
}

#[cfg(test)]
mod tests {
    use domain::entity::{RECIPIENT, field};
    use domain::validate::resident_id_number;

    use super::*;

    fn id_number_error() -> FieldError {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let invalid = resident_id_number("110105194912310021", today).expect_err("a wrong check digit");
        FieldError::new(RECIPIENT.field(field::recipient::ID_NUMBER).expect("spec"), invalid)
    }

    #[test]
    fn a_rejected_field_reaches_the_ui_as_code_field_and_both_messages() {
        let error = CommandError::from(AppError::Rejected(Rejection::Invalid(id_number_error())));
        let json = serde_json::to_value(&error).expect("json");
        assert_eq!(json["code"], "id_number_check_digit");
        assert_eq!(json["field"], field::recipient::ID_NUMBER);
        assert_eq!(json["message_zh"], "身份证号校验码错误（应为X）");
        assert_eq!(json["message_en"], "Resident ID number has a wrong check digit (expected X)");
    }

    #[test]
    fn a_wrong_password_is_one_message_that_does_not_say_which_was_wrong() {
        let error = CommandError::from(AppError::from(StoreError::WrongKey));
        assert_eq!(error.code, codes::BAD_CREDENTIALS);
        assert_eq!(error.field, None);
        assert_eq!(error.message_zh, "用户名或密码错误");
        assert_eq!(error.message_en, "Wrong username or password");
    }

    #[test]
    fn internal_errors_reach_the_ui_without_their_details() {
        let error = CommandError::from(AppError::Internal("disk /secret/path is full".into()));
        assert_eq!(error.code, codes::INTERNAL);
        assert!(!error.message_en.contains("/secret/path") && !error.message_zh.contains("/secret/path"));
    }

    #[test]
    fn a_record_not_held_here_is_not_found_in_both_languages() {
        let error = CommandError::from(AppError::NotFound(EntityKind::Household));
        assert_eq!(error.code, codes::NOT_FOUND);
        assert!(error.message_zh.contains("家庭") && error.message_en.contains("household"), "{error:?}");
    }
}
