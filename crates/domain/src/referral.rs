//! Referrals (转介) in both directions, and the resource library (资源库).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Id;

labelled_enum! {
    pub enum ReferralDirection {
        Inbound => "转入", "Inbound",
        Outbound => "转出", "Outbound",
    }
    names = REFERRAL_DIRECTION_NAMES;
}

labelled_enum! {
    /// Who referred the person to the station, or whom the station referred them to.
    pub enum ReferralCounterpart {
        Hotline12345 => "12345热线", "12345 hotline",
        Police => "公安", "Police",
        WomensFederation => "妇联", "Women's federation",
        YouthLeague => "共青团", "Youth league",
        DisabledPersonsFederation => "残联", "Disabled persons' federation",
        CityManagement => "城管", "City management",
        CivilAffairs => "民政部门", "Civil affairs",
        Health => "卫健部门", "Health",
        Education => "教育部门", "Education",
        HumanResources => "人社部门", "Human resources",
        OtherDepartment => "其他部门", "Other department",
    }
    names = REFERRAL_COUNTERPART_NAMES;
}

labelled_enum! {
    pub enum ReferralOutcome {
        Pending => "待处理", "Pending",
        Accepted => "已受理", "Accepted",
        Resolved => "已解决", "Resolved",
        Declined => "未受理", "Declined",
    }
    names = REFERRAL_OUTCOME_NAMES;
}

/// A referral, tracked to an outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    pub id: Id,
    pub station_id: Id,
    pub recipient_id: Option<Id>,
    pub direction: ReferralDirection,
    pub counterpart: ReferralCounterpart,
    pub reason: String,
    pub referred_on: NaiveDate,
    pub outcome: ReferralOutcome,
    pub outcome_notes: Option<String>,
}

labelled_enum! {
    pub enum ResourceKind {
        Charity => "慈善组织", "Charity",
        VolunteerTeam => "志愿服务队", "Volunteer team",
        Enterprise => "企业", "Enterprise",
        CommunityOrganisation => "社区社会组织", "Community organisation",
        GovernmentProgramme => "政府项目", "Government programme",
    }
    names = RESOURCE_KIND_NAMES;
}

/// An entry of the station's resource library, linked into case plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: Id,
    pub station_id: Id,
    pub kind: ResourceKind,
    pub name: String,
    pub contact_name: Option<String>,
    /// Free text: a landline or a mobile number.
    pub contact_phone: Option<String>,
    pub services: Option<String>,
    pub active: bool,
}
