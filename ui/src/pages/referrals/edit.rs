//! The edit of a recorded referral on its panel: its text (the benefit, the department or
//! contact, the person as named, the reason, the notes) in a `SpecForm` starting from the stored
//! values, and the person on file when it names nobody yet. Where it stands moves only by its
//! steps; the app refuses anything else at its field.
//!
//! Ids: `#referral-edit` (the button), `#referral-edit-form` (its fields
//! `#referral-edit-<field>`, `#referral-edit-save`, `#referral-edit-cancel`), the person picker
//! `#referral-edit-person-search` (…) and `#referral-edit-person-chosen`.

use std::rc::Rc;

use contract::command::{UpdateReferral, UpdateReferralArgs};
use contract::{NamedRef, ReferralRow};
use domain::entity::{EntityKind, FieldSpec};
use domain::field;
use domain::referral::ReferralPurpose;
use yew::prelude::*;

use crate::app::use_app;
use crate::components::person_picker::PersonPicker;
use crate::components::spec_form::SpecForm;
use crate::focus::focus_soon;
use crate::form::Values;
use crate::hooks::use_action;
use crate::i18n::Text;

/// The fields the edit offers, in order: a benefit application's benefit, then the text every
/// referral has. Direction, purpose and counterpart are what the referral is (fixed, or moved
/// by its steps), and its dates and outcome are its steps'.
pub fn edit_fields(row: &ReferralRow) -> Vec<&'static FieldSpec> {
    let spec = EntityKind::Referral.spec();
    let benefit = (row.purpose == ReferralPurpose::BenefitApplication).then_some(field::referral::BENEFIT);
    benefit
        .into_iter()
        .chain([
            field::referral::COUNTERPART_DETAIL,
            field::referral::PERSON_NAME,
            field::referral::REASON,
            field::referral::OUTCOME_NOTES,
        ])
        .filter_map(|name| spec.field(name))
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct EditReferralProps {
    pub row: ReferralRow,
    pub on_edited: Callback<ReferralRow>,
}

/// The edit button, and the form it opens.
#[function_component(EditReferral)]
pub fn edit_referral(props: &EditReferralProps) -> Html {
    let app = use_app();
    let language = app.language;
    let editing = use_state(|| false);
    let person = use_state(|| Option::<NamedRef>::None);
    let action = use_action::<UpdateReferral>();
    let row = &props.row;

    let on_open = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(true))
    };
    let on_cancel = {
        let (editing, person) = (editing.clone(), person.clone());
        Callback::from(move |()| {
            editing.set(false);
            person.set(None);
            focus_soon("referral-edit");
        })
    };
    let onsubmit = {
        let (action, person, editing, done, referral_id) =
            (action.clone(), person.clone(), editing.clone(), props.on_edited.clone(), row.id);
        Callback::from(move |values: Values| {
            // Every field of the form is sent, an emptied one as null: the app writes what changed.
            let mut values = values.field_values();
            if let Some(p) = &*person {
                values.insert(field::referral::RECIPIENT_ID.into(), p.id.to_string().into());
            }
            let (editing, done) = (editing.clone(), done.clone());
            action.run(UpdateReferralArgs { referral_id, values }, move |row| {
                editing.set(false);
                done.emit(row);
            });
        })
    };
    let on_pick = {
        let person = person.clone();
        Callback::from(move |p: NamedRef| person.set(Some(p)))
    };

    if !*editing {
        return html! {
            <button type="button" id="referral-edit" onclick={on_open}>{ Text::ReferralEdit.get(language) }</button>
        };
    }
    let spec = EntityKind::Referral.spec();
    let person_label = spec.field(field::referral::RECIPIENT_ID).map(|f| crate::i18n::field_label(f, language));
    html! {
        <div id="referral-edit-panel" class="card">
            <h3>{ Text::ReferralEdit.get(language) }</h3>
            if row.recipient.is_none() {
                <p>
                    { person_label.unwrap_or_default() }{ "：" }
                    if let Some(p) = &*person {
                        <strong id="referral-edit-person-chosen">{ format!("{}{}", Text::PersonChosen.get(language), p.name) }</strong>
                    } else {
                        { Text::ReferralEditPerson.get(language) }
                    }
                </p>
                if person.is_none() {
                    <PersonPicker id_prefix="referral-edit-" {on_pick} />
                }
            }
            <SpecForm id="referral-edit-form" id_prefix="referral-edit-" fields={edit_fields(row)}
                initial={Rc::new(row.fields.clone())} focus={Some(field::referral::REASON)}
                {onsubmit} oncancel={Some(on_cancel)} busy={action.busy} error={action.error.clone()} />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fields: Vec<&'static FieldSpec>) -> Vec<&'static str> {
        fields.into_iter().map(|f| f.name).collect()
    }

    #[test]
    fn the_edit_offers_the_text_and_a_benefit_only_for_a_benefit_application() {
        let mut row = super::super::tests::row(
            domain::referral::ReferralDirection::Outbound,
            domain::referral::ReferralState::Sent,
        );
        assert_eq!(names(edit_fields(&row)), ["counterpart_detail", "person_name", "reason", "outcome_notes"]);
        row.purpose = ReferralPurpose::BenefitApplication;
        assert_eq!(names(edit_fields(&row))[0], "benefit");
    }
}
