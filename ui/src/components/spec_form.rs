//! A form generated from an entity's field specs: a native, labelled control per field by its
//! type (text, text area for long text, date, select for one choice, checkboxes for several, a
//! checkbox for yes/no), each checked by `domain::validate::normalize_field` as it is typed, its
//! error at the field in the current language, and what was typed never changed. Enter submits;
//! the caller gets the normalized [`Values`] and sends them with a command ([`crate::hooks`]).
//! Ctrl+Enter (or ⌘+Enter) submits from anywhere in the form, text areas included. An edit form
//! starts from the record's stored values (`initial`); the first field (or `focus`) has the focus
//! when the form appears — give the form a new `key` to start it over empty.
//!
//! Ids: each control is [`control_id`] (`#name`, `#village`), each checkbox of a set
//! [`choice_id`] (`#category-Dibao`), errors `#error-<field>`, hints `#hint-<field>`, the buttons
//! `#save` and `#cancel`, the form's own error `#form-error` — each after the form's `id_prefix`
//! when it has one.
//!
//! What may or may not be shown (an error, a hint) is always one child, empty or not: yew matches
//! unkeyed children from the end, and a child list that grows after a control would re-create the
//! control, and take the focus away from the user typing in it.

use std::collections::BTreeMap;
use std::rc::Rc;

use contract::{CommandError, FieldValues, Language};
use domain::entity::{FieldSpec, FieldType};
use domain::validate::resident_id_number;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::app::use_app;
use crate::form::{FormState, Input, ShownError, Values, choice_id, control_id};
use crate::i18n::{Text, field_label, label, vocabulary_label};
use crate::time::today;

/// Text fields allowed more characters than this get a text area.
const LONG_TEXT_CHARS: usize = 200;

/// A choice of a reference field (a village, a household): the id and what the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// Choices under a heading (a service point's villages); an empty heading for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceGroup {
    pub label: String,
    pub choices: Vec<Choice>,
}

#[derive(Properties, PartialEq)]
pub struct SpecFormProps {
    /// The form element's id.
    pub id: AttrValue,
    /// The fields to show, in order, from one entity kind's spec.
    pub fields: Vec<&'static FieldSpec>,
    /// The choices of reference fields, by field name (vocabularies come from the spec itself).
    #[prop_or_default]
    pub choices: Rc<BTreeMap<&'static str, Vec<ChoiceGroup>>>,
    /// Called with the normalized values when the user saves a valid form.
    pub onsubmit: Callback<Values>,
    #[prop_or_default]
    pub oncancel: Option<Callback<()>>,
    /// The command the values were sent with is running: the save button waits.
    #[prop_or_default]
    pub busy: bool,
    /// That command's error: shown at its field, or above the buttons.
    #[prop_or_default]
    pub error: Option<CommandError>,
    #[prop_or(Text::Save)]
    pub submit_text: Text,
    #[prop_or(Text::Saving)]
    pub busy_text: Text,
    /// The values the form starts from, by field name (an edit form's stored values). Read once,
    /// when the form appears.
    #[prop_or_default]
    pub initial: Rc<FieldValues>,
    /// The field that has the focus when the form appears; the first one when `None`.
    #[prop_or_default]
    pub focus: Option<&'static str>,
    /// Whether the form takes the focus when it appears (a page showing several forms at once
    /// gives it to none of them).
    #[prop_or(true)]
    pub autofocus: bool,
    /// Put before every id inside the form (`goal-` → `#goal-description`, `#goal-error-…`,
    /// `#goal-save`), so that several forms can be on one page; none by default.
    #[prop_or_default]
    pub id_prefix: AttrValue,
}

/// The form's state and the last `error` prop it took in, in one cell: events may come faster
/// than renders, and each must see the latest input.
struct FormCell {
    form: FormState,
    error_prop: Option<CommandError>,
}

