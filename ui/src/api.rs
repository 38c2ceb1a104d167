//! Calls the shell's Tauri commands (`window.__TAURI__.core.invoke`) by their type from the
//! `contract` crate: `invoke::<command::Roster>(&RosterArgs { query })`. Arguments and results
//! cross as JSON. Components use the hooks of [`crate::hooks`] rather than this directly when
//! they show the result.

use contract::{Command, CommandError, codes};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

fn to_js(value: &impl Serialize) -> Result<JsValue, CommandError> {
    let text = serde_json::to_string(value).map_err(|e| bad_request(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| bad_request("arguments are not JSON"))
}

fn js_to_text(value: &JsValue) -> String {
    if value.is_undefined() || value.is_null() {
        return "null".into();
    }
    js_sys::JSON::stringify(value).map(String::from).unwrap_or_else(|_| "null".into())
}

fn bad_request(detail: &str) -> CommandError {
    CommandError::new(codes::BAD_REQUEST, format!("界面出错：{detail}"), format!("The interface failed: {detail}"))
}

/// Calls command `C`. A rejected call carries a [`CommandError`]; anything else it carries
/// (Tauri's own errors are plain strings) is wrapped into one.
pub async fn invoke<C: Command>(args: &C::Args) -> Result<C::Output, CommandError> {
    match tauri_invoke(C::NAME, to_js(args)?).await {
        Ok(value) => serde_json::from_str(&js_to_text(&value)).map_err(|e| bad_request(&format!("{}: {e}", C::NAME))),
        Err(error) => {
            let text = js_to_text(&error);
            Err(serde_json::from_str::<CommandError>(&text).unwrap_or_else(|_| {
                let detail = error.as_string().unwrap_or(text);
                CommandError::new(
                    codes::INTERNAL,
                    format!("操作失败：{detail}"),
                    format!("The action failed: {detail}"),
                )
            }))
        }
    }
}
