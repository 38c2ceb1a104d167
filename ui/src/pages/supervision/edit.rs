//! The edit of a recorded supervision plan (on `#/supervision`) or training (on `#/training`):
//! an edit button on its row, and a `SpecForm` over the fields of the form that recorded it,
//! starting from the stored values. Only the supervisor or worker who recorded it may (the
//! rules' `not_self`); the page offers the button to them alone.
//!
//! Ids: `#edit-<prefix><id>` (the button), `#<prefix>edit-form` (its fields
//! `#<prefix>edit-<field>`, `#<prefix>edit-save`, `#<prefix>edit-cancel`), with `plan-` or
//! `training-` as the prefix.

use std::rc::Rc;

use contract::FieldValues;
use contract::command::{UpdateSupervisionPlan, UpdateTrainingRecord, UpdateWorkforceRecordArgs};
use domain::entity::FieldSpec;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::components::spec_form::{ChoiceGroup, SpecForm};
use crate::focus::focus_soon;
use crate::form::Values;
use crate::hooks::use_action;
use crate::i18n::Text;

/// What is edited: each has its command and its ids' prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditedRecord {
    SupervisionPlan,
    Training,
}

impl EditedRecord {
    pub fn prefix(self) -> &'static str {
        match self {
            EditedRecord::SupervisionPlan => "plan-",
            EditedRecord::Training => "training-",
        }
    }

    fn edit_text(self) -> Text {
        match self {
            EditedRecord::SupervisionPlan => Text::SupervisionPlanEdit,
            EditedRecord::Training => Text::TrainingRecordEdit,
        }
    }
}

/// The edit button's id: `edit-plan-<id>`, `edit-training-<id>`.
pub fn edit_button_id(record: EditedRecord, id: Uuid) -> String {
    format!("edit-{}{id}", record.prefix())
}

#[derive(Properties, PartialEq)]
pub struct EditRecordProps {
    pub record: EditedRecord,
    pub id: Uuid,
    pub fields: Vec<&'static FieldSpec>,
    /// The stored values the form starts from.
    pub stored: FieldValues,
    #[prop_or_default]
    pub choices: Rc<std::collections::BTreeMap<&'static str, Vec<ChoiceGroup>>>,
    pub on_edited: Callback<()>,
}

#[function_component(EditRecord)]
pub fn edit_record(props: &EditRecordProps) -> Html {
    let app = use_app();
    let language = app.language;
    let editing = use_state(|| false);
    let plan = use_action::<UpdateSupervisionPlan>();
    let training = use_action::<UpdateTrainingRecord>();
    let (busy, error) = match props.record {
        EditedRecord::SupervisionPlan => (plan.busy, plan.error.clone()),
        EditedRecord::Training => (training.busy, training.error.clone()),
    };
    let button_id = edit_button_id(props.record, props.id);

    if !*editing {
        let editing = editing.clone();
        let onclick = Callback::from(move |_: MouseEvent| editing.set(true));
        return html! {
            <button type="button" id={button_id} class="link" {onclick}>{ props.record.edit_text().get(language) }</button>
        };
    }
    let on_cancel = {
        let editing = editing.clone();
        Callback::from(move |()| {
            editing.set(false);
            focus_soon(button_id.clone());
        })
    };
    let onsubmit = {
        let (record, record_id, editing, done) = (props.record, props.id, editing.clone(), props.on_edited.clone());
        Callback::from(move |values: Values| {
            // Every field is sent, an emptied one as null: the app writes only what changed.
            let args = UpdateWorkforceRecordArgs { record_id, values: values.field_values() };
            let (editing, done) = (editing.clone(), done.clone());
            let finish = move |()| {
                editing.set(false);
                done.emit(());
            };
            match record {
                EditedRecord::SupervisionPlan => plan.run(args, finish),
                EditedRecord::Training => training.run(args, finish),
            }
        })
    };
    let prefix = format!("{}edit-", props.record.prefix());
    html! {
        <SpecForm id={format!("{prefix}form")} id_prefix={prefix} fields={props.fields.clone()}
            choices={props.choices.clone()} initial={Rc::new(props.stored.clone())}
            {onsubmit} oncancel={Some(on_cancel)} {busy} {error} />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_edit_button_is_named_for_its_record() {
        let id = Uuid::from_u128(5);
        assert_eq!(edit_button_id(EditedRecord::SupervisionPlan, id), format!("edit-plan-{id}"));
        assert_eq!(edit_button_id(EditedRecord::Training, id), format!("edit-training-{id}"));
    }
}
