//! The runtime binary run as an AppImage: this crate's built `appimage-runtime` with a squashfs
//! appended (written here with backhand's writer, gzip as scripts/package.sh's mksquashfs), run
//! with a temporary HOME and XDG_CACHE_HOME. Damaged images give the clear error, never a panic,
//! and leave nothing in the cache.

use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use appimage_runtime::{CACHE_DIR_NAME, MAGIC, MAGIC_OFFSET};
use backhand::compression::Compressor;
use backhand::{FilesystemCompressor, FilesystemWriter, NodeHeader};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const APP_RUN: &str = "#!/bin/sh\n\
    echo \"APPIMAGE=$APPIMAGE\"\n\
    echo \"APPDIR=$APPDIR\"\n\
    echo \"ARGV0=$ARGV0\"\n\
    echo \"OWD=$OWD\"\n\
    for a in \"$@\"; do echo \"arg=$a\"; done\n\
    exec \"$APPDIR/usr/bin/tool\"\n";
const TOOL: &str = "#!/bin/sh\necho tool ran\n";

/// A squashfs like the package's AppDir: AppRun, an executable under usr/bin, a data file, a
/// symlink.
fn squashfs() -> TestResult<Vec<u8>> {
    let mut writer = FilesystemWriter::default();
    writer.set_compressor(FilesystemCompressor::new(Compressor::Gzip, None)?);
    writer.set_root_mode(0o755);
    let dir = NodeHeader::new(0o755, 0, 0, 0);
    writer.push_file(Cursor::new(APP_RUN.as_bytes()), "AppRun", NodeHeader::new(0o755, 0, 0, 0))?;
    writer.push_dir("usr", dir)?;
    writer.push_dir("usr/bin", dir)?;
    writer.push_file(Cursor::new(TOOL.as_bytes()), "usr/bin/tool", NodeHeader::new(0o755, 0, 0, 0))?;
    writer.push_file(Cursor::new(vec![7u8; 300_000]), "data.bin", NodeHeader::new(0o644, 0, 0, 0))?;
    writer.push_symlink("usr/bin/tool", ".DirIcon", NodeHeader::new(0o777, 0, 0, 0))?;
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out)?;
    Ok(out.into_inner())
}

/// The squashfs superblock's `bytes_used`: its length without the padding after it.
fn bytes_used(filesystem: &[u8]) -> TestResult<usize> {
    let field = filesystem.get(40..48).ok_or("a superblock")?;
    Ok(usize::try_from(u64::from_le_bytes(field.try_into()?))?)
}

fn runtime() -> TestResult<Vec<u8>> {
    let mut runtime = std::fs::read(env!("CARGO_BIN_EXE_appimage-runtime"))?;
    runtime.get_mut(MAGIC_OFFSET..MAGIC_OFFSET + MAGIC.len()).ok_or("the runtime is an ELF")?.copy_from_slice(&MAGIC);
    Ok(runtime)
}

/// A temporary home, a working directory and an image (the runtime and then `filesystem`).
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> TestResult<Sandbox> {
        let sandbox = Sandbox { dir: tempfile::tempdir()? };
        std::fs::create_dir(sandbox.home())?;
        std::fs::create_dir(sandbox.work())?;
        Ok(sandbox)
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn image(&self, bytes: &[u8]) -> TestResult<PathBuf> {
        let path = self.dir.path().join("test.AppImage");
        let mut file = std::fs::File::create(&path)?;
        file.write_all(bytes)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        drop(file);
        Ok(path)
    }

    fn run(&self, image: &Path, args: &[&str]) -> TestResult<Output> {
        self.run_with(image, args, &[])
    }

    /// Runs `program` in the working directory with a clean environment and `extra` in it.
    fn run_with(&self, image: &Path, args: &[&str], extra: &[(&str, &Path)]) -> TestResult<Output> {
        let mut command = Command::new(image);
        command
            .args(args)
            .current_dir(self.work())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.cache())
            .envs(extra.iter().copied());
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        // Another test's fork may still hold the image open for writing a moment (ETXTBSY).
        let started = Instant::now();
        let mut child = loop {
            match command.spawn() {
                Err(error) if error.raw_os_error() == Some(26) && started.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        // A deadline: an image that never ends fails its test instead of hanging the run. (Its
        // output is a few lines: the pipes never fill while it runs.)
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait()?.is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} {args:?} still ran after 60 s", image.display()).into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(child.wait_with_output()?)
    }

    /// Everything in the cache directory (names only).
    fn cached(&self) -> TestResult<Vec<String>> {
        let root = self.cache().join(CACHE_DIR_NAME);
        if !root.exists() {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        for entry in std::fs::read_dir(root)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(key).and_then(|l| l.strip_prefix('=')))
}

#[test]
fn the_image_runs_its_app_run_from_the_cache_with_the_arguments_and_the_appimage_environment() -> TestResult {
    let sandbox = Sandbox::new()?;
    let image = sandbox.image(&[runtime()?, squashfs()?].concat())?;

    let first = sandbox.run(&image, &["--flag", "两个 词"])?;
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert_eq!(value(&out, "APPIMAGE"), Some(image.to_str().ok_or("utf-8")?), "{out}");
    assert_eq!(value(&out, "ARGV0"), Some(image.to_str().ok_or("utf-8")?), "{out}");
    assert_eq!(value(&out, "OWD"), Some(sandbox.work().to_str().ok_or("utf-8")?), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("arg=")).collect::<Vec<_>>(), ["arg=--flag", "arg=两个 词"]);
    assert!(out.contains("tool ran"), "the executable under usr/bin kept its mode: {out}");
    let appdir = PathBuf::from(value(&out, "APPDIR").ok_or("APPDIR")?);
    assert!(appdir.starts_with(sandbox.cache().join(CACHE_DIR_NAME)), "{}", appdir.display());
    assert_eq!(std::fs::read_link(appdir.join(".DirIcon"))?, Path::new("usr/bin/tool"));
    assert_eq!(std::fs::read(appdir.join("data.bin"))?, vec![7u8; 300_000]);
    assert_eq!(sandbox.cached()?.len(), 1, "one directory, no temporary one left: {:?}", sandbox.cached()?);

    // The second start reuses the extraction.
    let marker = appdir.join("marker");
    std::fs::write(&marker, "")?;
    let second = sandbox.run(&image, &[])?;
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(value(&stdout(&second), "APPDIR"), Some(appdir.to_str().ok_or("utf-8")?));
    assert!(marker.exists(), "the cached directory was reused, not extracted again");
    Ok(())
}

