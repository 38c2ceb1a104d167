#!/usr/bin/env bash
# Installs everything the app and the tests need on a fresh Debian 12 machine, at pinned versions.
# Safe to run again: each step checks first and changes nothing when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 (bookworm) packages: WebKitGTK 4.1 for Tauri, Xvfb and WebKitWebDriver for the UI tests,
# binaryen for wasm-opt (so no build step downloads it).
APT_PACKAGES=(
  libwebkit2gtk-4.1-dev build-essential curl wget file pkg-config libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev xvfb webkit2gtk-driver binaryen
)
# Pinned tool versions. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock.
TAURI_DRIVER_VERSION=2.1.0
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! "$CARGO_BIN/wasm-bindgen" --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a crate version the registry no longer serves (SETUP-NOTES.md).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if ! "$CARGO_BIN/tauri-driver" --help >/dev/null 2>&1 || ! grep -qx "$TAURI_DRIVER_VERSION" "$CARGO_BIN/.tauri-driver-version" 2>/dev/null; then
  echo "setup: installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --force
  echo "$TAURI_DRIVER_VERSION" > "$CARGO_BIN/.tauri-driver-version"
fi
