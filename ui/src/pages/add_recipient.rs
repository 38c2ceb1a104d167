//! Adding a recipient: name, resident ID number (checked here with the GB 11643 check digit, and
//! again by the store's rules), categories, village and an optional mobile number. Errors appear
//! at their field in the current language; nothing typed is lost when saving fails.

use std::collections::BTreeMap;

use domain::Labelled;
use domain::entity::{FieldSpec, RECIPIENT};
use domain::recipient::RecipientCategory;
use domain::validate::{FieldError, normalize_field, resident_id_number};
use serde_json::Value;
use uuid::Uuid;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::api;
use crate::app::{Action, Notice, Page, use_app};
use crate::components::field::TextField;
use crate::dto::{CommandError, Language, RecipientDraft, ServicePointOption, sentence};
use crate::i18n::{Text, field_label, label};
use crate::time::today;

fn spec(name: &str) -> &'static FieldSpec {
    RECIPIENT.field(name).expect("the recipient spec names every field of the form")
}

fn from_field_error(e: &FieldError) -> CommandError {
    CommandError::new(e.code(), e.message("zh"), sentence(&e.message("en"))).at_field(&e.field)
}

/// Checks one field of the draft as the store will; `None` when it is fine.
fn check_field(draft: &RecipientDraft, field: &str) -> Option<CommandError> {
    let value = match field {
        "name" => Value::from(draft.name.clone()),
        "id_number" => Value::from(draft.id_number.clone()),
        "phone" => Value::from(draft.phone.clone()),
        "categories" => Value::from(draft.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>()),
        "village_id" => draft.village_id.map(|id| Value::from(id.to_string())).unwrap_or(Value::Null),
        _ => return None,
    };
    normalize_field(spec(field), &value, today()).err().map(|e| from_field_error(&e))
}

const FIELDS: [&str; 5] = ["name", "id_number", "categories", "village_id", "phone"];

/// The form as typed, and the errors shown. Kept in a mutable cell rather than in `use_state`:
/// every keystroke, click and submit reads and writes the latest values, even when events come
/// faster than renders (a handle from `use_state` holds the value of its render).
#[derive(Default)]
struct Form {
    draft: RecipientDraft,
    errors: BTreeMap<String, CommandError>,
    form_error: Option<CommandError>,
    busy: bool,
}

impl Form {
    /// Re-checks one field (on leaving it) and updates only that field's error.
    fn recheck(&mut self, field: &str) {
        match check_field(&self.draft, field) {
            Some(e) => self.errors.insert(field.to_string(), e),
            None => self.errors.remove(field),
        };
    }
}

fn fix_errors() -> CommandError {
    CommandError::new("invalid", Text::FixErrors.get(Language::Zh), Text::FixErrors.get(Language::En))
}

