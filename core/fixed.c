/* fixed.c — see fixed.h.  Parsing keeps a run of pending zeros so that long
 * inputs such as "1.00000000000000000000" never overflow the accumulator. */
#include "fixed.h"
#include "numtext.h"

#include <limits.h>

const int64_t fx_pow10[FX_MAX_SCALE + 1] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
    100000000LL, 1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL,
    10000000000000LL, 100000000000000LL, 1000000000000000LL,
    10000000000000000LL, 100000000000000000LL, 1000000000000000000LL};

#define U64_LIMIT ((uint64_t)INT64_MAX)

/* m * 10^k with overflow check against INT64_MAX magnitude. */
static int mul_pow10(uint64_t m, long k, uint64_t *out) {
    if (m == 0) { *out = 0; return FX_OK; }
    while (k > 0) {
        if (m > U64_LIMIT / 10u) return FX_ERR_OVERFLOW;
        m *= 10u;
        k--;
    }
    *out = m;
    return FX_OK;
}

/* Exponents are accumulated only up to this bound: an exponent beyond the
 * input's length + 100 puts every non-zero digit more than 80 places outside
 * the int64 range (overflow) or below the scale (precision / rounds away),
 * whatever the mantissa's digits and dot position, so saturating is exact. */
static long exp_clamp(size_t len) {
    const size_t cap = (size_t)(LONG_MAX / 20); /* keeps exp10 * 10 + 9 in range */
    return (long)(len > cap ? cap : len) + 100;
}

/* Fast scan for the common shape [+-]digits[.digits] with at most 19
 * significant digits (every exchange price/quantity): one pass, no division.
 * On success the value is (-1)^neg * coef * 10^exp (coef without trailing
 * zeros) and 1 is returned; 0 means the input needs the general parser
 * (exponent, long mantissa, anything unusual), which then decides. */
static int scan_plain(const char *s, size_t len, uint64_t *coef, int *neg_out, long *exp_out) {
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') { neg = (s[0] == '-'); i = 1; }
    uint64_t acc = 0, acc_nz = 0; /* acc_nz: acc as of its last non-zero digit */
    long tz = 0, frac = 0;        /* zeros after the last non-zero digit; digits after '.' */
    int sig = 0, nd = 0, dot = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) {
            if (s[i] == '.' && !dot) { dot = 1; continue; }
            return 0;
        }
        nd++;
        frac += dot;
        if (acc != 0) {
            if (++sig > 19) return 0;
        } else if (d != 0) {
            sig = 1;
        }
        acc = acc * 10u + d;
        if (d != 0) { acc_nz = acc; tz = 0; } else { tz++; }
    }
    if (nd == 0) return 0;
    *coef = acc_nz;
    *neg_out = neg;
    *exp_out = tz - frac;
    return 1;
}

int fx_parse(const char *s, size_t len, int scale, int64_t *out) {
    if (scale < 0 || scale > FX_MAX_SCALE) return FX_ERR_SCALE;
    if (s == NULL || len == 0) return FX_ERR_EMPTY;
    uint64_t coef;
    int pneg;
    long pexp;
    if (scan_plain(s, len, &coef, &pneg, &pexp)) return fx_from_parts(coef, pneg, pexp, scale, -1, out);
    size_t i = 0;
    int neg = 0;
    if (s[i] == '-' || s[i] == '+') { neg = (s[i] == '-'); i++; }
    uint64_t mant = 0;      /* significant digits so far, without pending zeros */
    long zeros = 0;         /* zeros seen after the last non-zero digit */
    long frac = 0;          /* digits after the decimal point */
    int ndigits = 0, seen_dot = 0, overflow = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            ndigits++;
            if (seen_dot) frac++;
            if (c == '0') { if (mant != 0) zeros++; continue; }
            if (!overflow) {
                uint64_t m;
                if (mul_pow10(mant, zeros + 1, &m) != FX_OK || m > U64_LIMIT - (uint64_t)(c - '0'))
                    overflow = 1;
                else
                    mant = m + (uint64_t)(c - '0');
            }
            zeros = 0;
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (ndigits == 0) return FX_ERR_SYNTAX;
    long exp10;
    if (!nt_exponent_tail(s, i, len, exp_clamp(len), &exp10)) return FX_ERR_SYNTAX;
    if (mant == 0 && !overflow) { *out = 0; return FX_OK; }
    /* value = mant * 10^(zeros + exp10 - frac), wanted value * 10^scale */
    long k = zeros + exp10 - frac + scale;
    /* mant ends in a non-zero digit, so k < 0 means digits beyond the scale
     * (reported as such even when the mantissa was also too long to hold). */
    if (k < 0) return FX_ERR_PRECISION;
    if (overflow) return FX_ERR_OVERFLOW;
    uint64_t m;
    if (k > 19 || mul_pow10(mant, k, &m) != FX_OK) return FX_ERR_OVERFLOW;
    *out = neg ? -(int64_t)m : (int64_t)m;
    return FX_OK;
}

