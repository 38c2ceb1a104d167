//! The runtime of the desktop app's AppImage (scripts/package.sh): the ELF at the front of the
//! image. The image is this program with a squashfs (the AppDir) appended after the end of its
//! ELF. Where the official runtime mounts that squashfs with FUSE (and is downloaded from GitHub,
//! which this project may not use), this one extracts it once into a per-image cache directory
//! and runs its `AppRun` from there, with the environment the AppImage specification gives
//! (`APPIMAGE`, `APPDIR`, `ARGV0`, `OWD`).
//!
//! `--appimage-extract` extracts into `./squashfs-root` and `--appimage-offset` prints where the
//! squashfs starts, as the official runtime does.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use backhand::{FilesystemReader, InnerNode};

pub mod pack;

/// The AppImage type-2 magic, at bytes 8..11 of the image (the ELF identification's padding,
/// which the loader ignores): [`pack`] writes it into its copy of this program.
pub const MAGIC: [u8; 3] = *b"AI\x02";
pub const MAGIC_OFFSET: usize = 8;

/// The size of a 64-bit ELF header: everything [`elf_end`] reads is in it.
pub const ELF_HEADER_LEN: usize = 64;

/// The cache directory's name under `$XDG_CACHE_HOME` (or `~/.cache`).
pub const CACHE_DIR_NAME: &str = "shegong-appimage";

/// Why the front of a file is not a 64-bit little-endian ELF whose end can be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("文件太短，不是 ELF（{len} 字节）/ too short for an ELF header ({len} bytes)")]
    TooShort { len: usize },
    #[error("不是 ELF 文件 / not an ELF file")]
    NotElf,
    #[error("不是 64 位小端 ELF / not a 64-bit little-endian ELF")]
    Unsupported,
    #[error("ELF 头中的节头表位置超出范围 / the ELF header's section header table lies beyond any file")]
    Overflow,
}

/// Where an ELF file ends, from its header: the end of its section header table (`e_shoff +
/// e_shnum * e_shentsize`), which the linker puts last; the official runtime's rule. Whatever is
/// after it (the squashfs) is not part of the program.
pub fn elf_end(header: &[u8]) -> Result<u64, ElfError> {
    if header.len() < ELF_HEADER_LEN {
        return Err(ElfError::TooShort { len: header.len() });
    }
    if header.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(ElfError::NotElf);
    }
    // EI_CLASS 2 is 64-bit, EI_DATA 1 little-endian.
    if header.get(4..6) != Some([2u8, 1].as_slice()) {
        return Err(ElfError::Unsupported);
    }
    let shoff = u64::from_le_bytes(field(header, 0x28)?);
    let shentsize = u16::from_le_bytes(field(header, 0x3A)?);
    let shnum = u16::from_le_bytes(field(header, 0x3C)?);
    shoff.checked_add(u64::from(shentsize) * u64::from(shnum)).ok_or(ElfError::Overflow)
}

fn field<const N: usize>(header: &[u8], at: usize) -> Result<[u8; N], ElfError> {
    header.get(at..at + N).and_then(|bytes| bytes.try_into().ok()).ok_or(ElfError::TooShort { len: header.len() })
}

/// What the command line asks of the runtime itself; anything else is the application's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run `AppRun` with these arguments.
    Run(Vec<OsString>),
    Extract,
    Offset,
}

