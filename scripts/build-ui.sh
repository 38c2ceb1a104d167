#!/usr/bin/env bash
# Builds the Yew UI into ui/dist (which the desktop app embeds): cargo for wasm32, then the
# wasm-bindgen CLI installed by setup.sh at the exact version in Cargo.lock. Nothing is downloaded.
# Skips the work when no input changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
DIST=ui/dist
STAMP="$DIST/.inputs.sha256"

# Everything the UI build reads: its sources, the command contract crate, the domain crate and
# the lock file.
inputs_hash() {
  {
    find ui/src ui/index.html ui/style.css ui/Cargo.toml crates/contract crates/domain -type f -print0 |
      sort -z | xargs -0 sha256sum
    sha256sum Cargo.lock Cargo.toml
    wasm-bindgen --version
  } | sha256sum | cut -d' ' -f1
}

hash=$(inputs_hash)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] && [ -f "$DIST/ui_bg.wasm" ]; then
  echo "build-ui: ui/dist is up to date"
  exit 0
fi

echo "build-ui: building the UI (wasm32)"
cargo build -p ui --target wasm32-unknown-unknown --release
rm -rf "$DIST"
mkdir -p "$DIST"
wasm-bindgen --target web --no-typescript --out-dir "$DIST" --out-name ui \
  "$TARGET_DIR/wasm32-unknown-unknown/release/ui.wasm"
cp ui/index.html ui/style.css "$DIST/"
echo "$hash" > "$STAMP"
echo "build-ui: wrote $DIST"