int fx_format(int64_t v, int scale, int trim, char *buf, size_t cap) {
    if (scale < 0 || scale > FX_MAX_SCALE || buf == NULL) return -1;
    char tmp[48];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    /* digits in reverse, at least scale+1 of them */
    do { tmp[n++] = (char)('0' + (u % 10u)); u /= 10u; } while (u != 0);
    while (n < scale + 1) tmp[n++] = '0';
    int lo = 0; /* number of trailing fractional zeros to drop */
    if (trim) while (lo < scale && tmp[lo] == '0') lo++;
    size_t need = (size_t)(n - lo) + (v < 0) + (scale - lo > 0);
    if (need > cap) return -1;
    size_t p = 0;
    if (v < 0) buf[p++] = '-';
    for (int j = n - 1; j >= lo; j--) {
        if (j == scale - 1) buf[p++] = '.';
        buf[p++] = tmp[j];
    }
    if (p < cap) buf[p] = '\0';
    return (int)p;
}

int fx_rescale(int64_t v, int from_scale, int to_scale, int64_t *out) {
    if (from_scale < 0 || from_scale > FX_MAX_SCALE || to_scale < 0 || to_scale > FX_MAX_SCALE)
        return FX_ERR_SCALE;
    if (to_scale >= from_scale) {
        int64_t f = fx_pow10[to_scale - from_scale];
        __int128 r = (__int128)v * f;
        if (r > INT64_MAX || r < INT64_MIN) return FX_ERR_OVERFLOW;
        *out = (int64_t)r;
    } else {
        int64_t f = fx_pow10[from_scale - to_scale];
        if (v % f != 0) return FX_ERR_PRECISION;
        *out = v / f;
    }
    return FX_OK;
}

/* floor/ceil/half-even division of a 128-bit numerator by a positive divisor */
static int div_round(__int128 n, __int128 d, int mode, __int128 *q_out) {
    if (mode != FX_FLOOR && mode != FX_CEIL && mode != FX_NEAREST) return FX_ERR_ARG;
    __int128 q = n / d, r = n % d;
    if (r != 0) {
        if (mode == FX_FLOOR) {
            if (r < 0) q -= 1;
        } else if (mode == FX_CEIL) {
            if (r > 0) q += 1;
        } else if (mode == FX_NEAREST) {
            __int128 ar = r < 0 ? -r : r;
            __int128 twice = ar * 2;
            int up = twice > d || (twice == d && (q % 2 != 0));
            if (up) q += (r < 0) ? -1 : 1;
        } else {
            return FX_ERR_ARG;
        }
    }
    *q_out = q;
    return FX_OK;
}

int fx_quantize(int64_t v, int64_t inc, int mode, int64_t *out) {
    if (inc <= 0) return FX_ERR_ARG;
    __int128 q;
    int st = div_round((__int128)v, (__int128)inc, mode, &q);
    if (st != FX_OK) return st;
    __int128 r = q * inc;
    if (r > INT64_MAX || r < INT64_MIN) return FX_ERR_OVERFLOW;
    *out = (int64_t)r;
    return FX_OK;
}

int fx_mul_div(int64_t a, int64_t b, int64_t d, int mode, int64_t *out) {
    if (d == 0) return FX_ERR_ARG;
    __int128 n = (__int128)a * b;
    __int128 dd = d;
    if (dd < 0) { n = -n; dd = -dd; }
    __int128 q;
    int st = div_round(n, dd, mode, &q);
    if (st != FX_OK) return st;
    if (q > INT64_MAX || q < INT64_MIN) return FX_ERR_OVERFLOW;
    *out = (int64_t)q;
    return FX_OK;
}

int fx_parse_round(const char *s, size_t len, int scale, int mode, int64_t *out) {
    if (scale < 0 || scale > FX_MAX_SCALE) return FX_ERR_SCALE;
    if (mode != FX_FLOOR && mode != FX_CEIL && mode != FX_NEAREST) return FX_ERR_ARG;
    if (s == NULL || len == 0) return FX_ERR_EMPTY;
    uint64_t coef;
    int pneg;
    long pexp;
    if (scan_plain(s, len, &coef, &pneg, &pexp)) return fx_from_parts(coef, pneg, pexp, scale, mode, out);
    /* Pass 1: validate and locate mantissa digits and the exponent, so that
     * pass 2 knows the weight of every digit before it accumulates. */
    size_t i = 0;
    int neg = 0;
    if (s[i] == '-' || s[i] == '+') { neg = (s[i] == '-'); i++; }
    size_t mstart = i;
    long intdigits = 0, ndigits = 0;
    int seen_dot = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') { ndigits++; if (!seen_dot) intdigits++; }
        else if (c == '.' && !seen_dot) seen_dot = 1;
        else break;
    }
    size_t mend = i;
    if (ndigits == 0) return FX_ERR_SYNTAX;
    long exp10;
    if (!nt_exponent_tail(s, i, len, exp_clamp(len), &exp10)) return FX_ERR_SYNTAX;
    /* Pass 2: digit number j (0-based, dot skipped) is worth 10^w at the target
     * scale, w = intdigits - 1 - j + exp10 + scale. */
    long w = intdigits - 1 + exp10 + (long)scale;
    uint64_t acc = 0;
    int first = 0, sticky = 0, any_int = 0;
    long w_last_int = 0;
    for (size_t p = mstart; p < mend; p++) {
        char c = s[p];
        if (c == '.') continue;
        int d = c - '0';
        if (w >= 0) {
            if (acc != 0 || d != 0) {
                if (w > 18 || acc > (U64_LIMIT - (uint64_t)d) / 10u) return FX_ERR_OVERFLOW;
                acc = acc * 10u + (uint64_t)d;
            }
            any_int = 1;
            w_last_int = w;
        } else if (w == -1) {
            first = d;
        } else if (d != 0) {
            sticky = 1;
        }
        w--;
    }
    if (any_int && acc != 0 && w_last_int > 0) {
        uint64_t m;
        if (mul_pow10(acc, w_last_int, &m) != FX_OK) return FX_ERR_OVERFLOW;
        acc = m;
    }
    int inexact = first != 0 || sticky;
    int up = 0; /* round the magnitude away from zero */
    if (inexact) {
        if (mode == FX_FLOOR) up = neg;
        else if (mode == FX_CEIL) up = !neg;
        else up = first > 5 || (first == 5 && (sticky || (acc & 1u)));
    }
    if (up) {
        if (acc >= U64_LIMIT) return FX_ERR_OVERFLOW;
        acc++;
    }
    *out = neg ? -(int64_t)acc : (int64_t)acc;
    return FX_OK;
}

