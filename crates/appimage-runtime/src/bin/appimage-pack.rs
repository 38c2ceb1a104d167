//! Tauri's AppImage bundler's packing step, in place of linuxdeploy (see
//! `appimage_runtime::pack`): scripts/package.sh puts this program in the bundler's tools
//! directory under linuxdeploy's name. Errors go to standard error in Chinese and English, with
//! exit status 1.

use std::process::ExitCode;

use appimage_runtime::pack::{RUNTIME_VARIABLE, pack, parse_pack_arguments};

fn main() -> ExitCode {
    let request = parse_pack_arguments(
        std::env::args_os().skip(1).collect(),
        std::env::var_os("OUTPUT"),
        std::env::var_os(RUNTIME_VARIABLE),
    );
    match request.and_then(|request| pack(&request).map(|()| request)) {
        Ok(request) => {
            eprintln!("appimage-pack: {}", request.output.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("appimage-pack: {error}");
            ExitCode::FAILURE
        }
    }
}
