//! Embeds tauri.conf.json, the capabilities and the icon; the UI in ../ui/dist must be built first
//! (scripts/build-ui.sh).

fn main() {
    tauri_build::build();
}
