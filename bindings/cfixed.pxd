# Declarations of core/fixed.h for Cython code (bindings and third-party strategies).
from libc.stdint cimport int64_t, uint64_t

cdef extern from "fixed.h" nogil:
    enum:
        FX_MAX_SCALE
    ctypedef enum fx_status:
        FX_OK
        FX_ERR_EMPTY
        FX_ERR_SYNTAX
        FX_ERR_OVERFLOW
        FX_ERR_PRECISION
        FX_ERR_SCALE
        FX_ERR_ARG
    ctypedef enum fx_round:
        FX_FLOOR
        FX_CEIL
        FX_NEAREST
    const int64_t fx_pow10[]
    int fx_parse(const char *s, size_t len, int scale, int64_t *out)
    int fx_parse_round(const char *s, size_t len, int scale, int mode, int64_t *out)
    int fx_format(int64_t v, int scale, int trim, char *buf, size_t cap)
    int fx_rescale(int64_t v, int from_scale, int to_scale, int64_t *out)
    int fx_quantize(int64_t v, int64_t inc, int mode, int64_t *out)
    int fx_mul_div(int64_t a, int64_t b, int64_t d, int mode, int64_t *out)
    int fx_mul_cmp(int64_t a, int64_t b, int ab_scale, int64_t c, int c_scale)
    int fx_digits(int64_t v)
    int fx_from_parts(uint64_t coef, int neg, long exp, int scale, int mode, int64_t *out)
    const char *fx_strerror(int status)
