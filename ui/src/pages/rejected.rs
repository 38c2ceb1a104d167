//! The changes the server refused (the status bar's "refused" count). They were undone on this
//! computer; each shows what was typed (labelled from its kind's spec, vocabularies and records
//! by name), why it was refused in the chosen language (the field it concerns named), and what
//! the user can do: edit and resend it (a [`SpecForm`] starting from what was typed) or discard
//! it (after a confirmation; it stays in the change log). Nothing leaves the list without the
//! user's word. Changes set aside are listed too, pointing to the waiting page.
//!
//! Ids: the list `#rejected-list` (`#rejected-empty` when empty), each change
//! `#rejected-<change id>` with its reason `#reason-<change id>` and what was typed
//! `#typed-<change id>`; the buttons `#resend-<change id>` and `#discard-<change id>`; the resend
//! form `#resend-form-<change id>` (its controls and buttons prefixed `resend-<change id>-`:
//! `#resend-<change id>-phone`, `#resend-<change id>-save`, `#resend-<change id>-cancel`); the
//! confirmation `#discard-confirm-<change id>` with `#discard-yes-<change id>` and
//! `#discard-no-<change id>`; a failed discard `#discard-error`; `#rejected-back`.

use std::rc::Rc;

use contract::command::{
    DiscardRejected, DiscardRejectedArgs, NoArgs, RejectedChanges, ResendRejected, ResendRejectedArgs,
};
use contract::{Language, RejectedChangeView, codes};
use domain::change::Op;
use domain::entity::FieldSpec;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::{Action, Notice, use_app};
use crate::components::handed_over::HandedOver;
use crate::components::ledger::shown_value;
use crate::components::spec_form::SpecForm;
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, field_label};
use crate::pages::waiting::{field_text, record_cell, record_text};
use crate::route::{Route, home_for, navigate};
use crate::time::local_date_time;

/// The fields "edit and resend" offers, in order, from the change's kind's spec.
pub fn resend_fields(change: &RejectedChangeView) -> Vec<&'static FieldSpec> {
    let spec = change.record.kind.spec();
    change.editable.iter().filter_map(|name| spec.field(name)).collect()
}

/// What was typed, one line a field: its label and its value as the user reads it.
pub fn typed_lines(change: &RejectedChangeView, language: Language) -> Vec<(String, String)> {
    let spec = change.record.kind.spec();
    let name_of = |id: Uuid| change.names.get(&id).cloned();
    change
        .fields
        .iter()
        .map(|field| {
            let value = change.values.get(&field.field).cloned().unwrap_or_default();
            (field_text(field, language), shown_value(spec.field(&field.field), &value, language, &name_of))
        })
        .collect()
}

/// Why it was refused, in `language`, and the field it concerns when the server named one.
pub fn reason_text(change: &RejectedChangeView, language: Language) -> String {
    let message = change.reason.message(language).to_string();
    let field = change.reason.field.as_deref().map(|name| match change.record.kind.spec().field(name) {
        Some(spec) => field_label(spec, language),
        None => name.to_string(),
    });
    let concerns = Text::RefusedField.get(language);
    match (field, language) {
        (Some(field), Language::Zh) => format!("{message}（{concerns}{field}）"),
        (Some(field), Language::En) => format!("{message} ({concerns}{field})"),
        (None, _) => message,
    }
}

/// What the page is doing with one change: nothing, its resend form open, or asking before
/// discarding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Resend(Uuid),
    ConfirmDiscard(Uuid),
}

