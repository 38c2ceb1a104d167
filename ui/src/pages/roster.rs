//! The roster (花名册): the station's recipients from the local database, filtered by category
//! and by village or service point, searched by name (or pinyin initials), ID number ending or
//! mobile number, a page at a time. Each name opens the person's file; workers and deputy heads
//! also have a "record visit" link on each row.

use contract::command::{ListVillages, NoArgs, Roster, RosterArgs};
use contract::{Language, RosterEntry, RosterQuery, SearchKind};
use domain::Labelled;
use domain::recipient::RecipientCategory;
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::use_command;
use crate::i18n::{Text, label};
use crate::route::{Route, writes_roster};
use crate::time::{age_on, today};

const PAGE_SIZE: u32 = 50;

/// The place filter: everything, one service point, or one village.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    All,
    ServicePoint(Uuid),
    Village(Uuid),
}

impl Place {
    fn value(self) -> String {
        match self {
            Place::All => String::new(),
            Place::ServicePoint(id) => format!("sp:{id}"),
            Place::Village(id) => format!("v:{id}"),
        }
    }

    fn parse(value: &str) -> Place {
        let id = |s: &str| Uuid::try_parse(s).ok();
        match value.split_once(':') {
            Some(("sp", rest)) => id(rest).map_or(Place::All, Place::ServicePoint),
            Some(("v", rest)) => id(rest).map_or(Place::All, Place::Village),
            _ => Place::All,
        }
    }
}

/// The filters as applied (the search box applies on submit, the selects at once).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filters {
    category: Option<RecipientCategory>,
    place: Place,
    search_kind: SearchKind,
    search_text: String,
    page: u32,
}

impl Default for Filters {
    fn default() -> Self {
        Self { category: None, place: Place::All, search_kind: SearchKind::Name, search_text: String::new(), page: 0 }
    }
}

impl Filters {
    fn query(&self) -> RosterQuery {
        let (village_id, service_point_id) = match self.place {
            Place::All => (None, None),
            Place::ServicePoint(id) => (None, Some(id)),
            Place::Village(id) => (Some(id), None),
        };
        let search_text = self.search_text.trim().to_string();
        RosterQuery {
            category: self.category,
            village_id,
            service_point_id,
            search_kind: (!search_text.is_empty()).then_some(self.search_kind),
            search_text,
            page: self.page,
            page_size: PAGE_SIZE,
        }
    }
}

