//! Entities as sync and storage see them: a kind, an id, and named fields, each field carrying
//! the clock of the edit that set it. The typed structs (`Recipient`, `Case`, ...) are views of
//! an [`EntityState`]; the [`EntitySpec`] of each kind lists its fields, their types and rules,
//! and is what the store's tables, the merge and the validation are driven by.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::activity::ACTIVITY_KIND_NAMES;
use crate::case::*;
use crate::hlc::Hlc;
use crate::org::{POST_NAMES, ROLE_NAMES};
use crate::recipient::{GENDER_NAMES, HOUSEHOLD_RELATION_NAMES, RECIPIENT_CATEGORY_NAMES};
use crate::referral::*;
use crate::standards::STANDARD_SET_NAMES;
use crate::workforce::{QUALIFICATION_NAMES, SUPERVISION_MODE_NAMES, TRAINING_KIND_NAMES, WORK_KIND_NAMES};
use crate::{Id, Labelled};

labelled_enum! {
    /// Every kind of record that is stored and synced.
    pub enum EntityKind {
        Station => "社工站", "Station",
        ServicePoint => "社工点", "Service point",
        Village => "村(社区)", "Village",
        User => "用户", "User",
        Recipient => "服务对象", "Recipient",
        Household => "家庭", "Household",
        Visit => "入户走访", "Home visit",
        Case => "个案", "Case",
        Screening => "识别记录", "Screening",
        Assessment => "需求评估", "Needs assessment",
        Goal => "服务目标", "Plan goal",
        ResourceLink => "资源链接", "Linked resource",
        Intervention => "服务记录", "Intervention",
        FollowUp => "跟踪回访", "Follow-up visit",
        ClosureDecision => "结案审核", "Closure decision",
        Referral => "转介", "Referral",
        Resource => "资源", "Resource",
        SupervisionPlan => "督导计划", "Supervision plan",
        SupervisionSession => "督导记录", "Supervision session",
        TrainingRecord => "培训记录", "Training record",
        WorkTime => "工作时长", "Working time",
        Activity => "活动", "Activity",
    }
    names = ENTITY_KIND_NAMES;
}

/// Which part of the policy an entity kind falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Stations, points, villages, users: managed by administrators.
    Organisation,
    /// The roster and the work around it: recipients, households, visits, referrals, resources.
    Roster,
    /// A case and its stage records; workers see only the cases assigned to them.
    Case,
    /// The workforce's own records (supervision, training, working time): the station's people
    /// read them; supervisors record supervision, each worker their own training and time.
    Workforce,
}

impl EntityKind {
    pub fn spec(self) -> &'static EntitySpec {
        match self {
            EntityKind::Station => &STATION,
            EntityKind::ServicePoint => &SERVICE_POINT,
            EntityKind::Village => &VILLAGE,
            EntityKind::User => &USER,
            EntityKind::Recipient => &RECIPIENT,
            EntityKind::Household => &HOUSEHOLD,
            EntityKind::Visit => &VISIT,
            EntityKind::Case => &CASE,
            EntityKind::Screening => &SCREENING,
            EntityKind::Assessment => &ASSESSMENT,
            EntityKind::Goal => &GOAL,
            EntityKind::ResourceLink => &RESOURCE_LINK,
            EntityKind::Intervention => &INTERVENTION,
            EntityKind::FollowUp => &FOLLOW_UP,
            EntityKind::ClosureDecision => &CLOSURE_DECISION,
            EntityKind::Referral => &REFERRAL,
            EntityKind::Resource => &RESOURCE,
            EntityKind::SupervisionPlan => &SUPERVISION_PLAN,
            EntityKind::SupervisionSession => &SUPERVISION_SESSION,
            EntityKind::TrainingRecord => &TRAINING_RECORD,
            EntityKind::WorkTime => &WORK_TIME,
            EntityKind::Activity => &ACTIVITY,
        }
    }

    pub fn area(self) -> Area {
        match self {
            EntityKind::Station | EntityKind::ServicePoint | EntityKind::Village | EntityKind::User => {
                Area::Organisation
            }
            EntityKind::Recipient
            | EntityKind::Household
            | EntityKind::Visit
            | EntityKind::Referral
            | EntityKind::Resource
            // The station's own work, beside the cases: any worker of the station records it.
            | EntityKind::Activity => Area::Roster,
            EntityKind::Case
            | EntityKind::Screening
            | EntityKind::Assessment
            | EntityKind::Goal
            | EntityKind::ResourceLink
            | EntityKind::Intervention
            | EntityKind::FollowUp
            | EntityKind::ClosureDecision => Area::Case,
            EntityKind::SupervisionPlan
            | EntityKind::SupervisionSession
            | EntityKind::TrainingRecord
            | EntityKind::WorkTime => Area::Workforce,
        }
    }

    /// The stage records of a case (everything in the case area but the case itself).
    pub fn is_case_record(self) -> bool {
        self.area() == Area::Case && self != EntityKind::Case
    }
}

/// The type of a field, which decides how its value is validated, normalized and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text up to `max_chars` characters, trimmed.
    Text {
        max_chars: usize,
    },
    /// A person's name: 1 to 50 characters.
    PersonName,
    /// 居民身份证号 (GB 11643-1999), stored with an upper-case `X`.
    IdNumber,
    /// An 11-digit mainland mobile number.
    Mobile,
    /// A calendar date `YYYY-MM-DD`; `not_future` rejects dates after today.
    Date {
        not_future: bool,
    },
    /// An instant, RFC 3339 in UTC.
    DateTime,
    Integer {
        min: i64,
        max: i64,
    },
    /// An amount of money, typed as yuan with at most two decimals and stored as whole fen (an
    /// integer, never a float): see `money`.
    Money {
        max_fen: i64,
    },
    Bool,
    /// The id of an entity of the given kind.
    Ref(EntityKind),
    /// A list of ids of the given kind.
    RefList(EntityKind),
    /// One value of a closed vocabulary.
    Enum(&'static [&'static str]),
    /// One or more values of a closed vocabulary, stored sorted in vocabulary order.
    EnumSet(&'static [&'static str]),
    /// Lower-case hex up to `max_chars` (digests, signatures, keys).
    Hex {
        max_chars: usize,
    },
    /// A list of hex strings (a supervisor's signing keys).
    HexList,
}

