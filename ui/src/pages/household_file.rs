//! A household's file (一户一档): its name, village and address, its members with their relation
//! to the head (each a link to their own file), the members' ledgers together and the household
//! record's history. Workers and deputy heads edit it ([`SpecForm`] over the household's fields),
//! add a member (found by name or pinyin initials through the roster) with a relation, take a
//! member out (asked twice), and go to record a household visit.
//!
//! Ids: `#household-file`, `#household-name`, `#household-details`, `#household-members`
//! (rows `#member-<id>`, buttons `#remove-member-<id>` then `#confirm-remove-<id>`),
//! `#record-household-visit`, `#edit-household` → `#household-form`, `#add-member` →
//! `#member-search-form` (`#member-search`, results `#member-results` with buttons
//! `#choose-member-<id>`) and `#add-member-form` (`#member-relation`, `#add-member-save`,
//! `#add-member-cancel`, `#add-member-error`), then `#ledger`, `#history`.

use std::rc::Rc;

use contract::command::{
    HouseholdFile as GetHouseholdFile, HouseholdIdArgs, ListVillages, NoArgs, RecipientIdArgs, RemoveHouseholdMember,
    Roster, RosterArgs, SetHouseholdMember, SetHouseholdMemberArgs, UpdateHousehold, UpdateHouseholdArgs,
};
use contract::{HouseholdMember, Language, RosterEntry, RosterQuery, SearchKind};
use domain::Labelled;
use domain::entity::{EntityKind, HOUSEHOLD, RECIPIENT};
use domain::field;
use domain::recipient::HouseholdRelation;
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::{Action, Notice, use_app};
use crate::components::ledger::{History, Ledger};
use crate::components::spec_form::SpecForm;
use crate::focus::focus_soon;
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, field_label, label};
use crate::pages::add_recipient::village_choices;
use crate::pages::recipient_file::{age_text, household_fields, known_names, load_failed, place_line};
use crate::route::{Route, writes_roster};
use crate::time::today;

/// How many people a member search lists.
const SEARCH_RESULTS: u32 = 10;

/// The roster query of a member search: by name or pinyin initials, the first few.
pub fn member_query(text: &str) -> RosterQuery {
    let text = text.trim().to_string();
    RosterQuery {
        category: None,
        village_id: None,
        service_point_id: None,
        search_kind: (!text.is_empty()).then_some(SearchKind::Name),
        search_text: text,
        page: 0,
        page_size: SEARCH_RESULTS,
    }
}

/// The relation a new member gets unless the user picks another: the head when the household
/// has none yet, else none chosen.
pub fn default_relation(members: &[HouseholdMember]) -> Option<HouseholdRelation> {
    (!members.iter().any(|m| m.relation == Some(HouseholdRelation::Head))).then_some(HouseholdRelation::Head)
}

