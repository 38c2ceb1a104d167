//! Typed wrappers around the shell's Tauri commands (`window.__TAURI__.core.invoke`). Arguments
//! and results cross as JSON, with the types of [`crate::dto`], compiled into both sides.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::dto::*;

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

/// Calls a command. A rejected call carries a [`CommandError`]; anything else it carries (Tauri's
/// own errors are plain strings) is wrapped into one.
async fn invoke<R: DeserializeOwned>(command: &str, args: serde_json::Value) -> Result<R, CommandError> {
    match tauri_invoke(command, to_js(&args)?).await {
        Ok(value) => serde_json::from_str(&js_to_text(&value)).map_err(|e| bad_request(&format!("{command}: {e}"))),
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

pub async fn get_language() -> Result<Language, CommandError> {
    invoke("get_language", json!({})).await
}

pub async fn set_language(language: Language) -> Result<(), CommandError> {
    invoke("set_language", json!({ "language": language })).await
}

pub async fn sign_in_defaults() -> Result<SignInDefaults, CommandError> {
    invoke("sign_in_defaults", json!({})).await
}

pub async fn sign_in(request: &SignInRequest) -> Result<CurrentUser, CommandError> {
    invoke("sign_in", json!({ "request": request })).await
}

pub async fn sign_out() -> Result<(), CommandError> {
    invoke("sign_out", json!({})).await
}

pub async fn current_user() -> Result<Option<CurrentUser>, CommandError> {
    invoke("current_user", json!({})).await
}

pub async fn list_villages() -> Result<Vec<ServicePointOption>, CommandError> {
    invoke("list_villages", json!({})).await
}

pub async fn roster(query: &RosterQuery) -> Result<RosterPage, CommandError> {
    invoke("roster", json!({ "query": query })).await
}

pub async fn add_recipient(draft: &RecipientDraft) -> Result<AddedRecipient, CommandError> {
    invoke("add_recipient", json!({ "draft": draft })).await
}

pub async fn sync_status() -> Result<SyncStatusView, CommandError> {
    invoke("sync_status", json!({})).await
}

pub async fn sync_now() -> Result<SyncStatusView, CommandError> {
    invoke("sync_now", json!({})).await
}

pub async fn rejected_changes() -> Result<Vec<RejectedChangeView>, CommandError> {
    invoke("rejected_changes", json!({})).await
}
