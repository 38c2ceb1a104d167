#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the UI and the binaries, checks formatting and
# lints, runs the workspace's tests (unit, integration, the sync tests against the real server,
# and the end-to-end WebDriver test of the real app under Xvfb), then smoke-runs the benchmarks
# at a small scale. Screenshots of the end-to-end test land in target/e2e/.
#
# Each step has a time limit: a step that passes it is stopped (with everything it started) and
# named, so a hang fails the run with a name instead of stalling CI. Tests that wait have their
# own, shorter deadlines (shegong_tests::deadline).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
started=$(date +%s)

# step NAME LIMIT_SECONDS COMMAND...
step() {
  local name=$1 limit=$2
  shift 2
  echo
  echo "== $name ($(( $(date +%s) - started )) s; limit $limit s)"
  local status=0
  timeout --kill-after=30 "$limit" "$@" || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "test.sh: step \"$name\" hung: stopped after $limit s" >&2
  fi
  if [ "$status" -ne 0 ]; then
    echo "test.sh: step \"$name\" failed (exit $status)" >&2
    exit "$status"
  fi
}

# A fresh machine installs Debian packages and compiles four cargo tools here (tauri-cli alone:
# ~23 min of CPU, ~12 min on two idle cores).
step "setup" 2400 ./scripts/setup.sh

step "format" 120 cargo fmt --all --check

step "UI (wasm)" 1200 ./scripts/build-ui.sh

# `ui` builds for wasm32 only (above); everything else builds and tests on the host. The build
# includes the binaries (shegong, shegong-sync) the end-to-end and sync tests run.
step "build" 2400 cargo build --workspace --exclude ui --all-targets

# Lints on every host target, warnings as errors (the workspace's lint levels are in Cargo.toml).
step "lints (clippy)" 1200 cargo clippy --workspace --exclude ui --all-targets -- -D warnings
step "lints (clippy, UI for wasm32)" 900 cargo clippy -p ui --target wasm32-unknown-unknown -- -D warnings

# --no-fail-fast: one failing test binary does not hide the results of the others.
step "tests" 1800 cargo test --workspace --exclude ui --no-fail-fast
# One suite, both backends: the sync tests again on a real PostgreSQL (Debian's package), which
# scripts/with-postgres.sh starts in a temporary directory on a free port and always stops and
# removes: every test target of sync-server and sync-client, and the end-to-end sync tests (the
# simulation, the merge properties, the server killed mid-push). administration.rs is about
# SQLite's encrypted file and its backup and stays on SQLite. Named from the workspace as a
# whole, so cargo reuses the build above (a target of the same name elsewhere runs too).
sync_tests=()
for target in sync-server/tests/*.rs crates/sync-client/tests/*.rs; do
  name=$(basename "$target" .rs)
  if [ "$name" != administration ]; then sync_tests+=(--test "$name"); fi
done
sync_tests+=(--test sync_simulation --test sync_properties --test sync_server_crash)
# The simulation runs 25 seeds here (200 on SQLite above): every fault family still comes up, and
# each PostgreSQL commit waits for its fsync (50 seeds took 150 s on this 2-core machine).
step "tests (sync, on PostgreSQL)" 1500 ./scripts/with-postgres.sh env SHEGONG_TEST_BACKEND=postgres \
  SHEGONG_SIM_SEEDS=25 cargo test --workspace --exclude ui --no-fail-fast "${sync_tests[@]}"
# The package's own cluster (if the machine runs one) is not ours; a throwaway one must be gone.
if pgrep -f "postgres -D /tmp/shegong-pg\." >/dev/null; then
  echo "test.sh: the tests' PostgreSQL server was left running" >&2
  exit 1
fi
# The UI's logic (routes, forms, navigation per role) is plain Rust and runs on the host too.
step "tests (UI logic, on the host)" 900 cargo test -p ui --lib

# The installable packages (tests/tests/packages.rs): scripts/package.sh --debug packages the build
# above (a few seconds, and the two cargo tools setup.sh pinned), then both .deb are installed with
# apt, the server is run as its systemd unit would run it, the installed app signs in against it,
# and both are purged with nothing left; the AppImage of the same build is extracted and run as
# the app. It changes this machine's packages, so it needs root.
if [ "$(id -u)" -eq 0 ]; then
  step "packages (build, install, run, purge)" 1500 \
    cargo test --workspace --exclude ui --test packages -- --ignored --nocapture
else
  echo "test.sh: skipping the packages step: it installs packages, which needs root" >&2
fi

# Benchmarks: every bench target (crates/*/benches/NAME.rs, sync-server/benches/NAME.rs,
# tests/benches/NAME.rs: the real app's window) runs at
# 2 % scale, built as the tests were (no second, optimised build), which proves it works. The
# figures worth quoting come from an optimised run on its own, e.g.
# `cargo bench -p store --bench county` and `cargo bench -p sync-client --bench sync`.
# Named from the workspace as a whole, so cargo reuses the build above (the features of a
# `-p PACKAGE` build can differ, and rebuild half the dependencies).
benches=()
for bench in crates/*/benches/*.rs sync-server/benches/*.rs tests/benches/*.rs; do
  if [ -f "$bench" ]; then benches+=(--bench "$(basename "$bench" .rs)"); fi
done
step "benchmarks (smoke run at SHEGONG_BENCH_SCALE=0.02)" 900 \
  env SHEGONG_BENCH_SCALE=0.02 SHEGONG_BENCH_ITERATIONS=5 cargo test --workspace --exclude ui "${benches[@]}"

echo
echo "== all tests passed in $(( $(date +%s) - started )) s"