/* x * 10^k for |x| < 2^127; returns 0 and sets *sat when the magnitude would
 * exceed 2^126 (then only the sign of the result matters to the caller). */
static __int128 mul_pow10_128(__int128 x, int k, int *sat) {
    const __int128 lim = (__int128)1 << 126;
    *sat = 0;
    while (k-- > 0) {
        if (x > lim / 10 || x < -(lim / 10)) { *sat = 1; return 0; }
        x *= 10;
    }
    return x;
}

int fx_mul_cmp(int64_t a, int64_t b, int ab_scale, int64_t c, int c_scale) {
    if (ab_scale < 0 || ab_scale > 2 * FX_MAX_SCALE || c_scale < 0 || c_scale > FX_MAX_SCALE) return -2;
    __int128 l = (__int128)a * b; /* |l| <= 2^126 */
    __int128 r = c;
    int sat = 0;
    if (ab_scale > c_scale) {
        r = mul_pow10_128(r, ab_scale - c_scale, &sat);
        if (sat) return c > 0 ? -1 : 1; /* |r| > 2^126 >= |l| */
    } else if (c_scale > ab_scale) {
        l = mul_pow10_128(l, c_scale - ab_scale, &sat);
        if (sat) return ((a < 0) != (b < 0)) ? -1 : 1;
    }
    return (l > r) - (l < r);
}

int fx_from_parts(uint64_t coef, int neg, long exp, int scale, int mode, int64_t *out) {
    if (scale < 0 || scale > FX_MAX_SCALE) return FX_ERR_SCALE;
    if (mode >= 0 && mode != FX_FLOOR && mode != FX_CEIL && mode != FX_NEAREST) return FX_ERR_ARG;
    if (coef == 0) { *out = 0; return FX_OK; }
    long e = exp + scale;
    uint64_t q;
    if (e >= 0) {
        if (e > 18) return FX_ERR_OVERFLOW; /* coef >= 1, so >= 10^19 */
        unsigned __int128 m = (unsigned __int128)coef * (uint64_t)fx_pow10[e];
        if (m > U64_LIMIT) return FX_ERR_OVERFLOW;
        q = (uint64_t)m;
    } else {
        uint64_t r, d;
        if (e < -19) { q = 0; r = coef; d = 0; /* 10^-e > coef: far below one half */ }
        else {
            d = e == -19 ? 10000000000000000000ULL : (uint64_t)fx_pow10[-e];
            q = coef / d;
            r = coef % d;
        }
        if (r != 0) {
            if (mode < 0) return FX_ERR_PRECISION;
            int up;
            if (mode == FX_FLOOR) up = neg;
            else if (mode == FX_CEIL) up = !neg;
            else up = d != 0 && (r > d - r || (r == d - r && (q & 1u)));
            q += (uint64_t)up;
        }
    }
    if (q > U64_LIMIT) return FX_ERR_OVERFLOW;
    *out = neg ? -(int64_t)q : (int64_t)q;
    return FX_OK;
}

int fx_digits(int64_t v) {
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = 1;
    while (u >= 10u) { u /= 10u; n++; }
    return n;
}

const char *fx_strerror(int status) {
    switch (status) {
    case FX_OK: return "ok";
    case FX_ERR_EMPTY: return "empty number";
    case FX_ERR_SYNTAX: return "not a decimal number";
    case FX_ERR_OVERFLOW: return "number too large for the fixed-point range";
    case FX_ERR_PRECISION: return "more decimal places than the fixed-point scale allows";
    case FX_ERR_SCALE: return "scale outside 0..18";
    case FX_ERR_ARG: return "invalid argument";
    default: return "unknown error";
    }
}
