#!/usr/bin/env bash
# Installs everything the app and the tests need on a fresh Debian 12 machine, at pinned versions.
# Safe to run again: each step checks first and changes nothing when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 (bookworm) packages, at the versions of that release: WebKitGTK 4.1 and friends for
# Tauri, Xvfb and WebKitWebDriver for the UI tests, and a small Chinese font (a bare server has
# none, and the app is Chinese first; the exported PDFs embed it). The UI build needs no
# wasm-opt (scripts/build-ui.sh). poppler-utils: the report tests read exported PDFs back
# (pdftotext) and render their first page (pdftoppm). postgresql: the sync suite runs again on a
# real PostgreSQL (scripts/with-postgres.sh starts a throwaway one; the package's own cluster is
# not used). squashfs-tools: mksquashfs packs the AppImage's AppDir (scripts/package.sh).
APT_PACKAGES=(
  libwebkit2gtk-4.1-dev build-essential curl wget file pkg-config libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev xvfb webkit2gtk-driver fonts-wqy-microhei poppler-utils
  postgresql squashfs-tools
)
# The Rust toolchain used when none is installed (the workspace needs 1.90 or newer).
RUST_TOOLCHAIN=1.95.0
# Pinned tool versions. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock.
TAURI_DRIVER_VERSION=2.1.0
# The packagers (scripts/package.sh): Tauri's bundler for the app's .deb and AppImage, cargo-deb for
# the server's. package.sh names its linuxdeploy stand-in as this version's bundler looks for it.
TAURI_CLI_VERSION=2.12.4
CARGO_DEB_VERSION=3.8.0
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

if [ -r /etc/os-release ] && ! grep -q '^VERSION_ID="12"' /etc/os-release; then
  echo "setup: note: this script is written for Debian 12; package names may differ here" >&2
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: installing Rust $RUST_TOOLCHAIN with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --profile minimal --default-toolchain "$RUST_TOOLCHAIN"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo fmt --version >/dev/null 2>&1; then
  echo "setup: adding rustfmt"
  rustup component add rustfmt
fi

# `cargo install --list` names each installed crate with its version: the source of truth.
installed() { cargo install --list | grep -q "^$1 v$2:"; }

if ! installed wasm-bindgen-cli "$WASM_BINDGEN_VERSION" || ! [ -x "$CARGO_BIN/wasm-bindgen" ]; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a crate version the registry no longer serves (SETUP-NOTES.md).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if ! installed tauri-driver "$TAURI_DRIVER_VERSION" || ! [ -x "$CARGO_BIN/tauri-driver" ]; then
  echo "setup: installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --force
fi
if ! installed tauri-cli "$TAURI_CLI_VERSION" || ! [ -x "$CARGO_BIN/cargo-tauri" ]; then
  echo "setup: installing tauri-cli $TAURI_CLI_VERSION (several minutes)"
  cargo install tauri-cli --version "$TAURI_CLI_VERSION" --locked --force
fi
if ! installed cargo-deb "$CARGO_DEB_VERSION" || ! [ -x "$CARGO_BIN/cargo-deb" ]; then
  echo "setup: installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --force
fi
