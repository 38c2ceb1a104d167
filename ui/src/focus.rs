//! Moving the keyboard focus where the user's next step is (the edit button after a save, a
//! visit's correction in the list), after the next render has put the element on the page.

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;

/// Focuses (and scrolls to) the element with `id`, once the current render is done. Nothing
/// happens when there is no such element.
pub fn focus_soon(id: impl Into<String>) {
    let id = id.into();
    Timeout::new(0, move || {
        let element = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = element {
            element.scroll_into_view();
            let _ = element.focus();
        }
    })
    .forget();
}
