//! The packing step of Tauri's AppImage bundler (`cargo tauri bundle --bundles appimage`), in
//! place of linuxdeploy. The bundler lays out the AppDir itself (the app's `.deb` contents, its
//! desktop entry and icon at the root, `AppRun`) and then runs
//! `linuxdeploy --appimage-extract-and-run --verbosity N --appdir DIR --plugin gtk --output
//! appimage` with the image's path in `OUTPUT`, from its tools directory, downloading it from
//! GitHub when it is not there. scripts/package.sh puts this program there under linuxdeploy's
//! name, so nothing is downloaded, and the bundler's AppImage is squashed by Debian's
//! `mksquashfs` (gzip, what the runtime reads) behind this crate's runtime.
//!
//! The `gtk` and `gstreamer` plugins would copy the build machine's GTK and media libraries into
//! the image; like the `.deb`, the image uses the system's WebKitGTK 4.1 and GTK 3 (Debian 12,
//! UOS and Kylin ship them), so they are accepted and nothing is copied.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ELF_HEADER_LEN, ElfError, MAGIC, MAGIC_OFFSET, elf_end};

/// What the bundler asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackRequest {
    pub app_dir: PathBuf,
    /// The image to write (`OUTPUT`).
    pub output: PathBuf,
    /// The runtime to put in front (`SHEGONG_APPIMAGE_RUNTIME`).
    pub runtime: PathBuf,
}

/// The environment variable naming the runtime binary (scripts/package.sh sets it).
pub const RUNTIME_VARIABLE: &str = "SHEGONG_APPIMAGE_RUNTIME";

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("不支持的参数：{0} / unsupported argument: {0}")]
    UnknownArgument(String),
    #[error("参数 {0} 缺少取值 / argument {0} needs a value")]
    MissingValue(&'static str),
    #[error("只能输出 appimage，而不是 {0} / the only output is appimage, not {0}")]
    UnknownOutput(String),
    #[error("不认识的插件 {0}（支持 gtk、gstreamer）/ unknown plugin {0} (known: gtk, gstreamer)")]
    UnknownPlugin(String),
    #[error("缺少 {0} / {0} is missing")]
    Missing(&'static str),
    #[error("AppDir {path} 不完整：缺少 {entry} / the AppDir {path} is incomplete: {entry} is missing")]
    IncompleteAppDir { path: PathBuf, entry: &'static str },
    #[error("运行时 {path} 不可用：{source} / the runtime {path} cannot be used: {source}")]
    Runtime { path: PathBuf, source: ElfError },
    #[error(
        "运行时 {path} 的程序之后还有 {extra} 字节，镜像将无法找到文件系统 / the runtime {path} has {extra} bytes \
         after its program: the image would not find its filesystem"
    )]
    RuntimeTrailer { path: PathBuf, extra: u64 },
    #[error("无法读取 {path}：{source} / cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("无法写入 {path}：{source} / cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("mksquashfs 失败：{0} / mksquashfs failed: {0}")]
    Squash(String),
}

/// The bundler's command line, with `OUTPUT` and the runtime's path from the environment.
pub fn parse_pack_arguments(
    arguments: Vec<OsString>,
    output: Option<OsString>,
    runtime: Option<OsString>,
) -> Result<PackRequest, PackError> {
    let mut app_dir = None;
    let mut wants_image = false;
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        let mut value = |name: &'static str| arguments.next().ok_or(PackError::MissingValue(name));
        match argument.to_str() {
            // The official tool's own switch: it is an AppImage, this is not.
            Some("--appimage-extract-and-run") => {}
            Some("--verbosity") => {
                value("--verbosity")?;
            }
            Some("--appdir") => app_dir = Some(PathBuf::from(value("--appdir")?)),
            Some("--plugin") => {
                let plugin = value("--plugin")?;
                if !matches!(plugin.to_str(), Some("gtk" | "gstreamer")) {
                    return Err(PackError::UnknownPlugin(plugin.to_string_lossy().into_owned()));
                }
            }
            Some("--output") => {
                let output = value("--output")?;
                if output != OsStr::new("appimage") {
                    return Err(PackError::UnknownOutput(output.to_string_lossy().into_owned()));
                }
                wants_image = true;
            }
            _ => return Err(PackError::UnknownArgument(argument.to_string_lossy().into_owned())),
        }
    }
    if !wants_image {
        return Err(PackError::Missing("--output appimage"));
    }
    Ok(PackRequest {
        app_dir: app_dir.ok_or(PackError::Missing("--appdir"))?,
        output: output.filter(|o| !o.is_empty()).map(PathBuf::from).ok_or(PackError::Missing("OUTPUT"))?,
        runtime: runtime.filter(|r| !r.is_empty()).map(PathBuf::from).ok_or(PackError::Missing(RUNTIME_VARIABLE))?,
    })
}

/// The image: the runtime with the magic in its ELF padding, then the squashfs, which the
/// runtime finds where its ELF ends: so nothing may follow the ELF in the runtime's file.
pub fn image(runtime_path: &Path, runtime: &[u8], squashfs: &[u8]) -> Result<Vec<u8>, PackError> {
    let header = runtime.get(..ELF_HEADER_LEN).unwrap_or(runtime);
    let end = elf_end(header).map_err(|source| PackError::Runtime { path: runtime_path.to_owned(), source })?;
    let len = runtime.len() as u64;
    if end != len {
        return Err(PackError::RuntimeTrailer { path: runtime_path.to_owned(), extra: len.abs_diff(end) });
    }
    let mut image = Vec::with_capacity(runtime.len() + squashfs.len());
    image.extend_from_slice(runtime);
    image[MAGIC_OFFSET..MAGIC_OFFSET + MAGIC.len()].copy_from_slice(&MAGIC);
    image.extend_from_slice(squashfs);
    Ok(image)
}