fn notice(text: Text, name: &str) -> Notice {
    Notice { zh: format!("{}{name}", text.get(Language::Zh)), en: format!("{}{name}", text.get(Language::En)) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    View,
    Edit,
    AddMember,
}

#[derive(Properties, PartialEq)]
pub struct HouseholdFileProps {
    pub id: Uuid,
}

#[function_component(HouseholdFilePage)]
pub fn household_file_page(props: &HouseholdFileProps) -> Html {
    let app = use_app();
    let language = app.language;
    let id = props.id;
    let route = Route::Household { id };
    let writes = app.user.as_ref().is_some_and(|u| writes_roster(u.role));
    let file = use_command::<GetHouseholdFile, _>(HouseholdIdArgs { household_id: id }, (id, app.data_version));
    let places = use_command::<ListVillages, _>(NoArgs {}, app.data_version);
    let choices = use_memo(places.data().cloned(), |points| village_choices(points.as_deref().unwrap_or_default()));
    let mode = use_state_eq(|| Mode::View);
    let update = use_action::<UpdateHousehold>();
    let remove = use_action::<RemoveHouseholdMember>();
    let confirming = use_state_eq(|| None::<Uuid>);
    {
        let (mode, confirming) = (mode.clone(), confirming.clone());
        use_effect_with(id, move |_| {
            mode.set(Mode::View);
            confirming.set(None);
        });
    }
    let set_mode = {
        let (mode, update) = (mode.clone(), update.clone());
        move |next: Mode, focus_after: Option<&'static str>| {
            let (mode, update) = (mode.clone(), update.clone());
            Callback::from(move |()| {
                update.clear_error();
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
    let reload_error = file.error().map(|e| html! { <p class="error" role="alert">{ e.message(language) }</p> });
    let spec_label = |name: &str| HOUSEHOLD.field(name).map(|s| field_label(s, language)).unwrap_or_default();
    let or_dash = |value: Option<String>| value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_string());
    let details = html! {
        <dl id="household-details" class="facts">
            <div class="fact"><dt>{ spec_label(field::household::VILLAGE_ID) }</dt>
                <dd id="household-village">{ or_dash(data.place.village.as_ref().map(|v| v.name.clone())) }</dd></div>
            <div class="fact"><dt>{ Text::ServicePoint.get(language) }</dt>
                <dd>{ or_dash(data.place.service_point.as_ref().map(|v| v.name.clone())) }</dd></div>
            <div class="fact"><dt>{ spec_label(field::household::ADDRESS) }</dt>
                <dd id="household-address">{ or_dash(data.address.clone()) }</dd></div>
            <div class="fact"><dt>{ spec_label(field::household::NOTES) }</dt>
                <dd id="household-notes" class="pre">{ or_dash(data.notes.clone()) }</dd></div>
        </dl>
    };

    let member_rows = data.members.iter().map(|m| {
        let member_id = m.recipient_id;
        let relation = m.relation.map(|r| label(r, language)).unwrap_or("—");
        let age = m.birth_date.map(|b| age_text(b, today(), language)).unwrap_or_default();
        let remove_cell = writes.then(|| {
            let cell = if *confirming == Some(member_id) {
                let confirm = {
                    let (remove, confirming, app, file) =
                        (remove.clone(), confirming.clone(), app.clone(), file.clone());
                    let name = m.name.clone();
                    Callback::from(move |_: MouseEvent| {
                        let (confirming, app, file, name) =
                            (confirming.clone(), app.clone(), file.clone(), name.clone());
                        remove.run(RecipientIdArgs { recipient_id: member_id }, move |()| {
                            confirming.set(None);
                            app.dispatch(Action::Notice(route, notice(Text::MemberRemoved, &name)));
                            file.reload();
                            focus_soon("household-members-title");
                        });
                    })
                };
                let cancel = {
                    let confirming = confirming.clone();
                    Callback::from(move |_: MouseEvent| {
                        confirming.set(None);
                        focus_soon(format!("remove-member-{member_id}"));
                    })
                };
                html! {
                    <>
                        <button type="button" id={format!("confirm-remove-{member_id}")} class="danger"
                            disabled={remove.busy} onclick={confirm}>{ Text::ConfirmRemove.get(language) }</button>
                        { " " }
                        <button type="button" id={format!("cancel-remove-{member_id}")} onclick={cancel}>
                            { Text::Cancel.get(language) }
                        </button>
                    </>
                }
            } else {
                let ask = {
                    let (confirming, remove) = (confirming.clone(), remove.clone());
                    Callback::from(move |_: MouseEvent| {
                        remove.clear_error();
                        confirming.set(Some(member_id));
                        focus_soon(format!("confirm-remove-{member_id}"));
                    })
                };
                html! {
                    <button type="button" id={format!("remove-member-{member_id}")} onclick={ask}>
                        { Text::RemoveMember.get(language) }
                    </button>
                }
            };
            html! { <td class="nowrap">{ cell }</td> }
        });
        html! {
            <tr id={format!("member-{member_id}")} data-id={member_id.to_string()}>
                <td class="name"><a href={Route::Recipient { id: member_id }.to_hash()}>{ &m.name }</a></td>
                <td class="relation">{ relation }</td>
                <td>{ m.gender.map(|g| label(g, language)).unwrap_or_default() }</td>
                <td>{ age }</td>
                <td>{ for m.categories.iter().map(|c| html! { <span class="tag">{ label(*c, language) }</span> }) }</td>
                { remove_cell.unwrap_or_default() }
            </tr>
        }
    });
    let relation_label =
        RECIPIENT.field(field::recipient::HOUSEHOLD_RELATION).map(|s| field_label(s, language)).unwrap_or_default();
    let members = if data.members.is_empty() {
        html! { <p class="muted" id="household-members">{ Text::NoMembers.get(language) }</p> }
    } else {
        html! {
            <table id="household-members" class="roster">
                <thead><tr>
                    <th scope="col">{ Text::ColumnName.get(language) }</th>
                    <th scope="col">{ relation_label }</th>
                    <th scope="col">{ Text::ColumnGender.get(language) }</th>
                    <th scope="col">{ Text::ColumnAge.get(language) }</th>
                    <th scope="col">{ Text::ColumnCategories.get(language) }</th>
                    if writes { <th scope="col">{ Text::ColumnActions.get(language) }</th> }
                </tr></thead>
                <tbody>{ for member_rows }</tbody>
            </table>
        }
    };
    let remove_error = remove.error.as_ref().map(|e| {
        html! { <p class="error" id="remove-member-error" role="alert">{ e.message(language) }</p> }
    });

    let current_mode = *mode;
    let actions = writes.then(|| {
        let to = |next: Mode, focus: Option<&'static str>| set_mode(next, focus).reform(|_: MouseEvent| ());
        html! {
            <div class="actions file-actions">
                <a id="record-household-visit" class="button primary"
                    href={Route::RecordHouseholdVisit { household_id: id }.to_hash()}>
                    { Text::RecordHouseholdVisit.get(language) }
                </a>
                <button type="button" id="edit-household" disabled={current_mode == Mode::Edit}
                    onclick={to(Mode::Edit, None)}>{ Text::EditHouseholdTitle.get(language) }</button>
                <button type="button" id="add-member" disabled={current_mode == Mode::AddMember}
                    onclick={to(Mode::AddMember, None)}>{ Text::AddMember.get(language) }</button>
            </div>
        }
    });
    let panel = match current_mode {
        Mode::View => html! {},
        Mode::Edit => {
            let onsubmit = {
                let (update, app, back, file) =
                    (update.clone(), app.clone(), set_mode(Mode::View, Some("edit-household")), file.clone());
                Callback::from(move |values: Values| {
                    let (app, back, file) = (app.clone(), back.clone(), file.clone());
                    update.run(UpdateHouseholdArgs { household_id: id, fields: values.field_values() }, move |_| {
                        let saved = Notice {
                            zh: Text::ChangesSaved.get(Language::Zh).into(),
                            en: Text::ChangesSaved.get(Language::En).into(),
                        };
                        app.dispatch(Action::Notice(route, saved));
                        back.emit(());
                        file.reload();
                    });
                })
            };
            html! {
                <section class="card wide" aria-labelledby="edit-household-title">
                    <h2 id="edit-household-title">{ Text::EditHouseholdTitle.get(language) }</h2>
                    <SpecForm id="household-form" fields={household_fields()} initial={Rc::new(data.fields.clone())}
                        choices={(*choices).clone()} {onsubmit} oncancel={set_mode(Mode::View, Some("edit-household"))}
                        busy={update.busy} error={update.error.clone()} />
                </section>
            }
        }
        Mode::AddMember => {
            let on_added = {
                let (app, back, file) = (app.clone(), set_mode(Mode::View, Some("add-member")), file.clone());
                Callback::from(move |name: String| {
                    app.dispatch(Action::Notice(route, notice(Text::MemberAdded, &name)));
                    back.emit(());
                    file.reload();
                })
            };
            html! {
                <AddMember household_id={id} members={data.members.clone()} {on_added}
                    on_cancel={set_mode(Mode::View, Some("add-member"))} />
            }
        }
    };

    html! {
        <article id="household-file" class="file" aria-labelledby="household-name" data-id={id.to_string()}>
            <p class="kicker">{ Text::HouseholdFileTitle.get(language) }</p>
            <h1 id="household-name">{ &data.name }</h1>
            <p class="subtitle" id="household-place">{ place_line(&data.place) }</p>
            { reload_error.unwrap_or_default() }
            { actions.unwrap_or_default() }
            { panel }
            <section class="file-section" aria-labelledby="household-details-title">
                <h2 id="household-details-title" class="visually-hidden">{ Text::HouseholdFileTitle.get(language) }</h2>
                { details }
            </section>
            <section class="file-section" aria-labelledby="household-members-title">
                <h2 id="household-members-title" tabindex="-1">{ Text::Members.get(language) }</h2>
                { remove_error.unwrap_or_default() }
                { members }
            </section>
            <Ledger items={data.ledger.clone()} show_member=true />
            <History items={data.history.clone()} kind={EntityKind::Household} names={known_names(places.data().map(Vec::as_slice).unwrap_or_default(), &data.place)} />
        </article>
    }
}

#[derive(Properties, PartialEq)]
struct AddMemberProps {
    household_id: Uuid,
    members: Vec<HouseholdMember>,
    /// Called with the new member's name once added.
    on_added: Callback<String>,
    on_cancel: Callback<()>,
}

/// Adding a member: a name search over the roster, a pick from its results, the relation.
#[function_component(AddMember)]
fn add_member(props: &AddMemberProps) -> Html {
    let app = use_app();
    let language = app.language;
    let typed = use_mut_ref(String::new);
    let searched = use_state_eq(String::new);
    let results = use_command::<Roster, _>(RosterArgs { query: member_query(&searched) }, (*searched).clone());
    let chosen = use_state_eq(|| None::<(Uuid, String)>);
    let relation = use_state_eq(|| default_relation(&props.members));
    let problem = use_state_eq(|| None::<Text>);
    let add = use_action::<SetHouseholdMember>();
    {
        use_effect_with((), |_| focus_soon("member-search"));
    }
    let on_type = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| *typed.borrow_mut() = e.target_unchecked_into::<HtmlInputElement>().value())
    };
    let on_search = {
        let (typed, searched) = (typed.clone(), searched.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            searched.set(typed.borrow().clone());
        })
    };
    let is_member = |id: Uuid| props.members.iter().any(|m| m.recipient_id == id);
    let result_item = |entry: &RosterEntry| {
        let (id, name) = (entry.id, entry.name.clone());
        let already = is_member(id);
        let onclick = {
            let (chosen, problem) = (chosen.clone(), problem.clone());
            Callback::from(move |_: MouseEvent| {
                chosen.set(Some((id, name.clone())));
                problem.set(None);
                focus_soon("member-relation");
            })
        };
        let pressed = (chosen.as_ref().map(|(c, _)| *c) == Some(id)).then_some("true");
        html! {
            <li>
                <button type="button" id={format!("choose-member-{id}")} class="choice" disabled={already}
                    aria-pressed={pressed.unwrap_or("false")} {onclick}>
                    <span class="name">{ &entry.name }</span>
                    <span class="muted">{ format!(" · {} · {}", entry.village_name, entry.id_number_tail) }</span>
                    if already { <span class="muted">{ format!(" · {}", Text::AlreadyMember.get(language)) }</span> }
                </button>
            </li>
        }
    };
    let result_list = match (results.data(), results.error()) {
        (_, Some(e)) => html! { <p class="error" role="alert">{ e.message(language) }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        (Some(page), None) if page.entries.is_empty() => {
            html! { <p class="muted" id="member-results">{ Text::NoMatches.get(language) }</p> }
        }
        (Some(page), None) => {
            html! { <ul id="member-results" class="choices">{ for page.entries.iter().map(result_item) }</ul> }
        }
    };
    let on_relation = {
        let (relation, problem) = (relation.clone(), problem.clone());
        Callback::from(move |e: Event| {
            relation.set(HouseholdRelation::parse(&e.target_unchecked_into::<HtmlSelectElement>().value()));
            problem.set(None);
        })
    };
    let on_add = {
        let (chosen, relation, problem, add) = (chosen.clone(), relation.clone(), problem.clone(), add.clone());
        let (household_id, on_added) = (props.household_id, props.on_added.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some((recipient_id, name)) = (*chosen).clone() else {
                problem.set(Some(Text::ChooseSomeone));
                focus_soon("member-search");
                return;
            };
            let Some(relation) = *relation else {
                problem.set(Some(Text::Choose));
                focus_soon("member-relation");
                return;
            };
            let on_added = on_added.clone();
            add.run(SetHouseholdMemberArgs { recipient_id, household_id, relation }, move |()| on_added.emit(name));
        })
    };
    let relation_label =
        RECIPIENT.field(field::recipient::HOUSEHOLD_RELATION).map(|s| field_label(s, language)).unwrap_or_default();
    let error = match (&*problem, &add.error) {
        (Some(Text::Choose), _) => Some(format!("{}{}", Text::Choose.get(language), relation_label)),
        (Some(text), _) => Some(text.get(language).to_string()),
        (None, Some(e)) => Some(e.message(language).to_string()),
        (None, None) => None,
    };
    let relation_options = HouseholdRelation::ALL.iter().map(|r| {
        html! { <option value={r.as_str()} selected={*relation == Some(*r)}>{ label(*r, language) }</option> }
    });
    let cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <section class="card wide" aria-labelledby="add-member-title">
            <h2 id="add-member-title">{ Text::AddMember.get(language) }</h2>
            <form id="member-search-form" class="filters" role="search" onsubmit={on_search}>
                <div class="field inline grow">
                    <label for="member-search">{ Text::FindRecipient.get(language) }</label>
                    <input id="member-search" type="search" autocomplete="off" oninput={on_type} />
                </div>
                <button type="submit" id="member-search-button">{ Text::SearchButton.get(language) }</button>
            </form>
            { result_list }
            <form id="add-member-form" onsubmit={on_add} novalidate=true>
                <p id="member-chosen">
                    { Text::ChosenMember.get(language) }
                    <strong>{ chosen.as_ref().map(|(_, n)| n.clone()).unwrap_or_else(|| "—".into()) }</strong>
                </p>
                <div class={classes!("field", error.as_ref().map(|_| "has-error"))}>
                    <label for="member-relation">{ relation_label.clone() }</label>
                    <select id="member-relation" onchange={on_relation}
                        aria-describedby={error.as_ref().map(|_| "add-member-error")}>
                        <option value="" selected={relation.is_none()}>{ format!("{}{}", Text::Choose.get(language), relation_label) }</option>
                        { for relation_options }
                    </select>
                    { error.map(|message| html! {
                        <div class="error" id="add-member-error" role="alert">{ message }</div>
                    }).unwrap_or_default() }
                </div>
                <div class="actions">
                    <button type="submit" id="add-member-save" class="primary" disabled={add.busy}>
                        { if add.busy { Text::Saving.get(language) } else { Text::AddToHousehold.get(language) } }
                    </button>
                    <button type="button" id="add-member-cancel" onclick={cancel}>{ Text::Cancel.get(language) }</button>
                </div>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(relation: Option<HouseholdRelation>) -> HouseholdMember {
        HouseholdMember {
            recipient_id: Uuid::from_u128(1),
            name: "王测试".into(),
            relation,
            gender: None,
            birth_date: None,
            categories: Vec::new(),
        }
    }

    #[test]
    fn a_member_search_looks_by_name_among_the_first_few() {
        let query = member_query("  zs ");
        assert_eq!((query.search_kind, query.search_text.as_str()), (Some(SearchKind::Name), "zs"));
        assert_eq!((query.page, query.page_size), (0, SEARCH_RESULTS));
        let everyone = member_query("　");
        assert_eq!((everyone.search_kind, everyone.search_text.as_str()), (None, ""));
        let long = member_query(&"张".repeat(10_000));
        assert_eq!(long.search_text.chars().count(), 10_000, "the shell bounds the search, not the UI");
    }

    #[test]
    fn a_household_without_a_head_offers_the_head_first() {
        assert_eq!(default_relation(&[]), Some(HouseholdRelation::Head));
        assert_eq!(default_relation(&[member(Some(HouseholdRelation::Spouse))]), Some(HouseholdRelation::Head));
        assert_eq!(default_relation(&[member(Some(HouseholdRelation::Head))]), None);
        assert_eq!(default_relation(&[member(None)]), Some(HouseholdRelation::Head));
    }
}
