//! A person's file (档案): who they are (name, ID number, gender, date of birth, categories,
//! village and service point, contacts), their household, their open cases, the service ledger
//! and the change history. Workers and deputy heads edit it here ([`SpecForm`] over the
//! recipient's editable fields, starting from the stored values), transfer the person to another
//! village, create a household with the person as its head, and go to record a visit.
//!
//! Ids: `#recipient-file`, `#recipient-name`, `#recipient-details` (`#recipient-id-number`,
//! `#recipient-village`, `#recipient-phone`...), `#recipient-household` (`#household-link`),
//! `#open-cases` (and `#open-case`, from `components/open_case.rs`), `#moved-cases` (cases given
//! to another worker: `#moved-case-<case id>`), `#record-visit`,
//! `#edit-recipient` → `#recipient-form`, `#transfer-recipient` → `#transfer-form`
//! (`#transfer-village`, `#transfer-save`, `#transfer-cancel`, `#transfer-error`),
//! `#create-household` → `#household-form`, then `#ledger`, `#history`.

use std::collections::BTreeMap;
use std::rc::Rc;

use contract::command::{
    AddHousehold, AddHouseholdArgs, ListVillages, NoArgs, RecipientFile as GetRecipientFile, RecipientIdArgs,
    SetHouseholdMember, SetHouseholdMemberArgs, TransferRecipient, TransferRecipientArgs, UpdateRecipient,
    UpdateRecipientArgs,
};
use contract::{CommandError, FieldValues, Language, PlaceView, RecipientFile, ServicePointOption};
use domain::entity::{EntityKind, FieldSpec, HOUSEHOLD, RECIPIENT};
use domain::field;
use domain::recipient::HouseholdRelation;
use serde_json::Value;
use uuid::Uuid;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::api::invoke;
use crate::app::{Action, Notice, go_with_notice, use_app};
use crate::components::ledger::{History, Ledger};
use crate::components::open_case::OpenCaseButton;
use crate::components::spec_form::SpecForm;
use crate::focus::focus_soon;
use crate::form::Values;
use crate::hooks::{UseCommandHandle, use_action, use_command};
use crate::i18n::{Text, field_label, label};
use crate::pages::add_recipient::village_choices;
use crate::route::{Route, writes_roster};
use crate::time::{age_on, today};

/// The fields the file's edit form changes, in order. Gender and date of birth follow the ID
/// number; the village changes by a transfer, the household by membership.
pub const EDIT_FIELDS: [&str; 6] = [
    field::recipient::NAME,
    field::recipient::ID_NUMBER,
    field::recipient::CATEGORIES,
    field::recipient::PHONE,
    field::recipient::ADDRESS,
    field::recipient::NOTES,
];

pub fn edit_fields() -> Vec<&'static FieldSpec> {
    EDIT_FIELDS.iter().filter_map(|name| RECIPIENT.field(name)).collect()
}

/// The fields of a new household's form.
pub const HOUSEHOLD_FIELDS: [&str; 4] =
    [field::household::NAME, field::household::VILLAGE_ID, field::household::ADDRESS, field::household::NOTES];

pub fn household_fields() -> Vec<&'static FieldSpec> {
    HOUSEHOLD_FIELDS.iter().filter_map(|name| HOUSEHOLD.field(name)).collect()
}

/// A new household's starting values from the person who will head it: named after them
/// (张三 → 张三户), in their village, at their address.
pub fn new_household_values(file: &RecipientFile) -> FieldValues {
    let mut values = FieldValues::new();
    values.insert(field::household::NAME.into(), Value::from(format!("{}户", file.name)));
    if let Some(village) = &file.place.village {
        values.insert(field::household::VILLAGE_ID.into(), Value::from(village.id.to_string()));
    }
    if let Some(address) = &file.address {
        values.insert(field::household::ADDRESS.into(), Value::from(address.as_str()));
    }
    values
}

