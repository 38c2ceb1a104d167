#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the UI and the binaries, runs the workspace's
# tests (unit, integration, the sync tests against the real server, and the end-to-end WebDriver
# test of the real app under Xvfb), then smoke-runs the benchmarks at a small scale.
# Screenshots of the end-to-end test land in target/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
started=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - started )) s)"; }

step "setup"
./scripts/setup.sh

step "format"
cargo fmt --all --check

step "UI (wasm)"
./scripts/build-ui.sh

# `ui` builds for wasm32 only (above); everything else builds and tests on the host. The build
# includes the binaries (shegong, shegong-sync) the end-to-end and sync tests run.
step "build"
cargo build --workspace --exclude ui --all-targets

step "tests"
# --no-fail-fast: one failing test binary does not hide the results of the others.
cargo test --workspace --exclude ui --no-fail-fast

# Benchmarks: every bench target (crates/*/benches/NAME.rs, sync-server/benches/NAME.rs) runs at
# 2 % scale, built as the tests were (no second, optimised build), which proves it works. The
# figures worth quoting come from an optimised run on its own, e.g.
# `cargo bench -p store --bench county` and `cargo bench -p sync-client --bench sync`.
step "benchmarks (smoke run at SHEGONG_BENCH_SCALE=0.02)"
# Named from the workspace as a whole, so cargo reuses the build above (the features of a
# `-p PACKAGE` build can differ, and rebuild half the dependencies).
benches=()
for bench in crates/*/benches/*.rs sync-server/benches/*.rs; do
  if [ -f "$bench" ]; then benches+=(--bench "$(basename "$bench" .rs)"); fi
done
SHEGONG_BENCH_SCALE=0.02 cargo test --workspace --exclude ui "${benches[@]}"

step "all tests passed in $(( $(date +%s) - started )) s"
