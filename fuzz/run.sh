#!/usr/bin/env bash
# Builds every fuzz target, seeds the corpora, and runs each target for SECONDS (default 30),
# one after the other, in one libFuzzer process each. Exits non-zero if any target crashed
# (panic, failed assertion, ASan error), leaked, timed out on one input or ran out of memory.
# Prints the executions per target and in total. See fuzz/README.md.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]     (all targets when none is named)
set -euo pipefail
seconds="${1:-30}"
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
cd "$fuzz_dir"
all_targets=(sip_message sip_uri sip_via ws_upgrade_request ws_frames proxy_events)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, sanitizer-coverage) to rustc.
# Only a stable toolchain is available here, so let it accept them: RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
start=$SECONDS

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
after_install=$SECONDS

echo "== building ${#all_targets[@]} targets (release, debug assertions, ASan)"
# The committed lockfile must already describe the build (as `cargo ... --locked` would).
cargo metadata --locked --format-version 1 >/dev/null
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo fuzz build --target "$host"
after_build=$SECONDS
bin_dir="$fuzz_dir/target/$host/release"

echo "== seeding corpora"
./seed.sh

dict_for() {
  case "$1" in
    sip_message | sip_uri | sip_via | proxy_events) echo "-dict=$fuzz_dir/dict/sip.dict" ;;
    ws_upgrade_request) echo "-dict=$fuzz_dir/dict/ws.dict" ;;
    *) ;;
  esac
}

log_dir="$fuzz_dir/target/fuzz-logs"
mkdir -p "$log_dir"
total=0
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="$log_dir/$t.log"
  echo "== $t: ${seconds}s"
  # One process, one worker (-jobs/-workers unset). ASan's leak detection is libFuzzer's
  # default (-detect_leaks=1). -timeout: one input taking 10 s fails; -rss_limit_mb: 2 GiB.
  set +e
  # shellcheck disable=SC2046 # the dictionary flag is one word or none
  "$bin_dir/$t" "corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 $(dict_for "$t") \
    >"$log" 2>&1
  status=$?
  set -e
  runs="$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)"
  if [ -z "$runs" ]; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
  fi
  runs="${runs:-0}"
  total=$((total + runs))
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    echo "!! $t FAILED (exit $status) after $runs executions; log: $log" >&2
    grep -E 'ERROR|panicked|Test unit written|SUMMARY' "$log" | head -n 20 >&2 || true
  else
    corpus_size="$(find "corpus/$t" -type f | wc -l)"
    echo "   $t: $runs executions in ${seconds}s, 0 crashes, corpus $corpus_size inputs"
  fi
done

end=$SECONDS
echo "== total: $total executions over ${#targets[@]} targets (${seconds}s each)"
echo "   time: install $((after_install - start))s, build $((after_build - after_install))s, whole script $((end - start))s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "== FAILED: ${failed[*]} (reproduce: fuzz/target/$host/release/<target> fuzz/artifacts/<target>/<file>)" >&2
  exit 1
fi