/// The place as one line: village, service point, station (what is known of them).
pub fn place_line(place: &PlaceView) -> String {
    [&place.village, &place.service_point, &place.station]
        .into_iter()
        .flatten()
        .map(|named| named.name.as_str())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Every village's id and name, for showing an edit that names a village by id.
pub fn village_names(points: &[ServicePointOption]) -> Vec<(Uuid, String)> {
    points.iter().flat_map(|p| p.villages.iter().map(|v| (v.id, v.name.clone()))).collect()
}

/// The names of the records a file's history may name by id: every village, and the file's own
/// place (village, service point, station).
pub fn known_names(points: &[ServicePointOption], place: &PlaceView) -> Vec<(Uuid, String)> {
    let mut names = village_names(points);
    names.extend(
        [&place.village, &place.service_point, &place.station].into_iter().flatten().map(|n| (n.id, n.name.clone())),
    );
    names
}

/// The age as the file shows it: `72岁` or `72`.
pub fn age_text(birth_date: chrono::NaiveDate, today: chrono::NaiveDate, language: Language) -> String {
    let age = age_on(birth_date, today);
    match language {
        Language::Zh => format!("{age}{}", Text::YearsOld.get(language)),
        Language::En => format!("{age} years"),
    }
}

/// `（text）` in Chinese, ` (text)` in English.
pub fn in_brackets(text: &str, language: Language) -> String {
    match language {
        Language::Zh => format!("（{text}）"),
        Language::En => format!(" ({text})"),
    }
}

/// The colon after a label: full width in Chinese.
pub fn colon(language: Language) -> &'static str {
    match language {
        Language::Zh => "：",
        Language::En => ": ",
    }
}

/// A file that did not load: the error and a way to try again.
pub fn load_failed<T: 'static>(error: &CommandError, language: Language, handle: &UseCommandHandle<T>) -> Html {
    let retry = {
        let handle = handle.clone();
        Callback::from(move |_: MouseEvent| handle.reload())
    };
    html! {
        <div class="error-box">
            <p class="error" id="load-error" role="alert">{ error.message(language) }</p>
            <button type="button" id="load-retry" onclick={retry}>{ Text::Retry.get(language) }</button>
            <a href={Route::Roster.to_hash()}>{ Text::BackToStart.get(language) }</a>
        </div>
    }
}

/// What the file shows below its facts: nothing more, or one of its forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    View,
    Edit,
    Transfer,
    CreateHousehold,
}

#[derive(Properties, PartialEq)]
pub struct RecipientFileProps {
    pub id: Uuid,
}

