#!/usr/bin/env bash
# Builds the installable packages into target/packages/:
#   shegong_<version>_<arch>.deb       the desktop app, by Tauri's bundler (`cargo tauri bundle`)
#   shegong-sync_<version>_<arch>.deb  the sync server with its systemd unit and default
#                                      configuration, by cargo-deb (sync-server/packaging/)
#   shegong_<version>_<arch>.AppImage  the desktop app as one file, by Tauri's bundler
#                                      (`--bundles appimage`), its linuxdeploy and runtime ours
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

# The AppImage, made by Tauri's bundler as well, without its downloads: it looks for linuxdeploy
# and the AppDir's AppRun in its tools directory ($XDG_CACHE_HOME/tauri) and downloads them from
# GitHub only when they are missing. This build fills a tools directory of its own first:
# linuxdeploy's name (this tauri-cli's bundler's, pinned in setup.sh) is crates/appimage-runtime's
# appimage-pack, which squashes the AppDir the bundler laid out with Debian's mksquashfs (gzip:
# the one decompressor the runtime has) behind our runtime; AppRun is crates/appimage-runtime's;
# the optional AppImage plugin is there so that it is not fetched either. Like the .deb, the image
# uses the system's WebKitGTK 4.1 and GTK 3.
app_deb=$(ls "$OUT"/shegong_*.deb)
tools_home="$(realpath "$TARGET_DIR/$profile")/appimage-tools"
tools="$tools_home/tauri"
rm -rf "$tools_home"
mkdir -p "$tools"
cp "$TARGET_DIR/$profile/appimage-pack" "$tools/linuxdeploy-07333c6-x86_64.AppImage"
cp "$TARGET_DIR/$profile/appimage-pack" "$tools/linuxdeploy-plugin-appimage.AppImage"
cp crates/appimage-runtime/AppRun "$tools/AppRun-x86_64"
# Stripped (a copy): the runtime's symbols are of no use to anyone running the app.
strip --strip-all -o "$tools/runtime" "$TARGET_DIR/$profile/appimage-runtime"
(cd src-tauri && XDG_CACHE_HOME="$tools_home" SHEGONG_APPIMAGE_RUNTIME="$tools/runtime" \
  cargo tauri bundle "${tauri_profile[@]}" --bundles appimage --no-binary-patching)
runtime_size=$(stat -c %s "$tools/runtime")
built=("$TARGET_DIR/$profile/bundle/appimage/"*.AppImage)
appimage="$OUT/shegong_$(dpkg-deb -f "$app_deb" Version)_$(dpkg-deb -f "$app_deb" Architecture).AppImage"
cp "${built[0]}" "$appimage"
rm -rf "$tools_home" "$TARGET_DIR/$profile/bundle/appimage"
if [ "$("$appimage" --appimage-offset)" != "$runtime_size" ]; then
  echo "package: $appimage: the runtime does not find the squashfs it was given" >&2
  exit 1
fi
echo "package: $appimage ($(du -h "$appimage" | cut -f1), runtime $runtime_size bytes)"
