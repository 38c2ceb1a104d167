//! The AppImage runtime (see the library): its errors go to standard error in Chinese and
//! English, with exit status 1; on success it becomes the image's `AppRun`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match appimage_runtime::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("AppImage: {error}");
            ExitCode::FAILURE
        }
    }
}