#[function_component(RecipientFilePage)]
pub fn recipient_file_page(props: &RecipientFileProps) -> Html {
    let app = use_app();
    let language = app.language;
    let id = props.id;
    let route = Route::Recipient { id };
    let writes = app.user.as_ref().is_some_and(|u| writes_roster(u.role));
    let file = use_command::<GetRecipientFile, _>(RecipientIdArgs { recipient_id: id }, (id, app.data_version));
    let places = use_command::<ListVillages, _>(NoArgs {}, app.data_version);
    let points: Vec<ServicePointOption> = places.data().cloned().unwrap_or_default();
    let choices = use_memo(places.data().cloned(), |points| village_choices(points.as_deref().unwrap_or_default()));
    let mode = use_state_eq(|| Mode::View);
    let update = use_action::<UpdateRecipient>();
    let transfer = use_action::<TransferRecipient>();
    let add_household = use_action::<AddHousehold>();
    let transfer_choice = use_state_eq(|| None::<Uuid>);
    let transfer_problem = use_state_eq(|| None::<Text>);
    {
        // Another person's file: back to reading.
        let mode = mode.clone();
        use_effect_with(id, move |_| mode.set(Mode::View));
    }
    let set_mode = {
        let (mode, update, transfer, add_household) =
            (mode.clone(), update.clone(), transfer.clone(), add_household.clone());
        let (transfer_choice, transfer_problem) = (transfer_choice.clone(), transfer_problem.clone());
        move |next: Mode, focus_after: Option<&'static str>| {
            let (mode, update, transfer, add_household) =
                (mode.clone(), update.clone(), transfer.clone(), add_household.clone());
            let (transfer_choice, transfer_problem) = (transfer_choice.clone(), transfer_problem.clone());
            Callback::from(move |()| {
                update.clear_error();
                transfer.clear_error();
                add_household.clear_error();
                transfer_choice.set(None);
                transfer_problem.set(None);
                mode.set(next);
                if let Some(target) = focus_after {
                    focus_soon(target);
                }
            })
        }
    };

    let Some(data) = file.data() else {
        return match file.error() {
            Some(e) => load_failed(e, language, &file),
            None => html! { <p class="muted" id="file-loading">{ Text::Loading.get(language) }</p> },
        };
    };
    // A later error (a reload after a sync) shows above the last data.
    let reload_error = file.error().map(|e| html! { <p class="error" role="alert">{ e.message(language) }</p> });

    let spec_label = |name: &str| RECIPIENT.field(name).map(|s| field_label(s, language)).unwrap_or_default();
    let row = |id: &'static str, term: String, value: Html| {
        html! { <div class="fact"><dt>{ term }</dt><dd id={id}>{ value }</dd></div> }
    };
    let or_dash = |value: Option<String>| value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_string());
    let categories = html! {
        <>{ for data.categories.iter().map(|c| html! { <span class="tag">{ label(*c, language) }</span> }) }</>
    };
    let birth = data.birth_date.map(|b| match language {
        Language::Zh => format!("{b}（{}）", age_text(b, today(), language)),
        Language::En => format!("{b} ({})", age_text(b, today(), language)),
    });
    let details = html! {
        <dl id="recipient-details" class="facts">
            { row("recipient-id-number", spec_label(field::recipient::ID_NUMBER), html! { <span class="mono">{ &data.id_number }</span> }) }
            { row("recipient-gender", spec_label(field::recipient::GENDER), html! { { data.gender.map(|g| label(g, language)).unwrap_or("—") } }) }
            { row("recipient-birth-date", spec_label(field::recipient::BIRTH_DATE), html! { { or_dash(birth) } }) }
            { row("recipient-categories", spec_label(field::recipient::CATEGORIES), categories) }
            { row("recipient-village", spec_label(field::recipient::VILLAGE_ID), html! { { or_dash(data.place.village.as_ref().map(|v| v.name.clone())) } }) }
            { row("recipient-service-point", Text::ServicePoint.get(language).to_string(),
                html! { { or_dash(data.place.service_point.as_ref().map(|v| v.name.clone())) } }) }
            { row("recipient-phone", spec_label(field::recipient::PHONE), html! { <span class="mono">{ or_dash(data.phone.clone()) }</span> }) }
            { row("recipient-address", spec_label(field::recipient::ADDRESS), html! { { or_dash(data.address.clone()) } }) }
            { row("recipient-notes", spec_label(field::recipient::NOTES), html! { <span class="pre">{ or_dash(data.notes.clone()) }</span> }) }
        </dl>
    };

    let household = match &data.household {
        Some(household) => {
            let relation = data.household_relation.map(|r| label(r, language)).unwrap_or("—");
            let members = household.members.iter().map(|m| {
                let current = (m.recipient_id == id).then_some("page");
                html! {
                    <li>
                        <a href={Route::Recipient { id: m.recipient_id }.to_hash()} aria-current={current}>{ &m.name }</a>
                        { in_brackets(m.relation.map(|r| label(r, language)).unwrap_or("—"), language) }
                    </li>
                }
            });
            html! {
                <>
                    <p>
                        <a id="household-link" href={Route::Household { id: household.id }.to_hash()}>{ &household.name }</a>
                        { " · " }{ spec_label(field::recipient::HOUSEHOLD_RELATION) }{ colon(language) }
                        <span id="recipient-relation">{ relation }</span>
                    </p>
                    <ul class="inline-list">{ for members }</ul>
                </>
            }
        }
        None => html! { <p class="muted">{ Text::NoHousehold.get(language) }</p> },
    };

    let open_cases = if data.open_cases.is_empty() {
        html! { <p class="muted" id="open-cases">{ Text::NoOpenCases.get(language) }</p> }
    } else {
        let items = data.open_cases.iter().map(|case| {
            let stage = case.stage.map(|s| label(s, language)).unwrap_or("—");
            html! {
                <li>
                    <a class="case-link" href={Route::Case { id: case.case_id }.to_hash()}>{ stage }</a>
                    { case.opened_on.map(|d| format!(" · {} {d}", Text::OpenedOn.get(language))).unwrap_or_default() }
                    { case.worker_name.as_ref().map(|w| format!(" · {} {w}", Text::CaseWorker.get(language))).unwrap_or_default() }
                </li>
            }
        });
        html! { <ul id="open-cases" class="plain-list">{ for items }</ul> }
    };
    // Cases a deputy head gave to another worker: they left this computer; say where they went.
    let moved_cases = (!data.moved_cases.is_empty()).then(|| {
        let items = data.moved_cases.iter().map(|moved| {
            let stage = moved.stage.map(|s| label(s, language)).unwrap_or("—");
            let to = moved.reassigned_to.clone().unwrap_or_else(|| Text::Unknown.get(language).to_string());
            let when = crate::time::local_date_time(moved.moved_at, language);
            let said = match language {
                Language::Zh => format!("个案（{stage}）已改派给{to}，本机不再保存 · {when}"),
                Language::En => format!("Case ({stage}) reassigned to {to}; no longer kept on this computer · {when}"),
            };
            html! { <li id={format!("moved-case-{}", moved.case_id)}>{ said }</li> }
        });
        html! { <ul id="moved-cases" class="plain-list muted">{ for items }</ul> }
    });

    let mut history_names = known_names(&points, &data.place);
    history_names.extend(data.household.as_ref().map(|h| (h.id, h.name.clone())));
    let current_mode = *mode;
    let actions = writes.then(|| {
        let to = |next: Mode, focus: Option<&'static str>| set_mode(next, focus).reform(|_: MouseEvent| ());
        html! {
            <div class="actions file-actions">
                <a id="record-visit" class="button primary" href={Route::RecordVisit { recipient_id: id }.to_hash()}>
                    { Text::RecordVisit.get(language) }
                </a>
                <button type="button" id="edit-recipient" disabled={current_mode == Mode::Edit}
                    onclick={to(Mode::Edit, None)}>{ Text::EditFile.get(language) }</button>
                <button type="button" id="transfer-recipient" disabled={current_mode == Mode::Transfer}
                    onclick={to(Mode::Transfer, Some("transfer-village"))}>{ Text::Transfer.get(language) }</button>
                if data.household.is_none() {
                    <button type="button" id="create-household" disabled={current_mode == Mode::CreateHousehold}
                        onclick={to(Mode::CreateHousehold, None)}>{ Text::CreateHousehold.get(language) }</button>
                }
            </div>
        }
    });

    let notice = |zh: String, en: String| Notice { zh, en };
    let panel = match current_mode {
        Mode::View => html! {},
        Mode::Edit => {
            let onsubmit = {
                let (update, app, back, file) =
                    (update.clone(), app.clone(), set_mode(Mode::View, Some("edit-recipient")), file.clone());
                Callback::from(move |values: Values| {
                    let (app, back, file) = (app.clone(), back.clone(), file.clone());
                    update.run(UpdateRecipientArgs { recipient_id: id, fields: values.field_values() }, move |_| {
                        let saved = notice(
                            Text::ChangesSaved.get(Language::Zh).into(),
                            Text::ChangesSaved.get(Language::En).into(),
                        );
                        app.dispatch(Action::Notice(route, saved));
                        back.emit(());
                        file.reload();
                    });
                })
            };
            html! {
                <section class="card wide" aria-labelledby="edit-recipient-title">
                    <h2 id="edit-recipient-title">{ Text::EditRecipientTitle.get(language) }</h2>
                    <p class="subtitle">{ Text::EditRecipientHint.get(language) }</p>
                    <SpecForm id="recipient-form" fields={edit_fields()} initial={Rc::new(data.fields.clone())}
                        {onsubmit} oncancel={set_mode(Mode::View, Some("edit-recipient"))}
                        busy={update.busy} error={update.error.clone()} />
                </section>
            }
        }
        Mode::Transfer => transfer_panel(TransferPanel {
            data,
            points: &points,
            language,
            choice: &transfer_choice,
            problem: &transfer_problem,
            transfer: &transfer,
            on_done: {
                let (app, back, file) = (app.clone(), set_mode(Mode::View, Some("transfer-recipient")), file.clone());
                Callback::from(move |village: String| {
                    let moved = notice(
                        format!("{}：{village}", Text::Transferred.get(Language::Zh)),
                        format!("{}: {village}", Text::Transferred.get(Language::En)),
                    );
                    app.dispatch(Action::Notice(route, moved));
                    back.emit(());
                    file.reload();
                })
            },
            on_cancel: set_mode(Mode::View, Some("transfer-recipient")),
        }),
        Mode::CreateHousehold => {
            let onsubmit = {
                let (add_household, app) = (add_household.clone(), app.clone());
                Callback::from(move |values: Values| {
                    let app = app.clone();
                    add_household.run(AddHouseholdArgs { fields: values.field_values() }, move |added| {
                        // The person joins as its head; the household's file opens either way.
                        wasm_bindgen_futures::spawn_local(async move {
                            let args = SetHouseholdMemberArgs {
                                recipient_id: id,
                                household_id: added.id,
                                relation: HouseholdRelation::Head,
                            };
                            let shown = match invoke::<SetHouseholdMember>(&args).await {
                                Ok(()) => notice(
                                    format!("{}：{}", Text::HouseholdCreated.get(Language::Zh), added.name),
                                    format!("{}: {}", Text::HouseholdCreated.get(Language::En), added.name),
                                ),
                                Err(e) => notice(
                                    format!("{}{}", Text::HeadNotJoined.get(Language::Zh), e.message_zh),
                                    format!("{}{}", Text::HeadNotJoined.get(Language::En), e.message_en),
                                ),
                            };
                            go_with_notice(&app, Route::Household { id: added.id }, shown);
                        });
                    });
                })
            };
            html! {
                <section class="card wide" aria-labelledby="create-household-title">
                    <h2 id="create-household-title">{ Text::CreateHousehold.get(language) }</h2>
                    <p class="subtitle">{ Text::CreateHouseholdHint.get(language) }</p>
                    <SpecForm id="household-form" fields={household_fields()} initial={Rc::new(new_household_values(data))}
                        choices={(*choices).clone()} {onsubmit} oncancel={set_mode(Mode::View, Some("create-household"))}
                        busy={add_household.busy} error={add_household.error.clone()} />
                </section>
            }
        }
    };

    html! {
        <article id="recipient-file" class="file" aria-labelledby="recipient-name" data-id={id.to_string()}>
            <p class="kicker">{ Text::RecipientFileTitle.get(language) }</p>
            <h1 id="recipient-name">{ &data.name }</h1>
            <p class="subtitle" id="recipient-place">{ place_line(&data.place) }</p>
            <crate::components::print::PrintButton target={crate::components::print::PrintTarget::RecipientFile(id)} />
            { reload_error.unwrap_or_default() }
            { actions.unwrap_or_default() }
            { panel }
            <div class="file-grid">
                <section class="file-section" aria-labelledby="details-title">
                    <h2 id="details-title" class="visually-hidden">{ Text::RecipientFileTitle.get(language) }</h2>
                    { details }
                </section>
                <div>
                    <section class="file-section" id="recipient-household" aria-labelledby="household-title">
                        <h2 id="household-title">{ Text::Household.get(language) }</h2>
                        { household }
                    </section>
                    <section class="file-section" aria-labelledby="open-cases-title">
                        <h2 id="open-cases-title">{ Text::OpenCases.get(language) }</h2>
                        { open_cases }
                        { moved_cases.unwrap_or_default() }
                        <OpenCaseButton recipient_id={id} recipient_name={data.name.clone()} />
                    </section>
                </div>
            </div>
            <Ledger items={data.ledger.clone()} />
            <History items={data.history.clone()} kind={EntityKind::Recipient} names={history_names} />
        </article>
    }
}

