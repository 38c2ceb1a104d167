//! Shegong's user interface: Yew components rendered to wasm and shown in the desktop app's
//! webview. It reaches everything else through the shell's Tauri commands ([`api`]).

mod api;
mod app;
mod components;
// The command contract, one file shared with the shell; the UI does not use every part of it.
#[allow(dead_code)]
#[path = "../../src-tauri/src/dto.rs"]
mod dto;
mod i18n;
mod pages;
mod time;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
