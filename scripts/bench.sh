#!/usr/bin/env bash
# Runs every benchmark at full scale, optimised (`cargo bench`), one after the other:
# - county: the store on a large county through the app's paths (crates/store/benches/county.rs;
#   about 2 minutes on the 2-core development VM, once built);
# - sync: a station's first pull, a week offline and a day's round trip against the real server
#   on loopback, then a county supervisor's first pull of five stations (peak memory, a cut at
#   half way and the resumed round) (crates/sync-client/benches/sync.rs; about a minute);
# - app_window: the real app in a real window with the county on the laptop
#   (tests/benches/app_window.rs; about 10 minutes, after the UI and the release app are built,
#   which takes longer the first time);
# - load: 100, 1,000 and 5,000 simulated devices doing a day's work against the real server
#   binary on loopback, on SQLite and, when it is installed, on a throwaway PostgreSQL
#   (scripts/with-postgres.sh; SHEGONG_LOAD_BACKENDS chooses) (sync-server/benches/load.rs;
#   each N three times per backend, the backends in turn, figures from the median run: about
#   4 minutes with both backends).
# About 20 minutes in all once everything is built.
# Every figure is one JSON line, {"bench","name","value","unit","baseline","ratio","target","met"};
# the run's lines are collected in target/bench/latest.jsonl (and a copy named by the time of
# the run), each benchmark's output beside them, and a summary table is printed. Exits non-zero
# when a figure missed its target ("met": false), a benchmark failed, or none printed a figure.
# Not part of scripts/test.sh, which smoke-runs the same benchmarks at 2 % scale.
#
# Usage: scripts/bench.sh [county] [sync] [app_window] [load]   (default: all four)
# SHEGONG_BENCH_SCALE and SHEGONG_BENCH_ITERATIONS pass through to the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
started=$(date +%s)

out=target/bench
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
failed=()

# bench NAME LIMIT_SECONDS COMMAND...: runs one benchmark; its stdout (the JSON lines) goes to
# the terminal and to target/bench/NAME.out, its stderr (progress, tables) to the terminal.
bench() {
  local name=$1 limit=$2
  shift 2
  echo
  echo "== $name ($(( $(date +%s) - started )) s so far; limit $limit s)"
  local status=0 begun
  begun=$(date +%s)
  timeout --kill-after=30 "$limit" "$@" | tee "$out/$name.out" || status=$?
  echo "== $name: exit $status after $(( $(date +%s) - begun )) s"
  if [ "$status" -ne 0 ]; then failed+=("$name (exit $status)"); fi
}

wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then wanted=(county sync app_window load); fi
for name in "${wanted[@]}"; do
  rm -f "$out/$name.out"
  case "$name" in
    county) bench county 3000 cargo bench -p store --bench county ;;
    sync) bench sync 3000 cargo bench -p sync-client --bench sync ;;
    load)
      # With PostgreSQL too when it is installed: a throwaway server of its own, removed after.
      if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        bench load 3000 scripts/with-postgres.sh env SHEGONG_LOAD_BACKENDS="${SHEGONG_LOAD_BACKENDS:-sqlite,postgres}" \
          cargo bench -p sync-server --bench load
      else
        bench load 3000 cargo bench -p sync-server --bench load
      fi
      ;;
    app_window)
      # The desktop app embeds ui/dist when it is compiled: the UI first, then the release
      # binaries the benchmark starts (the app and the sync server).
      if timeout --kill-after=30 2400 ./scripts/build-ui.sh &&
        timeout --kill-after=30 2400 cargo build --release -p shegong-desktop -p sync-server; then
        bench app_window 3600 cargo bench -p shegong-tests --bench app_window
      else
        failed+=("app_window (build failed)")
      fi
      ;;
    *)
      echo "bench.sh: unknown benchmark \"$name\" (county, sync, app_window, load)" >&2
      exit 2
      ;;
  esac
done

# The figures: every stdout line that is a JSON object with a "bench" key.
names=()
for name in "${wanted[@]}"; do
  if [ -f "$out/$name.out" ]; then names+=("$out/$name.out"); fi
done
summary=0
python3 - "$out/latest.jsonl" "${names[@]}" <<'PY' || summary=$?
import json
import sys

target, sources = sys.argv[1], sys.argv[2:]
figures = []
for source in sources:
    with open(source, encoding="utf-8") as lines:
        for line in lines:
            try:
                figure = json.loads(line)
            except ValueError:
                continue
            if isinstance(figure, dict) and "bench" in figure:
                figures.append(figure)
with open(target, "w", encoding="utf-8") as out:
    for figure in figures:
        out.write(json.dumps(figure, ensure_ascii=False) + "\n")


def number(value):
    return "" if value is None else f"{value:g}"


rows = [("bench", "figure", "value", "baseline", "ratio", "target", "met")]
for f in figures:
    unit = f.get("unit") or ""
    met = {True: "yes", False: "NO", None: ""}.get(f.get("met"), "?")
    name = f.get("name", "")
    if len(name) > 90:
        name = name[:89] + "…"
    rows.append((
        f.get("bench", ""),
        name,
        f"{number(f.get('value'))} {unit}".strip(),
        number(f.get("baseline")),
        number(f.get("ratio")) + ("x" if f.get("ratio") is not None else ""),
        number(f.get("target")),
        met,
    ))
widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
print()
for row in rows:
    print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
missed = [f for f in figures if f.get("met") is False]
print()
print(f"{len(figures)} figures in {target}; {sum(1 for f in figures if f.get('met') is True)} targets met, "
      f"{len(missed)} missed")
for f in missed:
    print(f"  missed: [{f.get('bench')}] {f.get('name')}: {f.get('value')} {f.get('unit')} "
          f"(target {f.get('target')})")
sys.exit(1 if missed or not figures else 0)
PY
cp "$out/latest.jsonl" "$out/$stamp.jsonl" 2>/dev/null || true

echo
echo "== benchmarks done in $(( $(date +%s) - started )) s"
for failure in "${failed[@]}"; do
  echo "bench.sh: $failure" >&2
done
if [ ${#failed[@]} -ne 0 ] || [ "$summary" -ne 0 ]; then
  exit 1
fi
