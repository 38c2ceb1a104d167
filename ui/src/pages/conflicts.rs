//! The open conflicts (the status bar's "conflicts" count): a value that lost a concurrent edit,
//! shown beside the value that stands, each with who wrote it, on which device ("this laptop"
//! for this one) and when, and a "keep this" for either, or a third value typed in a form driven
//! by the field's spec. Below them the probable duplicates: recipients of one station sharing an
//! ID number, linked to both files.
//!
//! Ids: `#conflicts-list`, per conflict `i`: `#keep-lost-<i>`, `#keep-current-<i>`, the device
//! of each side `#device-lost-<i>`, `#device-current-<i>`; a third value (fields that are not
//! references): the toggle `#keep-third-<i>`, the form `#third-value-<i>` with its control
//! `#third-<i>-<field>` (a reference field drops `_id`) and its button `#third-<i>-save`.

use contract::command::{Conflicts, NoArgs, ResolveConflict, ResolveConflictArgs};
use std::rc::Rc;

use contract::{ConflictChoice, ConflictValue, ConflictView, DuplicateView, FieldValues, KeepValue, Language, codes};
use domain::entity::{FieldSpec, FieldType};
use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::{Action, Notice, use_app};
use crate::components::ledger::{short_id, shown_value};
use crate::components::spec_form::SpecForm;
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::Text;
use crate::pages::waiting::{field_text, record_cell, record_text};
use crate::route::{Route, home_for, navigate};
use crate::time::local_date_time;

/// What "keep this" sends for one side of a conflict.
pub fn choice_for(conflict: &ConflictView, keep: KeepValue) -> ConflictChoice {
    ConflictChoice {
        entity_kind: conflict.record.kind,
        entity_id: conflict.record.id,
        field: conflict.field.field.clone(),
        lost_hlc: conflict.lost.hlc,
        current_hlc: conflict.current.hlc,
        keep,
        typed: None,
    }
}

/// What "keep the value typed" sends: the conflict and the value typed for its field.
pub fn typed_choice_for(conflict: &ConflictView, value: Value) -> ConflictChoice {
    ConflictChoice { typed: Some(value), ..choice_for(conflict, KeepValue::Typed) }
}

/// The field a third value may be typed for: the conflict's field, unless it refers to a record
/// (chosen from lists the page does not have).
pub fn third_value_field(conflict: &ConflictView) -> Option<&'static FieldSpec> {
    let spec = conflict.record.kind.spec().field(&conflict.field.field)?;
    (!matches!(spec.ty, FieldType::Ref(_) | FieldType::RefList(_))).then_some(spec)
}

/// The device a side was written on: "this laptop", or the end of the device's id.
pub fn device_text(value: &ConflictValue, language: Language) -> String {
    match (value.this_device, value.device_id.or(Some(value.hlc.device))) {
        (true, _) => Text::ThisDevice.get(language).to_string(),
        (false, Some(device)) => format!("{}{}", Text::OtherDevice.get(language), short_id(device)),
        (false, None) => Text::Unknown.get(language).to_string(),
    }
}

/// A side's value as the page shows it (vocabulary labels, referenced records by name).
pub fn value_text(conflict: &ConflictView, value: &ConflictValue, language: Language) -> String {
    let spec: Option<&FieldSpec> = conflict.record.kind.spec().field(&conflict.field.field);
    let name_of = |id: Uuid| conflict.names.get(&id).cloned();
    shown_value(spec, &value.value, language, &name_of)
}