#[function_component(SpecForm)]
pub fn spec_form(props: &SpecFormProps) -> Html {
    let app = use_app();
    let language = app.language;
    let cell = {
        let (fields, initial) = (props.fields.clone(), props.initial.clone());
        use_mut_ref(move || FormCell { form: FormState::with_initial(&fields, today(), &initial), error_prop: None })
    };
    let rerender = use_force_update();
    // A new error from the command is taken in once; editing its field clears it there.
    {
        let mut cell = cell.borrow_mut();
        if cell.error_prop != props.error {
            cell.error_prop = props.error.clone();
            cell.form.command_failed(props.error.clone());
        }
    }
    let first_control = use_node_ref();
    {
        // Focused from an effect rather than with `autofocus`: WebKit applies that one at a later
        // rendering step, and can pull the focus back after the user has moved on.
        let (first_control, autofocus) = (first_control.clone(), props.autofocus);
        use_effect_with((), move |_| {
            if let Some(element) = first_control.cast::<web_sys::HtmlElement>().filter(|_| autofocus) {
                let _ = element.focus();
            }
        });
    }
    let update = {
        let (cell, rerender) = (cell.clone(), rerender.clone());
        Rc::new(move |change: &dyn Fn(&mut FormState)| {
            change(&mut cell.borrow_mut().form);
            rerender.force_update();
        })
    };
    let submit = {
        let (cell, update) = (cell.clone(), update.clone());
        let (onsubmit, busy) = (props.onsubmit.clone(), props.busy);
        Rc::new(move || {
            if busy {
                return;
            }
            let values = {
                let mut cell = cell.borrow_mut();
                let values = cell.form.submit();
                if values.is_some() {
                    // The command runs again: its next error shows even when it is the same.
                    cell.error_prop = None;
                    cell.form.command_failed(None);
                }
                values
            };
            update(&|_| {});
            if let Some(values) = values {
                onsubmit.emit(values);
            }
        })
    };
    let onsubmit = {
        let submit = submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit();
        })
    };
    // Ctrl+Enter saves from a text area too (where Enter starts a new line). The value typed last
    // is in the form already: every keystroke updates it before the next key arrives.
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) && !e.is_composing() {
            e.prevent_default();
            submit();
        }
    });
    let oncancel = props.oncancel.clone().map(|cancel| Callback::from(move |_: MouseEvent| cancel.emit(())));

    let state = cell.borrow();
    let form = &state.form;
    let focused = props.focus.filter(|name| form.specs().any(|spec| spec.name == *name));
    let controls = form.specs().enumerate().map(|(position, spec)| {
        let takes_focus = match focused {
            Some(name) => spec.name == name,
            None => position == 0,
        };
        let node_ref = if takes_focus { first_control.clone() } else { NodeRef::default() };
        let context = FieldContext {
            spec,
            input: form.input(spec.name).cloned().unwrap_or_else(|| Input::empty(spec.ty)),
            error: form.error(spec.name),
            language,
            node_ref,
            choices: props.choices.get(spec.name).map(Vec::as_slice).unwrap_or_default(),
            update: update.clone(),
            prefix: &props.id_prefix,
        };
        field(context)
    });
    let form_error = match form.form_error() {
        Some(e) => Some(e.message(language).to_string()),
        None if form.refused() => Some(Text::FixErrors.get(language).to_string()),
        None => None,
    };
    let busy = props.busy;
    let prefix = &props.id_prefix;
    html! {
        <form id={props.id.clone()} {onsubmit} {onkeydown} novalidate=true>
            { for controls }
            { form_error.map(|message| html! {
                <div id={format!("{prefix}form-error")} class="error form-error" role="alert">{ message }</div>
            }).unwrap_or_default() }
            <div class="actions">
                <button type="submit" id={format!("{prefix}save")} class="primary" disabled={busy}>
                    { if busy { props.busy_text.get(language) } else { props.submit_text.get(language) } }
                </button>
                { oncancel.map(|onclick| html! {
                    <button type="button" id={format!("{prefix}cancel")} {onclick}>{ Text::Cancel.get(language) }</button>
                }).unwrap_or_default() }
            </div>
        </form>
    }
}

type Update = Rc<dyn Fn(&dyn Fn(&mut FormState))>;

/// What rendering one field needs.
struct FieldContext<'a> {
    spec: &'static FieldSpec,
    input: Input,
    error: Option<ShownError>,
    language: Language,
    node_ref: NodeRef,
    choices: &'a [ChoiceGroup],
    update: Update,
    /// Put before every id ([`SpecFormProps::id_prefix`]).
    prefix: &'a str,
}