#[function_component(RejectedPage)]
pub fn rejected_page() -> Html {
    let app = use_app();
    let language = app.language;
    let list = use_command::<RejectedChanges, _>(NoArgs {}, app.data_version);
    let resend = use_action::<ResendRejected>();
    let discard = use_action::<DiscardRejected>();
    let open = use_state_eq(|| Open::Nothing);
    {
        // A change dealt with meanwhile: the page shows the list as it stands.
        let list = list.clone();
        let gone = [resend.error.as_ref(), discard.error.as_ref()]
            .into_iter()
            .flatten()
            .any(|e| e.code == codes::REFUSED_CHANGE_GONE);
        use_effect_with(gone, move |gone| {
            if *gone {
                list.reload();
            }
        });
    }
    let home = app.user.as_ref().map_or(Route::Roster, |user| home_for(user.role));
    let back = Callback::from(move |_: MouseEvent| navigate(home));
    let set_open = {
        let (open, resend, discard) = (open.clone(), resend.clone(), discard.clone());
        Callback::from(move |next: Open| {
            resend.clear_error();
            discard.clear_error();
            open.set(next);
        })
    };
    let done = {
        let (app, list, open) = (app.clone(), list.clone(), open.clone());
        Callback::from(move |(text, record): (Text, String)| {
            let notice = Notice {
                zh: format!("{}{record}", text.get(Language::Zh)),
                en: format!("{}{record}", text.get(Language::En)),
            };
            app.dispatch(Action::Notice(Route::Rejected, notice));
            open.set(Open::Nothing);
            list.reload();
        })
    };
    let actions = Actions { resend: resend.clone(), discard: discard.clone(), set_open, done, open: *open };
    let body = match (list.data(), list.error()) {
        (_, Some(e)) => html! { <p class="error" role="alert">{ e.message(language) }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        (Some(rows), None) if rows.is_empty() => {
            html! { <p class="muted" id="rejected-empty">{ Text::NoRejected.get(language) }</p> }
        }
        (Some(rows), None) => html! {
            <ol id="rejected-list" class="rejected-list">
                { for rows.iter().map(|row| rejected_item(row, language, &actions)) }
            </ol>
        },
    };
    html! {
        <section aria-labelledby="rejected-title">
            <h1 id="rejected-title">{ Text::RejectedTitle.get(language) }</h1>
            <p class="subtitle">{ Text::RejectedHint.get(language) }{ " " }{ Text::RejectedActionsHint.get(language) }</p>
            { discard.error.as_ref().map(|e| html! {
                <p id="discard-error" class="error" role="alert">{ e.message(language) }</p>
            }).unwrap_or_default() }
            { body }
            <HandedOver />
            <div class="actions"><button type="button" id="rejected-back" onclick={back}>{ Text::Back.get(language) }</button></div>
        </section>
    }
}

/// What each change's buttons do.
struct Actions {
    resend: crate::hooks::UseActionHandle<ResendRejected>,
    discard: crate::hooks::UseActionHandle<DiscardRejected>,
    set_open: Callback<Open>,
    /// Dealt with: the notice to show (its text and the record), then the list again.
    done: Callback<(Text, String)>,
    open: Open,
}

fn rejected_item(row: &RejectedChangeView, language: Language, actions: &Actions) -> Html {
    let id = row.change_id;
    let record = record_text(&row.record, language);
    let op = match row.op {
        Op::Create => Text::HistoryCreated,
        Op::Update => Text::HistoryEdited,
    };
    let typed = typed_lines(row, language).into_iter().map(|(label, value)| {
        html! { <><dt>{ label }</dt><dd>{ value }</dd></> }
    });
    let busy = actions.resend.busy || actions.discard.busy;
    let buttons = if row.set_aside {
        html! {
            <p class="muted">
                <a href={Route::Waiting.to_hash()}>{ Text::RejectedSetAside.get(language) }</a>
            </p>
        }
    } else {
        let open = |next: Open| actions.set_open.reform(move |_: MouseEvent| next);
        html! {
            <div class="actions">
                <button type="button" id={format!("resend-{id}")} class="primary"
                    disabled={busy || actions.open == Open::Resend(id)} onclick={open(Open::Resend(id))}>
                    { Text::ResendEdit.get(language) }
                </button>
                <button type="button" id={format!("discard-{id}")}
                    disabled={busy || actions.open == Open::ConfirmDiscard(id)} onclick={open(Open::ConfirmDiscard(id))}>
                    { Text::Discard.get(language) }
                </button>
            </div>
        }
    };
    let panel = match actions.open {
        Open::Resend(open) if open == id && !row.set_aside => {
            let onsubmit = {
                let (resend, done, record) = (actions.resend.clone(), actions.done.clone(), record.clone());
                Callback::from(move |values: Values| {
                    let (done, record) = (done.clone(), record.clone());
                    resend.run(ResendRejectedArgs { change_id: id, fields: values.field_values() }, move |_| {
                        done.emit((Text::RejectedResent, record));
                    });
                })
            };
            let oncancel = actions.set_open.reform(|_: ()| Open::Nothing);
            html! {
                <SpecForm id={format!("resend-form-{id}")} id_prefix={format!("resend-{id}-")}
                    fields={resend_fields(row)} initial={Rc::new(row.values.clone())}
                    {onsubmit} {oncancel} busy={actions.resend.busy} error={actions.resend.error.clone()}
                    submit_text={Text::Resend} busy_text={Text::Resending} />
            }
        }
        Open::ConfirmDiscard(open) if open == id && !row.set_aside => {
            let yes = {
                let (discard, done, record) = (actions.discard.clone(), actions.done.clone(), record.clone());
                Callback::from(move |_: MouseEvent| {
                    let (done, record) = (done.clone(), record.clone());
                    discard.run(DiscardRejectedArgs { change_id: id }, move |_| {
                        done.emit((Text::RejectedDiscarded, record));
                    });
                })
            };
            let no = actions.set_open.reform(|_: MouseEvent| Open::Nothing);
            html! {
                <div id={format!("discard-confirm-{id}")} class="confirm" role="alertdialog"
                    aria-labelledby={format!("discard-question-{id}")}>
                    <p id={format!("discard-question-{id}")}>{ Text::DiscardConfirm.get(language) }</p>
                    <div class="actions">
                        <button type="button" id={format!("discard-yes-{id}")} class="danger" onclick={yes}
                            disabled={actions.discard.busy}>{ Text::DiscardYes.get(language) }</button>
                        <button type="button" id={format!("discard-no-{id}")} onclick={no}>{ Text::Cancel.get(language) }</button>
                    </div>
                </div>
            }
        }
        _ => html! {},
    };
    html! {
        <li id={format!("rejected-{id}")} class="rejected card" data-change={id.to_string()}>
            <div class="rejected-head">
                { record_cell(&row.record, language) }
                <span class="muted">
                    { " · " }{ op.get(language) }
                    { row.recorded_at.map(|at| html! {
                        <>{ " · " }<time datetime={at.to_rfc3339()}>{ local_date_time(at, language) }</time></>
                    }).unwrap_or_default() }
                </span>
            </div>
            <p id={format!("reason-{id}")} class="error">{ Text::Reason.get(language) }{ if language == Language::Zh { "：" } else { ": " } }{ reason_text(row, language) }</p>
            <h3 class="rejected-typed-title">{ Text::RejectedTyped.get(language) }</h3>
            <dl id={format!("typed-{id}")} class="rejected-typed">{ for typed }</dl>
            { buttons }
            { panel }
        </li>
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use contract::{CommandError, FieldLabel, RecordLabel};
    use domain::entity::EntityKind;
    use serde_json::json;

    use super::*;

    fn refused() -> RejectedChangeView {
        let village = Uuid::from_u128(5);
        let label = |field: &str, zh: &str, en: &str| FieldLabel {
            field: field.into(),
            label_zh: zh.into(),
            label_en: en.into(),
        };
        RejectedChangeView {
            change_id: Uuid::from_u128(9),
            entity_kind_zh: "服务对象".into(),
            entity_kind_en: "recipient".into(),
            entity_id: Uuid::from_u128(1),
            entity_label: Some("张三".into()),
            recorded_at: None,
            reason: CommandError::new("mobile", "手机号格式不正确", "Mobile number is not valid").at_field("phone"),
            record: RecordLabel {
                kind: EntityKind::Recipient,
                id: Uuid::from_u128(1),
                name: Some("张三".into()),
                recipient_id: Some(Uuid::from_u128(1)),
                case_id: None,
            },
            op: Op::Create,
            fields: vec![
                label("name", "姓名", "name"),
                label("categories", "对象类别", "categories"),
                label("village_id", "村(社区)", "village"),
            ],
            values: [
                ("name".to_string(), json!("张三")),
                ("categories".to_string(), json!(["Dibao"])),
                ("village_id".to_string(), json!(village.to_string())),
            ]
            .into_iter()
            .collect(),
            names: BTreeMap::from([(village, "青山村".to_string())]),
            editable: vec!["name".into(), "categories".into()],
            set_aside: false,
        }
    }

    #[test]
    fn what_was_typed_shows_with_labels_vocabulary_and_names() {
        let lines = typed_lines(&refused(), Language::Zh);
        assert_eq!(
            lines,
            vec![
                ("姓名".to_string(), "张三".to_string()),
                ("对象类别".to_string(), "低保对象".to_string()),
                ("村(社区)".to_string(), "青山村".to_string()),
            ]
        );
        assert_eq!(typed_lines(&refused(), Language::En)[0].0, "Name");
    }

    #[test]
    fn the_reason_names_its_field_in_the_chosen_language() {
        assert_eq!(reason_text(&refused(), Language::Zh), "手机号格式不正确（涉及：手机号）");
        assert_eq!(reason_text(&refused(), Language::En), "Mobile number is not valid (Concerns: Mobile number)");
        let mut without_field = refused();
        without_field.reason.field = None;
        assert_eq!(reason_text(&without_field, Language::Zh), "手机号格式不正确");
    }

    #[test]
    fn the_resend_form_offers_only_the_editable_fields_in_order() {
        let names: Vec<&str> = resend_fields(&refused()).iter().map(|f| f.name).collect();
        assert_eq!(names, vec!["name", "categories"]);
    }
}