#[function_component(RosterPage)]
pub fn roster_page() -> Html {
    let app = use_app();
    let language = app.language;
    let writes = app.user.as_ref().is_some_and(|u| writes_roster(u.role));
    let filters = use_state(Filters::default);
    // The search box as typed, in a mutable cell so Enter right after typing searches for what
    // was typed (a `use_state` handle holds the value of its render).
    let search_box = use_mut_ref(|| (SearchKind::Name, String::new()));
    let rerender = use_force_update();
    let places = use_command::<ListVillages, _>(NoArgs {}, app.data_version);
    let places = places.data().map(Vec::as_slice).unwrap_or_default();
    let roster =
        use_command::<Roster, _>(RosterArgs { query: filters.query() }, ((*filters).clone(), app.data_version));
    let on_category = {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let category = RecipientCategory::parse(&select.value());
            filters.set(Filters { category, page: 0, ..(*filters).clone() });
        })
    };
    let on_place = {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            filters.set(Filters { place: Place::parse(&select.value()), page: 0, ..(*filters).clone() });
        })
    };
    let on_search_kind = {
        let (search_box, rerender) = (search_box.clone(), rerender.clone());
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            search_box.borrow_mut().0 = match select.value().as_str() {
                "id_suffix" => SearchKind::IdSuffix,
                "phone" => SearchKind::Phone,
                _ => SearchKind::Name,
            };
            rerender.force_update();
        })
    };
    let on_search_text = {
        let (search_box, rerender) = (search_box.clone(), rerender.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            search_box.borrow_mut().1 = input.value();
            rerender.force_update();
        })
    };
    let on_search = {
        let (filters, search_box) = (filters.clone(), search_box.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (search_kind, search_text) = search_box.borrow().clone();
            filters.set(Filters { search_kind, search_text, page: 0, ..(*filters).clone() });
        })
    };
    let on_clear = {
        let (filters, search_box, rerender) = (filters.clone(), search_box.clone(), rerender.clone());
        Callback::from(move |_: MouseEvent| {
            *search_box.borrow_mut() = (SearchKind::Name, String::new());
            rerender.force_update();
            filters.set(Filters::default());
        })
    };
    let to_page = |page: u32| {
        let filters = filters.clone();
        Callback::from(move |_: MouseEvent| filters.set(Filters { page, ..(*filters).clone() }))
    };

    let category_options = RecipientCategory::ALL.iter().map(|c| {
        html! { <option value={c.as_str()} selected={filters.category == Some(*c)}>{ label(*c, language) }</option> }
    });
    let place_options = places.iter().map(|point| {
        let whole = Place::ServicePoint(point.id);
        html! {
            <optgroup label={point.name.clone()}>
                <option value={whole.value()} selected={filters.place == whole}>
                    { format!("{}{}", point.name, Text::WholeServicePoint.get(language)) }
                </option>
                { for point.villages.iter().map(|v| {
                    let place = Place::Village(v.id);
                    html! { <option value={place.value()} selected={filters.place == place}>{ &v.name }</option> }
                }) }
            </optgroup>
        }
    });
    let (search_kind, search_text) = search_box.borrow().clone();
    let kind_option = |kind: SearchKind, value: &'static str, text: Text| {
        html! { <option {value} selected={search_kind == kind}>{ text.get(language) }</option> }
    };
    let body = match (roster.data(), roster.error()) {
        (_, Some(e)) => {
            let retry = {
                let roster = roster.clone();
                Callback::from(move |_: MouseEvent| roster.reload())
            };
            html! {
                <div class="error-box">
                    <p class="error" id="roster-error" role="alert">{ e.message(language) }</p>
                    <button type="button" id="roster-retry" onclick={retry}>{ Text::Retry.get(language) }</button>
                </div>
            }
        }
        (None, None) => html! { <p class="muted" id="roster-loading">{ Text::Loading.get(language) }</p> },
        (Some(page), None) => {
            let (entries, total, has_more) = (&page.entries, page.total, page.has_more);
            let table = if entries.is_empty() {
                html! { <p class="muted" id="roster-empty">{ Text::NoRecipients.get(language) }</p> }
            } else {
                roster_table(entries, language, writes)
            };
            html! {
                <>
                    { table }
                    <div class="pager">
                        <button type="button" id="page-prev" disabled={filters.page == 0}
                            onclick={to_page(filters.page.saturating_sub(1))}>{ Text::PreviousPage.get(language) }</button>
                        <span id="page-number">
                            { format!("{} {} {}", Text::PageLabel.get(language), filters.page + 1, Text::PageSuffix.get(language)) }
                        </span>
                        <button type="button" id="page-next" disabled={!has_more}
                            onclick={to_page(filters.page + 1)}>{ Text::NextPage.get(language) }</button>
                        <span id="roster-total" class="muted">
                            { match language {
                                Language::Zh => format!("共 {total} 人"),
                                Language::En if total == 1 => "1 recipient".to_string(),
                                Language::En => format!("{total} recipients"),
                            } }
                        </span>
                    </div>
                </>
            }
        }
    };
    html! {
        <section aria-labelledby="roster-title" aria-busy={roster.loading().then_some("true")}>
            <h1 id="roster-title">{ Text::RosterTitle.get(language) }</h1>
            <div class="filters">
                <div class="field inline">
                    <label for="filter-category">{ Text::FilterCategory.get(language) }</label>
                    <select id="filter-category" onchange={on_category}>
                        <option value="" selected={filters.category.is_none()}>{ Text::AllCategories.get(language) }</option>
                        { for category_options }
                    </select>
                </div>
                <div class="field inline">
                    <label for="filter-village">{ Text::FilterVillage.get(language) }</label>
                    <select id="filter-village" onchange={on_place}>
                        <option value="" selected={filters.place == Place::All}>{ Text::AllVillages.get(language) }</option>
                        { for place_options }
                    </select>
                </div>
            </div>
            <form id="search-form" class="filters" onsubmit={on_search} role="search">
                <div class="field inline">
                    <label for="search-kind">{ Text::SearchBy.get(language) }</label>
                    <select id="search-kind" onchange={on_search_kind}>
                        { kind_option(SearchKind::Name, "name", Text::SearchByName) }
                        { kind_option(SearchKind::IdSuffix, "id_suffix", Text::SearchByIdSuffix) }
                        { kind_option(SearchKind::Phone, "phone", Text::SearchByPhone) }
                    </select>
                </div>
                <div class="field inline grow">
                    <label for="search">{ Text::SearchFor.get(language) }</label>
                    <input id="search" type="search" value={search_text} oninput={on_search_text.reform(|e: InputEvent| Event::from(e))}
                        onchange={on_search_text} />
                </div>
                <button type="submit" id="search-button" class="primary">{ Text::SearchButton.get(language) }</button>
                <button type="button" id="clear-filters" onclick={on_clear}>{ Text::ClearFilters.get(language) }</button>
            </form>
            { body }
        </section>
    }
}

