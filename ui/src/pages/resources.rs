//! The resource library (资源库, `#/resources`): the station's resources found by name, pinyin
//! initials, what they offer or a village they serve (as typed), narrowed by kind; workers and
//! deputy heads add one ([`SpecForm`] over the resource's fields). And a resource's page
//! (`#/resources/<id>`): its facts, its edit form, and the case links it is part of with the
//! recipients it helped and the charity money and goods they received.
//!
//! Ids: `#resource-search`, `#resource-kind-filter`, `#add-resource` → `#resource-form` (fields
//! `#resource-<field>`), `#resource-list` (rows `#resource-row-<id>`, names
//! `#resource-link-<id>`), `#resources-empty`; on a resource's page `#resource-title`,
//! `#resource-facts`, `#edit-resource` → `#resource-form`, `#resource-totals`
//! (`#resource-recipients-helped`, `#resource-money-total`, `#resource-goods-total`),
//! `#resource-links` (rows `#resource-case-link-<link id>`), `#resource-links-empty`.

use std::collections::BTreeMap;
use std::rc::Rc;

use contract::command::{
    AddResource, FieldsArgs, ListVillages, NoArgs, ResourceIdArgs, ResourceLibrary, ResourceLibraryArgs,
    ResourcePage as GetResourcePage, UpdateResource, UpdateResourceArgs,
};
use contract::{FieldValues, Language, NamedRef, ResourceQuery, ResourceRow};
use domain::Labelled;
use domain::entity::{FieldSpec, RESOURCE, field};
use domain::money::format_fen;
use domain::referral::ResourceKind;
use serde_json::Value;
use uuid::Uuid;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::api::invoke;
use crate::app::use_app;
use crate::components::spec_form::{Choice, ChoiceGroup, SpecForm};
use crate::form::Values;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, field_label, label};
use crate::pages::add_recipient::village_choices;
use crate::pages::recipient_file::load_failed;
use crate::route::{Route, navigate, writes_roster};

/// The fields of a resource's form: all but its station, which is the user's.
pub fn resource_fields() -> Vec<&'static FieldSpec> {
    RESOURCE.fields.iter().filter(|f| f.name != field::STATION_ID).collect()
}

/// What a new resource's form starts from: available.
fn new_resource_values() -> Rc<FieldValues> {
    Rc::new(FieldValues::from([(field::resource::ACTIVE.to_string(), Value::Bool(true))]))
}

/// The values of a saved form as the command sends them.
pub fn form_values(values: &Values) -> FieldValues {
    values.field_values()
}

/// The choices of the resource form's village list: the villages of every service point.
fn resource_village_choices(points: &[contract::ServicePointOption]) -> Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>> {
    let by_recipient_field = village_choices(points);
    let groups = by_recipient_field.values().next().cloned().unwrap_or_default();
    Rc::new(BTreeMap::from([(field::resource::VILLAGE_IDS, groups)]))
}

/// The library as choices of a resource reference (a case's link into the plan), active ones
/// only, by kind: `resource_id` → the groups.
pub fn resource_choices(rows: &[ResourceRow], language: Language) -> Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>> {
    let groups = ResourceKind::ALL
        .iter()
        .map(|kind| ChoiceGroup {
            label: label(*kind, language).to_string(),
            choices: rows
                .iter()
                .filter(|r| r.kind == *kind && r.active)
                .map(|r| Choice { value: r.id.to_string(), label: r.name.clone() })
                .collect(),
        })
        .filter(|g| !g.choices.is_empty())
        .collect();
    Rc::new(BTreeMap::from([(field::resource_link::RESOURCE_ID, groups)]))
}

/// The library as choices of a case's link into the plan (`resource_id`), fetched only where a
/// form links resources (`wanted`): the case page has a form per record kind.
#[hook]
pub fn use_resource_choices(wanted: bool) -> Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>> {
    let app = use_app();
    let rows = use_state(|| Rc::new(Vec::<ResourceRow>::new()));
    {
        let rows = rows.clone();
        use_effect_with((wanted, app.data_version), move |(wanted, _)| {
            if *wanted {
                spawn_local(async move {
                    let args = ResourceLibraryArgs { query: ResourceQuery::default() };
                    // Without the library the form still works: the link is described instead.
                    if let Ok(found) = invoke::<ResourceLibrary>(&args).await {
                        rows.set(Rc::new(found));
                    }
                });
            }
        });
    }
    let choices = use_memo(((*rows).clone(), app.language), |(rows, language)| resource_choices(rows, *language));
    (*choices).clone()
}

