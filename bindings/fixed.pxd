# Python-edge conversions between text / Decimal / int and int64 fixed point.
# cdef functions raise ValueError (with the offending text) and propagate it.
from libc.stdint cimport int64_t

cdef int64_t parse_bytes(const char *s, Py_ssize_t n, int scale) except? -1
cdef int64_t to_fixed(object value, int scale) except? -1
cdef object to_decimal(int64_t v, int scale)
cdef str to_str(int64_t v, int scale, bint trim=*)
