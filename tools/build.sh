#!/usr/bin/env bash
# Rebuild compiled extensions in place (after `pip install -e .` once).
#   tools/build.sh                 all extensions
#   tools/build.sh order_book ...  only these (safe to run beside other builds:
#                                  each gets its own temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  exec python setup.py -q build_ext --inplace --build-temp build/tmp-all
fi
for name in "$@"; do
  EXCONNECT_ONLY="$name" python setup.py -q build_ext --inplace --build-temp "build/tmp-$name"
done