/// One field of an entity kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// Whether the field may change after creation. Immutable fields are set once.
    pub mutable: bool,
}

/// Everything the store, the merge and the validation need to know about an entity kind.
#[derive(Debug)]
pub struct EntitySpec {
    pub kind: EntityKind,
    /// The SQL table on devices; the same name is used in the server's log.
    pub table: &'static str,
    pub fields: &'static [FieldSpec],
    /// Append-only records (visits, interventions, follow-ups, decisions) are never edited:
    /// a correction is a new record that amends the old one.
    pub append_only: bool,
}

impl EntitySpec {
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn f(name: &'static str, zh: &'static str, en: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec { name, zh, en, ty, required: true, mutable: true }
}
const fn opt(name: &'static str, zh: &'static str, en: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec { name, zh, en, ty, required: false, mutable: true }
}
const fn fixed(name: &'static str, zh: &'static str, en: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec { name, zh, en, ty, required: true, mutable: false }
}
const fn fixed_opt(name: &'static str, zh: &'static str, en: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec { name, zh, en, ty, required: false, mutable: false }
}

const SHORT: FieldType = FieldType::Text { max_chars: 100 };
const ADDRESS: FieldType = FieldType::Text { max_chars: 200 };
const NOTES: FieldType = FieldType::Text { max_chars: 2000 };
const PAST: FieldType = FieldType::Date { not_future: true };
const ANY_DATE: FieldType = FieldType::Date { not_future: false };
const MONEY: FieldType = FieldType::Money { max_fen: crate::money::MAX_FEN };
/// A case's reopen generation (see `signoff`).
const GENERATION: FieldType = FieldType::Integer { min: 0, max: 1_000_000 };

/// The station an entity belongs to, set when it is made.
const fn station(name: &'static str) -> FieldSpec {
    fixed(name, "所属社工站", "station", FieldType::Ref(EntityKind::Station))
}
/// The case a stage record belongs to.
const fn case_of_record(name: &'static str) -> FieldSpec {
    fixed(name, "个案", "case", FieldType::Ref(EntityKind::Case))
}
/// The worker who made a record.
const fn worker_of_record(name: &'static str) -> FieldSpec {
    fixed(name, "社工", "social worker", FieldType::Ref(EntityKind::User))
}

/// Declares every entity kind's [`EntitySpec`] and, in [`field`], a module per kind with one
/// constant per field name: each name is written once, and the spec is built from the same
/// constants the rest of the code names fields by.
///
/// A kind: `SPEC, module: Kind in "table", append_only: bool { CONSTANT = "name" =>
/// constructor(zh, en, type), ... }`; the constructor (`f`, `opt`, `fixed`, ...) gets the name
/// first. Names several kinds share and code reads across kinds (`station_id`, ...) are declared
/// in the `common` list and given as `super::CONSTANT`.
macro_rules! entity_specs {
    (
        common { $( $(#[$common_meta:meta])* $common:ident = $common_name:literal ),* $(,)? }
        $(
            $spec:ident, $module:ident: $kind:ident in $table:literal, append_only: $append_only:literal {
                $( $konst:ident = $name:expr => $make:ident($($arg:expr),* $(,)?) ),* $(,)?
            }
        )*
    ) => {
        /// The field names of every entity kind, one module per kind (`field::recipient::NAME`),
        /// and the names several kinds share, for code that reads any kind (`field::STATION_ID`).
        /// Name a field by these constants, never by a string literal.
        pub mod field {
            $( $(#[$common_meta])* pub const $common: &str = $common_name; )*
            $(
                #[doc = concat!("The fields of [`EntityKind::", stringify!($kind), "`](crate::entity::EntityKind), in the spec's order.")]
                pub mod $module {
                    $( pub const $konst: &str = $name; )*
                    /// Every field of the kind, in the spec's order.
                    pub const ALL: &[&str] = &[$($konst),*];
                    /// The constants' own names with their values, for the test that they agree.
                    #[cfg(test)]
                    pub(crate) const DECLARED: &[(&str, &str)] = &[$((stringify!($konst), $konst)),*];
                }
            )*
            /// Every kind's module: its kind, its fields and their constants' names.
            #[cfg(test)]
            pub(crate) const KINDS: &[(crate::entity::EntityKind, &[&str], &[(&str, &str)])] =
                &[$((crate::entity::EntityKind::$kind, $module::ALL, $module::DECLARED)),*];
        }
        $(
            pub static $spec: EntitySpec = EntitySpec {
                kind: EntityKind::$kind,
                table: $table,
                append_only: $append_only,
                fields: &[$( $make(field::$module::$konst, $($arg),*) ),*],
            };
        )*
    };
}

entity_specs! {
    common {
        /// Every kind but the station itself: the station the entity belongs to.
        STATION_ID = "station_id",
        /// Every stage record of a case: the case.
        CASE_ID = "case_id",
        /// Visits, cases and the records a worker makes: the worker.
        WORKER_ID = "worker_id",
        /// Visits, cases and referrals: the recipient.
        RECIPIENT_ID = "recipient_id",
        /// Append-only records: the record a correction amends.
        AMENDS = "amends",
    }

    STATION, station: Station in "stations", append_only: false {
        NAME = "name" => f("名称", "name", SHORT),
        COUNTY = "county" => f("区县", "county", SHORT),
        // Days a device may go without contacting the server before its local data locks (a
        // lost laptop stops opening by itself); unset: `DEFAULT_OFFLINE_LEASE_DAYS`.
        OFFLINE_LEASE_DAYS = "offline_lease_days" => opt("离线使用期限（天）",
            "offline lease (days)",
            FieldType::Integer { min: 1, max: 365 },
        ),
        // Days a case may stay in one stage before the case board marks it stalled; set by the
        // deputy head; unset: `DEFAULT_STALL_DAYS`.
        STALL_DAYS = "stall_days" => opt("停滞提醒天数", "stall threshold (days)",
            FieldType::Integer { min: 1, max: 365 },
        ),
        // The standards the station's supervision, training and working time are held against
        // (`standards::StandardSet`, migration 0020); set by the deputy head; unset: none chosen.
        STANDARD_SET = "standard_set" => opt("考核标准", "standards", FieldType::Enum(STANDARD_SET_NAMES)),
        // Days a referral may go without an outcome before the deputy head's board lists it
        // overdue (migration 0018); unset: `DEFAULT_REFERRAL_OVERDUE_DAYS`.
        REFERRAL_OVERDUE_DAYS = "referral_overdue_days" => opt("转介逾期提醒天数", "referral overdue threshold (days)",
            FieldType::Integer { min: 1, max: 365 },
        ),
        // False once an administrator deactivated the station (migration 0022): its history stays,
        // new recipients, households and visits are refused (`places::check_places_active`); unset
        // (a record made before the field): active.
        ACTIVE = "active" => opt("启用", "active", FieldType::Bool),
    }

    SERVICE_POINT, service_point: ServicePoint in "service_points", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        NAME = "name" => f("名称", "name", SHORT),
        LIAISON_NAME = "liaison_name" => opt("联络员", "liaison", FieldType::PersonName),
        LIAISON_PHONE = "liaison_phone" => opt("联络员手机号", "liaison's mobile number", FieldType::Mobile),
    }

    VILLAGE, village: Village in "villages", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        SERVICE_POINT_ID = "service_point_id" => f("所属社工点", "service point", FieldType::Ref(EntityKind::ServicePoint)),
        NAME = "name" => f("名称", "name", SHORT),
        // As `station::ACTIVE`: false once deactivated (a village merged into another, say).
        ACTIVE = "active" => opt("启用", "active", FieldType::Bool),
    }

    USER, user: User in "users", append_only: false {
        USERNAME = "username" => fixed("登录名", "username", FieldType::Text { max_chars: 50 }),
        DISPLAY_NAME = "display_name" => f("姓名", "name", FieldType::PersonName),
        ROLE = "role" => f("角色", "role", FieldType::Enum(ROLE_NAMES)),
        POST = "post" => opt("岗位", "post", FieldType::Enum(POST_NAMES)),
        STATION_ID = super::STATION_ID => opt("所属社工站", "station", FieldType::Ref(EntityKind::Station)),
        SERVICE_POINT_ID = "service_point_id" => opt("所在社工点", "service point", FieldType::Ref(EntityKind::ServicePoint)),
        SUPERVISED_STATION_IDS = "supervised_station_ids" => opt("督导的社工站", "supervised stations", FieldType::RefList(EntityKind::Station)),
        SIGNING_KEYS = "signing_keys" => opt("签名公钥", "signing keys", FieldType::HexList),
        ACTIVE = "active" => f("在职", "active", FieldType::Bool),
        // Migration 0020: set by an administrator or the station's deputy head
        // (`Action::SetQualification`), who see the certificate.
        QUALIFICATION = "qualification" => opt("职业水平", "qualification", FieldType::Enum(QUALIFICATION_NAMES)),
    }

    RECIPIENT, recipient: Recipient in "recipients", append_only: false {
        // Mutable: a recipient may be transferred to another station (see rules::check_change).
        STATION_ID = super::STATION_ID => f("所属社工站", "station", FieldType::Ref(EntityKind::Station)),
        VILLAGE_ID = "village_id" => f("所在村(社区)", "village", FieldType::Ref(EntityKind::Village)),
        NAME = "name" => f("姓名", "name", FieldType::PersonName),
        ID_NUMBER = "id_number" => f("身份证号", "resident ID number", FieldType::IdNumber),
        GENDER = "gender" => f("性别", "gender", FieldType::Enum(GENDER_NAMES)),
        BIRTH_DATE = "birth_date" => f("出生日期", "date of birth", PAST),
        PHONE = "phone" => opt("手机号", "mobile number", FieldType::Mobile),
        CATEGORIES = "categories" => f("对象类别", "categories", FieldType::EnumSet(RECIPIENT_CATEGORY_NAMES)),
        HOUSEHOLD_ID = "household_id" => opt("所属家庭", "household", FieldType::Ref(EntityKind::Household)),
        HOUSEHOLD_RELATION = "household_relation" => opt("与户主关系", "relation to the head", FieldType::Enum(HOUSEHOLD_RELATION_NAMES)),
        ADDRESS = "address" => opt("住址", "address", ADDRESS),
        NOTES = "notes" => opt("备注", "notes", NOTES),
    }

    HOUSEHOLD, household: Household in "households", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        VILLAGE_ID = "village_id" => f("所在村(社区)", "village", FieldType::Ref(EntityKind::Village)),
        NAME = "name" => f("户名", "household name", SHORT),
        ADDRESS = "address" => opt("住址", "address", ADDRESS),
        NOTES = "notes" => opt("备注", "notes", NOTES),
    }

    VISIT, visit: Visit in "visits", append_only: true {
        STATION_ID = super::STATION_ID => station(),
        VILLAGE_ID = "village_id" => fixed("所在村(社区)", "village", FieldType::Ref(EntityKind::Village)),
        RECIPIENT_ID = super::RECIPIENT_ID => fixed("服务对象", "recipient", FieldType::Ref(EntityKind::Recipient)),
        WORKER_ID = super::WORKER_ID => worker_of_record(),
        VISITED_ON = "visited_on" => fixed("走访日期", "visit date", PAST),
        PERSONS_SEEN = "persons_seen" => fixed_opt("见到的人", "persons seen", SHORT),
        OBSERVATIONS = "observations" => fixed("走访情况", "observations", NOTES),
        NEEDS_FOUND = "needs_found" => fixed_opt("发现的需求", "needs found", NOTES),
        FOLLOW_UP_NEEDED = "follow_up_needed" => fixed("需要跟进", "follow-up needed", FieldType::Bool),
        AMENDS = super::AMENDS => fixed_opt("更正的走访", "amended visit", FieldType::Ref(EntityKind::Visit)),
    }

    CASE, case: Case in "cases", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        RECIPIENT_ID = super::RECIPIENT_ID => fixed("服务对象", "recipient", FieldType::Ref(EntityKind::Recipient)),
        WORKER_ID = super::WORKER_ID => f("负责社工", "assigned worker", FieldType::Ref(EntityKind::User)),
        STAGE = "stage" => f("阶段", "stage", FieldType::Enum(STAGE_NAMES)),
        STAGE_ENTERED_ON = "stage_entered_on" => f("进入阶段日期", "stage entered on", PAST),
        OPENED_ON = "opened_on" => fixed("开案日期", "opened on", PAST),
        PLAN_STRATEGY = "plan_strategy" => opt("介入策略", "intervention strategy", NOTES),
        CLOSURE_STATUS = "closure_status" => f("结案状态", "closure status", FieldType::Enum(CLOSURE_STATUS_NAMES)),
        CLOSURE_SUMMARY = "closure_summary" => opt("结案小结", "closure summary", NOTES),
        CLOSURE_REQUESTED_ON = "closure_requested_on" => opt("申请结案日期", "closure requested on", PAST),
        CLOSURE_COMMENTS = "closure_comments" => opt("督导意见", "supervisor's comments", NOTES),
        // Set by each reopening to one more than before (see rules::check_change); absent: 0.
        REOPEN_GENERATION = "reopen_generation" => opt("重新开案次数", "times reopened", GENERATION),
        // Why the case was last reopened: written only by a reopening (see rules::classify).
        REOPEN_REASON = "reopen_reason" => opt("重新开案原因", "reason for reopening", NOTES),
    }

    SCREENING, screening: Screening in "screenings", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        SOURCE = "source" => f("发现途径", "source", FieldType::Enum(SCREENING_SOURCE_NAMES)),
        FOUND_ON = "found_on" => f("发现日期", "found on", PAST),
        NOTES = "notes" => opt("备注", "notes", NOTES),
    }

    ASSESSMENT, assessment: Assessment in "assessments", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        ASSESSED_ON = "assessed_on" => f("评估日期", "assessed on", PAST),
        LIVING_CONDITIONS = "living_conditions" => opt("生活状况", "living conditions", NOTES),
        HEALTH = "health" => opt("健康状况", "health", NOTES),
        PSYCHOLOGY = "psychology" => opt("心理状况", "psychology", NOTES),
        FAMILY_SUPPORT = "family_support" => opt("家庭支持", "family support", NOTES),
        SOCIAL_SUPPORT = "social_support" => opt("社会支持", "social support", NOTES),
        RISK_LEVEL = "risk_level" => f("风险等级", "risk level", FieldType::Enum(RISK_LEVEL_NAMES)),
        NEEDS_SUMMARY = "needs_summary" => f("需求小结", "needs summary", NOTES),
    }

