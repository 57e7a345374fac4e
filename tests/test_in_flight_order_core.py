"""core/order.c on its own, built with ASan/UBSan: 128-bit quote text parsing and formatting
against Python's Decimal (skipped when no C compiler is available)."""
import os
import random
import shutil
import subprocess
from decimal import Context, Decimal, Inexact

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 2 ** 127 - 1

HARNESS = r"""
#include "order.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *text = strchr(line, ' ') + 1;
        int scale = atoi(line);
        ord_i128 v = 0;
        int r = ord_parse_i128(text, strlen(text), scale, &v);
        char out[100];
        int n = ord_format_i128(v, scale, 1, out, sizeof out);
        if (r == ORD_CHANGED) printf("%.*s\n", n, out); else printf("ERR\n");
    }
    return 0;
}
"""


def cases(seed=7, n=3000):
    rnd = random.Random(seed)
    wide = Context(prec=100)
    top = str(Decimal(LIMIT).scaleb(-16, context=wide))  # the largest magnitude at scale 16, and one unit beyond
    beyond = str(Decimal(LIMIT + 1).scaleb(-16, context=wide))
    out = [(16, "x"), (16, "1e"), (16, "1.2.3"), (16, "."), (16, top), (16, "-" + top), (16, beyond),
           (0, str(LIMIT)), (0, str(LIMIT + 1)),
           (16, "0.0000000000000001"), (16, "0.00000000000000001"), (16, "1E-16"), (0, "-0"), (38, "1")]
    while len(out) < n:
        digits = str(rnd.randint(0, 10 ** rnd.randint(0, 45)))
        sign = rnd.choice(["", "-", "+"])
        form = rnd.choice(["int", "sci", "dot", "zeros"])
        if form == "sci":
            text = f"{sign}{digits}e{rnd.randint(-50, 50)}"
        elif form == "dot":
            p = rnd.randint(0, len(digits))
            text = f"{sign}{digits[:p]}.{digits[p:]}"
        elif form == "zeros":
            text = f"{sign}000{digits}.000"
        else:
            text = sign + digits
        out.append((rnd.randint(0, 38), text))
    return out


def expected(scale, text):
    ctx = Context(prec=500, Emax=10 ** 6, Emin=-10 ** 6, traps=[Inexact])
    try:
        d = Decimal(text)
        v = ctx.scaleb(d, scale)
    except Exception:  # noqa: BLE001 - any Decimal failure means the text is not a number
        return None
    if v != v.to_integral_value() or v > LIMIT or v < -LIMIT:  # comparisons are exact, abs() would round
        return None
    return d


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("order_core")
    src, exe = d / "h.c", d / "h"
    src.write_text(HARNESS)
    flags = ["-std=c11", "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    r = subprocess.run([cc, *flags, "-I", os.path.join(ROOT, "core"), str(src),
                        os.path.join(ROOT, "core", "order.c"), "-o", str(exe)], capture_output=True, text=True)
    if r.returncode != 0:
        flags = ["-std=c11", "-O1"]  # no sanitizer runtime installed: still check the results
        r = subprocess.run([cc, *flags, "-I", os.path.join(ROOT, "core"), str(src),
                            os.path.join(ROOT, "core", "order.c"), "-o", str(exe)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    return str(exe)


def test_i128_parse_and_format_match_decimal(harness):
    cs = cases()
    r = subprocess.run([harness], input="".join(f"{s} {t}\n" for s, t in cs), capture_output=True, text=True,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.split("\n")
    for (scale, text), got in zip(cs, lines):
        want = expected(scale, text)
        if want is None:
            assert got == "ERR", (scale, text, got)
        else:
            assert got != "ERR" and Decimal(got) == want, (scale, text, got)
            assert "E" not in got and not (("." in got) and got.endswith("0")), got  # plain, trimmed