/// The runtime's own options are a first argument starting with `--appimage-`, as in the
/// official runtime; an unknown one is an error rather than passed on to the application.
pub fn parse_arguments(arguments: Vec<OsString>) -> Result<Invocation, RuntimeError> {
    let Some(first) = arguments.first().and_then(|a| a.to_str()) else {
        return Ok(Invocation::Run(arguments));
    };
    if !first.starts_with("--appimage-") {
        return Ok(Invocation::Run(arguments));
    }
    match first {
        "--appimage-extract" if arguments.len() == 1 => Ok(Invocation::Extract),
        "--appimage-offset" if arguments.len() == 1 => Ok(Invocation::Offset),
        _ => Err(RuntimeError::UnknownOption(arguments.join(OsStr::new(" ")).to_string_lossy().into_owned())),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("无法读取 AppImage 文件 {path}：{source} / cannot read the AppImage file {path}: {source}")]
    ReadImage { path: PathBuf, source: io::Error },
    #[error("AppImage 文件 {path} 已损坏：{source} / the AppImage file {path} is damaged: {source}")]
    Elf { path: PathBuf, source: ElfError },
    #[error(
        "AppImage 文件 {path} 已损坏：程序之后没有文件系统（文件 {size} 字节，文件系统应从第 {offset} 字节开始）/ \
         the AppImage file {path} is damaged: there is no filesystem after its program (the file has {size} bytes, \
         the filesystem would start at byte {offset})"
    )]
    NoFilesystem { path: PathBuf, offset: u64, size: u64 },
    #[error(
        "AppImage 文件 {path} 已损坏或不完整，无法解开其文件系统：{message} / the AppImage file {path} is damaged \
         or incomplete, its filesystem cannot be read: {message}"
    )]
    Filesystem { path: PathBuf, message: String },
    #[error("AppImage 文件 {path} 中有不安全的路径 {entry} / the AppImage file {path} holds an unsafe path {entry}")]
    UnsafeEntry { path: PathBuf, entry: String },
    #[error("无法写入 {path}：{source} / cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path} 已存在，请先删除或移走 / {path} already exists: remove or move it first")]
    ExtractTargetExists { path: PathBuf },
    #[error(
        "找不到缓存目录：HOME 与 XDG_CACHE_HOME 均未设置 / no cache directory: neither HOME nor XDG_CACHE_HOME is set"
    )]
    NoCacheDirectory,
    #[error(
        "未知的 AppImage 选项：{0}（支持 --appimage-extract、--appimage-offset）/ unknown AppImage option: {0} \
         (supported: --appimage-extract, --appimage-offset)"
    )]
    UnknownOption(String),
    #[error("无法启动 {path}：{source} / cannot start {path}: {source}")]
    Exec { path: PathBuf, source: io::Error },
}

/// An opened AppImage: where it is and where its squashfs starts.
#[derive(Debug)]
pub struct Image {
    pub path: PathBuf,
    pub offset: u64,
    pub size: u64,
    /// Identifies this build of the image among others in the cache (see [`Image::cache_key`]).
    modified: (i64, i64),
}

impl Image {
    /// Reads the ELF header of the file at `path` and checks that something follows the ELF.
    pub fn open(path: &Path) -> Result<Image, RuntimeError> {
        Image::open_as(path, path)
    }

    /// [`Image::open`] of `file` (`/proc/self/exe`) known as `path` (where it is) in messages and
    /// in `APPIMAGE`.
    fn open_as(file: &Path, path: &Path) -> Result<Image, RuntimeError> {
        let read_error = |source| RuntimeError::ReadImage { path: path.to_path_buf(), source };
        let mut file = File::open(file).map_err(read_error)?;
        let metadata = file.metadata().map_err(read_error)?;
        let mut header = Vec::with_capacity(ELF_HEADER_LEN);
        (&mut file).take(ELF_HEADER_LEN as u64).read_to_end(&mut header).map_err(read_error)?;
        let offset = elf_end(&header).map_err(|source| RuntimeError::Elf { path: path.to_path_buf(), source })?;
        let size = metadata.len();
        if offset >= size {
            return Err(RuntimeError::NoFilesystem { path: path.to_path_buf(), offset, size });
        }
        Ok(Image { path: path.to_path_buf(), offset, size, modified: (metadata.mtime(), metadata.mtime_nsec()) })
    }

    /// The name of this image's directory in the cache: its size and modification time, so a
    /// rebuilt or updated image (a new file) is extracted anew and the same one is reused without
    /// reading it all.
    pub fn cache_key(&self) -> String {
        format!("{}-{}.{:09}", self.size, self.modified.0, self.modified.1)
    }

