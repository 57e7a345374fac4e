# cython: language_level=3
"""Fixed-point conversions at the Python edge.

`to_fixed` accepts Decimal, str, bytes and int; floats are refused on purpose:
a float has already lost the exact decimal value an exchange sent.

Decimal -> fixed goes through `str(Decimal)` and the C parser: measured on
CPython 3.11, `str(d)` costs ~45 ns and parsing its ASCII buffer in place ~10 ns,
while `d.as_tuple()` alone costs ~340 ns and `int(d.scaleb(k))` ~230 ns (and
depends on the context).  There is no decimal C API capsule in 3.11.

fixed -> Decimal must build a Decimal, and `Decimal(str)` (~150 ns) is the only
exact public constructor faster than the tuple form (~250 ns).

Faster still, and used when it is proven safe at import: CPython's `_decimal`
stores a Decimal as a PyDecObject holding an mpd_t (flags, exp, digits, len,
alloc, data -> base-10**19 words).  For a finite Decimal whose coefficient is
one word we read (sign, coefficient, exponent) straight from it (~5 ns instead
of str()), and build results the same way `_decimal` itself does for small
values (static data, hash -1).  `_probe_decimal_layout` checks the layout on
this interpreter (object size, data pointer, fields vs as_tuple(), and built
objects vs Decimal(str) in value, text, tuple and hash); on any mismatch, or
with EXCONNECT_NO_DECIMAL_FASTPATH=1, everything goes through str() and
Decimal(str) plus a bounded per-scale cache instead.
"""
import os
import sys
from decimal import Decimal

from libc.stdint cimport int64_t, uint64_t, uint8_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

from exconnect.native.cfixed cimport (
    FX_OK, FX_ERR_ARG, FX_MAX_SCALE, FX_FLOOR, FX_CEIL, FX_NEAREST,
    fx_parse, fx_parse_round, fx_from_parts, fx_digits, fx_format, fx_quantize, fx_rescale, fx_strerror, fx_mul_div, fx_mul_cmp,
)

FLOOR = FX_FLOOR
CEIL = FX_CEIL
NEAREST = FX_NEAREST
MAX_SCALE = FX_MAX_SCALE

cdef object _Decimal = Decimal

cdef extern from *:
    """
    #include <stdint.h>
    /* Mirror of CPython's _decimal PyDecObject / libmpdec mpd_t (64-bit build).
       Only used after _probe_decimal_layout() has verified it. */
    typedef struct {
        uint8_t flags; Py_ssize_t exp; Py_ssize_t digits; Py_ssize_t len; Py_ssize_t alloc; uint64_t *data;
    } exc_mpd_t;
    typedef struct { PyObject_HEAD Py_hash_t hash; exc_mpd_t dec; uint64_t data[4]; } exc_dec_object;
    #define EXC_MPD_NEG 1
    #define EXC_MPD_SPECIAL 14
    #define EXC_MPD_STATIC 16
    #define EXC_MPD_STATIC_DATA 32

    static PyObject *exc_dec_new(PyObject *type, int64_t v, int scale, int ndigits) {
        PyTypeObject *t = (PyTypeObject *)type;
        exc_dec_object *o = (exc_dec_object *)t->tp_alloc(t, 0);
        if (o == NULL) return NULL;
        o->hash = -1;
        o->dec.flags = EXC_MPD_STATIC | EXC_MPD_STATIC_DATA | (v < 0 ? EXC_MPD_NEG : 0);
        o->dec.exp = -(Py_ssize_t)scale;
        o->dec.digits = ndigits;
        o->dec.len = 1;
        o->dec.alloc = 4;
        o->dec.data = o->data;
        o->data[0] = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        return (PyObject *)o;
    }
    """
    ctypedef struct exc_mpd_t:
        uint8_t flags
        Py_ssize_t exp
        Py_ssize_t digits
        Py_ssize_t len
        Py_ssize_t alloc
        uint64_t *data
    ctypedef struct exc_dec_object:
        Py_ssize_t hash
        exc_mpd_t dec
        uint64_t data[4]
    enum:
        EXC_MPD_NEG
        EXC_MPD_SPECIAL
    object exc_dec_new(object type, int64_t v, int scale, int ndigits)

cdef bint _layout_ok = False   # set by _probe_decimal_layout() at import

# Bounded per-scale caches for to_decimal; cleared wholesale when full (cheap,
# and a market maker's working set of prices is far smaller than the bound).
cdef Py_ssize_t _CACHE_MAX = 8192
cdef list _decimal_cache = [dict() for _ in range(FX_MAX_SCALE + 1)]


cdef int _raise(int st, const char *s, Py_ssize_t n, int scale) except -1:
    cdef object text = s[:n].decode('utf-8', 'replace') if n <= 80 else \
        s[:38].decode('utf-8', 'replace') + "..." + s[n - 38:n].decode('utf-8', 'replace')
    raise ValueError(f"{fx_strerror(st).decode()}: {text!r} at scale {scale}")