    GOAL, goal: Goal in "goals", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        DESCRIPTION = "description" => f("服务目标", "goal", FieldType::Text { max_chars: 500 }),
        TARGET_DATE = "target_date" => f("目标日期", "target date", ANY_DATE),
        EVALUATION = "evaluation" => opt("目标评估", "evaluation", FieldType::Enum(GOAL_EVALUATION_NAMES)),
        EVALUATION_NOTES = "evaluation_notes" => opt("评估说明", "evaluation notes", NOTES),
    }

    RESOURCE_LINK, resource_link: ResourceLink in "resource_links", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        RESOURCE_ID = "resource_id" => opt("资源", "resource", FieldType::Ref(EntityKind::Resource)),
        KIND = "kind" => f("资源类型", "kind", FieldType::Enum(RESOURCE_LINK_KIND_NAMES)),
        DESCRIPTION = "description" => f("说明", "description", FieldType::Text { max_chars: 500 }),
        STATUS = "status" => f("进展", "status", FieldType::Enum(RESOURCE_LINK_STATUS_NAMES)),
        LINKED_ON = "linked_on" => f("链接日期", "linked on", PAST),
        // What the link brought (资源链接结果), and for charity help the money and the value of
        // the goods the recipient received, in fen (see `money`).
        OUTCOME = "outcome" => opt("链接结果", "outcome", NOTES),
        MONEY_FEN = "money_fen" => opt("慈善款金额(元)", "charity money (yuan)", MONEY),
        GOODS = "goods" => opt("物资", "goods", SHORT),
        GOODS_VALUE_FEN = "goods_value_fen" => opt("物资折价(元)", "value of the goods (yuan)", MONEY),
    }

    INTERVENTION, intervention: Intervention in "interventions", append_only: true {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        WORKER_ID = super::WORKER_ID => worker_of_record(),
        DELIVERED_ON = "delivered_on" => fixed("服务日期", "service date", PAST),
        SERVICE_TYPE = "service_type" => fixed("服务内容", "service type", FieldType::Enum(SERVICE_TYPE_NAMES)),
        METHOD = "method" => fixed("服务方法", "method", FieldType::Enum(SERVICE_METHOD_NAMES)),
        DURATION_MINUTES = "duration_minutes" => fixed("时长(分钟)", "duration (minutes)", FieldType::Integer { min: 1, max: 24 * 60 }),
        NOTES = "notes" => fixed("服务记录", "notes", NOTES),
        AMENDS = super::AMENDS => fixed_opt("更正的记录", "amended record", FieldType::Ref(EntityKind::Intervention)),
    }

    FOLLOW_UP, follow_up: FollowUp in "follow_ups", append_only: true {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        WORKER_ID = super::WORKER_ID => worker_of_record(),
        VISITED_ON = "visited_on" => fixed("回访日期", "visit date", PAST),
        NOTES = "notes" => fixed("回访情况", "notes", NOTES),
        AMENDS = super::AMENDS => fixed_opt("更正的记录", "amended record", FieldType::Ref(EntityKind::FollowUp)),
    }

    CLOSURE_DECISION, closure_decision: ClosureDecision in "closure_decisions", append_only: true {
        STATION_ID = super::STATION_ID => station(),
        CASE_ID = super::CASE_ID => case_of_record(),
        SUPERVISOR_ID = "supervisor_id" => fixed("督导", "supervisor", FieldType::Ref(EntityKind::User)),
        DECISION = "decision" => fixed("审核结果", "decision", FieldType::Enum(CLOSURE_DECISION_KIND_NAMES)),
        COMMENTS = "comments" => fixed_opt("督导意见", "comments", NOTES),
        DECIDED_AT = "decided_at" => fixed("审核时间", "decided at", FieldType::DateTime),
        CASE_DIGEST = "case_digest" => fixed_opt("个案摘要值", "case digest", FieldType::Hex { max_chars: 64 }),
        SIGNATURE = "signature" => fixed_opt("签名", "signature", FieldType::Hex { max_chars: 128 }),
        PUBLIC_KEY = "public_key" => fixed_opt("签名公钥", "public key", FieldType::Hex { max_chars: 64 }),
        // The case's reopen generation a sign-off was made for (signoff, seal version 2).
        CASE_GENERATION = "case_generation" => fixed_opt("签署时的开案轮次", "case generation signed", GENERATION),
    }

    REFERRAL, referral: Referral in "referrals", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        RECIPIENT_ID = super::RECIPIENT_ID => opt("服务对象", "recipient", FieldType::Ref(EntityKind::Recipient)),
        DIRECTION = "direction" => fixed("方向", "direction", FieldType::Enum(REFERRAL_DIRECTION_NAMES)),
        COUNTERPART = "counterpart" => f("转介单位", "counterpart", FieldType::Enum(REFERRAL_COUNTERPART_NAMES)),
        REASON = "reason" => f("转介事由", "reason", NOTES),
        REFERRED_ON = "referred_on" => f("转介日期", "referred on", PAST),
        OUTCOME = "outcome" => f("结果", "outcome", FieldType::Enum(REFERRAL_OUTCOME_NAMES)),
        OUTCOME_NOTES = "outcome_notes" => opt("结果说明", "outcome notes", NOTES),
        // Migration 0018. Where the referral stands (`referral::ReferralState`); absent on a
        // record an older device made, read from the direction and outcome instead
        // (`referral::effective_state`).
        STATE = "state" => opt("转介进展", "referral state", FieldType::Enum(REFERRAL_STATE_NAMES)),
        // Absent: a referral for services (`ReferralPurpose::Service`).
        PURPOSE = "purpose" => fixed_opt("转介类型", "purpose", FieldType::Enum(REFERRAL_PURPOSE_NAMES)),
        // What the person was helped to apply for (a benefit application, `purpose`).
        BENEFIT = "benefit" => opt("协助申请的事项", "benefit applied for", SHORT),
        // The department or person on the other side, more precisely than `counterpart`.
        COUNTERPART_DETAIL = "counterpart_detail" => opt("对方单位或联系人", "department or contact", SHORT),
        // The person as the referrer named them, before they are on file.
        PERSON_NAME = "person_name" => opt("被转介人姓名", "name of the person referred", FieldType::PersonName),
        // Accepted or declined (inbound), acknowledged by the department (outbound).
        RESPONDED_ON = "responded_on" => opt("受理或接收日期", "responded on", PAST),
        // The case opened, or the outcome reported.
        CONCLUDED_ON = "concluded_on" => opt("办结日期", "concluded on", PAST),
        // The case an inbound referral opened.
        OPENED_CASE_ID = "opened_case_id" => opt("开立的个案", "case opened", FieldType::Ref(EntityKind::Case)),
    }

    // Migration 0020: supervision announced in advance and held, each worker's training and
    // working time (see `workforce` and `standards`). Durations in whole minutes.
    SUPERVISION_PLAN, supervision_plan: SupervisionPlan in "supervision_plans", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        SUPERVISOR_ID = "supervisor_id" => fixed("督导", "supervisor", FieldType::Ref(EntityKind::User)),
        PLANNED_ON = "planned_on" => f("计划日期", "planned for", ANY_DATE),
        MODE = "mode" => f("督导方式", "mode", FieldType::Enum(SUPERVISION_MODE_NAMES)),
        PLANNED_MINUTES = "planned_minutes" => f("计划时长(分钟)", "planned duration (minutes)", FieldType::Integer { min: 1, max: 24 * 60 }),
        TOPICS = "topics" => f("督导主题", "topics", FieldType::Text { max_chars: 500 }),
    }

    SUPERVISION_SESSION, supervision_session: SupervisionSession in "supervision_sessions", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        SUPERVISOR_ID = "supervisor_id" => fixed("督导", "supervisor", FieldType::Ref(EntityKind::User)),
        PLAN_ID = "plan_id" => fixed_opt("督导计划", "plan", FieldType::Ref(EntityKind::SupervisionPlan)),
        HELD_ON = "held_on" => f("督导日期", "date", PAST),
        MODE = "mode" => f("督导方式", "mode", FieldType::Enum(SUPERVISION_MODE_NAMES)),
        DURATION_MINUTES = "duration_minutes" => f("时长(分钟)", "duration (minutes)", FieldType::Integer { min: 1, max: 24 * 60 }),
        TOPICS = "topics" => f("督导主题", "topics", FieldType::Text { max_chars: 500 }),
        CASES_DISCUSSED = "cases_discussed" => opt("讨论的个案", "cases discussed", FieldType::Text { max_chars: 500 }),
        // Written afterwards (及时反馈督导工作情况), so the record stays editable.
        FEEDBACK = "feedback" => opt("督导反馈", "feedback", NOTES),
    }

    TRAINING_RECORD, training_record: TrainingRecord in "training_records", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        WORKER_ID = super::WORKER_ID => worker_of_record(),
        KIND = "kind" => f("培训类型", "kind", FieldType::Enum(TRAINING_KIND_NAMES)),
        TITLE = "title" => f("培训名称", "title", SHORT),
        TRAINED_ON = "trained_on" => f("培训日期", "date", PAST),
        DURATION_MINUTES = "duration_minutes" => f("时长(分钟)", "duration (minutes)", FieldType::Integer { min: 1, max: 24 * 60 }),
        PROVIDER = "provider" => opt("培训机构", "provider", SHORT),
    }

    WORK_TIME, work_time: WorkTime in "work_times", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        WORKER_ID = super::WORKER_ID => worker_of_record(),
        WORKED_ON = "worked_on" => f("工作日期", "date", PAST),
        KIND = "kind" => f("工作类型", "kind of work", FieldType::Enum(WORK_KIND_NAMES)),
        DURATION_MINUTES = "duration_minutes" => f("时长(分钟)", "duration (minutes)", FieldType::Integer { min: 1, max: 24 * 60 }),
        NOTES = "notes" => opt("说明", "notes", SHORT),
    }

    RESOURCE, resource: Resource in "resources", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        KIND = "kind" => f("类型", "kind", FieldType::Enum(RESOURCE_KIND_NAMES)),
        NAME = "name" => f("名称", "name", SHORT),
        CONTACT_NAME = "contact_name" => opt("联系人", "contact", FieldType::PersonName),
        CONTACT_PHONE = "contact_phone" => opt("联系电话", "contact phone", FieldType::Text { max_chars: 30 }),
        SERVICES = "services" => opt("可提供的服务", "services offered", NOTES),
        ACTIVE = "active" => f("可用", "active", FieldType::Bool),
        VILLAGE_IDS = "village_ids" => opt("服务的村(社区)", "villages covered", FieldType::RefList(EntityKind::Village)),
        // Volunteer teams and community organisations the station cultivates (培育) are resources
        // like any other (linked into plans, taking part in activities), marked by this flag.
        CULTIVATED = "cultivated" => opt("本站培育", "cultivated by the station", FieldType::Bool),
    }

    ACTIVITY, activity: Activity in "activities", append_only: false {
        STATION_ID = super::STATION_ID => station(),
        KIND = "kind" => f("活动类型", "kind", FieldType::Enum(ACTIVITY_KIND_NAMES)),
        TITLE = "title" => f("活动主题", "title", SHORT),
        HELD_ON = "held_on" => f("活动日期", "date", PAST),
        PLACE = "place" => f("活动地点", "place", SHORT),
        DURATION_MINUTES = "duration_minutes" => f("时长(分钟)", "duration (minutes)", FieldType::Integer { min: 1, max: 24 * 60 }),
        WORKER_IDS = "worker_ids" => f("带领的社工", "workers who ran it", FieldType::RefList(EntityKind::User)),
        RECIPIENT_IDS = "recipient_ids" => opt("参与的服务对象", "recipients taking part", FieldType::RefList(EntityKind::Recipient)),
        OTHERS_COUNT = "others_count" => opt("其他参与人数", "other participants", FieldType::Integer { min: 0, max: 100_000 }),
        RESOURCE_IDS = "resource_ids" => opt("参与的志愿者和社会组织", "volunteers and organisations taking part", FieldType::RefList(EntityKind::Resource)),
        NOTES = "notes" => opt("活动记录", "notes", NOTES),
    }
}