#[function_component(AddRecipientPage)]
pub fn add_recipient_page() -> Html {
    let app = use_app();
    let language = app.language;
    let form = use_mut_ref(Form::default);
    let rerender = use_force_update();
    let places = use_state(Vec::<ServicePointOption>::new);
    {
        let places = places.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(list) = api::list_villages().await {
                    places.set(list);
                }
            });
        });
    }

    // Every change goes through here: update the form, then render it.
    let update = {
        let (form, rerender) = (form.clone(), rerender.clone());
        move |change: Box<dyn FnOnce(&mut Form)>| {
            change(&mut form.borrow_mut());
            rerender.force_update();
        }
    };
    let recheck = {
        let update = update.clone();
        move |field: &'static str| {
            let update = update.clone();
            Callback::from(move |()| update(Box::new(move |f: &mut Form| f.recheck(field))))
        }
    };
    let edit = |apply: fn(&mut RecipientDraft, String)| {
        let update = update.clone();
        Callback::from(move |value: String| update(Box::new(move |f: &mut Form| apply(&mut f.draft, value))))
    };
    let on_category = {
        let update = update.clone();
        move |category: RecipientCategory| {
            let update = update.clone();
            Callback::from(move |e: Event| {
                let checked = e.target_unchecked_into::<HtmlInputElement>().checked();
                update(Box::new(move |f: &mut Form| {
                    f.draft.categories.retain(|c| *c != category);
                    if checked {
                        f.draft.categories.push(category);
                        f.draft.categories.sort();
                    }
                }));
            })
        }
    };
    let on_village = {
        let update = update.clone();
        Callback::from(move |e: Event| {
            let village_id = Uuid::try_parse(&e.target_unchecked_into::<HtmlSelectElement>().value()).ok();
            update(Box::new(move |f: &mut Form| f.draft.village_id = village_id));
        })
    };
    let onsubmit = {
        let (form, update, app) = (form.clone(), update.clone(), app.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let draft = {
                let mut f = form.borrow_mut();
                if f.busy {
                    return;
                }
                f.errors = FIELDS
                    .iter()
                    .filter_map(|name| check_field(&f.draft, name).map(|e| (name.to_string(), e)))
                    .collect();
                f.form_error = (!f.errors.is_empty()).then(fix_errors);
                f.busy = f.errors.is_empty();
                f.busy.then(|| f.draft.clone())
            };
            update(Box::new(|_: &mut Form| {}));
            let Some(draft) = draft else { return };
            let (update, app) = (update.clone(), app.clone());
            spawn_local(async move {
                match api::add_recipient(&draft).await {
                    Ok(added) => {
                        let notice = Notice {
                            zh: format!("{}：{}", Text::Saved.get(Language::Zh), added.name),
                            en: format!("{}: {}", Text::Saved.get(Language::En), added.name),
                        };
                        app.dispatch(Action::GoWithNotice(Page::Roster, notice));
                    }
                    // Nothing typed is touched: only the errors change.
                    Err(e) => update(Box::new(move |f: &mut Form| {
                        f.busy = false;
                        match e.field.clone() {
                            Some(field) => {
                                f.errors = BTreeMap::from([(field, e)]);
                                f.form_error = Some(fix_errors());
                            }
                            None => f.form_error = Some(e),
                        }
                    })),
                }
            });
        })
    };
    let cancel = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Go(Page::Roster)))
    };

    let current = form.borrow();
    let (draft, errors, form_error, busy) = (&current.draft, &current.errors, &current.form_error, current.busy);
    let error_of = |field: &str| errors.get(field).map(|e| AttrValue::from(e.message(language).to_string()));
    let facts = resident_id_number(&draft.id_number, today()).ok().map(|(_, facts)| {
        format!("{}{}，{}", Text::FromIdNumber.get(language), label(facts.gender, language), facts.birth_date)
    });
    let category_error = error_of("categories");
    let village_error = error_of("village_id");
    let checkboxes = RecipientCategory::ALL.iter().map(|c| {
        let id = format!("category-{}", c.as_str());
        html! {
            <label class="check" for={id.clone()}>
                <input type="checkbox" id={id} name="categories" value={c.as_str()}
                    checked={draft.categories.contains(c)} onchange={on_category(*c)} />
                { label(*c, language) }
            </label>
        }
    });
    let village_options = places.iter().map(|point| {
        html! {
            <optgroup label={point.name.clone()}>
                { for point.villages.iter().map(|v| html! {
                    <option value={v.id.to_string()} selected={draft.village_id == Some(v.id)}>{ &v.name }</option>
                }) }
            </optgroup>
        }
    });
    html! {
        <section class="card" aria-labelledby="add-recipient-title">
            <h1 id="add-recipient-title">{ Text::AddRecipientTitle.get(language) }</h1>
            <p class="subtitle">{ Text::AddRecipientHint.get(language) }</p>
            <form id="recipient-form" {onsubmit} novalidate=true>
                <TextField name="name" label={field_label(spec("name"), language)} value={draft.name.clone()}
                    oninput={edit(|d, v| d.name = v)} onblur={recheck("name")} error={error_of("name")}
                    required=true autofocus=true autocomplete="off" />
                <TextField name="id_number" label={field_label(spec("id_number"), language)}
                    value={draft.id_number.clone()} oninput={edit(|d, v| d.id_number = v)}
                    onblur={recheck("id_number")} error={error_of("id_number")} hint={facts.map(AttrValue::from)}
                    required=true autocomplete="off" />
                <fieldset class={classes!("field", category_error.as_ref().map(|_| "has-error"))}
                    aria-describedby={category_error.as_ref().map(|_| "error-categories")}>
                    <legend>{ field_label(spec("categories"), language) }<span class="required" aria-hidden="true">{ " *" }</span></legend>
                    <div class="checks">{ for checkboxes }</div>
                    { for category_error.map(|e| html! { <div class="error" id="error-categories" role="alert">{ e }</div> }) }
                </fieldset>
                <div class={classes!("field", village_error.as_ref().map(|_| "has-error"))}>
                    <label for="village">{ field_label(spec("village_id"), language) }<span class="required" aria-hidden="true">{ " *" }</span></label>
                    <select id="village" name="village" onchange={on_village}
                        aria-invalid={village_error.as_ref().map(|_| "true")}
                        aria-describedby={village_error.as_ref().map(|_| "error-village_id")}>
                        <option value="" selected={draft.village_id.is_none()}>{ Text::ChooseVillage.get(language) }</option>
                        { for village_options }
                    </select>
                    { for village_error.map(|e| html! { <div class="error" id="error-village_id" role="alert">{ e }</div> }) }
                </div>
                <TextField name="phone" label={format!("{}{}", field_label(spec("phone"), language), Text::Optional.get(language))}
                    value={draft.phone.clone()} oninput={edit(|d, v| d.phone = v)} onblur={recheck("phone")}
                    error={error_of("phone")} input_type="tel" inputmode="numeric" autocomplete="off" />
                { for form_error.as_ref().map(|e| html! {
                    <div id="form-error" class="error form-error" role="alert">{ e.message(language) }</div>
                }) }
                <div class="actions">
                    <button type="submit" id="save" class="primary" disabled={busy}>
                        { if busy { Text::Saving.get(language) } else { Text::Save.get(language) } }
                    </button>
                    <button type="button" id="cancel" onclick={cancel}>{ Text::Cancel.get(language) }</button>
                </div>
            </form>
        </section>
    }
}