/// One field: its label, its control, a hint, and its error.
fn field(cx: FieldContext<'_>) -> Html {
    let FieldContext { spec, input, error, language, node_ref, choices, update, prefix } = cx;
    let name = spec.name;
    let id = format!("{prefix}{}", control_id(spec));
    let error_id = format!("{prefix}error-{name}");
    let hint_id = format!("{prefix}hint-{name}");
    let hint = hint_for(spec, &input, language);
    let described_by = match (&error, &hint) {
        (Some(_), _) => Some(error_id.clone()),
        (None, Some(_)) => Some(hint_id.clone()),
        _ => None,
    };
    let invalid = error.as_ref().map(|_| "true");
    // A checkbox is always answered (yes or no): neither required nor optional.
    let label_text = match (spec.required, spec.ty) {
        (_, FieldType::Bool) => html! { { field_label(spec, language) } },
        (true, _) => {
            html! { <>{ field_label(spec, language) }<span class="required" aria-hidden="true">{ " *" }</span></> }
        }
        (false, _) => html! { { format!("{}{}", field_label(spec, language), Text::Optional.get(language)) } },
    };
    let set_text = {
        let update = update.clone();
        Callback::from(move |value: String| update(&|f| f.set(name, Input::Text(value.clone()))))
    };
    let leave = {
        let update = update.clone();
        Callback::from(move |_: FocusEvent| update(&|f| f.leave(name)))
    };
    let from_input =
        |cb: &Callback<String>| cb.reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    // Also on `change`: some edits (autofill, a WebDriver clear) fire no `input` event.
    let from_change =
        |cb: &Callback<String>| cb.reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().value());
    let text_input = |input_type: &'static str, inputmode: Option<&'static str>, placeholder: Option<&'static str>| {
        html! {
            <input ref={node_ref.clone()} id={id.clone()} name={name} type={input_type} value={input.text().to_string()}
                oninput={from_input(&set_text)} onchange={from_change(&set_text)} onblur={leave.clone()}
                autocomplete="off" {inputmode} {placeholder} required={spec.required}
                aria-invalid={invalid} aria-describedby={described_by.clone()} />
        }
    };
    let control = match spec.ty {
        FieldType::Text { max_chars } if max_chars > LONG_TEXT_CHARS => html! {
            <textarea ref={node_ref.clone()} id={id.clone()} name={name} rows="4" value={input.text().to_string()}
                oninput={set_text.reform(|e: InputEvent| e.target_unchecked_into::<HtmlTextAreaElement>().value())}
                onchange={set_text.reform(|e: Event| e.target_unchecked_into::<HtmlTextAreaElement>().value())}
                onblur={leave.clone()} required={spec.required}
                aria-invalid={invalid} aria-describedby={described_by.clone()} />
        },
        FieldType::Mobile => text_input("tel", Some("numeric"), None),
        // A text box rather than `type="date"`: a browser's date input empties itself on a value
        // it cannot read, and what was typed would be lost.
        FieldType::Date { .. } => text_input("text", Some("numeric"), Some(Text::DatePlaceholder.get(language))),
        FieldType::Integer { .. } => text_input("text", Some("numeric"), None),
        FieldType::Money { .. } => text_input("text", Some("decimal"), None),
        FieldType::Bool => {
            let onchange = {
                let update = update.clone();
                Callback::from(move |e: Event| {
                    let on = e.target_unchecked_into::<HtmlInputElement>().checked();
                    update(&|f| {
                        f.set(name, Input::Flag(on));
                        f.leave(name);
                    })
                })
            };
            html! {
                <input ref={node_ref.clone()} id={id.clone()} name={name} type="checkbox" checked={input.flag()}
                    {onchange} aria-invalid={invalid} aria-describedby={described_by.clone()} />
            }
        }
        FieldType::Enum(names) => {
            let groups = vec![ChoiceGroup {
                label: String::new(),
                choices: names
                    .iter()
                    .map(|n| Choice {
                        value: (*n).to_string(),
                        label: vocabulary_label(names, n, language).unwrap_or(n).to_string(),
                    })
                    .collect(),
            }];
            select(spec, &id, &input, &groups, language, &node_ref, invalid, described_by.clone(), &update)
        }
        FieldType::Ref(_) => {
            select(spec, &id, &input, choices, language, &node_ref, invalid, described_by.clone(), &update)
        }
        FieldType::EnumSet(names) => {
            let choices: Vec<Choice> = names
                .iter()
                .map(|n| Choice {
                    value: (*n).to_string(),
                    label: vocabulary_label(names, n, language).unwrap_or(n).to_string(),
                })
                .collect();
            return checkboxes(spec, &choices, &input, error, language, &node_ref, label_text, &update, prefix);
        }
        FieldType::RefList(_) => {
            let choices: Vec<Choice> = choices.iter().flat_map(|g| g.choices.iter().cloned()).collect();
            return checkboxes(spec, &choices, &input, error, language, &node_ref, label_text, &update, prefix);
        }
        FieldType::Text { .. }
        | FieldType::PersonName
        | FieldType::IdNumber
        | FieldType::DateTime
        | FieldType::Hex { .. }
        | FieldType::HexList => text_input("text", None, None),
    };
    let (label_class, control_first) = match spec.ty {
        FieldType::Bool => ("check", true),
        _ => ("", false),
    };
    let label = html! { <label for={id.clone()} class={classes!((!label_class.is_empty()).then_some(label_class))}>{ label_text }</label> };
    let label_and_control = match control_first {
        true => html! { <>{ control }{ label }</> },
        false => html! { <>{ label }{ control }</> },
    };
    html! {
        <div class={classes!("field", control_first.then_some("field-check"), error.as_ref().map(|_| "has-error"))}>
            { label_and_control }
            { hint.map(|hint| html! { <div class="hint" id={hint_id.clone()}>{ hint }</div> }).unwrap_or_default() }
            { error.map(|e| html! { <div class="error" id={error_id.clone()} role="alert">{ e.message(language).to_string() }</div> }).unwrap_or_default() }
        </div>
    }
}

