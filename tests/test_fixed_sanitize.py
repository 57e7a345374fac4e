"""core/fixed.c on its own under ASan + UBSan: random text through every entry point,
format/parse round trips, fx_parse_round agreeing with fx_parse on exact input, and
fx_from_parts agreeing with the text parsers.  Needs gcc; marked slow (a few seconds).
EXCONNECT_FIXED_SAN_ITERS=20000000 for a long run."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ITERS = int(os.environ.get("EXCONNECT_FIXED_SAN_ITERS", "1000000"))

RANDOM_TEXT = r"""
#include "fixed.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static unsigned long long rs = 88172645463325252ULL;
static unsigned long long rnd(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
int main(void){
  const char alpha[] = "0123456789.eE+-";
  char buf[64]; char out[64];
  long ok = 0;
  for (long it = 0; it < ITERS; it++) {
    size_t n = rnd() % 40;
    for (size_t i = 0; i < n; i++) buf[i] = (rnd() % 8 == 0) ? (char)(rnd() & 0xff) : alpha[rnd() % 15];
    int scale = (int)(rnd() % 21) - 1;
    int64_t v = 0, w = 0;
    int st = fx_parse(buf, n, scale, &v);
    int st2 = fx_parse_round(buf, n, scale, (int)(rnd() % 3), &w);
    if (st == FX_OK) {
      ok++;
      if (st2 != FX_OK || w != v) { printf("round disagrees on exact input %.*s\n", (int)n, buf); return 1; }
      int m = fx_format(v, scale, (int)(rnd() & 1), out, sizeof out);
      int64_t back;
      if (m < 0 || fx_parse(out, (size_t)m, scale, &back) != FX_OK || back != v) { printf("format round trip %.*s\n", (int)n, buf); return 1; }
    }
    int64_t a = (int64_t)rnd(), b = (int64_t)rnd(), c = (int64_t)rnd(), r;
    fx_quantize(a, b, (int)(rnd() % 4), &r);
    fx_mul_div(a, b, c, (int)(rnd() % 3), &r);
    fx_mul_cmp(a, b, (int)(rnd() % 38), c, (int)(rnd() % 19));
    fx_rescale(a, (int)(rnd() % 19), (int)(rnd() % 19), &r);
    fx_digits(a);
  }
  printf("ok %ld exact parses\n", ok);
  return 0;
}
"""

PARTS_VS_TEXT = r"""
#include "fixed.h"
#include <stdio.h>
#include <string.h>
static unsigned long long rs = 88172645463325252ULL;
static unsigned long long rnd(void){ rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }
int main(void){
  char buf[80];
  for (long it = 0; it < ITERS; it++) {
    unsigned long long coef = rnd();
    int sh = (int)(rnd() % 64); coef >>= sh;
    if (rnd() % 4 == 0) coef = coef % 1000;
    int neg = (int)(rnd() & 1);
    long exp = (long)(rnd() % 60) - 40;
    if (rnd() % 50 == 0) exp = (long)(rnd() % 2000000) - 1000000;
    int scale = (int)(rnd() % 19);
    int mode = (int)(rnd() % 4) - 1;
    int n = snprintf(buf, sizeof buf, "%s%llue%ld", neg ? "-" : "", coef, exp);
    int64_t a = 0, b = 0;
    int s1 = mode < 0 ? fx_parse(buf, (size_t)n, scale, &a) : fx_parse_round(buf, (size_t)n, scale, mode, &a);
    int s2 = fx_from_parts(coef, neg, exp, scale, mode, &b);
    if (s1 != s2 || (s1 == FX_OK && a != b)) { printf("mismatch %s scale %d mode %d: %d/%lld vs %d/%lld\n", buf, scale, mode, s1, (long long)a, s2, (long long)b); return 1; }
  }
  printf("parts ok\n");
  return 0;
}
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.parametrize("name,source", [("random_text", RANDOM_TEXT), ("parts_vs_text", PARTS_VS_TEXT)])
def test_core_fixed_under_sanitizers(tmp_path, name, source):
    c_file, exe = tmp_path / f"{name}.c", tmp_path / name
    c_file.write_text(source)
    subprocess.run(["gcc", "-std=c11", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    f"-DITERS={ITERS}L", "-I", str(ROOT / "core"), str(c_file), str(ROOT / "core" / "fixed.c"),
                    "-o", str(exe)], check=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