    /// Extracts the squashfs into `dest`, which must not exist: file modes (without set-id bits)
    /// and symlinks kept; devices, pipes and sockets (which no AppDir has) skipped.
    pub fn extract_to(&self, dest: &Path) -> Result<(), RuntimeError> {
        // backhand parses untrusted bytes: should it panic on some damaged image, the user gets
        // the same clear error as for any other damage rather than a backtrace.
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let extracted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.extract_unguarded(dest)));
        std::panic::set_hook(previous_hook);
        extracted.unwrap_or_else(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unreadable".into());
            Err(RuntimeError::Filesystem { path: self.path.clone(), message })
        })
    }

    fn extract_unguarded(&self, dest: &Path) -> Result<(), RuntimeError> {
        let damaged = |error: &dyn std::fmt::Display| RuntimeError::Filesystem {
            path: self.path.clone(),
            message: error.to_string(),
        };
        let write_error = |path: &Path, source| RuntimeError::Write { path: path.to_path_buf(), source };
        let file =
            File::open(&self.path).map_err(|source| RuntimeError::ReadImage { path: self.path.clone(), source })?;
        let filesystem =
            FilesystemReader::from_reader_with_offset(BufReader::new(file), self.offset).map_err(|e| damaged(&e))?;
        fs::create_dir(dest).map_err(|e| write_error(dest, e))?;
        // Directories get their modes last, so a read-only one can still be filled.
        let mut directories = Vec::new();
        for node in filesystem.files() {
            let relative = safe_relative(&node.fullpath).ok_or_else(|| RuntimeError::UnsafeEntry {
                path: self.path.clone(),
                entry: node.fullpath.display().to_string(),
            })?;
            let target = dest.join(&relative);
            let mode = u32::from(node.header.permissions) & 0o1777;
            match &node.inner {
                InnerNode::Dir(_) => {
                    if relative.as_os_str().is_empty() {
                        directories.push((target, mode));
                        continue;
                    }
                    fs::create_dir(&target).map_err(|e| write_error(&target, e))?;
                    directories.push((target, mode));
                }
                InnerNode::File(file) => {
                    let mut reader = filesystem.file(file).reader_checked().map_err(|e| damaged(&e))?;
                    // create_new: never through a symlink or over an entry already extracted.
                    let mut out = File::create_new(&target).map_err(|e| write_error(&target, e))?;
                    let copied = io::copy(&mut reader, &mut out).map_err(|e| damaged(&e))?;
                    if copied != file.file_len() as u64 {
                        return Err(RuntimeError::Filesystem {
                            path: self.path.clone(),
                            message: format!("{} is cut short", node.fullpath.display()),
                        });
                    }
                    out.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| write_error(&target, e))?;
                }
                InnerNode::Symlink(link) => {
                    std::os::unix::fs::symlink(&link.link, &target).map_err(|e| write_error(&target, e))?;
                }
                InnerNode::CharacterDevice(_)
                | InnerNode::BlockDevice(_)
                | InnerNode::NamedPipe
                | InnerNode::Socket => {}
            }
        }
        for (directory, mode) in directories.iter().rev() {
            fs::set_permissions(directory, fs::Permissions::from_mode(*mode)).map_err(|e| write_error(directory, e))?;
        }
        Ok(())
    }

    /// This image's extracted AppDir in the cache under `cache_root`, extracted now unless a
    /// complete one is there. Extraction goes to a temporary directory renamed into place, so an
    /// interrupted one is never taken for complete; two starts at once both extract and the
    /// first rename wins.
    pub fn extracted_in(&self, cache_root: &Path) -> Result<PathBuf, RuntimeError> {
        let key = self.cache_key();
        let dir = cache_root.join(&key);
        if dir.join("AppRun").symlink_metadata().is_ok() {
            return Ok(dir);
        }
        fs::create_dir_all(cache_root)
            .map_err(|source| RuntimeError::Write { path: cache_root.to_path_buf(), source })?;
        remove_abandoned_extractions(cache_root);
        let partial = cache_root.join(format!(".{key}.partial-{}", std::process::id()));
        if let Err(error) = self.extract_to(&partial) {
            remove_tree(&partial);
            return Err(error);
        }
        if let Err(source) = fs::rename(&partial, &dir) {
            remove_tree(&partial);
            if dir.join("AppRun").symlink_metadata().is_err() {
                return Err(RuntimeError::Write { path: dir, source });
            }
        }
        Ok(dir)
    }
}