/// What a field's value tells beyond itself, shown under it: the gender and date of birth an ID
/// number encodes.
fn hint_for(spec: &FieldSpec, input: &Input, language: Language) -> Option<String> {
    match spec.ty {
        FieldType::IdNumber => resident_id_number(input.text(), today()).ok().map(|(_, facts)| {
            format!("{}{}，{}", Text::FromIdNumber.get(language), label(facts.gender, language), facts.birth_date)
        }),
        _ => None,
    }
}

/// A select for one choice, with an empty first option ("choose the village").
#[allow(clippy::too_many_arguments)]
fn select(
    spec: &'static FieldSpec,
    id: &str,
    input: &Input,
    groups: &[ChoiceGroup],
    language: Language,
    node_ref: &NodeRef,
    invalid: Option<&'static str>,
    described_by: Option<String>,
    update: &Update,
) -> Html {
    let name = spec.name;
    let onchange = {
        let update = update.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            // A pick is complete: its errors show at once.
            update(&|f| {
                f.set(name, Input::Text(value.clone()));
                f.leave(name);
            })
        })
    };
    let current = input.text();
    let option = |choice: &Choice| {
        html! { <option value={choice.value.clone()} selected={choice.value == current}>{ &choice.label }</option> }
    };
    let groups = groups.iter().map(|group| {
        if group.label.is_empty() {
            html! { <>{ for group.choices.iter().map(option) }</> }
        } else {
            html! { <optgroup label={group.label.clone()}>{ for group.choices.iter().map(option) }</optgroup> }
        }
    });
    // English mid-sentence: "Choose the village" (the spec's English label is in lower case).
    let placeholder = match language {
        Language::Zh => format!("{}{}", Text::Choose.get(language), spec.zh),
        Language::En => format!("{}{}", Text::Choose.get(language), spec.en),
    };
    html! {
        <select ref={node_ref.clone()} id={id.to_string()} name={id.to_string()} {onchange}
            aria-invalid={invalid} aria-describedby={described_by}>
            <option value="" selected={current.is_empty()}>{ placeholder }</option>
            { for groups }
        </select>
    }
}

/// A set of checkboxes in a fieldset, its legend the field's label.
#[allow(clippy::too_many_arguments)]
fn checkboxes(
    spec: &'static FieldSpec,
    choices: &[Choice],
    input: &Input,
    error: Option<ShownError>,
    language: Language,
    node_ref: &NodeRef,
    legend: Html,
    update: &Update,
    prefix: &str,
) -> Html {
    let name = spec.name;
    let error_id = format!("{prefix}error-{name}");
    let boxes = choices.iter().enumerate().map(|(position, choice)| {
        let id = format!("{prefix}{}", choice_id(spec, &choice.value));
        let onchange = {
            let (update, value) = (update.clone(), choice.value.clone());
            Callback::from(move |e: Event| {
                let on = e.target_unchecked_into::<HtmlInputElement>().checked();
                update(&|f| {
                    f.toggle(name, &value, on);
                    f.leave(name);
                })
            })
        };
        let node_ref = if position == 0 { node_ref.clone() } else { NodeRef::default() };
        html! {
            <label class="check" for={id.clone()}>
                <input ref={node_ref} type="checkbox" id={id} name={name} value={choice.value.clone()}
                    checked={input.has(&choice.value)} {onchange} />
                { &choice.label }
            </label>
        }
    });
    html! {
        <fieldset class={classes!("field", error.as_ref().map(|_| "has-error"))}
            aria-describedby={error.as_ref().map(|_| error_id.clone())}>
            <legend>{ legend }</legend>
            <div class="checks">{ for boxes }</div>
            { error.map(|e| html! { <div class="error" id={error_id.clone()} role="alert">{ e.message(language).to_string() }</div> }).unwrap_or_default() }
        </fieldset>
    }
}