/// The roster's rows: each name a link to the person's file (`td.name a`), and for those who
/// record visits, a "record visit" link per row (`#record-visit-<id>`).
fn roster_table(entries: &[RosterEntry], language: Language, writes: bool) -> Html {
    let today = today();
    let rows = entries.iter().map(|entry| {
        let age = entry
            .birth_date
            .map(|b| match language {
                Language::Zh => format!("{}{}", age_on(b, today), Text::YearsOld.get(language)),
                Language::En => age_on(b, today).to_string(),
            })
            .unwrap_or_default();
        let gender = entry.gender.map(|g| label(g, language)).unwrap_or_default();
        html! {
            <tr data-id={entry.id.to_string()}>
                <td class="name"><a class="file-link" href={Route::Recipient { id: entry.id }.to_hash()}>{ &entry.name }</a></td>
                <td>{ gender }</td>
                <td title={entry.birth_date.map(|b| b.to_string()).unwrap_or_default()}>{ age }</td>
                <td>{ for entry.categories.iter().map(|c| html! { <span class="tag">{ label(*c, language) }</span> }) }</td>
                <td>{ &entry.village_name }</td>
                <td>{ entry.phone.as_deref().map(mask_phone).unwrap_or_default() }</td>
                <td class="mono">{ &entry.id_number_tail }</td>
                if writes {
                    <td class="row-actions">
                        <a id={format!("record-visit-{}", entry.id)} class="record-visit"
                            href={Route::RecordVisit { recipient_id: entry.id }.to_hash()}
                            aria-label={format!("{} {}", Text::RosterRecordVisit.get(language), entry.name)}>
                            { Text::RosterRecordVisit.get(language) }
                        </a>
                    </td>
                }
            </tr>
        }
    });
    html! {
        <table id="roster-table" class="roster">
            <thead>
                <tr>
                    <th scope="col">{ Text::ColumnName.get(language) }</th>
                    <th scope="col">{ Text::ColumnGender.get(language) }</th>
                    <th scope="col">{ Text::ColumnAge.get(language) }</th>
                    <th scope="col">{ Text::ColumnCategories.get(language) }</th>
                    <th scope="col">{ Text::ColumnVillage.get(language) }</th>
                    <th scope="col">{ Text::ColumnPhone.get(language) }</th>
                    <th scope="col">{ Text::ColumnIdTail.get(language) }</th>
                    if writes { <th scope="col">{ Text::ColumnActions.get(language) }</th> }
                </tr>
            </thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

/// 13800138000 -> 138****8000: enough to recognise a number, not enough to copy it off a screen.
fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return phone.to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}
