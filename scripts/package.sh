#!/usr/bin/env bash
# Builds the installable packages into target/packages/:
#   shegong_<version>_<arch>.deb       the desktop app, by Tauri's bundler (`cargo tauri bundle`)
#   shegong-sync_<version>_<arch>.deb  the sync server with its systemd unit and default
#                                      configuration, by cargo-deb (sync-server/packaging/)
#   shegong_<version>_<arch>.AppImage  the desktop app's .deb contents as an AppDir, squashed
#                                      (mksquashfs) and appended to crates/appimage-runtime
# Both are built optimised by default. With --debug they package the debug build that
# scripts/test.sh makes (the same cargo command, so nothing is compiled again after it), which is
# what the packages test installs.
#
# Needs what scripts/setup.sh installs (tauri-cli and cargo-deb at pinned versions). The UI is
# built first (scripts/build-ui.sh), since the app embeds it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

profile=release
case "${1:-}" in
  "") ;;
  --debug) profile=debug ;;
  *)
    echo "usage: scripts/package.sh [--debug]" >&2
    exit 2
    ;;
esac

for tool in cargo-tauri cargo-deb mksquashfs; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "package: $tool is missing: run scripts/setup.sh" >&2
    exit 1
  fi
done

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
OUT="$TARGET_DIR/packages"

./scripts/build-ui.sh
if [ "$profile" = debug ]; then
  # Exactly scripts/test.sh's build: a narrower one (-p ...) resolves other features for shared
  # dependencies (SETUP-NOTES.md, "Cargo feature unification") and would rebuild most of the tree.
  cargo build --workspace --exclude ui --all-targets
  tauri_profile=(--debug)
  # cargo-deb 3.8 warns that a dev profile "will be a hard error in the future"; the version is
  # pinned in setup.sh, and the test packages exactly the binaries the other tests ran.
  deb_profile=(--profile dev)
else
  # Both binaries from one build, so they share one feature resolution.
  cargo build --release -p shegong-desktop -p sync-server
  # The AppImage's runtime on its own: built with the two above, its dependencies' features
  # (flate2's) would change theirs.
  cargo build --release -p appimage-runtime
  tauri_profile=()
  deb_profile=()
fi

rm -rf "$OUT" "$TARGET_DIR/$profile/bundle/deb" "$TARGET_DIR/$profile/bundle/appimage"
mkdir -p "$OUT"

# The binaries are built above; these only lay out and compress the packages.
# --no-binary-patching: the bundler would otherwise rewrite the built binary in place (a marker
# for the updater, which the app does not use), i.e. the binary the tests run, maybe running.
(cd src-tauri && cargo tauri bundle "${tauri_profile[@]}" --bundles deb --no-binary-patching)
cargo deb -p sync-server --no-build "${deb_profile[@]}" --output "$OUT"

# Tauri names its file after the product name ("Shegong_..."); Debian's convention is the
# package name, as cargo-deb does.
for deb in "$TARGET_DIR/$profile/bundle/deb/"*.deb; do
  name="$(dpkg-deb -f "$deb" Package)_$(dpkg-deb -f "$deb" Version)_$(dpkg-deb -f "$deb" Architecture).deb"
  cp "$deb" "$OUT/$name"
done

for deb in "$OUT"/*.deb; do
  echo "package: $deb ($(du -h "$deb" | cut -f1), installed $(dpkg-deb -f "$deb" Installed-Size) KiB)"
done

# The AppImage, without Tauri's bundler (which downloads linuxdeploy and the AppImage runtime from
# GitHub): the app's .deb unpacked as the AppDir (usr/bin/shegong, its desktop entry and icon),
# the entry and the icon at its root as the AppImage specification asks, an AppRun that starts
# the binary; squashed with Debian's mksquashfs (gzip: the one decompressor the runtime has) and
# appended to our runtime (crates/appimage-runtime), which extracts it into a cache and runs
# AppRun. Like the .deb, it uses the system's WebKitGTK 4.1 and GTK 3.
app_deb=$(ls "$OUT"/shegong_*.deb)
appdir="$TARGET_DIR/$profile/bundle/appimage/shegong.AppDir"
mkdir -p "$appdir"
dpkg-deb -x "$app_deb" "$appdir"
desktop=$(ls "$appdir"/usr/share/applications/*.desktop)
cp "$desktop" "$appdir/shegong.desktop"
icon=$(sed -n 's/^Icon=//p' "$desktop")
cp "$appdir/usr/share/icons/hicolor/256x256/apps/$icon.png" "$appdir/$icon.png"
ln -s "$icon.png" "$appdir/.DirIcon"
cat >"$appdir/AppRun" <<'APPRUN'
#!/bin/sh
# Started by the AppImage runtime with APPDIR set (see crates/appimage-runtime); exec keeps the
# process the runtime was, which WebDriver and desktops follow.
exec "$APPDIR/usr/bin/shegong" "$@"
APPRUN
chmod 755 "$appdir/AppRun"
appimage="$OUT/shegong_$(dpkg-deb -f "$app_deb" Version)_$(dpkg-deb -f "$app_deb" Architecture).AppImage"
squashfs="$TARGET_DIR/$profile/bundle/appimage/shegong.squashfs"
mksquashfs "$appdir" "$squashfs" -root-owned -noappend -no-xattrs -comp gzip -no-progress >/dev/null
# Stripped (a copy): the runtime's symbols are of no use to anyone running the app.
strip --strip-all -o "$appimage" "$TARGET_DIR/$profile/appimage-runtime"
runtime_size=$(stat -c %s "$appimage")
# The AppImage type-2 magic in the ELF identification's padding (bytes 8-10), which loaders ignore.
printf 'AI\002' | dd of="$appimage" bs=1 seek=8 conv=notrunc status=none
cat "$squashfs" >>"$appimage"
chmod 755 "$appimage"
rm -rf "$TARGET_DIR/$profile/bundle/appimage"
if [ "$("$appimage" --appimage-offset)" != "$runtime_size" ]; then
  echo "package: $appimage: the runtime does not find the squashfs it was given" >&2
  exit 1
fi
echo "package: $appimage ($(du -h "$appimage" | cut -f1), runtime $runtime_size bytes)"
