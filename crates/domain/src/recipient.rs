//! Recipients (服务对象) and their households (家庭): the station's roster (花名册).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Id, Labelled};

labelled_enum! {
    /// Why a person is served. A recipient has one or more.
    pub enum RecipientCategory {
        Dibao => "低保对象", "Minimum living allowance",
        ExtremePoverty => "特困人员", "Extreme poverty",
        Disability => "残疾人", "Disability",
        Homeless => "流浪乞讨人员", "Homeless",
        LeftBehindChild => "留守儿童", "Left-behind child",
        ChildInDifficulty => "困境儿童", "Child in difficulty",
        VulnerableElderly => "特殊困难老年人", "Vulnerable elderly",
        LeftBehindWoman => "留守妇女", "Left-behind woman",
        ChronicIllness => "长期患病困难对象", "Chronic illness",
        TemporaryAssistance => "临时救助困难人员", "Temporary assistance",
    }
    names = RECIPIENT_CATEGORY_NAMES;
}

impl RecipientCategory {
    /// One bit per category, for the store's indexed category mask.
    pub fn bit(self) -> u32 {
        let position = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        1 << position
    }
}

labelled_enum! {
    pub enum Gender {
        Male => "男", "Male",
        Female => "女", "Female",
    }
    names = GENDER_NAMES;
}

labelled_enum! {
    /// How a member relates to the head of the household.
    pub enum HouseholdRelation {
        Head => "户主", "Head",
        Spouse => "配偶", "Spouse",
        Child => "子女", "Child",
        Parent => "父母", "Parent",
        Grandchild => "孙子女", "Grandchild",
        Grandparent => "祖父母", "Grandparent",
        Sibling => "兄弟姐妹", "Sibling",
        Other => "其他", "Other",
    }
    names = HOUSEHOLD_RELATION_NAMES;
}

/// A person the station serves, with their file (建档立卡).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub id: Id,
    pub station_id: Id,
    pub village_id: Id,
    pub name: String,
    /// 居民身份证号, GB 11643-1999; validated by [`crate::validate::resident_id_number`].
    pub id_number: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub categories: Vec<RecipientCategory>,
    pub household_id: Option<Id>,
    pub household_relation: Option<HouseholdRelation>,
    pub address: Option<String>,
    pub notes: Option<String>,
}

/// A household (家庭). Members are recipients whose `household_id` names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub id: Id,
    pub station_id: Id,
    pub village_id: Id,
    /// Usually the head's name followed by 户, e.g. 张三户.
    pub name: String,
    pub address: Option<String>,
    pub notes: Option<String>,
}
