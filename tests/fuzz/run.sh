#!/usr/bin/env bash
# Fuzz core/binance_parse + core/fixed + core/book under ASan+UBSan.
#
#   tests/fuzz/run.sh [seconds=60] [out_dir=build/fuzz]
#
# With clang: a libFuzzer binary (-fsanitize=fuzzer,address,undefined) that grows
# a working corpus in <out_dir>/corpus from the seeds in tests/fuzz/corpus.
# Without clang (or FUZZ_USE_GCC=1): a gcc ASan+UBSan build of the standalone
# mutation driver (driver.c) over the same seeds; FUZZ_SEED=<n> fixes its RNG.
# Exit status is non-zero on any finding; the offending input is saved in out_dir.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECS="${1:-60}"
OUT="$(mkdir -p "${2:-$ROOT/build/fuzz}" && cd "${2:-$ROOT/build/fuzz}" && pwd)"
SRC=("$ROOT/tests/fuzz/fuzz_target.c" "$ROOT/core/fixed.c" "$ROOT/core/book.c" "$ROOT/core/binance_parse.c")
CFLAGS=(-std=c11 -g -O1 -I"$ROOT/core" -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$OUT"
if [ -z "${FUZZ_USE_GCC:-}" ] && command -v clang >/dev/null 2>&1; then
  clang "${CFLAGS[@]}" -fsanitize=fuzzer,address,undefined "${SRC[@]}" -o fuzz_clang
  mkdir -p corpus
  echo "libFuzzer for ${SECS}s (working corpus $OUT/corpus)"
  ./fuzz_clang -max_total_time="$SECS" -max_len=16384 -timeout=10 -print_final_stats=1 \
    corpus "$ROOT/tests/fuzz/corpus"
else
  gcc "${CFLAGS[@]}" -fsanitize=address,undefined "${SRC[@]}" "$ROOT/tests/fuzz/driver.c" -o fuzz_gcc
  echo "gcc ASan+UBSan driver for ${SECS}s"
  ./fuzz_gcc "$SECS" "$ROOT/tests/fuzz/corpus" ${FUZZ_SEED:-}
fi