#[test]
fn appimage_pack_squashes_the_bundlers_app_dir_behind_the_runtime_into_an_image_that_runs() -> TestResult {
    let sandbox = Sandbox::new()?;
    // The AppDir as Tauri's bundler lays it out before it runs linuxdeploy (here: appimage-pack).
    let app_dir = sandbox.dir.path().join("Shegong.AppDir");
    std::fs::create_dir_all(app_dir.join("usr/bin"))?;
    std::fs::create_dir_all(app_dir.join("usr/share/applications"))?;
    let executable = |path: PathBuf, text: &str| -> TestResult {
        std::fs::write(&path, text)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        Ok(())
    };
    executable(app_dir.join("AppRun"), APP_RUN)?;
    executable(app_dir.join("usr/bin/tool"), TOOL)?;
    std::fs::write(app_dir.join("usr/share/applications/Shegong.desktop"), "[Desktop Entry]\nName=Shegong\n")?;
    std::os::unix::fs::symlink("usr/share/applications/Shegong.desktop", app_dir.join("Shegong.desktop"))?;
    std::os::unix::fs::symlink("Shegong.desktop", app_dir.join(".DirIcon"))?;
    let image = sandbox.dir.path().join("Shegong_0.1.0_amd64.AppImage");
    let pack = Path::new(env!("CARGO_BIN_EXE_appimage-pack"));
    let runtime = Path::new(env!("CARGO_BIN_EXE_appimage-runtime"));
    let args = [
        "--appimage-extract-and-run",
        "--verbosity",
        "1",
        "--appdir",
        app_dir.to_str().ok_or("utf-8")?,
        "--plugin",
        "gtk",
        "--output",
        "appimage",
    ];

    // Without the runtime it says what is missing, and writes nothing.
    let refused = sandbox.run_with(pack, &args, &[("OUTPUT", &image)])?;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("SHEGONG_APPIMAGE_RUNTIME"), "{}", stderr(&refused));
    assert!(!image.exists());

    let packed = sandbox.run_with(pack, &args, &[("OUTPUT", &image), ("SHEGONG_APPIMAGE_RUNTIME", runtime)])?;
    assert!(packed.status.success(), "{}", stderr(&packed));
    let bytes = std::fs::read(&image)?;
    assert_eq!(bytes.get(MAGIC_OFFSET..MAGIC_OFFSET + 3), Some(&MAGIC[..]));
    let runtime_len = std::fs::metadata(runtime)?.len();
    let offset = sandbox.run(&image, &["--appimage-offset"])?;
    assert_eq!(stdout(&offset).trim(), runtime_len.to_string(), "{}", stderr(&offset));
    assert_eq!(bytes.get(runtime_len as usize..runtime_len as usize + 4), Some(&b"hsqs"[..]), "the squashfs follows");
    let ran = sandbox.run(&image, &["an argument"])?;
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert!(stdout(&ran).contains("tool ran"), "{}", stdout(&ran));
    assert!(stdout(&ran).contains("arg=an argument"), "{}", stdout(&ran));
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.dir.path())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".AppImage."))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left: {leftovers:?}");
    Ok(())
}

