# Python-edge conversions between text / Decimal / int and int64 fixed point.
# cdef functions raise ValueError (with the offending text) and propagate it;
# TypeError for floats and other non-decimal types.
from libc.stdint cimport int64_t

# exact: digits beyond `scale` are an error
cdef int64_t parse_bytes(const char *s, Py_ssize_t n, int scale) except? -1
cdef int64_t to_fixed(object value, int scale) except? -1
# explicit rounding (FX_FLOOR / FX_CEIL / FX_NEAREST) of digits beyond `scale`
cdef int64_t parse_bytes_round(const char *s, Py_ssize_t n, int scale, int mode) except? -1
cdef int64_t to_fixed_round(object value, int scale, int mode) except? -1
# Decimal with exponent -scale (cached, shared immutable objects)
cdef object to_decimal(int64_t v, int scale)
cdef str to_str(int64_t v, int scale, bint trim=*)

# Lower level, for hot paths that branch on the outcome instead of catching:
# as_text gives the decimal text of an accepted value (str or bytes; TypeError
# for floats and other types); parse_text parses it and returns the fx_status
# (FX_OK = 0) without raising.  mode: PARSE_EXACT, or FX_FLOOR/FX_CEIL/FX_NEAREST.
cdef enum:
    PARSE_EXACT = -1
cdef object as_text(object value)
cdef int parse_text(object text, int scale, int mode, int64_t *out) except -1
# parse_value: any accepted value (a Decimal is read without str() when safe)
cdef int parse_value(object value, int scale, int mode, int64_t *out) except -1
