//! The `shegong` desktop app. Everything is in the library (`shegong_desktop::run`).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    shegong_desktop::run();
}
