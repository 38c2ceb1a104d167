//! A labelled form field that shows its own error right under it, with ids the tests and
//! assistive technology rely on: the input is `#<name>`, its error `#error-<name>`.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TextFieldProps {
    /// The field's name: the input's id and the key of its error.
    pub name: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub oninput: Callback<String>,
    #[prop_or_default]
    pub onblur: Option<Callback<()>>,
    #[prop_or_default]
    pub error: Option<AttrValue>,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or(AttrValue::Static("text"))]
    pub input_type: AttrValue,
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    #[prop_or_default]
    pub required: bool,
    #[prop_or_default]
    pub autofocus: bool,
}

#[function_component(TextField)]
pub fn text_field(props: &TextFieldProps) -> Html {
    let oninput = {
        let callback = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            callback.emit(input.value());
        })
    };
    // Also on `change`: some edits (autofill, a WebDriver clear) fire no `input` event.
    let onchange = {
        let callback = props.oninput.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            callback.emit(input.value());
        })
    };
    let onblur = props.onblur.clone().map(|cb| Callback::from(move |_: FocusEvent| cb.emit(())));
    // Focused from an effect rather than with the `autofocus` attribute: WebKit applies that one
    // at a later rendering step, and can pull the focus back after the user has moved on.
    let input_ref = use_node_ref();
    {
        let (input_ref, autofocus) = (input_ref.clone(), props.autofocus);
        use_effect_with((), move |_| {
            if autofocus && let Some(input) = input_ref.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    let error_id = format!("error-{}", props.name);
    let hint_id = format!("hint-{}", props.name);
    let described_by = match (&props.error, &props.hint) {
        (Some(_), _) => Some(error_id.clone()),
        (None, Some(_)) => Some(hint_id.clone()),
        _ => None,
    };
    html! {
        <div class={classes!("field", props.error.as_ref().map(|_| "has-error"))}>
            <label for={props.name.clone()}>
                { &props.label }
                { if props.required { html! { <span class="required" aria-hidden="true">{ " *" }</span> } } else { html! {} } }
            </label>
            <input ref={input_ref} id={props.name.clone()} name={props.name.clone()} type={props.input_type.clone()}
                value={props.value.clone()} {oninput} {onchange} {onblur}
                autocomplete={props.autocomplete.clone()} inputmode={props.inputmode.clone()}
                required={props.required}
                aria-invalid={props.error.as_ref().map(|_| "true")} aria-describedby={described_by} />
            // One child each, shown or not, so the input is never re-created (see `spec_form`).
            { props.hint.as_ref().map(|hint| html! { <div class="hint" id={hint_id.clone()}>{ hint }</div> }).unwrap_or_default() }
            { props.error.as_ref().map(|error| html! {
                <div class="error" id={error_id.clone()} role="alert">{ error }</div>
            }).unwrap_or_default() }
        </div>
    }
}