/// Amounts as the pages show them: `¥1200.50`.
pub fn money_text(fen: i64) -> String {
    format!("¥{}", format_fen(fen))
}

fn names(list: &[NamedRef], language: Language) -> String {
    let parts: Vec<&str> = list.iter().map(|n| n.name.as_str()).collect();
    if parts.is_empty() {
        return "—".into();
    }
    parts.join(match language {
        Language::Zh => "、",
        Language::En => ", ",
    })
}

#[function_component(ResourcesPage)]
pub fn resources_page() -> Html {
    let app = use_app();
    let language = app.language;
    let writes = app.user.as_ref().is_some_and(|u| writes_roster(u.role));
    let text = use_state_eq(String::new);
    let kind = use_state_eq(|| None::<ResourceKind>);
    let adding = use_state_eq(|| false);
    let query = ResourceQuery { text: (*text).clone(), kind: *kind };
    let library =
        use_command::<ResourceLibrary, _>(ResourceLibraryArgs { query: query.clone() }, (query, app.data_version));
    let places = use_command::<ListVillages, _>(NoArgs {}, app.data_version);
    let choices =
        use_memo(places.data().cloned(), |points| resource_village_choices(points.as_deref().unwrap_or_default()));
    let add = use_action::<AddResource>();

    let on_text = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| text.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            kind.set(ResourceKind::parse(&e.target_unchecked_into::<HtmlSelectElement>().value()))
        })
    };
    let onsubmit = {
        let add = add.clone();
        Callback::from(move |values: Values| {
            add.run(FieldsArgs { fields: form_values(&values) }, |page| {
                navigate(Route::Resource { id: page.resource.id })
            });
        })
    };
    let oncancel = {
        let adding = adding.clone();
        Callback::from(move |()| adding.set(false))
    };
    let open_form = {
        let adding = adding.clone();
        Callback::from(move |_: MouseEvent| adding.set(true))
    };
    let kind_options = ResourceKind::ALL.iter().map(|k| {
        html! { <option value={k.as_str()} selected={*kind == Some(*k)}>{ label(*k, language) }</option> }
    });
    let rows = match (library.data(), library.error()) {
        (_, Some(e)) => load_failed(e, language, &library),
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        (Some(rows), None) if rows.is_empty() => {
            html! { <p class="muted" id="resources-empty">{ Text::ResourcesEmpty.get(language) }</p> }
        }
        (Some(rows), None) => html! {
            <table id="resource-list" class="list">
                <thead><tr>
                    <th>{ Text::ResourceColumnName.get(language) }</th>
                    <th>{ Text::ResourceColumnKind.get(language) }</th>
                    <th>{ Text::ResourceColumnContact.get(language) }</th>
                    <th>{ Text::ResourceColumnServices.get(language) }</th>
                    <th>{ Text::ResourceColumnVillages.get(language) }</th>
                </tr></thead>
                <tbody>
                    { for rows.iter().map(|r| resource_row(r, language)) }
                </tbody>
            </table>
        },
    };
    html! {
        <section class="page" aria-labelledby="resources-title">
            <h1 id="resources-title">{ Text::ResourcesTitle.get(language) }</h1>
            <div class="filters">
                <div class="field inline">
                    <label for="resource-search">{ Text::ResourceSearch.get(language) }</label>
                    <input id="resource-search" type="search" value={(*text).clone()} oninput={on_text} autocomplete="off" />
                </div>
                <div class="field inline">
                    <label for="resource-kind-filter">{ Text::ResourceColumnKind.get(language) }</label>
                    <select id="resource-kind-filter" onchange={on_kind}>
                        <option value="" selected={kind.is_none()}>{ Text::ResourceAllKinds.get(language) }</option>
                        { for kind_options }
                    </select>
                </div>
                if writes && !*adding {
                    <button type="button" id="add-resource" onclick={open_form}>{ Text::ResourceAdd.get(language) }</button>
                }
            </div>
            if *adding {
                <div class="editor" aria-labelledby="resource-form-title">
                    <h2 id="resource-form-title">{ Text::ResourceAdd.get(language) }</h2>
                    <SpecForm id="resource-form" id_prefix="resource-" fields={resource_fields()} choices={(*choices).clone()}
                        initial={new_resource_values()} {onsubmit} {oncancel} busy={add.busy} error={add.error.clone()} />
                </div>
            }
            { rows }
        </section>
    }
}