struct TransferPanel<'a> {
    data: &'a RecipientFile,
    points: &'a [ServicePointOption],
    language: Language,
    choice: &'a UseStateHandle<Option<Uuid>>,
    problem: &'a UseStateHandle<Option<Text>>,
    transfer: &'a crate::hooks::UseActionHandle<TransferRecipient>,
    /// Called with the new village's name once moved.
    on_done: Callback<String>,
    on_cancel: Callback<()>,
}

/// The transfer form: a village picker (under their service points) and a confirm button.
fn transfer_panel(panel: TransferPanel<'_>) -> Html {
    let TransferPanel { data, points, language, choice, problem, transfer, on_done, on_cancel } = panel;
    let current = data.place.village.as_ref().map(|v| v.id);
    let chosen = (**choice).or(current);
    let names: BTreeMap<Uuid, String> = village_names(points).into_iter().collect();
    let onchange = {
        let (choice, problem) = (choice.clone(), problem.clone());
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            choice.set(Uuid::try_parse(&select.value()).ok());
            problem.set(None);
        })
    };
    let onsubmit = {
        let (choice, problem, transfer) = (choice.clone(), problem.clone(), transfer.clone());
        let recipient_id = data.id;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(village_id) = (*choice).filter(|v| Some(*v) != current) else {
                problem.set(Some(Text::TransferChooseOther));
                return;
            };
            let name = names.get(&village_id).cloned().unwrap_or_default();
            let on_done = on_done.clone();
            transfer.run(TransferRecipientArgs { recipient_id, village_id }, move |_| on_done.emit(name));
        })
    };
    let groups = points.iter().map(|point| {
        html! {
            <optgroup label={point.name.clone()}>
                { for point.villages.iter().map(|v| html! {
                    <option value={v.id.to_string()} selected={chosen == Some(v.id)}>{ &v.name }</option>
                }) }
            </optgroup>
        }
    });
    let error = match (&**problem, &transfer.error) {
        (Some(text), _) => Some(text.get(language).to_string()),
        (None, Some(e)) => Some(e.message(language).to_string()),
        (None, None) => None,
    };
    let invalid = error.as_ref().map(|_| "true");
    html! {
        <section class="card wide" aria-labelledby="transfer-title">
            <h2 id="transfer-title">{ Text::TransferTitle.get(language) }</h2>
            <form id="transfer-form" {onsubmit} novalidate=true>
                <div class={classes!("field", error.as_ref().map(|_| "has-error"))}>
                    <label for="transfer-village">{ Text::TransferTo.get(language) }</label>
                    <select id="transfer-village" {onchange} aria-invalid={invalid}
                        aria-describedby={error.as_ref().map(|_| "transfer-error")}>
                        <option value="" selected={chosen.is_none()}>{ Text::Choose.get(language) }</option>
                        { for groups }
                    </select>
                    { error.map(|message| html! {
                        <div class="error" id="transfer-error" role="alert">{ message }</div>
                    }).unwrap_or_default() }
                </div>
                <div class="actions">
                    <button type="submit" id="transfer-save" class="primary" disabled={transfer.busy}>
                        { if transfer.busy { Text::Saving.get(language) } else { Text::TransferSave.get(language) } }
                    </button>
                    <button type="button" id="transfer-cancel" onclick={on_cancel.reform(|_: MouseEvent| ())}>
                        { Text::Cancel.get(language) }
                    </button>
                </div>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use contract::NamedRef;

    use super::*;

    fn file() -> RecipientFile {
        RecipientFile {
            id: Uuid::from_u128(1),
            name: "王测试".into(),
            id_number: "440524195801010018".into(),
            gender: None,
            birth_date: None,
            categories: Vec::new(),
            phone: None,
            address: Some("东村 3 号".into()),
            notes: None,
            place: PlaceView {
                village: Some(NamedRef { id: Uuid::from_u128(7), name: "东村".into() }),
                service_point: Some(NamedRef { id: Uuid::from_u128(8), name: "东片社工点".into() }),
                station: None,
            },
            household: None,
            household_relation: None,
            fields: FieldValues::new(),
            ledger: Vec::new(),
            history: Vec::new(),
            open_cases: Vec::new(),
            moved_cases: Vec::new(),
        }
    }

    #[test]
    fn every_field_of_the_forms_is_in_its_spec() {
        assert_eq!(edit_fields().len(), EDIT_FIELDS.len());
        assert_eq!(household_fields().len(), HOUSEHOLD_FIELDS.len());
        for spec in edit_fields() {
            assert!(spec.mutable, "{} can be edited", spec.name);
        }
    }

    /// A new household is named after its head and starts in their village, at their address,
    /// and those values pass the household form's checks.
    #[test]
    fn a_new_household_starts_from_its_head() {
        let values = new_household_values(&file());
        assert_eq!(values[field::household::NAME], Value::from("王测试户"));
        assert_eq!(values[field::household::VILLAGE_ID], Value::from(Uuid::from_u128(7).to_string()));
        assert_eq!(values[field::household::ADDRESS], Value::from("东村 3 号"));
        let mut form = crate::form::FormState::with_initial(&household_fields(), today_fixed(), &values);
        assert!(form.submit().is_some());
    }

    fn today_fixed() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date")
    }

    #[test]
    fn the_place_reads_as_one_line() {
        assert_eq!(place_line(&file().place), "东村 · 东片社工点");
        assert_eq!(place_line(&PlaceView::default()), "");
        let born = chrono::NaiveDate::from_ymd_opt(1958, 12, 6).expect("a date");
        assert_eq!(age_text(born, today_fixed(), Language::Zh), "67岁");
        assert_eq!(age_text(born, today_fixed(), Language::En), "67 years");
    }
}
