//! The arguments of the commands of supervision, training, working time and the standards view.

use domain::standards::StandardSet;
use domain::workforce::Qualification;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::FieldValues;

/// The arguments of the commands that record a workforce record from a spec-driven form
/// (`SaveSupervisionPlan`, `SaveSupervisionSession`, `SaveTrainingRecord`, `SaveWorkTime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveWorkforceRecordArgs {
    pub values: FieldValues,
}

/// The arguments of the commands that edit a workforce record (`UpdateSupervisionPlan`,
/// `UpdateTrainingRecord`): the record and the form's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWorkforceRecordArgs {
    pub record_id: Uuid,
    pub values: FieldValues,
}

/// `SetSessionFeedback`'s arguments: the session and the feedback written afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetSessionFeedbackArgs {
    pub session_id: Uuid,
    pub feedback: String,
}

/// `SetStandardSet`'s arguments: the station and its standards (`None`: none chosen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetStandardSetArgs {
    pub station_id: Uuid,
    pub standard_set: Option<StandardSet>,
}

/// `SetQualification`'s arguments: the worker and their qualification (`None`: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetQualificationArgs {
    pub user_id: Uuid,
    pub qualification: Option<Qualification>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The JSON the shell reads for each command's arguments, keyed in camelCase, read back alike.
    #[test]
    fn the_workforce_commands_take_their_parameters_in_camel_case() {
        let id = Uuid::from_u128(7);
        let cases = [
            (
                serde_json::to_value(SetStandardSetArgs {
                    station_id: id,
                    standard_set: Some(StandardSet::HunanCounty),
                }),
                json!({ "stationId": id.to_string(), "standardSet": "HunanCounty" }),
            ),
            (
                serde_json::to_value(SetQualificationArgs { user_id: id, qualification: None }),
                json!({ "userId": id.to_string(), "qualification": null }),
            ),
            (
                serde_json::to_value(SetSessionFeedbackArgs { session_id: id, feedback: "反馈".into() }),
                json!({ "sessionId": id.to_string(), "feedback": "反馈" }),
            ),
            (
                serde_json::to_value(UpdateWorkforceRecordArgs {
                    record_id: id,
                    values: FieldValues::from([("title".to_string(), json!("社会救助政策"))]),
                }),
                json!({ "recordId": id.to_string(), "values": { "title": "社会救助政策" } }),
            ),
        ];
        for (actual, expected) in cases {
            assert_eq!(actual.expect("serializes"), expected);
        }
        let back: SetStandardSetArgs =
            serde_json::from_value(json!({ "stationId": id.to_string(), "standardSet": null })).expect("reads");
        assert_eq!(back, SetStandardSetArgs { station_id: id, standard_set: None });
    }
}
