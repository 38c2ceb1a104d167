//! Adding a recipient: name, resident ID number (its gender and date of birth shown as it is
//! typed), categories, village and an optional mobile number — a [`SpecForm`] over the
//! recipient's field specs, sent with the `add_recipient` command. The store's rules check it
//! all again; their error shows at its field. Nothing typed is lost when saving fails.

use std::collections::BTreeMap;
use std::rc::Rc;

use contract::command::{AddRecipient, AddRecipientArgs, ListVillages, NoArgs};
use contract::{Language, RecipientDraft, ServicePointOption};
use domain::entity::{FieldSpec, RECIPIENT};
use domain::field;
use yew::prelude::*;

use crate::app::{Notice, go_with_notice, use_app};
use crate::components::spec_form::{Choice, ChoiceGroup, SpecForm};
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::Text;
use crate::route::{Route, navigate};

/// The fields of the form, in order. Gender and date of birth are read from the ID number (the
/// shell sets them), and the station from the village.
const FIELDS: [&str; 5] = [
    field::recipient::NAME,
    field::recipient::ID_NUMBER,
    field::recipient::CATEGORIES,
    field::recipient::VILLAGE_ID,
    field::recipient::PHONE,
];

fn fields() -> Vec<&'static FieldSpec> {
    FIELDS.iter().filter_map(|name| RECIPIENT.field(name)).collect()
}

/// The villages to choose from, under their service points: the active ones only (a
/// deactivated village takes nobody new, `domain::places`).
pub fn village_choices(points: &[ServicePointOption]) -> Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>> {
    let groups = points
        .iter()
        .map(|point| ChoiceGroup {
            label: point.name.clone(),
            choices: point
                .villages
                .iter()
                .filter(|v| v.active)
                .map(|v| Choice { value: v.id.to_string(), label: v.name.clone() })
                .collect(),
        })
        .collect();
    Rc::new(BTreeMap::from([(field::recipient::VILLAGE_ID, groups)]))
}

fn draft(values: &Values) -> RecipientDraft {
    RecipientDraft {
        name: values.text(field::recipient::NAME),
        id_number: values.text(field::recipient::ID_NUMBER),
        categories: values.set_of(field::recipient::CATEGORIES),
        village_id: values.id(field::recipient::VILLAGE_ID),
        phone: values.text(field::recipient::PHONE),
    }
}

#[function_component(AddRecipientPage)]
pub fn add_recipient_page() -> Html {
    let app = use_app();
    let language = app.language;
    let places = use_command::<ListVillages, _>(NoArgs {}, ());
    let choices = use_memo(places.data().cloned(), |points| village_choices(points.as_deref().unwrap_or_default()));
    let save = use_action::<AddRecipient>();
    let onsubmit = {
        let (save, app) = (save.clone(), app.clone());
        Callback::from(move |values: Values| {
            let app = app.clone();
            save.run(AddRecipientArgs { draft: draft(&values) }, move |added| {
                let notice = Notice {
                    zh: format!("{}：{}", Text::Saved.get(Language::Zh), added.name),
                    en: format!("{}: {}", Text::Saved.get(Language::En), added.name),
                };
                go_with_notice(&app, Route::Roster, notice);
            });
        })
    };
    let oncancel = Callback::from(|()| navigate(Route::Roster));
    html! {
        <section class="card" aria-labelledby="add-recipient-title">
            <h1 id="add-recipient-title">{ Text::AddRecipientTitle.get(language) }</h1>
            <p class="subtitle">{ Text::AddRecipientHint.get(language) }</p>
            <SpecForm id="recipient-form" fields={fields()} choices={(*choices).clone()} {onsubmit} {oncancel}
                busy={save.busy} error={save.error.clone()} />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_form_is_in_the_recipient_spec() {
        assert_eq!(fields().len(), FIELDS.len());
    }

    #[test]
    fn a_deactivated_village_is_not_offered() {
        let village = |n: u128, name: &str, active| contract::VillageOption {
            id: uuid::Uuid::from_u128(n),
            name: name.into(),
            active,
        };
        let points = [ServicePointOption {
            id: uuid::Uuid::from_u128(1),
            name: "一点".into(),
            villages: vec![village(2, "青山村", true), village(3, "绿水村", false)],
        }];
        let choices = village_choices(&points);
        let offered: Vec<&str> = choices[field::recipient::VILLAGE_ID]
            .iter()
            .flat_map(|g| g.choices.iter().map(|c| c.label.as_str()))
            .collect();
        assert_eq!(offered, vec!["青山村"]);
    }
}