/// `fullpath` (absolute inside the image) as a path relative to the extraction directory, if
/// it has nothing but plain names in it.
fn safe_relative(fullpath: &Path) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for component in fullpath.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => relative.push(name),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(relative)
}

/// Temporary directories of extractions whose process is gone (killed, power lost).
fn remove_abandoned_extractions(cache_root: &Path) {
    let Ok(entries) = fs::read_dir(cache_root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix('.')).and_then(|n| n.rsplit_once(".partial-")) else {
            continue;
        };
        let Ok(pid) = pid.1.parse::<u32>() else { continue };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            remove_tree(&entry.path());
        }
    }
}

/// Removes a directory tree, read-only directories in it included.
fn remove_tree(path: &Path) {
    fn make_writable(path: &Path) {
        let Ok(metadata) = path.symlink_metadata() else { return };
        if !metadata.is_dir() {
            return;
        }
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(metadata.mode() | 0o700));
        if let Ok(entries) = fs::read_dir(path) {
            for entry in entries.flatten() {
                make_writable(&entry.path());
            }
        }
    }
    make_writable(path);
    let _ = fs::remove_dir_all(path);
}

/// `$XDG_CACHE_HOME/shegong-appimage`, or `~/.cache/shegong-appimage` (the XDG default). A
/// relative `XDG_CACHE_HOME` is ignored, as the XDG specification says.
pub fn cache_root(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> Result<PathBuf, RuntimeError> {
    let non_empty = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(cache) = non_empty(xdg_cache_home).filter(|p| p.is_absolute()) {
        return Ok(cache.join(CACHE_DIR_NAME));
    }
    let home = non_empty(home).ok_or(RuntimeError::NoCacheDirectory)?;
    Ok(home.join(".cache").join(CACHE_DIR_NAME))
}

/// The runtime: `Err` for everything that stops it; on success, running `AppRun` replaces this
/// process, so it returns only for `--appimage-extract` and `--appimage-offset`.
pub fn run() -> Result<(), RuntimeError> {
    let self_exe = Path::new("/proc/self/exe");
    let path = fs::read_link(self_exe).map_err(|source| RuntimeError::ReadImage { path: self_exe.into(), source })?;
    let mut arguments = std::env::args_os();
    let argv0 = arguments.next().unwrap_or_default();
    let invocation = parse_arguments(arguments.collect())?;
    // Read through /proc/self/exe, which is this very file even if it was moved since.
    let image = Image::open_as(self_exe, &path)?;
    match invocation {
        Invocation::Offset => {
            println!("{}", image.offset);
            Ok(())
        }
        Invocation::Extract => {
            let dest = PathBuf::from("squashfs-root");
            if dest.symlink_metadata().is_ok() {
                return Err(RuntimeError::ExtractTargetExists { path: dest });
            }
            image.extract_to(&dest).inspect_err(|_| remove_tree(&dest))?;
            println!("squashfs-root");
            Ok(())
        }
        Invocation::Run(arguments) => {
            let root = cache_root(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))?;
            let appdir = image.extracted_in(&root)?;
            let app_run = appdir.join("AppRun");
            let mut command = std::process::Command::new(&app_run);
            command.args(arguments).env("APPIMAGE", &path).env("APPDIR", &appdir).env("ARGV0", argv0);
            if let Ok(cwd) = std::env::current_dir() {
                command.env("OWD", cwd);
            }
            let source = std::os::unix::process::CommandExt::exec(&mut command);
            Err(RuntimeError::Exec { path: app_run, source })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(shoff: u64, shentsize: u16, shnum: u16) -> Vec<u8> {
        let mut header = vec![0u8; ELF_HEADER_LEN];
        header[..6].copy_from_slice(b"\x7fELF\x02\x01");
        header[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        header[0x3A..0x3C].copy_from_slice(&shentsize.to_le_bytes());
        header[0x3C..0x3E].copy_from_slice(&shnum.to_le_bytes());
        header
    }

    #[test]
    fn the_elf_ends_after_its_section_header_table() {
        assert_eq!(elf_end(&header(1000, 64, 30)), Ok(1000 + 64 * 30));
    }

    #[test]
    fn the_magic_in_the_padding_changes_nothing() {
        let mut with_magic = header(4096, 64, 3);
        with_magic[MAGIC_OFFSET..MAGIC_OFFSET + 3].copy_from_slice(&MAGIC);
        assert_eq!(elf_end(&with_magic), Ok(4096 + 192));
    }

    #[test]
    fn other_files_are_refused_with_the_reason() {
        assert_eq!(elf_end(b"\x7fELF"), Err(ElfError::TooShort { len: 4 }));
        assert_eq!(elf_end(&[b'#'; 64]), Err(ElfError::NotElf));
        let mut big_endian = header(0, 0, 0);
        big_endian[5] = 2;
        assert_eq!(elf_end(&big_endian), Err(ElfError::Unsupported));
        let mut elf32 = header(0, 0, 0);
        elf32[4] = 1;
        assert_eq!(elf_end(&elf32), Err(ElfError::Unsupported));
        assert_eq!(elf_end(&header(u64::MAX, 64, 2)), Err(ElfError::Overflow));
    }

    #[test]
    fn the_runtime_options_are_recognised_and_the_rest_goes_to_the_application() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(parse_arguments(args(&["--appimage-extract"])).ok(), Some(Invocation::Extract));
        assert_eq!(parse_arguments(args(&["--appimage-offset"])).ok(), Some(Invocation::Offset));
        assert_eq!(parse_arguments(args(&["--help", "x"])).ok(), Some(Invocation::Run(args(&["--help", "x"]))));
        assert_eq!(parse_arguments(vec![]).ok(), Some(Invocation::Run(vec![])));
        let unknown = parse_arguments(args(&["--appimage-mount"])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(unknown.contains("未知的 AppImage 选项") && unknown.contains("unknown AppImage option"), "{unknown}");
    }

    #[test]
    fn the_cache_is_under_xdg_cache_home_or_else_home() {
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(cache_root(some("/c"), some("/h")).ok(), Some(PathBuf::from("/c/shegong-appimage")));
        assert_eq!(cache_root(some("rel"), some("/h")).ok(), Some(PathBuf::from("/h/.cache/shegong-appimage")));
        assert_eq!(cache_root(some(""), some("/h")).ok(), Some(PathBuf::from("/h/.cache/shegong-appimage")));
        assert!(matches!(cache_root(None, None), Err(RuntimeError::NoCacheDirectory)));
    }

    #[test]
    fn only_plain_names_are_extracted() {
        assert_eq!(safe_relative(Path::new("/usr/bin/shegong")), Some(PathBuf::from("usr/bin/shegong")));
        assert_eq!(safe_relative(Path::new("/")), Some(PathBuf::new()));
        assert_eq!(safe_relative(Path::new("/usr/../../etc/passwd")), None);
    }

    proptest! {
        #[test]
        fn any_bytes_give_an_end_or_an_error_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = elf_end(&bytes);
        }

        #[test]
        fn any_elf_header_fields_give_their_end_or_overflow(
            shoff in any::<u64>(),
            shentsize in any::<u16>(),
            shnum in any::<u16>(),
            rest in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = header(shoff, shentsize, shnum);
            bytes.extend(rest);
            let expected = shoff.checked_add(u64::from(shentsize) * u64::from(shnum)).ok_or(ElfError::Overflow);
            prop_assert_eq!(elf_end(&bytes), expected);
        }

        #[test]
        fn any_arguments_are_parsed_without_a_panic(arguments in proptest::collection::vec(".*", 0..4)) {
            let arguments: Vec<OsString> = arguments.into_iter().map(OsString::from).collect();
            if let Ok(Invocation::Run(passed)) = parse_arguments(arguments.clone()) {
                prop_assert_eq!(passed, arguments);
            }
        }
    }
}
