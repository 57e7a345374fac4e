/* fixed.h — decimal text <-> int64 fixed point, exact, no floats, no Decimal.
 *
 * A fixed-point value v at scale s means v * 10^-s.  Every function is total:
 * it returns FX_OK or an error code and never reads outside the given buffer.
 * Nothing is ever rounded silently: digits that do not fit the scale are an
 * error (FX_ERR_PRECISION); quantization is explicit (fx_quantize, fx_mul_div).
 */
#ifndef EXCONNECT_FIXED_H
#define EXCONNECT_FIXED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FX_MAX_SCALE 18

typedef enum {
    FX_OK = 0,
    FX_ERR_EMPTY = 1,     /* no characters */
    FX_ERR_SYNTAX = 2,    /* not a decimal number */
    FX_ERR_OVERFLOW = 3,  /* magnitude does not fit int64 at this scale */
    FX_ERR_PRECISION = 4, /* non-zero digits beyond the scale */
    FX_ERR_SCALE = 5,     /* scale outside 0..FX_MAX_SCALE */
    FX_ERR_ARG = 6        /* bad argument (increment <= 0, division by 0, ...) */
} fx_status;

typedef enum { FX_FLOOR = 0, FX_CEIL = 1, FX_NEAREST = 2 /* half to even */ } fx_round;

extern const int64_t fx_pow10[FX_MAX_SCALE + 1];

/* Parse [s, s+len): [+-]digits[.digits][(e|E)[+-]digits]; ".5" and "5." accepted;
 * no whitespace, "inf", "nan" or "_".  On success stores value*10^scale in *out;
 * on error *out is untouched.  Results lie in [-INT64_MAX, INT64_MAX] (INT64_MIN
 * is an overflow, so negation is always safe).  Digits beyond the scale that
 * are non-zero give FX_ERR_PRECISION even when the value is also too large. */
int fx_parse(const char *s, size_t len, int scale, int64_t *out);

/* Like fx_parse, but digits beyond `scale` are rounded by `mode` (FX_FLOOR,
 * FX_CEIL, FX_NEAREST = half to even) instead of being an error.  Rounding is
 * done on the exact decimal text, never through a float or a wider type, so
 * "0.129999999999999999999999" floors to 0.12 at scale 2.  Syntax and
 * overflow (of the rounded result) are still errors. */
int fx_parse_round(const char *s, size_t len, int scale, int mode, int64_t *out);

/* (-1)^neg * coef * 10^exp at `scale` (a decimal's parts, e.g. read from a
 * Python Decimal): exact when mode < 0 (FX_ERR_PRECISION if digits would be
 * lost), else rounded by mode.  FX_ERR_OVERFLOW if the result exceeds int64. */
int fx_from_parts(uint64_t coef, int neg, long exp, int scale, int mode, int64_t *out);

/* Write v at `scale` as text: exactly `scale` decimals, or with trailing zeros
 * (and a bare '.') removed when trim != 0.  Returns the length written (no NUL
 * is written unless there is room) or -1 if cap is too small (needs <= 41). */
int fx_format(int64_t v, int scale, int trim, char *buf, size_t cap);

/* Exact change of scale; FX_ERR_PRECISION if digits would be lost. */
int fx_rescale(int64_t v, int from_scale, int to_scale, int64_t *out);

/* Round v to a multiple of inc (> 0), same scale for both. */
int fx_quantize(int64_t v, int64_t inc, int mode, int64_t *out);

/* a * b / d with a 128-bit intermediate, rounded by mode. All integers; callers
 * choose d = 10^k to express scale changes (e.g. price*qty -> quote). */
int fx_mul_div(int64_t a, int64_t b, int64_t d, int mode, int64_t *out);

/* Sign (-1, 0, 1) of  a*b*10^-ab_scale - c*10^-c_scale,  exact (128-bit, no
 * overflow possible).  Used for notional checks: price*amount vs a minimum.
 * ab_scale in 0..2*FX_MAX_SCALE, c_scale in 0..FX_MAX_SCALE; any other
 * scale returns -2. */
int fx_mul_cmp(int64_t a, int64_t b, int ab_scale, int64_t c, int c_scale);

/* Number of decimal digits of |v| (1 for 0); 1..19. */
int fx_digits(int64_t v);

/* Human-readable text for a status code (static string). */
const char *fx_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif
