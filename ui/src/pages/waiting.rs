//! The changes waiting to be sent (the status bar's "waiting" count), in the order they go: each
//! with its record, what it writes and when it was recorded. Below them the changes set aside
//! (the server could not take them as sent), with the reason and a way to try again now.

use contract::command::{NoArgs, RetrySetAside, WaitingChanges};
use contract::{FieldLabel, Language, RecordLabel, WaitingChangeView, sentence};
use domain::change::Op;
use domain::entity::EntityKind;
use gloo_timers::callback::Interval;
use yew::prelude::*;

use crate::app::{Action, Notice, use_app};
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, label};
use crate::route::{Route, home_for, navigate};
use crate::time::local_date_time;

/// How often the list is read again while shown: changes leave it as they are sent.
const RELOAD_MILLIS: u32 = 5_000;

/// The screen a record is seen on: its own file, or the file or case it belongs to.
pub fn record_route(record: &RecordLabel) -> Option<Route> {
    match record.kind {
        EntityKind::Recipient => Some(Route::Recipient { id: record.id }),
        EntityKind::Household => Some(Route::Household { id: record.id }),
        EntityKind::Case => Some(Route::Case { id: record.id }),
        _ => match (record.case_id, record.recipient_id) {
            (Some(id), _) => Some(Route::Case { id }),
            (None, Some(id)) => Some(Route::Recipient { id }),
            (None, None) => None,
        },
    }
}

/// A record as the lists name it: its kind, and its name (or the person it is about).
pub fn record_text(record: &RecordLabel, language: Language) -> String {
    let kind = label(record.kind, language);
    match &record.name {
        Some(name) => format!("{kind}: {name}"),
        None => kind.to_string(),
    }
}

/// The record, linked to the screen it is seen on when there is one.
pub fn record_cell(record: &RecordLabel, language: Language) -> Html {
    let text = record_text(record, language);
    match record_route(record) {
        Some(route) => html! { <a class="record-link" href={route.to_hash()}>{ text }</a> },
        None => html! { <span>{ text }</span> },
    }
}

/// A field's label in the UI's language (English capitalized).
pub fn field_text(field: &FieldLabel, language: Language) -> String {
    match language {
        Language::Zh => field.label_zh.clone(),
        Language::En => sentence(&field.label_en),
    }
}

/// The fields a change writes, as one line.
pub fn fields_text(fields: &[FieldLabel], language: Language) -> String {
    match language {
        Language::Zh => fields.iter().map(|f| f.label_zh.as_str()).collect::<Vec<_>>().join("、"),
        Language::En => sentence(&fields.iter().map(|f| f.label_en.as_str()).collect::<Vec<_>>().join(", ")),
    }
}

fn op_text(op: Op) -> Text {
    match op {
        Op::Create => Text::HistoryCreated,
        Op::Update => Text::HistoryEdited,
    }
}

#[function_component(WaitingPage)]
pub fn waiting_page() -> Html {
    let app = use_app();
    let language = app.language;
    let page = use_command::<WaitingChanges, _>(NoArgs {}, app.data_version);
    let retry = use_action::<RetrySetAside>();
    {
        let page = page.clone();
        use_effect_with((), move |_| {
            let interval = Interval::new(RELOAD_MILLIS, move || page.reload());
            move || drop(interval)
        });
    }
    let home = app.user.as_ref().map_or(Route::Roster, |user| home_for(user.role));
    let back = Callback::from(move |_: MouseEvent| navigate(home));
    let on_retry = {
        let (retry, page, app) = (retry.clone(), page.clone(), app.clone());
        Callback::from(move |_: MouseEvent| {
            let (page, app) = (page.clone(), app.clone());
            retry.run(NoArgs {}, move |count| {
                let notice = Notice {
                    zh: format!("{}{count} 条", Text::RetryQueued.get(Language::Zh)),
                    en: format!("{}{count}", Text::RetryQueued.get(Language::En)),
                };
                app.dispatch(Action::Notice(Route::Waiting, notice));
                page.reload();
            });
        })
    };
    let body = match (page.data(), page.error()) {
        (_, Some(e)) => html! { <p class="error" role="alert">{ e.message(language) }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        (Some(data), None) => {
            let waiting = if data.waiting.is_empty() {
                html! { <p class="muted" id="waiting-empty">{ Text::NoWaiting.get(language) }</p> }
            } else {
                html! {
                    <table id="waiting-list" class="roster">
                        <thead><tr>
                            <th scope="col">{ Text::Record.get(language) }</th>
                            <th scope="col">{ Text::ChangeOp.get(language) }</th>
                            <th scope="col">{ Text::ChangedFields.get(language) }</th>
                            <th scope="col">{ Text::RecordedAt.get(language) }</th>
                        </tr></thead>
                        <tbody>{ for data.waiting.iter().map(|row| waiting_row(row, language)) }</tbody>
                    </table>
                }
            };
            let listed = (data.waiting.len() + data.set_aside.len()) as u64;
            let more = (data.total > listed).then(|| {
                html! {
                    <p id="waiting-more" class="muted">
                        { Text::WaitingMorePrefix.get(language) }{ data.total - listed }{ Text::WaitingMoreSuffix.get(language) }
                    </p>
                }
            });
            let set_aside = (!data.set_aside.is_empty()).then(|| {
                html! {
                    <section aria-labelledby="set-aside-title">
                        <h2 id="set-aside-title">{ Text::SetAsideTitle.get(language) }</h2>
                        <p class="subtitle">{ Text::SetAsideHint.get(language) }</p>
                        <table id="set-aside-list" class="roster">
                            <thead><tr>
                                <th scope="col">{ Text::Record.get(language) }</th>
                                <th scope="col">{ Text::ChangedFields.get(language) }</th>
                                <th scope="col">{ Text::RecordedAt.get(language) }</th>
                                <th scope="col">{ Text::Reason.get(language) }</th>
                                <th scope="col">{ Text::SetAsideAt.get(language) }</th>
                            </tr></thead>
                            <tbody>{ for data.set_aside.iter().map(|row| set_aside_row(row, language)) }</tbody>
                        </table>
                        { retry.error.as_ref().map(|e| html! {
                            <p id="retry-error" class="error" role="alert">{ e.message(language) }</p>
                        }).unwrap_or_default() }
                        <div class="actions">
                            <button type="button" id="retry-set-aside" onclick={on_retry} disabled={retry.busy}>
                                { if retry.busy { Text::Retrying.get(language) } else { Text::RetryNow.get(language) } }
                            </button>
                        </div>
                    </section>
                }
            });
            html! {
                <>
                    { waiting }
                    { more.unwrap_or_default() }
                    { set_aside.unwrap_or_default() }
                </>
            }
        }
    };
    html! {
        <section aria-labelledby="waiting-title">
            <h1 id="waiting-title">{ Text::WaitingTitle.get(language) }</h1>
            <p class="subtitle">{ Text::WaitingHint.get(language) }</p>
            { body }
            <crate::components::usb_bundle::UsbBundle />
            <div class="actions"><button type="button" id="waiting-back" onclick={back}>{ Text::Back.get(language) }</button></div>
        </section>
    }
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>, language: Language) -> Html {
    match at {
        Some(at) => html! { <time datetime={at.to_rfc3339()}>{ local_date_time(at, language) }</time> },
        None => html! {},
    }
}

fn waiting_row(row: &WaitingChangeView, language: Language) -> Html {
    html! {
        <tr data-change={row.change_id.to_string()}>
            <td>{ record_cell(&row.record, language) }</td>
            <td>{ op_text(row.op).get(language) }</td>
            <td>{ fields_text(&row.fields, language) }</td>
            <td>{ when(row.recorded_at, language) }</td>
        </tr>
    }
}

fn set_aside_row(row: &WaitingChangeView, language: Language) -> Html {
    html! {
        <tr data-change={row.change_id.to_string()}>
            <td>{ record_cell(&row.record, language) }</td>
            <td>{ fields_text(&row.fields, language) }</td>
            <td>{ when(row.recorded_at, language) }</td>
            <td class="reason">{ row.reason.as_ref().map(|r| r.message(language).to_string()).unwrap_or_default() }</td>
            <td>{ when(row.set_aside_at, language) }</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn record(kind: EntityKind, name: Option<&str>) -> RecordLabel {
        RecordLabel { kind, id: Uuid::from_u128(1), name: name.map(str::to_string), recipient_id: None, case_id: None }
    }

    #[test]
    fn a_record_links_to_its_own_file_or_to_the_file_it_belongs_to() {
        let person = Uuid::from_u128(7);
        let case = Uuid::from_u128(8);
        assert_eq!(
            record_route(&record(EntityKind::Recipient, None)),
            Some(Route::Recipient { id: Uuid::from_u128(1) })
        );
        assert_eq!(
            record_route(&record(EntityKind::Household, None)),
            Some(Route::Household { id: Uuid::from_u128(1) })
        );
        let visit = RecordLabel { recipient_id: Some(person), ..record(EntityKind::Visit, Some("张三")) };
        assert_eq!(record_route(&visit), Some(Route::Recipient { id: person }));
        let goal = RecordLabel { recipient_id: Some(person), case_id: Some(case), ..record(EntityKind::Goal, None) };
        assert_eq!(record_route(&goal), Some(Route::Case { id: case }));
        assert_eq!(record_route(&record(EntityKind::Village, Some("青山村"))), None);
    }

    #[test]
    fn a_record_is_named_by_its_kind_and_name_in_the_language() {
        let person = record(EntityKind::Recipient, Some("张三"));
        assert_eq!(record_text(&person, Language::Zh), format!("{}: 张三", label(EntityKind::Recipient, Language::Zh)));
        assert_eq!(record_text(&person, Language::En), format!("{}: 张三", label(EntityKind::Recipient, Language::En)));
        assert_eq!(record_text(&record(EntityKind::Visit, None), Language::En), label(EntityKind::Visit, Language::En));
    }

    #[test]
    fn the_fields_of_a_change_read_as_one_line() {
        let fields = [
            FieldLabel { field: "phone".into(), label_zh: "手机号".into(), label_en: "mobile number".into() },
            FieldLabel { field: "address".into(), label_zh: "住址".into(), label_en: "address".into() },
        ];
        assert_eq!(fields_text(&fields, Language::Zh), "手机号、住址");
        assert_eq!(fields_text(&fields, Language::En), "Mobile number, address");
        assert_eq!(field_text(&fields[0], Language::En), "Mobile number");
        assert_eq!(fields_text(&[], Language::En), "");
    }
}