fn resource_row(r: &ResourceRow, language: Language) -> Html {
    let contact = [r.contact_name.clone(), r.contact_phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    html! {
        <tr id={format!("resource-row-{}", r.id)} class={classes!((!r.active).then_some("inactive"))}>
            <td>
                <a id={format!("resource-link-{}", r.id)} href={Route::Resource { id: r.id }.to_hash()}>{ r.name.clone() }</a>
                if r.cultivated { <span class="tag">{ Text::ResourceCultivated.get(language) }</span> }
                if !r.active { <span class="tag">{ Text::ResourceInactive.get(language) }</span> }
            </td>
            <td>{ label(r.kind, language) }</td>
            <td>{ if contact.is_empty() { "—".to_string() } else { contact } }</td>
            <td>{ r.services.clone().unwrap_or_else(|| "—".into()) }</td>
            <td>{ names(&r.villages, language) }</td>
        </tr>
    }
}

#[derive(Properties, PartialEq)]
pub struct ResourcePageProps {
    pub id: Uuid,
}

#[function_component(ResourcePageView)]
pub fn resource_page_view(props: &ResourcePageProps) -> Html {
    let app = use_app();
    let language = app.language;
    let id = props.id;
    let writes = app.user.as_ref().is_some_and(|u| writes_roster(u.role));
    let page = use_command::<GetResourcePage, _>(ResourceIdArgs { resource_id: id }, (id, app.data_version));
    let places = use_command::<ListVillages, _>(NoArgs {}, app.data_version);
    let choices =
        use_memo(places.data().cloned(), |points| resource_village_choices(points.as_deref().unwrap_or_default()));
    let editing = use_state_eq(|| false);
    let update = use_action::<UpdateResource>();
    let Some(data) = page.data() else {
        return match page.error() {
            Some(e) => load_failed(e, language, &page),
            None => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
        };
    };
    let resource = &data.resource;
    let onsubmit = {
        let (update, editing, page) = (update.clone(), editing.clone(), page.clone());
        Callback::from(move |values: Values| {
            let (editing, page) = (editing.clone(), page.clone());
            update.run(UpdateResourceArgs { resource_id: id, fields: form_values(&values) }, move |_| {
                editing.set(false);
                page.reload();
            });
        })
    };
    let toggle = |on: bool| {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(on))
    };
    let stop_editing = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(false))
    };
    let spec_label = |name: &str| RESOURCE.field(name).map(|s| field_label(s, language)).unwrap_or_default();
    let or_dash = |v: &Option<String>| v.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "—".into());
    let link_rows = data.links.iter().map(|l| {
        let recipient = match &l.recipient {
            Some(r) => html! { <a href={Route::Recipient { id: r.id }.to_hash()}>{ r.name.clone() }</a> },
            None => html! { "—" },
        };
        html! {
            <tr id={format!("resource-case-link-{}", l.link_id)}>
                <td>{ l.linked_on.map(|d| d.to_string()).unwrap_or_default() }</td>
                <td>{ recipient }</td>
                <td><a href={Route::Case { id: l.case_id }.to_hash()}>{ l.description.clone() }</a></td>
                <td>{ l.status.map(|s| label(s, language)).unwrap_or("—") }</td>
                <td>{ or_dash(&l.outcome) }</td>
                <td class="number">{ l.money_fen.map(money_text).unwrap_or_else(|| "—".into()) }</td>
                <td>{ or_dash(&l.goods) }{ l.goods_value_fen.map(|f| format!("（{}）", money_text(f))).unwrap_or_default() }</td>
            </tr>
        }
    });
    html! {
        <section class="page" aria-labelledby="resource-title">
            <p><a href={Route::Resources.to_hash()}>{ Text::ResourcesBack.get(language) }</a></p>
            <h1 id="resource-title">{ resource.name.clone() }</h1>
            if *editing {
                <div class="editor">
                    <SpecForm id="resource-form" id_prefix="resource-" fields={resource_fields()} choices={(*choices).clone()}
                        initial={Rc::new(data.fields.clone())} {onsubmit} oncancel={stop_editing}
                        busy={update.busy} error={update.error.clone()} />
                </div>
            } else {
                <dl id="resource-facts" class="facts">
                    <div class="fact"><dt>{ spec_label(field::resource::KIND) }</dt><dd>{ label(resource.kind, language) }</dd></div>
                    <div class="fact"><dt>{ spec_label(field::resource::CONTACT_NAME) }</dt><dd>{ or_dash(&resource.contact_name) }</dd></div>
                    <div class="fact"><dt>{ spec_label(field::resource::CONTACT_PHONE) }</dt><dd>{ or_dash(&resource.contact_phone) }</dd></div>
                    <div class="fact"><dt>{ spec_label(field::resource::SERVICES) }</dt><dd class="pre">{ or_dash(&resource.services) }</dd></div>
                    <div class="fact"><dt>{ spec_label(field::resource::VILLAGE_IDS) }</dt><dd>{ names(&resource.villages, language) }</dd></div>
                    <div class="fact"><dt>{ spec_label(field::resource::CULTIVATED) }</dt>
                        <dd>{ if resource.cultivated { Text::Yes.get(language) } else { Text::No.get(language) } }</dd></div>
                    <div class="fact"><dt>{ spec_label(field::resource::ACTIVE) }</dt>
                        <dd>{ if resource.active { Text::Yes.get(language) } else { Text::No.get(language) } }</dd></div>
                </dl>
                if writes {
                    <button type="button" id="edit-resource" onclick={toggle(true)}>{ Text::ResourceEdit.get(language) }</button>
                }
            }
            <h2>{ Text::ResourceHelped.get(language) }</h2>
            <p id="resource-totals">
                <span id="resource-recipients-helped">{ format!("{}{}", Text::ResourceRecipientsHelped.get(language), data.recipients_helped) }</span>
                { " · " }
                <span id="resource-money-total">{ format!("{}{}", Text::ResourceMoneyTotal.get(language), money_text(data.money_fen_total)) }</span>
                { " · " }
                <span id="resource-goods-total">{ format!("{}{}", Text::ResourceGoodsTotal.get(language), money_text(data.goods_value_fen_total)) }</span>
            </p>
            if data.links.is_empty() {
                <p class="muted" id="resource-links-empty">{ Text::ResourceNoLinks.get(language) }</p>
            } else {
                <table id="resource-links" class="list">
                    <thead><tr>
                        <th>{ Text::ResourceLinkedOn.get(language) }</th>
                        <th>{ Text::ReferralColumnPerson.get(language) }</th>
                        <th>{ Text::ResourceLinkCase.get(language) }</th>
                        <th>{ Text::ResourceLinkStatus.get(language) }</th>
                        <th>{ Text::ResourceLinkOutcome.get(language) }</th>
                        <th>{ Text::ResourceLinkMoney.get(language) }</th>
                        <th>{ Text::ResourceLinkGoods.get(language) }</th>
                    </tr></thead>
                    <tbody>{ for link_rows }</tbody>
                </table>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u128, name: &str, kind: ResourceKind, active: bool) -> ResourceRow {
        ResourceRow {
            id: Uuid::from_u128(n),
            kind,
            name: name.into(),
            contact_name: None,
            contact_phone: None,
            services: None,
            villages: Vec::new(),
            cultivated: false,
            active,
        }
    }

    #[test]
    fn a_case_picks_from_the_active_resources_grouped_by_kind() {
        let rows = [
            row(1, "青山志愿服务队", ResourceKind::VolunteerTeam, true),
            row(2, "爱心基金会", ResourceKind::Charity, true),
            row(3, "停办的项目", ResourceKind::GovernmentProgramme, false),
        ];
        let choices = resource_choices(&rows, Language::Zh);
        let groups = &choices[field::resource_link::RESOURCE_ID];
        let shown: Vec<(&str, Vec<&str>)> =
            groups.iter().map(|g| (g.label.as_str(), g.choices.iter().map(|c| c.label.as_str()).collect())).collect();
        assert_eq!(shown, [("慈善组织", vec!["爱心基金会"]), ("志愿服务队", vec!["青山志愿服务队"])]);
    }

    #[test]
    fn the_resource_form_has_every_field_but_the_station_and_starts_available() {
        let names: Vec<&str> = resource_fields().iter().map(|f| f.name).collect();
        assert!(!names.contains(&field::STATION_ID));
        assert!(names.contains(&field::resource::VILLAGE_IDS) && names.contains(&field::resource::CULTIVATED));
        assert_eq!(new_resource_values().get(field::resource::ACTIVE), Some(&Value::Bool(true)));
    }

    #[test]
    fn amounts_show_in_yuan() {
        assert_eq!(money_text(120_050), "¥1200.50");
        assert_eq!(money_text(0), "¥0");
    }
}