/// A station's offline lease when it sets none.
pub const DEFAULT_OFFLINE_LEASE_DAYS: i64 = 30;
/// The days in one stage after which the case board marks a case stalled, when the station sets
/// none.
pub const DEFAULT_STALL_DAYS: i64 = 30;
/// The days a referral may go without an outcome before it is overdue, when the station sets
/// none (half a month; the seeds set no figure, so each station sets its own).
pub const DEFAULT_REFERRAL_OVERDUE_DAYS: i64 = 15;

/// Who set a field and when, and which earlier value of it the author had seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldClock {
    pub hlc: Hlc,
    /// The stamp of the value the author saw when editing; `None` when the field was set at
    /// creation. An edit whose base is not the stamp it overwrites was made without having seen
    /// that value, and the overwritten value becomes a conflict for a person to resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Hlc>,
    pub author: crate::Id,
}

/// The state of one entity: its fields and the clock of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityState {
    pub kind: EntityKind,
    pub id: Id,
    /// Field values, normalized per the spec; an absent field has no value.
    pub fields: BTreeMap<String, Value>,
    /// The clock of the creating change: every field not in `clocks` was set by it.
    pub created: FieldClock,
    /// Clocks of fields edited since creation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clocks: BTreeMap<String, FieldClock>,
}

