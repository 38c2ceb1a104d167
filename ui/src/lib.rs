//! Shegong's user interface: Yew components rendered to wasm and shown in the desktop app's
//! webview. It reaches everything else through the shell's Tauri commands, called by their types
//! from the `contract` crate ([`api`], [`hooks`]).
//!
//! The pure parts (routes, navigation per role, the state of a spec-driven form) are plain Rust
//! tested on the host with `cargo test -p ui --lib`; the rest runs only in the webview.

mod api;
mod app;
mod components;
mod focus;
mod form;
mod hooks;
mod i18n;
#[cfg(test)]
mod negative_list;
mod pages;
mod route;
mod time;

/// Renders the app into the page's body.
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