cdef int64_t parse_bytes(const char *s, Py_ssize_t n, int scale) except? -1:
    cdef int64_t out = 0
    cdef int st = fx_parse(s, <size_t>n, scale, &out)
    if st != FX_OK:
        _raise(st, s, n, scale)
    return out


cdef int64_t parse_bytes_round(const char *s, Py_ssize_t n, int scale, int mode) except? -1:
    cdef int64_t out = 0
    cdef int st = fx_parse_round(s, <size_t>n, scale, mode, &out)
    if st != FX_OK:
        _raise(st, s, n, scale)
    return out


cdef object as_text(object value):
    """The decimal text of value as a str or bytes object (no copy for str/bytes)."""
    cdef object t = type(value)
    if t is _Decimal:
        return str(value)
    if t is str or t is bytes:
        return value
    if t is int:
        if not -9223372036854775807 <= value <= 9223372036854775807:
            raise ValueError(f"number too large for the fixed-point range: {value!r}")
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"floats are not accepted for money ({value!r}); pass a Decimal or str")
    if isinstance(value, bool):
        raise TypeError(f"expected Decimal, str, bytes or int, got bool ({value!r})")
    if isinstance(value, _Decimal):
        return _Decimal.__str__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return as_text(int(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"expected Decimal, str, bytes or int, got {type(value).__name__}")


cdef inline const char *_ptr(object text, Py_ssize_t *n) except NULL:
    if type(text) is bytes:
        n[0] = PyBytes_GET_SIZE(text)
        return PyBytes_AS_STRING(text)
    return PyUnicode_AsUTF8AndSize(text, n)


cdef int parse_text(object text, int scale, int mode, int64_t *out) except -1:
    cdef Py_ssize_t n = 0
    cdef const char *p = _ptr(text, &n)
    if mode == PARSE_EXACT:
        return fx_parse(p, <size_t>n, scale, out)
    return fx_parse_round(p, <size_t>n, scale, mode, out)


cdef int parse_value(object value, int scale, int mode, int64_t *out) except -1:
    cdef exc_dec_object *o
    if mode != PARSE_EXACT and mode != FX_FLOOR and mode != FX_CEIL and mode != FX_NEAREST:
        return FX_ERR_ARG
    if _layout_ok and type(value) is _Decimal:
        o = <exc_dec_object *><void *>value
        if (o.dec.flags & EXC_MPD_SPECIAL) == 0 and o.dec.len == 1:
            return fx_from_parts(o.dec.data[0], o.dec.flags & EXC_MPD_NEG, o.dec.exp, scale, mode, out)
    return parse_text(as_text(value), scale, mode, out)


cdef int _raise_value(object value, int st, int scale) except -1:
    cdef object text = as_text(value)
    cdef Py_ssize_t n = 0
    cdef const char *p = _ptr(text, &n)
    return _raise(st, p, n, scale)


cdef int64_t to_fixed(object value, int scale) except? -1:
    cdef int64_t out = 0
    cdef int st = parse_value(value, scale, PARSE_EXACT, &out)
    if st != FX_OK:
        _raise_value(value, st, scale)
    return out


cdef int64_t to_fixed_round(object value, int scale, int mode) except? -1:
    cdef int64_t out = 0
    cdef int st = parse_value(value, scale, mode, &out)
    if st != FX_OK:
        _raise_value(value, st, scale)
    return out


cdef str to_str(int64_t v, int scale, bint trim=False):
    cdef char buf[48]
    cdef int n = fx_format(v, scale, trim, buf, sizeof(buf))
    if n < 0:
        raise ValueError(f"cannot format {v} at scale {scale}")
    return buf[:n].decode("ascii")


cdef object to_decimal(int64_t v, int scale):
    if scale < 0 or scale > FX_MAX_SCALE:
        raise ValueError(f"scale outside 0..{FX_MAX_SCALE}: {scale}")
    if _layout_ok:
        return exc_dec_new(_Decimal, v, scale, fx_digits(v))
    cdef dict cache = <dict>_decimal_cache[scale]
    cdef object key = v
    cdef object d = cache.get(key)
    if d is None:
        d = _Decimal(to_str(v, scale, False))
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = d
    return d


def parse(value, int scale):
    """Decimal/str/bytes/int -> int64 at `scale`; ValueError on overflow, syntax, or lost digits."""
    return to_fixed(value, scale)


def parse_round(value, int scale, int mode=FX_FLOOR):
    """Like parse, but digits beyond `scale` are rounded by `mode` (FLOOR, CEIL, NEAREST)."""
    return to_fixed_round(value, scale, mode)


def decimal(int64_t v, int scale):
    """int64 fixed point at `scale` -> Decimal (exact, exponent -scale)."""
    return to_decimal(v, scale)


def text(int64_t v, int scale, bint trim=False):
    """int64 fixed point at `scale` -> canonical decimal text."""
    return to_str(v, scale, trim)


def quantize(int64_t v, int64_t increment, int mode=FX_FLOOR):
    """Round v to a multiple of increment (same scale): FLOOR, CEIL or NEAREST (half even)."""
    cdef int64_t out = 0
    cdef int st = fx_quantize(v, increment, mode, &out)
    if st != FX_OK:
        raise ValueError(f"{fx_strerror(st).decode()}: quantize({v}, {increment})")
    return out


def rescale(int64_t v, int from_scale, int to_scale):
    """Exact change of scale; ValueError if digits would be lost or the result overflows."""
    cdef int64_t out = 0
    cdef int st = fx_rescale(v, from_scale, to_scale, &out)
    if st != FX_OK:
        raise ValueError(f"{fx_strerror(st).decode()}: rescale({v}, {from_scale} -> {to_scale})")
    return out


def mul_div(int64_t a, int64_t b, int64_t d, int mode=FX_FLOOR):
    """a * b / d rounded by mode, exact 128-bit intermediate (e.g. price * qty at a chosen scale)."""
    cdef int64_t out = 0
    cdef int st = fx_mul_div(a, b, d, mode, &out)
    if st != FX_OK:
        raise ValueError(f"{fx_strerror(st).decode()}: mul_div({a}, {b}, {d})")
    return out


def mul_cmp(int64_t a, int64_t b, int ab_scale, int64_t c, int c_scale):
    """Sign of a*b*10^-ab_scale - c*10^-c_scale (exact): -1, 0 or 1."""
    cdef int r = fx_mul_cmp(a, b, ab_scale, c, c_scale)
    if r == -2:
        raise ValueError(f"scale outside range: mul_cmp(ab_scale={ab_scale}, c_scale={c_scale})")
    return r


def parse_many(list texts, int scale):
    """Sum of parse_bytes over a list of bytes, in one C loop: what a Cython caller
    (e.g. a frame parser) pays per number, without Python call overhead."""
    cdef int64_t total = 0
    cdef bytes b
    for b in texts:
        total += parse_bytes(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), scale)
    return total