impl EntityState {
    pub fn clock(&self, field: &str) -> &FieldClock {
        self.clocks.get(field).unwrap_or(&self.created)
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }

    pub fn get_id(&self, field: &str) -> Option<Id> {
        self.get_str(field).and_then(|s| Id::try_parse(s).ok())
    }

    pub fn get_enum<T: Labelled>(&self, field: &str) -> Option<T> {
        self.get_str(field).and_then(T::parse)
    }

    /// The station the entity belongs to, as the policy and the sync scope see it.
    pub fn station_id(&self) -> Option<Id> {
        match self.kind {
            EntityKind::Station => Some(self.id),
            _ => self.get_id(field::STATION_ID),
        }
    }

    /// Every station whose devices hold this entity: a station itself; a user's own station and
    /// the stations a supervisor covers; otherwise the entity's `station_id`.
    pub fn station_ids(&self) -> Vec<Id> {
        match self.kind {
            EntityKind::Station => vec![self.id],
            EntityKind::User => {
                let mut ids: Vec<Id> = self.get_id(field::user::STATION_ID).into_iter().collect();
                if let Some(Value::Array(list)) = self.get(field::user::SUPERVISED_STATION_IDS) {
                    ids.extend(list.iter().filter_map(Value::as_str).filter_map(|s| Id::try_parse(s).ok()));
                }
                ids.sort();
                ids.dedup();
                ids
            }
            _ => self.get_id(field::STATION_ID).into_iter().collect(),
        }
    }

