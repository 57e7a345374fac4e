/* binance_parse.c — see binance_parse.h.
 *
 * A single forward pass over the bytes with a cursor that is checked against
 * the end before every read.  Known keys are matched on their raw bytes (an
 * escaped key such as "\u0062" is treated as unknown and skipped); unknown
 * values are skipped with a validating, non-recursive scanner so hostile
 * nesting cannot exhaust the stack.
 */
#include "binance_parse.h"

#include <stdlib.h>
#include <string.h>

#include "fixed.h"

typedef struct {
    const char *p, *end, *base;
    int status;      /* first error */
    int detail;
    const char *at;  /* where the first error happened */
} cur;

static int fail(cur *c, int st) {
    if (c->status == BP_OK) {
        c->status = st;
        c->at = c->p;
    }
    return st;
}

/* Unaligned little words of the input (memcpy: no alignment or aliasing assumptions). */
static inline __attribute__((always_inline)) uint64_t ld64(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline __attribute__((always_inline)) uint32_t ld32(const char *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static inline __attribute__((always_inline)) uint32_t ld16(const char *p) {
    uint16_t w;
    memcpy(&w, p, 2);
    return w;
}

/* Eight bytes -> a mask, 0 iff all are ASCII digits; otherwise its lowest set bit lies in the
 * first non-digit byte: a byte is a digit iff its high nibble is 3 before and after adding 6,
 * and a carry out of a non-digit byte only disturbs bytes after it. */
static inline __attribute__((always_inline)) uint64_t non_digits(uint64_t w) {
    return ((w & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL) |
           (((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL);
}

static inline void ws(cur *c) {
    /* no whitespace at all is the usual case (Binance sends compact JSON): one test */
    if (c->p < c->end && (unsigned char)*c->p > ' ') return;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static inline int peek(cur *c) { return c->p < c->end ? (unsigned char)*c->p : -1; }

static inline int eat(cur *c, char ch) {
    ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && (defined(__GNUC__) || defined(__clang__))
#define BP_STR_SWAR 1
/* Eight string bytes at p -> a mask whose lowest set bit (0x80 of a byte) marks the first
 * '"', '\\' or control byte, 0 if none: the lowest flagged byte of each has-zero /
 * has-less test is exact (borrows only run upwards from a true hit), so is their OR's. */
static inline uint64_t str_special(const char *p) {
    uint64_t w = ld64(p);
    uint64_t q = w ^ 0x2222222222222222ULL, b = w ^ 0x5C5C5C5C5C5C5C5CULL;
    return (((q - 0x0101010101010101ULL) & ~q) | ((b - 0x0101010101010101ULL) & ~b) |
            ((w - 0x2020202020202020ULL) & ~w)) & 0x8080808080808080ULL;
}

/* From p, eight bytes at a time: the first '"', '\\' or control byte, or the first byte of
 * the last (fewer than eight, unscanned) ones. */
static inline __attribute__((always_inline)) const char *skip_plain8(const char *p, const char *end) {
    while (end - p >= 8) {
        uint64_t hit = str_special(p);
        if (hit) return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
    return p;
}
#endif

/* At '"': scan a string, return its raw content span (escapes left as is). */
static int scan_string(cur *c, const char **s, size_t *n) {
    if (peek(c) != '"') return fail(c, BP_ERR_TYPE);
    const char *start = ++c->p;
#ifdef BP_STR_SWAR
    c->p = skip_plain8(c->p, c->end); /* the byte loop below decides what stopped it */
#endif
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            *s = start;
            *n = (size_t)(c->p - start);
            c->p++;
            return BP_OK;
        }
        if (ch < 0x20) return fail(c, BP_ERR_SYNTAX);
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end) break;
            ch = (unsigned char)*c->p;
            if (ch == 'u') {
                for (int k = 0; k < 4; k++) {
                    c->p++;
                    if (c->p >= c->end) return fail(c, BP_ERR_SYNTAX);
                    unsigned char h = (unsigned char)*c->p;
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                        return fail(c, BP_ERR_SYNTAX);
                }
            } else if (!strchr("\"\\/bfnrt", ch) || ch == 0) {
                return fail(c, BP_ERR_SYNTAX);
            }
        }
        c->p++;
    }
    return fail(c, BP_ERR_SYNTAX);
}

/* At a number: scan JSON number grammar, return its span. */
static int scan_number(cur *c, const char **s, size_t *n) {
    const char *start = c->p;
    if (peek(c) == '-') c->p++;
    int d = 0;
    if (peek(c) == '0') {
        c->p++;
        d = 1;
    } else {
        while (peek(c) >= '0' && peek(c) <= '9') { c->p++; d++; }
    }
    if (d == 0) return fail(c, BP_ERR_SYNTAX);
    if (peek(c) == '.') {
        c->p++;
        d = 0;
        while (peek(c) >= '0' && peek(c) <= '9') { c->p++; d++; }
        if (d == 0) return fail(c, BP_ERR_SYNTAX);
    }
    if (peek(c) == 'e' || peek(c) == 'E') {
        c->p++;
        if (peek(c) == '+' || peek(c) == '-') c->p++;
        d = 0;
        while (peek(c) >= '0' && peek(c) <= '9') { c->p++; d++; }
        if (d == 0) return fail(c, BP_ERR_SYNTAX);
    }
    *s = start;
    *n = (size_t)(c->p - start);
    return BP_OK;
}

static int scan_literal(cur *c, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) return fail(c, BP_ERR_SYNTAX);
    c->p += n;
    return BP_OK;
}

/* Skip any JSON value, validating it, without recursion. */
static int skip_value(cur *c) {
    char stack[BP_MAX_NESTING];
    int depth = 0;
    const char *s;
    size_t n;
    for (;;) {
        ws(c);
        int ch = peek(c);
        /* one value */
        if (ch == '{' || ch == '[') {
            if (depth >= BP_MAX_NESTING) return fail(c, BP_ERR_DEPTH);
            stack[depth++] = (char)ch;
            c->p++;
            ws(c);
            if (peek(c) == (ch == '{' ? '}' : ']')) {
                c->p++;
                depth--;
                goto after_value;
            }
            if (ch == '{') {
                if (scan_string(c, &s, &n) != BP_OK) return fail(c, BP_ERR_SYNTAX);
                if (!eat(c, ':')) return fail(c, BP_ERR_SYNTAX);
            }
            continue;
        } else if (ch == '"') {
            if (scan_string(c, &s, &n) != BP_OK) return c->status;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            if (scan_number(c, &s, &n) != BP_OK) return c->status;
        } else if (ch == 't') {
            if (scan_literal(c, "true") != BP_OK) return c->status;
        } else if (ch == 'f') {
            if (scan_literal(c, "false") != BP_OK) return c->status;
        } else if (ch == 'n') {
            if (scan_literal(c, "null") != BP_OK) return c->status;
        } else {
            return fail(c, BP_ERR_SYNTAX);
        }
    after_value:
        /* close containers / move to the next element */
        for (;;) {
            if (depth == 0) return BP_OK;
            ws(c);
            char open = stack[depth - 1];
            int close = open == '{' ? '}' : ']';
            if (peek(c) == close) {
                c->p++;
                depth--;
                continue;
            }
            if (peek(c) != ',') return fail(c, BP_ERR_SYNTAX);
            c->p++;
            if (open == '{') {
                ws(c);
                if (scan_string(c, &s, &n) != BP_OK) return fail(c, BP_ERR_SYNTAX);
                if (!eat(c, ':')) return fail(c, BP_ERR_SYNTAX);
            }
            break;
        }
    }
}

/* Eight ASCII digits at p -> their value (SWAR: one load, three multiplies).
 * Only on little-endian targets; elsewhere the digit loop does the work. */
static inline int eight_digits(const char *p, uint64_t *out) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    /* every byte must be 0x30..0x39: high nibble 3, and still 3 after adding 6 */
    if (((w & 0xF0F0F0F0F0F0F0F0ULL) | (((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) !=
        0x3333333333333333ULL)
        return 0;
    w -= 0x3030303030303030ULL;
    w = (w * 10u) + (w >> 8);
    w = (((w & 0x000000FF000000FFULL) * (100u + (1000000ULL << 32))) +
         (((w >> 16) & 0x000000FF000000FFULL) * (1u + (10000ULL << 32)))) >> 32;
    *out = w;
    return 1;
#else
    (void)p;
    (void)out;
    return 0;
#endif
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && (defined(__GNUC__) || defined(__clang__))
#define BP_SWAR 1
/* Eight bytes known to be ASCII digits -> their value (byte 0 most significant). */
static inline uint64_t eight_digits_unchecked(uint64_t w) {
    w -= 0x3030303030303030ULL;
    w = (w * 10u) + (w >> 8);
    return (((w & 0x000000FF000000FFULL) * (100u + (1000000ULL << 32))) +
            (((w >> 16) & 0x000000FF000000FFULL) * (1u + (10000ULL << 32)))) >> 32;
}
#endif

static int parse_int64(cur *c, int64_t *out) {
    ws(c);
    /* fast path: up to 18 plain digits (every Binance id and timestamp) */
    const char *s = c->p, *end = c->end;
    int neg = s < end && *s == '-';
    s += neg;
    uint64_t v = 0, w8;
    int digits = 0;
    if (end - s >= 8 && eight_digits(s, &w8)) { /* ids and timestamps have 11-13 digits */
        v = w8;
        digits = 8;
        s += 8;
#ifdef BP_SWAR
        if (end - s >= 8) {
            /* the remaining 1-7 digits at once (as in fast_quoted8); the count becomes a
             * predicted jump so that the next field's position does not wait for it */
            uint64_t w = ld64(s), nd = non_digits(w);
            int k = nd ? __builtin_ctzll(nd) >> 3 : 8;
#define BP_INT_TAIL(K)                                                                                      \
    case K:                                                                                                 \
        v = v * (uint64_t)fx_pow10[K] +                                                                     \
            eight_digits_unchecked((w << (8 * (8 - K))) | (0x3030303030303030ULL >> (8 * K)));              \
        digits += K;                                                                                        \
        s += K;                                                                                             \
        break;
            switch (k) {
            BP_INT_TAIL(1)
            BP_INT_TAIL(2)
            BP_INT_TAIL(3)
            BP_INT_TAIL(4)
            BP_INT_TAIL(5)
            BP_INT_TAIL(6)
            BP_INT_TAIL(7)
            default: break; /* 0 more digits, or 8+: the loop below */
            }
#undef BP_INT_TAIL
        }
#endif
    }
    while (s < end && (unsigned)(*s - '0') < 10u && digits < 18) {
        v = v * 10u + (uint64_t)(*s - '0');
        digits++;
        s++;
    }
    if (digits > 0 && (s == end || !((unsigned)(*s - '0') < 10u || *s == '.' || *s == 'e' || *s == 'E'))
        && !(digits > 1 && c->p[neg] == '0')) {
        *out = neg ? -(int64_t)v : (int64_t)v;
        c->p = s;
        return BP_OK;
    }
    int ch = peek(c);
    if (!(ch == '-' || (ch >= '0' && ch <= '9'))) return fail(c, BP_ERR_TYPE);
    const char *at = c->p, *num;
    size_t n;
    if (scan_number(c, &num, &n) != BP_OK) return c->status;
    int st = fx_parse(num, n, 0, out);
    if (st != FX_OK) {
        c->p = at;
        c->detail = st;
        return fail(c, BP_ERR_NUMBER);
    }
    return BP_OK;
}

/* Decimal text -> fixed.  Plain "ddd.ddd" with <= 18 significant digits is done
 * inline (the Binance case); anything else goes through fx_parse, which is
 * exact and reports precise errors. */
static inline int to_fixed(const char *s, size_t n, int scale, int64_t *out) {
    uint64_t v = 0;
    int digits = 0, frac = 0;
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (digits >= 18) goto slow;
        v = v * 10u + (uint64_t)(s[i] - '0');
        digits++;
        i++;
    }
    if (i == 0) goto slow;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (frac < scale) {
                if (digits >= 18) goto slow;
                v = v * 10u + (uint64_t)(s[i] - '0');
                digits++;
                frac++;
            } else if (s[i] != '0') {
                goto slow; /* lost digits: let fx_parse report it */
            }
            i++;
        }
    }
    if (i != n) goto slow;
    while (frac < scale) {
        if (digits >= 18) goto slow;
        v *= 10u;
        digits++;
        frac++;
    }
    *out = (int64_t)v;
    return FX_OK;
slow:
    return fx_parse(s, n, scale, out);
}


/* The Binance shape: q at '"', then 1-7 digits, '.', exactly 8 digits, '"' -- digits
 * counted branch-free (SWAR) and converted eight at a time instead of a loop per digit.
 * The count is turned into a (predicted) jump to code specialised for that length, so
 * the position of the next field does not wait for the arithmetic (a data dependency
 * from one number to the next measured slower than the per-digit loop).  Returns 1 with
 * the value fast_quoted gives, or 0 (nothing consumed) for anything else. */
#ifdef BP_SWAR
static inline __attribute__((always_inline)) int q8_tail(const char *q, const char *end, int len, uint64_t w, int scale, int64_t *out,
                          const char **after) {
    if (len + scale > 18 || end - q < len + 11 || q[1 + len] != '.' || q[len + 10] != '"') return 0;
    uint64_t f;
    memcpy(&f, q + 2 + len, 8);
    if (((f & 0xF0F0F0F0F0F0F0F0ULL) | (((f + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) !=
        0x3333333333333333ULL)
        return 0;
    /* left-pad the integer digits with '0' to eight bytes */
    uint64_t iw = (w << (8 * (8 - len))) | (0x3030303030303030ULL >> (8 * len));
    uint64_t v = eight_digits_unchecked(iw) * 100000000u + eight_digits_unchecked(f);
    *out = (int64_t)(v * (uint64_t)fx_pow10[scale - 8]);
    *after = q + len + 11;
    return 1;
}
#endif

static inline __attribute__((always_inline)) int fast_quoted8(const char *q, const char *end, int scale, int64_t *out, const char **after) {
#ifdef BP_SWAR
    if (end - q < 9 || *q != '"' || scale < 8) return 0;
    uint64_t w = ld64(q + 1), nd = non_digits(w); /* the first non-digit is found exactly */
    if (nd == 0) return 0; /* 8+ integer digits: rare, general route */
    switch (__builtin_ctzll(nd) >> 3) {
    case 1: return q8_tail(q, end, 1, w, scale, out, after);
    case 2: return q8_tail(q, end, 2, w, scale, out, after);
    case 3: return q8_tail(q, end, 3, w, scale, out, after);
    case 4: return q8_tail(q, end, 4, w, scale, out, after);
    case 5: return q8_tail(q, end, 5, w, scale, out, after);
    case 6: return q8_tail(q, end, 6, w, scale, out, after);
    case 7: return q8_tail(q, end, 7, w, scale, out, after);
    default: return 0;
    }
#else
    (void)q; (void)end; (void)scale; (void)out; (void)after;
    return 0;
#endif
}

/* Fast path for a quoted plain decimal "ddd.ddd" (<= 18 significant digits,
 * nothing beyond the scale but zeros), one pass, no whitespace.  Returns 1 and
 * sets *after past the closing quote, or 0 if the general route must decide. */
static inline int fast_quoted(const char *q, const char *end, int scale, int64_t *out, const char **after) {
    if (q >= end || *q != '"') return 0;
    q++;
    uint64_t v = 0;
    int digits = 0, frac = 0;
    const char *d0 = q;
    while (q < end && (unsigned)(*q - '0') < 10u) {
        if (digits >= 18) return 0;
        v = v * 10u + (uint64_t)(*q - '0');
        digits++;
        q++;
    }
    if (q == d0) return 0;
    if (q < end && *q == '.') {
        q++;
        uint64_t w8;
        if (end - q >= 8 && frac + 8 <= scale && digits + 8 <= 18 && eight_digits(q, &w8)) {
            v = v * 100000000u + w8; /* the usual 8 Binance decimals in one step */
            digits += 8;
            frac += 8;
            q += 8;
        }
        while (q < end && (unsigned)(*q - '0') < 10u) {
            if (frac < scale) {
                if (digits >= 18) return 0;
                v = v * 10u + (uint64_t)(*q - '0');
                digits++;
                frac++;
            } else if (*q != '0') {
                return 0; /* digits beyond the scale: let fx_parse report it */
            }
            q++;
        }
    }
    if (q >= end || *q != '"' || digits + (scale - frac) > 18) return 0;
    *out = (int64_t)(v * (uint64_t)fx_pow10[scale - frac]);
    *after = q + 1;
    return 1;
}

/* A decimal given as a JSON string or number. */
static int parse_decimal(cur *c, int scale, int64_t *out) {
    ws(c);
    const char *after;
    if (fast_quoted(c->p, c->end, scale, out, &after)) {
        c->p = after;
        return BP_OK;
    }
    const char *at = c->p, *s;
    size_t n;
    int ch = peek(c);
    if (ch == '"') {
        if (scan_string(c, &s, &n) != BP_OK) return c->status;
    } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
        if (scan_number(c, &s, &n) != BP_OK) return c->status;
    } else {
        return fail(c, BP_ERR_TYPE);
    }
    int st = to_fixed(s, n, scale, out);
    if (st != FX_OK) {
        c->p = at;
        c->detail = st;
        return fail(c, BP_ERR_NUMBER);
    }
    return BP_OK;
}

static int push_level(bp_levels *lv, int64_t p, int64_t q, int64_t uid) {
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(bk_level)) return BP_ERR_NOMEM;
        bk_level *v = realloc(lv->v, cap * sizeof(bk_level));
        if (v == NULL) return BP_ERR_NOMEM;
        lv->v = v;
        lv->cap = cap;
    }
    bk_level *x = &lv->v[lv->n++];
    x->price = p;
    x->qty = q;
    x->uid = uid;
    return BP_OK;
}

/* [["p","q"(,extra)*], ...]; every level gets `uid` */
static int level_list(cur *c, bp_levels *out, int ps, int ss, int64_t uid);

static int parse_levels(cur *c, bp_levels *out, int ps, int ss, int64_t uid) {
    out->n = 0;
    ws(c);
    if (peek(c) != '[') return fail(c, BP_ERR_TYPE);
    c->p++;
    if (eat(c, ']')) return BP_OK;
    return level_list(c, out, ps, ss, uid);
}

/* The levels of a non-empty list from the start of one level (after '[' or ','), appended
 * to out, through the closing ']'. */
static int level_list(cur *c, bp_levels *out, int ps, int ss, int64_t uid) {
    for (;;) {
        int64_t p, q;
        /* fast path: the canonical ["price","qty"] with no whitespace */
        const char *a = c->p, *b;
        if (a < c->end && *a == '[' &&
            (fast_quoted8(a + 1, c->end, ps, &p, &b) || fast_quoted(a + 1, c->end, ps, &p, &b)) &&
            b < c->end && *b == ',' &&
            (fast_quoted8(b + 1, c->end, ss, &q, &b) || fast_quoted(b + 1, c->end, ss, &q, &b)) &&
            b < c->end && *b == ']') {
            c->p = b + 1;
            if (out->n < out->cap) {
                bk_level *x = &out->v[out->n++];
                x->price = p;
                x->qty = q;
                x->uid = uid;
            } else {
                int st = push_level(out, p, q, uid);
                if (st != BP_OK) return fail(c, st);
            }
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (eat(c, ',')) continue;
            if (eat(c, ']')) return BP_OK;
            return fail(c, BP_ERR_SYNTAX);
        }
        if (!eat(c, '[')) return fail(c, BP_ERR_TYPE);
        if (parse_decimal(c, ps, &p) != BP_OK) return c->status;
        if (!eat(c, ',')) return fail(c, BP_ERR_SYNTAX);
        const char *qat = (ws(c), c->p);
        if (parse_decimal(c, ss, &q) != BP_OK) return c->status;
        if (q < 0) {
            c->p = qat;
            c->detail = FX_ERR_ARG;
            return fail(c, BP_ERR_NUMBER);
        }
        while (eat(c, ',')) /* tolerate extra fields in a level */
            if (skip_value(c) != BP_OK) return c->status;
        if (!eat(c, ']')) return fail(c, BP_ERR_SYNTAX);
        int st = push_level(out, p, q, uid);
        if (st != BP_OK) return fail(c, st);
        if (eat(c, ',')) continue;
        if (eat(c, ']')) return BP_OK;
        return fail(c, BP_ERR_SYNTAX);
    }
}

#ifdef BP_SWAR
/* At s: K integer digits (K known: w holds them, their first non-digit at byte K), '.',
 * eight digits.  Sets *v = the text * 10^8 and returns 1, or 0 if the '.' or a fraction
 * digit is missing (or, when `end` is given, the fraction is not before it).  Reads
 * s[0, K + 9). */
static inline __attribute__((always_inline)) int dec8_k(const char *s, const char *end, unsigned K, uint64_t w,
                                                        uint64_t *v) {
    if (end != NULL && end - s < (ptrdiff_t)K + 9) return 0;
    uint64_t f = ld64(s + K + 1);
    if (((w >> (8 * K)) & 0xFF) != '.' || non_digits(f) != 0) return 0;
    *v = eight_digits_unchecked((w << (8 * (8 - K))) | (0x3030303030303030ULL >> (8 * K))) * 100000000u +
         eight_digits_unchecked(f);
    return 1;
}

/* One decimal "I.FFFFFFFF" (1-7 integer digits, exactly 8 decimals) after its opening quote
 * at s: returns the position of its closing quote (not checked) with *v = text * 10^8, or
 * NULL.  The digit count becomes a predicted jump (as in fast_quoted8), so that the
 * position of what follows does not wait for the arithmetic.  Reads s[0, 16) when end is
 * NULL, else nothing at or past end. */
static inline __attribute__((always_inline)) const char *dec8(const char *s, const char *end, uint64_t *v) {
    if (end != NULL && end - s < 8) return NULL;
    uint64_t w = ld64(s), nd = non_digits(w);
    if (nd == 0) return NULL;
    switch (__builtin_ctzll(nd) >> 3) {
    case 1: return dec8_k(s, end, 1, w, v) ? s + 10 : NULL;
    case 2: return dec8_k(s, end, 2, w, v) ? s + 11 : NULL;
    case 3: return dec8_k(s, end, 3, w, v) ? s + 12 : NULL;
    case 4: return dec8_k(s, end, 4, w, v) ? s + 13 : NULL;
    case 5: return dec8_k(s, end, 5, w, v) ? s + 14 : NULL;
    case 6: return dec8_k(s, end, 6, w, v) ? s + 15 : NULL;
    case 7: return dec8_k(s, end, 7, w, v) ? s + 16 : NULL;
    default: return NULL;
    }
}

/* One level exactly as Binance writes it, ["I.FFFFFFFF","I.FFFFFFFF"], at a.  Returns the
 * byte after its ']' with the two values * 10^8, or NULL.  end == NULL: the caller knows
 * that 39 bytes (the longest such level) are readable; else every read is checked. */
static inline __attribute__((always_inline)) const char *level8(const char *a, const char *end, uint64_t *p,
                                                                uint64_t *q) {
    if ((end != NULL && end - a < 25) || ld16(a) != ('[' | '"' << 8)) return NULL;
    const char *s = dec8(a + 2, end, p);
    if (s == NULL || (end != NULL && end - s < 4) || (ld32(s) & 0xFFFFFF) != ('"' | ',' << 8 | '"' << 16))
        return NULL;
    s = dec8(s + 3, end, q);
    if (s == NULL || (end != NULL && end - s < 2) || ld16(s) != ('"' | ']' << 8)) return NULL;
    return s + 2;
}
#endif

/* parse_levels for the fast start: levels in Binance's exact text (8 decimals, scales 8-11)
 * through level8, with no per-field bounds checks (but near the end) or scale tests; the
 * first level that is anything else (or a full array) and all after it go through
 * level_list, so the result is parse_levels' (the fuzz target compares them). */
static int fast_levels(cur *c, bp_levels *out, int ps, int ss, int64_t uid) {
#ifdef BP_SWAR
    const char *a = c->p, *end = c->end;
    if (ps < 8 || ps > 11 || ss < 8 || ss > 11 || end - a < 2 || a[0] != '[' || a[1] != '[')
        return parse_levels(c, out, ps, ss, uid);
    const uint64_t mp = (uint64_t)fx_pow10[ps - 8], mq = (uint64_t)fx_pow10[ss - 8];
    bk_level *v = out->v;
    size_t n = 0, cap = out->cap;
    a++;
    while (n < cap) {
        uint64_t p, q;
        /* the last levels of a frame are within 39 bytes of its end: the checked variant */
        const char *b = end - a >= 39 ? level8(a, NULL, &p, &q) : level8(a, end, &p, &q);
        if (b == NULL || b >= end || (*b != ',' && *b != ']')) break;
        v[n].price = (int64_t)(p * mp); /* <= 10^15 * 10^3: no overflow */
        v[n].qty = (int64_t)(q * mq);
        v[n].uid = uid;
        n++;
        if (*b == ']') {
            out->n = n;
            c->p = b + 1;
            return BP_OK;
        }
        a = b + 1;
    }
    out->n = n;
    c->p = a;
    return level_list(c, out, ps, ss, uid);
#else
    return parse_levels(c, out, ps, ss, uid);
#endif
}

static inline int key_is(const char *k, size_t n, const char *lit, size_t litn) {
    return n == litn && memcmp(k, lit, n) == 0;
}

static int claim(cur *c, bp_depth *m, uint32_t bit) {
    if (m->has & bit) return fail(c, BP_ERR_DUPLICATE);
    m->has |= bit;
    return BP_OK;
}

/* Parse an object whose keys are payload keys (and, at the top, envelope keys). */
static int parse_object(cur *c, bp_depth *m, int top, int expect, int ps, int ss) {
    int payload_keys = 0;
    ws(c);
    if (peek(c) != '{') return fail(c, top ? BP_ERR_SYNTAX : BP_ERR_TYPE);
    c->p++;
    if (eat(c, '}')) goto done;
    for (;;) {
        const char *k;
        size_t kn;
        ws(c);
        const char *kat = c->p;
        if (c->end - c->p >= 4 && c->p[0] == '"' && c->p[2] == '"' && c->p[3] == ':' && c->p[1] != '\\' && c->p[1] != '"' &&
            (unsigned char)c->p[1] >= 0x20) {
            k = c->p + 1; /* one-letter keys are most of Binance's: "e","E","s","U","u","b","a" */
            kn = 1;
            c->p += 4;
        } else {
            if (peek(c) != '"') return fail(c, BP_ERR_SYNTAX);
            if (scan_string(c, &k, &kn) != BP_OK) return c->status;
            if (!eat(c, ':')) return fail(c, BP_ERR_SYNTAX);
        }
        ws(c);
        const char *vat = c->p;
        int st = BP_OK;
        uint32_t bit = 0;
        if (kn == 1) {
            switch (k[0]) {
            case 'e': bit = BP_HAS_E_TYPE; break;
            case 'E': bit = BP_HAS_EVENT_TIME; break;
            case 'T': bit = BP_HAS_TX_TIME; break;
            case 's': bit = BP_HAS_SYMBOL; break;
            case 'U': bit = BP_HAS_FIRST; break;
            case 'u': bit = BP_HAS_FINAL; break;
            case 'b': if (expect == BP_EXPECT_UPDATE) bit = BP_HAS_BIDS; break;
            case 'a': if (expect == BP_EXPECT_UPDATE) bit = BP_HAS_ASKS; break;
            default: break;
            }
        } else if (key_is(k, kn, "pu", 2)) {
            bit = BP_HAS_PREV;
        } else if (expect == BP_EXPECT_SNAPSHOT && key_is(k, kn, "bids", 4)) {
            bit = BP_HAS_BIDS;
        } else if (expect == BP_EXPECT_SNAPSHOT && key_is(k, kn, "asks", 4)) {
            bit = BP_HAS_ASKS;
        } else if (key_is(k, kn, "lastUpdateId", 12)) {
            bit = BP_HAS_LAST_ID;
        } else if (top && key_is(k, kn, "stream", 6)) {
            bit = BP_HAS_STREAM;
        } else if (top && key_is(k, kn, "data", 4)) {
            bit = BP_HAS_DATA;
        }
        if (bit != 0) {
            c->p = kat;
            if (claim(c, m, bit) != BP_OK) return c->status;
            c->p = vat;
            if (bit != BP_HAS_STREAM && bit != BP_HAS_DATA) payload_keys = 1;
        }
        switch (bit) {
        case 0: st = skip_value(c); break;
        case BP_HAS_E_TYPE: {
            const char *s;
            size_t n;
            if (expect == BP_EXPECT_UPDATE && c->end - c->p >= 13 && memcmp(c->p, "\"depthUpdate\"", 13) == 0) {
                c->p += 13; /* the only accepted value, no escapes in it: same as scanning it */
                break;
            }
            st = scan_string(c, &s, &n);
            if (st == BP_OK && expect == BP_EXPECT_UPDATE && !key_is(s, n, "depthUpdate", 11)) {
                c->p = vat;
                st = fail(c, BP_ERR_EVENT);
            }
            break;
        }
        case BP_HAS_EVENT_TIME: st = parse_int64(c, &m->event_time); break;
        case BP_HAS_TX_TIME: st = parse_int64(c, &m->tx_time); break;
        case BP_HAS_FIRST: st = parse_int64(c, &m->first_id); break;
        case BP_HAS_FINAL: st = parse_int64(c, &m->final_id); break;
        case BP_HAS_PREV: st = parse_int64(c, &m->prev_final_id); break;
        case BP_HAS_LAST_ID: st = parse_int64(c, &m->last_update_id); break;
        case BP_HAS_SYMBOL: st = scan_string(c, &m->symbol, &m->symbol_len); break;
        case BP_HAS_STREAM: st = scan_string(c, &m->stream, &m->stream_len); break;
        case BP_HAS_BIDS: st = parse_levels(c, &m->bids, ps, ss, 0); break; /* uid: set after the parse */
        case BP_HAS_ASKS: st = parse_levels(c, &m->asks, ps, ss, 0); break;
        case BP_HAS_DATA: st = parse_object(c, m, 0, expect, ps, ss); break;
        default: break;
        }
        if (st != BP_OK) return c->status ? c->status : fail(c, st);
        if (eat(c, ',')) continue;
        if (eat(c, '}')) break;
        return fail(c, BP_ERR_SYNTAX);
    }
done:
    /* an envelope carries its payload only under "data" */
    if (top && (m->has & BP_HAS_DATA) && payload_keys) return fail(c, BP_ERR_DUPLICATE);
    return BP_OK;
}

/* The literal s[0, n) at the cursor: compared as (overlapping) words, folded to
 * immediates for a constant s, instead of a call to memcmp for the odd lengths. */
static inline __attribute__((always_inline)) int lit(cur *c, const char *s, size_t n) {
    if ((size_t)(c->end - c->p) < n) return 0;
    if (n >= 8) {
        uint64_t diff = ld64(c->p + n - 8) ^ ld64(s + n - 8);
        for (size_t i = 0; i + 8 < n; i += 8) diff |= ld64(c->p + i) ^ ld64(s + i);
        if (diff) return 0;
    } else if (n >= 4) {
        if ((ld32(c->p) ^ ld32(s)) | (ld32(c->p + n - 4) ^ ld32(s + n - 4))) return 0;
    } else if (memcmp(c->p, s, n) != 0) {
        return 0;
    }
    c->p += n;
    return 1;
}

/* A Binance id or millisecond timestamp: 8 to 15 digits, no sign.  Two word loads, the
 * digit count found branch-free, then two SWAR conversions; the same value and end as
 * parse_int64, which takes everything else (and gets the cursor back unmoved). */
static inline __attribute__((always_inline)) int fast_id(cur *c, int64_t *out) {
#ifdef BP_SWAR
    const char *p = c->p;
    if (c->end - p < 16) return 0;
    uint64_t w0 = ld64(p), w1 = ld64(p + 8), nd0 = non_digits(w0), nd1 = non_digits(w1);
    if (nd0 != 0 || nd1 == 0 || *p == '0') return 0;
    unsigned k = (unsigned)__builtin_ctzll(nd1) >> 3; /* digits after the first eight: 0..7 */
    char t = p[8 + k];
    if (t == '.' || t == 'e' || t == 'E') return 0;
    /* left-pad the k trailing digits with '0' to eight bytes (k = 0: all '0') */
    uint64_t lo = ((w1 << (63 - 8 * k)) << 1) | (0x3030303030303030ULL >> (8 * k));
    *out = (int64_t)(eight_digits_unchecked(w0) * (uint64_t)fx_pow10[k] + eight_digits_unchecked(lo));
    c->p = p + 8 + k;
    return 1;
#else
    (void)c;
    (void)out;
    return 0;
#endif
}

/* A string without escapes or control bytes (its closing quote where skip_plain8 stops):
 * the same span as scan_string, which takes everything else. */
static inline __attribute__((always_inline)) int fast_str(cur *c, const char **s, size_t *n) {
#ifdef BP_STR_SWAR
    if (c->p >= c->end || *c->p != '"') return 0;
    const char *p = skip_plain8(c->p + 1, c->end);
    if (p >= c->end || *p != '"') return 0; /* an escape, a control byte or the end: scan_string */
    *s = c->p + 1;
    *n = (size_t)(p - (c->p + 1));
    c->p = p + 1;
    return 1;
#else
    (void)c;
    (void)s;
    (void)n;
    return 0;
#endif
}

#define STR(c, s, n) (fast_str((c), (s), (n)) || scan_string((c), (s), (n)) == BP_OK)

/* An id field: fast_id, else the general parse_int64. */
#define ID(c, out) (fast_id((c), (out)) || parse_int64((c), (out)) == BP_OK)

/* Fast start for a depthUpdate exactly as Binance lays it out: compact JSON, keys in
 * the order e,E,(T),s,U,u,(pu),b,a, optionally inside {"stream":"..","data":..}.  Each
 * field goes through the same value parsers as parse_object (ids and strings first through
 * fast_id / fast_str, narrower forms of them with the same result that hand anything else
 * to them), so whatever this accepts parse_object accepts with the same result (the tests/fuzz
 * target checks this on every input); anything else (other order, whitespace,
 * extra keys, any error) returns 0 and the caller parses the frame again generically,
 * which also reports errors at the same offsets.  Uses its own cursor. */
static int fast_update(const char *buf, size_t len, bp_depth *m, int ps, int ss) {
    cur c = {buf, buf + len, buf, BP_OK, 0, buf};
    uint32_t has = 0;
    int envelope = 0;
    if (lit(&c, "{\"stream\":", 10)) {
        if (!STR(&c, &m->stream, &m->stream_len) || !lit(&c, ",\"data\":", 8)) return 0;
        has |= BP_HAS_STREAM | BP_HAS_DATA;
        envelope = 1;
    }
    if (!lit(&c, "{\"e\":\"depthUpdate\",\"E\":", 23) || !ID(&c, &m->event_time)) return 0;
    has |= BP_HAS_E_TYPE | BP_HAS_EVENT_TIME;
    if (lit(&c, ",\"T\":", 5)) {
        if (!ID(&c, &m->tx_time)) return 0;
        has |= BP_HAS_TX_TIME;
    }
    if (!lit(&c, ",\"s\":", 5) || !STR(&c, &m->symbol, &m->symbol_len)) return 0;
    if (!lit(&c, ",\"U\":", 5) || !ID(&c, &m->first_id)) return 0;
    if (!lit(&c, ",\"u\":", 5) || !ID(&c, &m->final_id)) return 0;
    has |= BP_HAS_SYMBOL | BP_HAS_FIRST | BP_HAS_FINAL;
    if (lit(&c, ",\"pu\":", 6)) {
        if (!ID(&c, &m->prev_final_id)) return 0;
        has |= BP_HAS_PREV;
    }
    if (!lit(&c, ",\"b\":", 5) || fast_levels(&c, &m->bids, ps, ss, m->final_id) != BP_OK) return 0;
    if (!lit(&c, ",\"a\":", 5) || fast_levels(&c, &m->asks, ps, ss, m->final_id) != BP_OK) return 0;
    if (!lit(&c, "}", 1) || (envelope && !lit(&c, "}", 1))) return 0;
    ws(&c);
    if (c.p != c.end || c.status != BP_OK) return 0;
    m->has = has | BP_HAS_BIDS | BP_HAS_ASKS;
    return 1;
}

void bp_init(bp_depth *m) { memset(m, 0, sizeof(*m)); }

void bp_free(bp_depth *m) {
    free(m->bids.v);
    free(m->asks.v);
    memset(m, 0, sizeof(*m));
}

void bp_shrink(bp_depth *m, size_t keep) {
    bp_levels *sides[2] = {&m->bids, &m->asks};
    for (int i = 0; i < 2; i++) {
        if (sides[i]->cap > keep) {
            free(sides[i]->v);
            sides[i]->v = NULL;
            sides[i]->n = sides[i]->cap = 0;
        }
    }
}

static void reset_fields(bp_depth *m) {
    m->has = 0;
    m->event_time = m->tx_time = m->first_id = m->final_id = m->prev_final_id = m->last_update_id = 0;
    m->symbol = m->stream = NULL;
    m->symbol_len = m->stream_len = 0;
    m->bids.n = m->asks.n = 0;
    m->err_offset = 0;
    m->err_detail = 0;
}

int bp_parse_depth(bp_depth *m, const char *buf, size_t len, int expect, int price_scale, int size_scale) {
    if (m == NULL) return BP_ERR_SYNTAX;
    reset_fields(m);
    if (buf == NULL && len != 0) return BP_ERR_SYNTAX;
    cur c = {buf, buf + len, buf, BP_OK, 0, buf};
    int st = BP_OK;
    if (price_scale < 0 || price_scale > FX_MAX_SCALE || size_scale < 0 || size_scale > FX_MAX_SCALE) {
        c.detail = FX_ERR_SCALE;
        st = fail(&c, BP_ERR_NUMBER);
    }
    int fast = st == BP_OK && expect == BP_EXPECT_UPDATE && fast_update(buf, len, m, price_scale, size_scale);
    if (st == BP_OK && !fast) {
        reset_fields(m); /* the fast start may have filled some fields before giving up */
        st = parse_object(&c, m, 1, expect, price_scale, size_scale);
        if (st == BP_OK) {
            ws(&c);
            if (c.p != c.end) st = fail(&c, BP_ERR_SYNTAX);
        }
    }
    if (st == BP_OK) {
        uint32_t need = expect == BP_EXPECT_UPDATE
                            ? (BP_HAS_E_TYPE | BP_HAS_FIRST | BP_HAS_FINAL | BP_HAS_BIDS | BP_HAS_ASKS)
                            : (BP_HAS_LAST_ID | BP_HAS_BIDS | BP_HAS_ASKS);
        if ((m->has & need) != need) {
            c.p = c.end;
            st = fail(&c, BP_ERR_MISSING);
        } else if (expect == BP_EXPECT_UPDATE && m->first_id > m->final_id) {
            c.p = c.base;
            st = fail(&c, BP_ERR_SEQUENCE);
        }
    }
    if (st != BP_OK) {
        m->err_offset = (size_t)(c.at - c.base);
        m->err_detail = c.detail;
        m->bids.n = m->asks.n = 0;
        return c.status ? c.status : st;
    }
    if (fast) return BP_OK; /* the fast start gave every level its uid (u comes before b, a) */
    int64_t uid = expect == BP_EXPECT_UPDATE ? m->final_id : m->last_update_id;
    for (size_t i = 0; i < m->bids.n; i++) m->bids.v[i].uid = uid;
    for (size_t i = 0; i < m->asks.n; i++) m->asks.v[i].uid = uid;
    return BP_OK;
}

/* Scan one object level for "s" (string), "stream" and "data" without parsing
 * numbers.  Returns 1 if "s" was found, 0 if the object ended without it, -1 if
 * the bytes are malformed. */
static int peek_object(cur *c, int top, const char **sym, size_t *sym_len, const char **stream, size_t *stream_len) {
    if (!eat(c, '{')) return -1;
    if (eat(c, '}')) return 0;
    for (;;) {
        const char *k, *s;
        size_t kn, n;
        ws(c);
        if (scan_string(c, &k, &kn) != BP_OK || !eat(c, ':')) return -1;
        ws(c);
        if (key_is(k, kn, "s", 1) && peek(c) == '"') {
            if (scan_string(c, &s, &n) != BP_OK) return -1;
            *sym = s;
            *sym_len = n;
            return 1;
        } else if (top && key_is(k, kn, "stream", 6) && peek(c) == '"') {
            if (scan_string(c, &s, &n) != BP_OK) return -1;
            *stream = s;
            *stream_len = n;
        } else if (top && key_is(k, kn, "data", 4) && peek(c) == '{') {
            int r = peek_object(c, 0, sym, sym_len, stream, stream_len);
            if (r != 0) return r;
        } else if (skip_value(c) != BP_OK) {
            return -1;
        }
        if (eat(c, ',')) continue;
        return eat(c, '}') ? 0 : -1;
    }
}

int bp_peek_symbol(const char *buf, size_t len, const char **sym, size_t *sym_len) {
    if (buf == NULL || sym == NULL || sym_len == NULL) return 0;
    cur c = {buf, buf + len, buf, BP_OK, 0, buf};
    const char *stream = NULL;
    size_t stream_len = 0;
    int r = peek_object(&c, 1, sym, sym_len, &stream, &stream_len);
    if (r == 1) return 1;
    if (r == 0 && stream != NULL) {
        size_t n = 0;
        while (n < stream_len && stream[n] != '@') n++;
        if (n > 0) {
            *sym = stream;
            *sym_len = n;
            return 1;
        }
    }
    return 0;
}

const char *bp_strerror(int status) {
    switch (status) {
    case BP_OK: return "ok";
    case BP_ERR_SYNTAX: return "malformed JSON";
    case BP_ERR_TYPE: return "unexpected JSON type for a depth field";
    case BP_ERR_NUMBER: return "number not representable at the book's scale";
    case BP_ERR_MISSING: return "required depth field missing";
    case BP_ERR_DUPLICATE: return "depth field given twice";
    case BP_ERR_EVENT: return "not a depthUpdate event";
    case BP_ERR_NOMEM: return "out of memory";
    case BP_ERR_DEPTH: return "JSON nested too deeply";
    case BP_ERR_SEQUENCE: return "first update id U is greater than final update id u";
    default: return "unknown error";
    }
}

/* ---- sequence rules ---- */

void bp_seq_init(bp_seq *q) {
    q->book_id = 0;
    q->synced = 0;
    q->first_pending = 0;
}

void bp_seq_snapshot(bp_seq *q, int64_t last_update_id) {
    q->book_id = last_update_id;
    q->synced = 1;
    q->first_pending = 1;
}

void bp_seq_lose(bp_seq *q) { q->synced = 0; }

int bp_seq_check(const bp_seq *q, int futures, int64_t first_id, int64_t final_id, int64_t prev_final_id) {
    int64_t id = q->book_id;
    if (!q->synced) return BP_SEQ_NOT_SYNCED;
    if (!futures) {
        if (final_id <= id) return BP_SEQ_STALE;
        /* U <= id + 1, written so that id = INT64_MAX cannot overflow */
        return first_id <= id || first_id - 1 <= id ? BP_SEQ_APPLY : BP_SEQ_GAP;
    }
    if (q->first_pending) {
        if (final_id < id) return BP_SEQ_STALE;
        /* Binance words it U <= id <= u; futures ids are not contiguous, so a snapshot taken right
         * after event u=id is continued by a frame with pu == id and U > id: that is no gap. */
        return (first_id <= id || prev_final_id == id) ? BP_SEQ_APPLY : BP_SEQ_GAP;
    }
    if (final_id <= id) return BP_SEQ_STALE;
    return prev_final_id == id ? BP_SEQ_APPLY : BP_SEQ_GAP;
}

void bp_seq_commit(bp_seq *q, int decision, int64_t final_id) {
    if (decision == BP_SEQ_APPLY) {
        q->book_id = final_id;
        q->first_pending = 0;
    } else if (decision == BP_SEQ_GAP) {
        q->synced = 0;
    }
}