def clear_cache():
    """Drop the cached Decimals (tests, memory pressure)."""
    for c in _decimal_cache:
        (<dict>c).clear()


def _probe_decimal_layout():
    """True if this interpreter's Decimal matches exc_dec_object (see the module doc)."""
    cdef exc_dec_object *o
    cdef object d, built
    if os.environ.get("EXCONNECT_NO_DECIMAL_FASTPATH") == "1" or sys.maxsize != 2**63 - 1:
        return False
    if type(_Decimal(1)).__module__ != "decimal" or _Decimal(1).__sizeof__() != sizeof(exc_dec_object):
        return False
    samples = ["0", "-0", "1", "-29999.99000000", "1E+5", "9223372036854775807", "-9223372036854775808",
               "1.2345E-20", "0.00100000", "12345678901234567890123", "-0E-8"]
    for text in samples:
        d = _Decimal(text)
        o = <exc_dec_object *><void *>d
        sign, digits, exp = d.as_tuple()
        coefficient = int("".join(map(str, digits)))
        if o.dec.data != &o.data[0] or o.dec.exp != exp or o.dec.digits != len(digits) \
                or (o.dec.flags & EXC_MPD_NEG) != sign or (o.dec.flags & EXC_MPD_SPECIAL) != 0:
            return False
        words = [o.dec.data[i] for i in range(o.dec.len)]
        if sum(w * 10 ** (19 * i) for i, w in enumerate(words)) != coefficient:
            return False
    for v, scale in [(0, 0), (0, 8), (1, 0), (-1, 3), (2999999000000, 8), (-2999999000000, 8),
                     (9223372036854775807, 18), (-9223372036854775807 - 1, 0), (10**18, 2)]:
        built = exc_dec_new(_Decimal, v, scale, fx_digits(v))
        ref = _Decimal(to_str(v, scale, False))
        if (built != ref or str(built) != str(ref) or built.as_tuple() != ref.as_tuple()
                or hash(built) != hash(ref) or built + 1 != ref + 1 or -built != -ref):
            return False
    return True


cdef bint _probe_passed = _probe_decimal_layout()
_layout_ok = _probe_passed
DECIMAL_FAST_PATH = _probe_passed  # what the probe found on this interpreter


def use_decimal_fast_path(bint on):
    """Switch the Decimal layout fast path off/on (on only if the probe passed); returns the state.

    For tests and benchmarks of the portable str()/Decimal(str) path."""
    global _layout_ok
    _layout_ok = on and _probe_passed
    return _layout_ok