    /// Reads the entity as its typed struct (e.g. `Recipient`).
    pub fn to_typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let mut object = serde_json::Map::new();
        object.insert("id".into(), Value::String(self.id.to_string()));
        // Absent fields are left out rather than given as `null`: `Option` fields read them as
        // `None`, and `#[serde(default)]` lists (a worker's `supervised_station_ids`) as empty.
        for spec in self.kind.spec().fields {
            if let Some(value) = self.get(spec.name) {
                object.insert(spec.name.into(), value.clone());
            }
        }
        serde_json::from_value(Value::Object(object))
    }

    /// A stable digest of the entity's values and clocks, for the per-station checksum: the
    /// SHA-256 of a canonical binary encoding (see [`DigestInput`]) of its kind, id, creating
    /// clock, fields with a value (by name) and field clocks (by name).
    ///
    /// The encoding is streamed into the hasher, with no text formatting and no allocation: a
    /// device digests every row of a station on its first pull, the server every entity it
    /// writes. Two states equal as values (an absent field and a `null` alike) digest alike.
    pub fn digest(&self) -> [u8; 32] {
        digest_of(self.kind, self.id, &self.created, self.fields.iter().map(|(k, v)| (k.as_str(), v)), &self.clocks)
    }
}

/// [`EntityState::digest`] of the state made of these parts, for a holder that keeps them in
/// another shape (a store's row, its columns in table order). `fields` must come in name order,
/// as an `EntityState`'s do; those without a value (`null`) are left out, as there.
pub fn digest_of<'a>(
    kind: EntityKind,
    id: Id,
    created: &FieldClock,
    fields: impl Iterator<Item = (&'a str, &'a Value)> + Clone,
    clocks: &BTreeMap<String, FieldClock>,
) -> [u8; 32] {
    let mut input = DigestInput::new();
    input.bytes(b"shegong entity digest 2");
    input.text(kind.as_str());
    input.bytes(id.as_bytes());
    input.clock(created);
    let fields = fields.filter(|(_, v)| !v.is_null());
    input.count(fields.clone().count());
    for (name, value) in fields {
        input.text(name);
        input.value(value);
    }
    input.count(clocks.len());
    for (name, clock) in clocks {
        input.text(name);
        input.clock(clock);
    }
    input.finish()
}

