//! The wasm entry point: renders the app ([`ui::start`]).

fn main() {
    ui::start();
}
