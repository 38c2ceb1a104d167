//! Activities (活动) the station runs beyond casework: group work (小组活动), community activities
//! (社区活动), policy publicity sessions (政策宣传) and volunteer services (志愿服务), each with its
//! date, place, length, the workers who ran it and its participants: recipients linked by id
//! (so the activity shows in their files) and others counted.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Id;

labelled_enum! {
    pub enum ActivityKind {
        GroupWork => "小组活动", "Group work",
        CommunityActivity => "社区活动", "Community activity",
        PolicyPublicity => "政策宣传", "Policy publicity",
        VolunteerService => "志愿服务", "Volunteer service",
    }
    names = ACTIVITY_KIND_NAMES;
}

/// One activity, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Id,
    pub station_id: Id,
    pub kind: ActivityKind,
    pub title: String,
    pub held_on: NaiveDate,
    pub place: String,
    pub duration_minutes: i64,
    /// The workers who ran it (at least one).
    pub worker_ids: Vec<Id>,
    /// The participants who are recipients of the station.
    #[serde(default)]
    pub recipient_ids: Vec<Id>,
    /// Participants who are not recipients, counted.
    pub others_count: Option<i64>,
    /// The volunteer teams and community organisations that took part.
    #[serde(default)]
    pub resource_ids: Vec<Id>,
    pub notes: Option<String>,
}

impl Activity {
    /// Everyone who took part: the recipients linked and the others counted.
    pub fn participants(&self) -> i64 {
        i64::try_from(self.recipient_ids.len()).unwrap_or(i64::MAX).saturating_add(self.others_count.unwrap_or(0))
    }
}

/// The first day of a month written `YYYY-MM` (the activities page's month), or `None` for
/// anything else. Never panics, on any input.
pub fn parse_month(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.len() != 7 || text.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let year: i32 = text.get(..4)?.parse().ok()?;
    let month: u32 = text.get(5..)?.parse().ok()?;
    if !text.chars().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, 1).filter(|d| d.format("%Y").to_string().len() == 4)
}

/// A month's first day written `YYYY-MM`.
pub fn month_text(first_day: NaiveDate) -> String {
    first_day.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_only_as_year_dash_month() {
        let first = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        assert_eq!(parse_month("2026-11"), first(2026, 11));
        assert_eq!(parse_month(" 2026-01 "), first(2026, 1));
        for bad in ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "+202-11", "２０２６-11", "2026-11-01", ""]
        {
            assert_eq!(parse_month(bad), None, "{bad:?}");
        }
        assert_eq!(month_text(NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")), "2026-03");
    }

    #[test]
    fn participants_are_the_recipients_and_the_others_counted() {
        let activity = Activity {
            id: Id::from_u128(1),
            station_id: Id::from_u128(2),
            kind: ActivityKind::GroupWork,
            title: "长者健康小组".into(),
            held_on: NaiveDate::from_ymd_opt(2026, 11, 3).expect("date"),
            place: "村委会".into(),
            duration_minutes: 90,
            worker_ids: vec![Id::from_u128(3)],
            recipient_ids: vec![Id::from_u128(4), Id::from_u128(5)],
            others_count: Some(12),
            resource_ids: Vec::new(),
            notes: None,
        };
        assert_eq!(activity.participants(), 14);
    }
}