/// The canonical encoding [`EntityState::digest`] hashes, fed to SHA-256 through a small
/// buffer. Every part is either fixed-size or prefixed with its length or count, so distinct
/// states never encode alike: texts are a `u32` byte length and UTF-8; ids the 16 bytes of the
/// UUID; a stamp its milliseconds (`u64`), counter (`u32`) and device (16 bytes); a clock its
/// stamp, a 0/1 byte then the base stamp if any, and the author; integers little-endian. A value
/// is a tag and its content: `0` null, `1` false, `2` true, `3` a number as its JSON text, `4` a
/// string, `5` an array (count, then each value), `6` an object (count, then each key and value
/// in key order).
struct DigestInput {
    hasher: sha2::Sha256,
    buf: [u8; 256],
    len: usize,
}

impl DigestInput {
    fn new() -> Self {
        use sha2::Digest;
        Self { hasher: sha2::Sha256::new(), buf: [0; 256], len: 0 }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        if self.len + bytes.len() > self.buf.len() {
            self.hasher.update(&self.buf[..self.len]);
            self.len = 0;
            if bytes.len() > self.buf.len() {
                self.hasher.update(bytes);
                return;
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn count(&mut self, n: usize) {
        self.bytes(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    fn text(&mut self, text: &str) {
        self.count(text.len());
        self.bytes(text.as_bytes());
    }

    fn stamp(&mut self, hlc: &Hlc) {
        self.bytes(&hlc.millis.to_le_bytes());
        self.bytes(&hlc.counter.to_le_bytes());
        self.bytes(hlc.device.as_bytes());
    }

    fn clock(&mut self, clock: &FieldClock) {
        self.stamp(&clock.hlc);
        match &clock.base {
            Some(base) => {
                self.bytes(&[1]);
                self.stamp(base);
            }
            None => self.bytes(&[0]),
        }
        self.bytes(clock.author.as_bytes());
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.bytes(&[0]),
            Value::Bool(false) => self.bytes(&[1]),
            Value::Bool(true) => self.bytes(&[2]),
            Value::Number(n) => {
                self.bytes(&[3]);
                // A number's JSON text does not depend on how it was read (an integer from
                // SQLite or from JSON writes alike).
                self.text(&n.to_string());
            }
            Value::String(s) => {
                self.bytes(&[4]);
                self.text(s);
            }
            Value::Array(items) => {
                self.bytes(&[5]);
                self.count(items.len());
                for item in items {
                    self.value(item);
                }
            }
            Value::Object(map) => {
                self.bytes(&[6]);
                self.count(map.len());
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (key, item) in entries {
                    self.text(key);
                    self.value(item);
                }
            }
        }
    }

    fn finish(mut self) -> [u8; 32] {
        use sha2::Digest;
        self.hasher.update(&self.buf[..self.len]);
        self.hasher.finalize().into()
    }
}

/// The per-station checksum: the XOR of the first eight bytes of each entity's digest. Order does
/// not matter, so the server keeps it up to date entity by entity and a device recomputes it.
pub fn checksum_fold(acc: u64, digest: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    acc ^ u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_spec_of_its_own_kind_and_a_distinct_table() {
        let mut tables: Vec<&str> = EntityKind::ALL.iter().map(|k| k.spec().table).collect();
        for kind in EntityKind::ALL {
            assert_eq!(kind.spec().kind, *kind);
        }
        tables.sort();
        tables.dedup();
        assert_eq!(tables.len(), EntityKind::ALL.len());
    }

    #[test]
    fn every_kind_but_the_station_itself_names_its_station() {
        for kind in EntityKind::ALL {
            let has_station = kind.spec().field(field::STATION_ID).is_some();
            assert_eq!(has_station, *kind != EntityKind::Station, "{kind:?}");
        }
    }

    #[test]
    fn a_user_without_lists_reads_as_typed_with_empty_lists() {
        let state = EntityState {
            kind: EntityKind::User,
            id: Id::from_u128(1),
            fields: [
                (field::user::USERNAME, Value::from("shegong1")),
                (field::user::DISPLAY_NAME, Value::from("张社工")),
                (field::user::ROLE, Value::from("SocialWorker")),
                (field::user::STATION_ID, Value::from(Id::from_u128(2).to_string())),
                (field::user::SIGNING_KEYS, Value::Null),
                (field::user::ACTIVE, Value::Bool(true)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            created: FieldClock { hlc: Hlc::new(1, 0, Id::from_u128(3)), base: None, author: Id::from_u128(4) },
            clocks: BTreeMap::new(),
        };
        let user: crate::org::User = state.to_typed().expect("typed");
        assert!(user.supervised_station_ids.is_empty() && user.signing_keys.is_empty());
        assert_eq!(user.post, None);
    }

    fn clock(n: u64, base: Option<Hlc>) -> FieldClock {
        FieldClock { hlc: Hlc::new(n, 1, Id::from_u128(9)), base, author: Id::from_u128(4) }
    }

    fn sample() -> EntityState {
        EntityState {
            kind: EntityKind::Recipient,
            id: Id::from_u128(1),
            fields: [
                ("name", Value::from("张三")),
                ("categories", serde_json::json!(["Dibao", "Disability"])),
                ("phone", Value::Null),
                ("notes", Value::from("")),
                ("duration_minutes", Value::from(60)),
                ("active", Value::Bool(false)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            created: clock(1, None),
            clocks: BTreeMap::from([("name".to_owned(), clock(5, Some(Hlc::new(1, 1, Id::from_u128(9)))))]),
        }
    }

    #[test]
    fn the_digest_covers_every_value_and_clock() {
        let state = sample();
        let digest = state.digest();
        type Edit = Box<dyn Fn(&mut EntityState)>;
        let mut changes: Vec<Edit> = vec![
            Box::new(|s| s.kind = EntityKind::Household),
            Box::new(|s| s.id = Id::from_u128(2)),
            Box::new(|s| {
                s.fields.insert("phone".into(), Value::from("13800000000"));
            }),
            Box::new(|s| {
                s.fields.insert("name".into(), Value::from("张三 "));
            }),
            Box::new(|s| {
                s.fields.insert("notes".into(), Value::Null);
            }),
            Box::new(|s| {
                s.fields.insert("active".into(), Value::Bool(true));
            }),
            Box::new(|s| {
                s.fields.insert("duration_minutes".into(), Value::from(61));
            }),
            Box::new(|s| {
                s.fields.insert("categories".into(), serde_json::json!(["Dibao"]));
            }),
            Box::new(|s| s.created.hlc.counter += 1),
            Box::new(|s| s.created.author = Id::from_u128(5)),
            Box::new(|s| s.created.base = Some(Hlc::new(0, 0, Id::from_u128(9)))),
            Box::new(|s| {
                s.clocks.clear();
            }),
            Box::new(|s| {
                s.clocks.insert("name".into(), clock(5, None));
            }),
        ];
        for (n, change) in changes.iter_mut().enumerate() {
            let mut changed = state.clone();
            change(&mut changed);
            assert_ne!(changed.digest(), digest, "change {n} left the digest as it was");
        }
    }

    #[test]
    fn states_equal_as_values_digest_alike() {
        let state = sample();
        let mut same = state.clone();
        // No value and a `null` are the same; an integer read from SQLite or from JSON too.
        same.fields.remove("phone");
        same.fields.insert("duration_minutes".into(), serde_json::from_str("60").expect("json"));
        assert_eq!(same.digest(), state.digest());
        // A value cannot pass for a neighbour's: lengths and counts keep the parts apart.
        let mut a = state.clone();
        a.fields = BTreeMap::from([("ab".to_owned(), Value::from("c"))]);
        let mut b = state.clone();
        b.fields = BTreeMap::from([("a".to_owned(), Value::from("bc"))]);
        assert_ne!(a.digest(), b.digest());
        let long = Value::from("长".repeat(400));
        let mut c = state.clone();
        c.fields.insert("notes".into(), long.clone());
        assert_eq!(c.digest(), c.clone().digest());
        assert_ne!(c.digest(), state.digest());
    }

    #[test]
    fn every_case_record_names_its_case() {
        for kind in EntityKind::ALL.iter().filter(|k| k.is_case_record()) {
            assert!(kind.spec().field(field::CASE_ID).is_some(), "{kind:?}");
        }
    }

    #[test]
    fn the_field_constants_of_each_kind_are_its_specs_fields() {
        let mut kinds: Vec<EntityKind> = field::KINDS.iter().map(|(kind, _, _)| *kind).collect();
        kinds.sort_by_key(|kind| kind.as_str());
        let mut all: Vec<EntityKind> = EntityKind::ALL.to_vec();
        all.sort_by_key(|kind| kind.as_str());
        assert_eq!(kinds, all, "one module per kind");
        for (kind, names, declared) in field::KINDS {
            let spec: Vec<&str> = kind.spec().fields.iter().map(|f| f.name).collect();
            assert_eq!(&spec, names, "{kind:?}: the constants and the spec's fields");
            let mut distinct = spec.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), spec.len(), "{kind:?}: a field declared twice");
            for (constant, name) in *declared {
                assert_eq!(*constant, name.to_uppercase(), "{kind:?}: a constant named unlike its field");
            }
        }
    }
}