/// Squashes the AppDir and writes the image, executable; a failure leaves no image behind.
pub fn pack(request: &PackRequest) -> Result<(), PackError> {
    for entry in ["AppRun", ".DirIcon"] {
        if std::fs::symlink_metadata(request.app_dir.join(entry)).is_err() {
            return Err(PackError::IncompleteAppDir { path: request.app_dir.clone(), entry });
        }
    }
    let has_desktop_entry = std::fs::read_dir(&request.app_dir)
        .map_err(|source| PackError::Read { path: request.app_dir.clone(), source })?
        .filter_map(Result::ok)
        .any(|e| e.path().extension() == Some(OsStr::new("desktop")));
    if !has_desktop_entry {
        return Err(PackError::IncompleteAppDir { path: request.app_dir.clone(), entry: "*.desktop" });
    }
    let runtime =
        std::fs::read(&request.runtime).map_err(|source| PackError::Read { path: request.runtime.clone(), source })?;
    let squashfs_path = with_suffix(&request.output, ".squashfs");
    let squashed = Command::new("mksquashfs")
        .arg(&request.app_dir)
        .arg(&squashfs_path)
        .args(["-root-owned", "-noappend", "-no-xattrs", "-comp", "gzip", "-no-progress", "-quiet"])
        .output();
    let squashfs = match squashed {
        Ok(out) if out.status.success() => {
            std::fs::read(&squashfs_path).map_err(|source| PackError::Read { path: squashfs_path.clone(), source })
        }
        Ok(out) => Err(PackError::Squash(String::from_utf8_lossy(&out.stderr).trim().to_owned())),
        Err(e) => Err(PackError::Squash(e.to_string())),
    };
    let _ = std::fs::remove_file(&squashfs_path);
    let image = image(&request.runtime, &runtime, &squashfs?)?;
    let part = with_suffix(&request.output, ".part");
    let written = write_executable(&part, &image).and_then(|()| std::fs::rename(&part, &request.output));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&part);
        PackError::Write { path: request.output.clone(), source }
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_executable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn env(value: &str) -> Option<OsString> {
        Some(OsString::from(value))
    }

    #[test]
    fn the_bundlers_command_line_is_understood() {
        let args = os(&[
            "--appimage-extract-and-run",
            "--verbosity",
            "1",
            "--appdir",
            "/b/Shegong.AppDir",
            "--plugin",
            "gtk",
            "--output",
            "appimage",
        ]);
        let request = parse_pack_arguments(args, env("/b/x.AppImage"), env("/t/runtime")).expect("understood");
        assert_eq!(
            request,
            PackRequest {
                app_dir: "/b/Shegong.AppDir".into(),
                output: "/b/x.AppImage".into(),
                runtime: "/t/runtime".into()
            }
        );
    }

    #[test]
    fn what_it_cannot_do_is_refused_naming_the_argument() {
        let parse =
            |args: &[&str]| parse_pack_arguments(os(args), env("/o"), env("/r")).expect_err("refused").to_string();
        assert!(parse(&["--appdir", "d", "--output", "deb"]).contains("deb"));
        assert!(parse(&["--appdir", "d", "--plugin", "qt", "--output", "appimage"]).contains("qt"));
        assert!(parse(&["--appdir", "d", "--deploy-deps-only", "x"]).contains("--deploy-deps-only"));
        assert!(parse(&["--appdir"]).contains("--appdir"));
        assert!(parse(&["--appdir", "d"]).contains("--output appimage"));
        let no_runtime = parse_pack_arguments(os(&["--appdir", "d", "--output", "appimage"]), env("/o"), None);
        assert!(no_runtime.expect_err("refused").to_string().contains(RUNTIME_VARIABLE));
        let no_output = parse_pack_arguments(os(&["--appdir", "d", "--output", "appimage"]), env(""), env("/r"));
        assert!(no_output.expect_err("refused").to_string().contains("OUTPUT"));
    }

    fn elf(shoff: u64, len: usize) -> Vec<u8> {
        let mut elf = vec![0u8; len];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        elf[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        elf[0x3C..0x3E].copy_from_slice(&2u16.to_le_bytes());
        elf
    }

    #[test]
    fn the_image_is_the_marked_runtime_and_then_the_filesystem() {
        let runtime = elf(72, 200);
        let image = image(Path::new("r"), &runtime, b"hsqs...").expect("an image");
        assert_eq!(&image[MAGIC_OFFSET..MAGIC_OFFSET + 3], &MAGIC);
        assert_eq!(elf_end(&image[..ELF_HEADER_LEN]), Ok(200));
        assert_eq!(&image[200..], b"hsqs...");
        assert_eq!(image[..MAGIC_OFFSET], runtime[..MAGIC_OFFSET]);
    }

    #[test]
    fn a_runtime_with_something_after_its_program_is_refused() {
        let error = image(Path::new("r"), &elf(72, 300), b"hsqs").expect_err("refused");
        assert!(matches!(error, PackError::RuntimeTrailer { extra: 100, .. }), "{error}");
        assert!(matches!(image(Path::new("r"), b"#!/bin/sh\n", b"hsqs"), Err(PackError::Runtime { .. })));
    }

    proptest! {
        #[test]
        fn no_command_line_panics(args in proptest::collection::vec(".*", 0..8), out in ".*", rt in ".*") {
            let _ = parse_pack_arguments(args.into_iter().map(OsString::from).collect(), env(&out), env(&rt));
        }

        #[test]
        fn no_runtime_bytes_panic(runtime in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = image(Path::new("r"), &runtime, b"hsqs");
        }
    }
}
