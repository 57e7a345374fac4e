# cython: language_level=3
"""Fixed-point conversions at the Python edge.

`to_fixed` accepts Decimal, str, bytes and int; floats are refused on purpose:
a float has already lost the exact decimal value an exchange sent.
"""
from decimal import Decimal

from libc.stdint cimport int64_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

from exconnect.native.cfixed cimport (
    FX_OK, FX_MAX_SCALE, FX_FLOOR, FX_CEIL, FX_NEAREST,
    fx_parse, fx_format, fx_quantize, fx_rescale, fx_strerror,
)

FLOOR = FX_FLOOR
CEIL = FX_CEIL
NEAREST = FX_NEAREST
MAX_SCALE = FX_MAX_SCALE

cdef object _Decimal = Decimal


cdef int64_t parse_bytes(const char *s, Py_ssize_t n, int scale) except? -1:
    cdef int64_t out = 0
    cdef int st = fx_parse(s, <size_t>n, scale, &out)
    if st != FX_OK:
        raise ValueError(f"{fx_strerror(st).decode()}: {s[:n]!r} at scale {scale}")
    return out


cdef int64_t to_fixed(object value, int scale) except? -1:
    cdef bytes b
    if isinstance(value, int) and not isinstance(value, bool):
        if not -9223372036854775807 <= value <= 9223372036854775807:
            raise ValueError(f"number too large for the fixed-point range: {value!r}")
        b = str(value).encode()
    elif isinstance(value, (str, _Decimal)):
        b = str(value).encode()
    elif isinstance(value, bytes):
        b = value
    elif isinstance(value, float):
        raise TypeError(f"floats are not accepted for money ({value!r}); pass a Decimal or str")
    else:
        raise TypeError(f"expected Decimal, str, bytes or int, got {type(value).__name__}")
    return parse_bytes(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), scale)


cdef str to_str(int64_t v, int scale, bint trim=False):
    cdef char buf[48]
    cdef int n = fx_format(v, scale, trim, buf, sizeof(buf))
    if n < 0:
        raise ValueError(f"cannot format {v} at scale {scale}")
    return buf[:n].decode("ascii")


cdef object to_decimal(int64_t v, int scale):
    return _Decimal(to_str(v, scale, False))


def parse(value, int scale):
    """Decimal/str/bytes/int -> int64 at `scale`; ValueError on overflow, syntax, or lost digits."""
    return to_fixed(value, scale)


def decimal(int64_t v, int scale):
    """int64 fixed point at `scale` -> Decimal (exact)."""
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
    cdef int64_t out = 0
    cdef int st = fx_rescale(v, from_scale, to_scale, &out)
    if st != FX_OK:
        raise ValueError(f"{fx_strerror(st).decode()}: rescale({v}, {from_scale} -> {to_scale})")
    return out