#[function_component(ConflictsScreen)]
pub fn conflicts_page() -> Html {
    let app = use_app();
    let language = app.language;
    let page = use_command::<Conflicts, _>(NoArgs {}, app.data_version);
    let resolve = use_action::<ResolveConflict>();
    {
        // A conflict settled meanwhile (here or elsewhere): the page shows what stands now.
        let page = page.clone();
        let changed = resolve.error.as_ref().is_some_and(|e| e.code == codes::CONFLICT_CHANGED);
        use_effect_with(changed, move |changed| {
            if *changed {
                page.reload();
            }
        });
    }
    let home = app.user.as_ref().map_or(Route::Roster, |user| home_for(user.role));
    let back = Callback::from(move |_: MouseEvent| navigate(home));
    let keep = {
        let (resolve, page, app) = (resolve.clone(), page.clone(), app.clone());
        Callback::from(move |(choice, record): (ConflictChoice, String)| {
            let (page, app) = (page.clone(), app.clone());
            resolve.run(ResolveConflictArgs { choice }, move |_| {
                let notice = Notice {
                    zh: format!("{}{record}", Text::ConflictResolved.get(Language::Zh)),
                    en: format!("{}{record}", Text::ConflictResolved.get(Language::En)),
                };
                app.dispatch(Action::Notice(Route::Conflicts, notice));
                page.reload();
            });
        })
    };
    let body = match (page.data(), page.error()) {
        (_, Some(e)) => html! { <p class="error" role="alert">{ e.message(language) }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        (Some(data), None) => {
            let conflicts = if data.conflicts.is_empty() {
                html! { <p class="muted" id="conflicts-empty">{ Text::NoConflicts.get(language) }</p> }
            } else {
                html! {
                    <ol id="conflicts-list" class="conflicts">
                        { for data.conflicts.iter().enumerate().map(|(i, c)| conflict_item(i, c, language, resolve.busy, &keep)) }
                    </ol>
                }
            };
            let duplicates = if data.duplicates.is_empty() {
                html! { <p class="muted" id="duplicates-empty">{ Text::NoDuplicates.get(language) }</p> }
            } else {
                html! {
                    <ul id="duplicates-list" class="duplicates">
                        { for data.duplicates.iter().map(|d| duplicate_item(d, language)) }
                    </ul>
                }
            };
            html! {
                <>
                    { conflicts }
                    <section aria-labelledby="duplicates-title">
                        <h2 id="duplicates-title">{ Text::DuplicatesTitle.get(language) }</h2>
                        <p class="subtitle">{ Text::DuplicatesHint.get(language) }</p>
                        { duplicates }
                    </section>
                </>
            }
        }
    };
    html! {
        <section aria-labelledby="conflicts-title">
            <h1 id="conflicts-title">{ Text::ConflictsTitle.get(language) }</h1>
            <p class="subtitle">{ Text::ConflictsHint.get(language) }</p>
            { resolve.error.as_ref().map(|e| html! {
                <p id="resolve-error" class="error" role="alert">{ e.message(language) }</p>
            }).unwrap_or_default() }
            { body }
            <div class="actions"><button type="button" id="conflicts-back" onclick={back}>{ Text::Back.get(language) }</button></div>
        </section>
    }
}

fn who_and_when(value: &ConflictValue, device_id: String, language: Language) -> Html {
    let author = value.author_name.clone().unwrap_or_else(|| Text::Unknown.get(language).to_string());
    html! {
        <span class="muted">
            { author }
            { " · " }<span id={device_id} class="device">{ device_text(value, language) }</span>
            { value.at.map(|at| html! {
                <>{ " · " }<time datetime={at.to_rfc3339()}>{ local_date_time(at, language) }</time></>
            }).unwrap_or_default() }
        </span>
    }
}

fn conflict_item(
    index: usize,
    conflict: &ConflictView,
    language: Language,
    busy: bool,
    keep: &Callback<(ConflictChoice, String)>,
) -> Html {
    let record = record_text(&conflict.record, language);
    let side = |which: KeepValue, value: &ConflictValue| {
        let (title, id, class) = match which {
            KeepValue::Lost | KeepValue::Typed => (Text::LostValue, format!("keep-lost-{index}"), "conflict-lost"),
            KeepValue::Current => (Text::CurrentValue, format!("keep-current-{index}"), "conflict-current"),
        };
        let device_id = format!("device-{}", &id["keep-".len()..]);
        let onclick = {
            let (keep, choice, record) = (keep.clone(), choice_for(conflict, which), record.clone());
            Callback::from(move |_: MouseEvent| keep.emit((choice.clone(), record.clone())))
        };
        html! {
            <div class={classes!("conflict-side", class)}>
                <div class="conflict-side-title">{ title.get(language) }</div>
                <div class="conflict-value">{ value_text(conflict, value, language) }</div>
                { who_and_when(value, device_id, language) }
                <button type="button" {id} class="keep" {onclick} disabled={busy}>{ Text::KeepThis.get(language) }</button>
            </div>
        }
    };
    html! {
        <li class="conflict" data-record={conflict.record.id.to_string()} data-field={conflict.field.field.clone()}>
            <div class="conflict-head">
                { record_cell(&conflict.record, language) }
                { " — " }
                <span class="conflict-field">{ field_text(&conflict.field, language) }</span>
            </div>
            <div class="conflict-sides">
                { side(KeepValue::Lost, &conflict.lost) }
                { side(KeepValue::Current, &conflict.current) }
            </div>
            { third_value_form(index, conflict, busy, keep, &record, language) }
        </li>
    }
}

/// "Neither": a form of the conflict's one field, starting from the value that stands, whose
/// value (checked by the field's spec as it is typed) settles the conflict.
fn third_value_form(
    index: usize,
    conflict: &ConflictView,
    busy: bool,
    keep: &Callback<(ConflictChoice, String)>,
    record: &str,
    language: Language,
) -> Html {
    let Some(spec) = third_value_field(conflict) else { return html! {} };
    let onsubmit = {
        let (keep, conflict, record) = (keep.clone(), conflict.clone(), record.to_string());
        Callback::from(move |values: Values| {
            keep.emit((typed_choice_for(&conflict, values.get(spec.name).clone()), record.clone()));
        })
    };
    let initial = FieldValues::from([(spec.name.to_string(), conflict.current.value.clone())]);
    html! {
        <details id={format!("keep-third-{index}")} class="conflict-third">
            <summary>{ Text::TypeThirdValue.get(language) }</summary>
            <SpecForm id={format!("third-value-{index}")} id_prefix={format!("third-{index}-")} fields={vec![spec]}
                initial={Rc::new(initial)} {onsubmit} {busy} autofocus={false}
                submit_text={Text::KeepTyped} busy_text={Text::Saving} />
        </details>
    }
}

fn duplicate_item(group: &DuplicateView, language: Language) -> Html {
    let people = group.recipients.iter().map(|person| {
        let recorded = person.created_at.map(|at| local_date_time(at, language));
        let by = person.created_by.clone().unwrap_or_else(|| Text::Unknown.get(language).to_string());
        html! {
            <li data-recipient={person.id.to_string()}>
                <a class="file-link" href={Route::Recipient { id: person.id }.to_hash()}>{ &person.name }</a>
                { person.village.as_ref().map(|v| html! { <>{ " · " }{ v }</> }).unwrap_or_default() }
                <span class="muted">
                    { " · " }{ Text::RecordedBy.get(language) }{ ": " }{ by }
                    { recorded.map(|r| html! { <>{ " " }{ r }</> }).unwrap_or_default() }
                </span>
            </li>
        }
    });
    html! {
        <li class="duplicate">
            <div>{ Text::ColumnIdTail.get(language) }{ ": " }<span class="id-tail">{ &group.id_number_tail }</span></div>
            <ul>{ for people }</ul>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use contract::{FieldLabel, RecordLabel};
    use domain::entity::EntityKind;
    use domain::hlc::Hlc;
    use serde_json::json;

    use super::*;

    fn conflict(field: &str, lost: serde_json::Value, current: serde_json::Value) -> ConflictView {
        let device = Uuid::from_u128(9);
        let side = |value, millis| ConflictValue {
            value,
            hlc: Hlc::new(millis, 0, device),
            at: None,
            author_id: None,
            author_name: None,
            device_id: Some(device),
            this_device: millis == 1_000,
        };
        ConflictView {
            record: RecordLabel {
                kind: EntityKind::Recipient,
                id: Uuid::from_u128(1),
                name: Some("张三".into()),
                recipient_id: Some(Uuid::from_u128(1)),
                case_id: None,
            },
            field: FieldLabel { field: field.into(), label_zh: String::new(), label_en: String::new() },
            lost: side(lost, 1_000),
            current: side(current, 2_000),
            names: BTreeMap::new(),
        }
    }

    #[test]
    fn keeping_either_side_names_the_conflict_and_the_value_that_stood() {
        let shown = conflict("phone", json!("13800138000"), json!("13900139000"));
        for keep in [KeepValue::Lost, KeepValue::Current] {
            let choice = choice_for(&shown, keep);
            assert_eq!((choice.entity_kind, choice.entity_id), (EntityKind::Recipient, Uuid::from_u128(1)));
            assert_eq!(choice.field, "phone");
            assert_eq!((choice.lost_hlc, choice.current_hlc), (shown.lost.hlc, shown.current.hlc));
            assert_eq!(choice.keep, keep);
        }
    }

    #[test]
    fn a_third_value_settles_the_conflict_with_the_value_typed() {
        let shown = conflict("phone", json!("13800138000"), json!("13900139000"));
        let choice = typed_choice_for(&shown, json!("13700137000"));
        assert_eq!(choice.keep, KeepValue::Typed);
        assert_eq!(choice.typed, Some(json!("13700137000")));
        assert_eq!((choice.lost_hlc, choice.current_hlc), (shown.lost.hlc, shown.current.hlc));
        assert_eq!(third_value_field(&shown).map(|f| f.name), Some("phone"));
        let village = conflict("village_id", json!(null), json!(null));
        assert_eq!(third_value_field(&village), None, "a reference is chosen from a list, not typed");
    }

    #[test]
    fn each_side_names_its_device_and_this_laptop() {
        let shown = conflict("phone", json!("13800138000"), json!("13900139000"));
        assert_eq!(device_text(&shown.lost, Language::Zh), "本机");
        assert_eq!(device_text(&shown.lost, Language::En), "this laptop");
        assert_eq!(device_text(&shown.current, Language::En), format!("device {}", short_id(Uuid::from_u128(9))));
    }

    #[test]
    fn values_show_as_labels_and_names() {
        let mut shown = conflict("village_id", json!(Uuid::from_u128(5).to_string()), json!(null));
        shown.names.insert(Uuid::from_u128(5), "青山村".into());
        assert_eq!(value_text(&shown, &shown.lost, Language::Zh), "青山村");
        assert_eq!(value_text(&shown, &shown.current, Language::En), Text::ValueCleared.get(Language::En));
        let categories = conflict("categories", json!(["Dibao"]), json!(["Dibao", "Disability"]));
        assert_eq!(value_text(&categories, &categories.lost, Language::Zh), "低保对象");
    }
}