#[test]
fn a_changed_image_is_extracted_anew_and_an_abandoned_extraction_is_removed() -> TestResult {
    let sandbox = Sandbox::new()?;
    let image = sandbox.image(&[runtime()?, squashfs()?].concat())?;
    let root = sandbox.cache().join(CACHE_DIR_NAME);
    std::fs::create_dir_all(root.join(".1-2.000000003.partial-4000000000/usr"))?;
    let first = sandbox.run(&image, &[])?;
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(sandbox.cached()?.len(), 1, "{:?}", sandbox.cached()?);

    // Rewritten (a new build, an update): a new modification time, so a new directory.
    std::thread::sleep(Duration::from_millis(20));
    let image = sandbox.image(&[runtime()?, squashfs()?, vec![0u8; 4096]].concat())?;
    let second = sandbox.run(&image, &[])?;
    assert!(second.status.success(), "{}", stderr(&second));
    assert_ne!(value(&stdout(&first), "APPDIR"), value(&stdout(&second), "APPDIR"));
    Ok(())
}

#[test]
fn appimage_extract_writes_squashfs_root_with_modes_and_symlinks() -> TestResult {
    let sandbox = Sandbox::new()?;
    let image = sandbox.image(&[runtime()?, squashfs()?].concat())?;
    let output = sandbox.run(&image, &["--appimage-extract"])?;
    assert!(output.status.success(), "{}", stderr(&output));
    let root = sandbox.work().join("squashfs-root");
    assert_eq!(std::fs::read_to_string(root.join("AppRun"))?, APP_RUN);
    assert_eq!(std::fs::metadata(root.join("AppRun"))?.permissions().mode() & 0o777, 0o755);
    assert_eq!(std::fs::metadata(root.join("data.bin"))?.permissions().mode() & 0o777, 0o644);
    assert_eq!(std::fs::read_link(root.join(".DirIcon"))?, Path::new("usr/bin/tool"));
    assert!(sandbox.cached()?.is_empty(), "extracting does not use the cache");

    let again = sandbox.run(&image, &["--appimage-extract"])?;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("已存在") && stderr(&again).contains("already exists"), "{}", stderr(&again));
    Ok(())
}

#[test]
fn appimage_offset_is_the_size_of_the_runtime() -> TestResult {
    let sandbox = Sandbox::new()?;
    let runtime = runtime()?;
    let image = sandbox.image(&[runtime.clone(), squashfs()?].concat())?;
    let output = sandbox.run(&image, &["--appimage-offset"])?;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), runtime.len().to_string());
    Ok(())
}

/// A damaged image: exit status 1 with the error in Chinese and English, no panic, nothing left
/// in the cache.
fn assert_refused(sandbox: &Sandbox, image: &Path, chinese: &str, english: &str) -> TestResult {
    let output = sandbox.run(image, &["--flag"])?;
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains(chinese) && message.contains(english), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    assert!(stdout(&output).is_empty(), "AppRun did not run");
    assert!(sandbox.cached()?.is_empty(), "nothing is left in the cache: {:?}", sandbox.cached()?);
    Ok(())
}

#[test]
fn a_truncated_image_is_refused_with_a_clear_error() -> TestResult {
    let sandbox = Sandbox::new()?;
    let runtime = runtime()?;
    let filesystem = squashfs()?;
    let cut = bytes_used(&filesystem)? / 2;
    let image = sandbox.image(&[runtime.as_slice(), filesystem.get(..cut).ok_or("cut")?].concat())?;
    assert_refused(&sandbox, &image, "已损坏或不完整", "damaged or incomplete")
}

#[test]
fn a_runtime_without_a_filesystem_is_refused_with_a_clear_error() -> TestResult {
    let sandbox = Sandbox::new()?;
    let image = sandbox.image(&runtime()?)?;
    assert_refused(&sandbox, &image, "没有文件系统", "no filesystem")
}

#[test]
fn a_tampered_filesystem_is_refused_with_a_clear_error() -> TestResult {
    let sandbox = Sandbox::new()?;
    let runtime = runtime()?;
    let mut filesystem = squashfs()?;
    // The superblock's magic ("hsqs"), then its table pointers, overwritten.
    for byte in filesystem.iter_mut().take(96) {
        *byte = 0xA5;
    }
    let image = sandbox.image(&[runtime.clone(), filesystem].concat())?;
    assert_refused(&sandbox, &image, "已损坏或不完整", "damaged or incomplete")?;

    // Everything after the superblock (data, inode and directory tables) overwritten.
    let mut filesystem = squashfs()?;
    let used = bytes_used(&filesystem)?;
    for byte in filesystem.iter_mut().take(used).skip(96) {
        *byte ^= 0x5A;
    }
    let image = sandbox.image(&[runtime, filesystem].concat())?;
    assert_refused(&sandbox, &image, "已损坏或不完整", "damaged or incomplete")
}
