/* order.c — see order.h.
 *
 * Why these scales: Binance sends prices, quantities and commissions with at most 8 decimals
 * and magnitudes well inside int64 at scale 8 (±9.2e10).  The quote value of a fill is
 * price * qty, which has at most 16 decimals; at scale 16 a 128-bit integer holds up to
 * 1.7e22 units of quote per order total, so any realistic sum stays exact.  Inputs with more
 * decimals than the scale are refused by the caller's parser, never rounded.
 */
#include "order.h"
#include "numtext.h"

#include <string.h>

__extension__ typedef unsigned __int128 ord_u128;

int ord_state_valid(int state) {
    return (state >= ORD_PENDING_CREATE && state <= ORD_FAILED) || state == ORD_EXPIRED;
}

int ord_state_terminal(int state) {
    return state == ORD_CANCELED || state == ORD_FILLED || state == ORD_FAILED || state == ORD_EXPIRED;
}

int ord_init(ord_order *o, int64_t amount, int state) {
    if (o == NULL || amount <= 0 || !ord_state_valid(state)) return ORD_ERR_ARG;
    memset(o, 0, sizeof(*o));
    o->amount = amount;
    o->state = state;
    return ORD_CHANGED;
}

/* Is `to` reachable from the live state `from` by an order update? */
static int update_allowed(int from, int to) {
    switch (to) {
    case ORD_OPEN:
        return from == ORD_PENDING_CREATE;
    case ORD_PARTIALLY_FILLED:
        return from == ORD_PENDING_CREATE || from == ORD_OPEN;
    case ORD_PENDING_CANCEL:
        return from == ORD_PENDING_CREATE || from == ORD_OPEN || from == ORD_PARTIALLY_FILLED;
    case ORD_CANCELED:
    case ORD_FILLED:
    case ORD_FAILED:
    case ORD_EXPIRED:
        return 1;
    default: /* PENDING_CREATE can only be where an order starts */
        return 0;
    }
}

int ord_apply_state(ord_order *o, int new_state) {
    if (o == NULL || !ord_state_valid(new_state)) return ORD_ERR_ARG;
    if (new_state == o->state) return ORD_UNCHANGED;
    if (ord_state_terminal(o->state) || !update_allowed(o->state, new_state)) return ORD_ERR_ILLEGAL;
    o->state = new_state;
    return ORD_CHANGED;
}

static int totals_after(const ord_order *o, int64_t base, int64_t price, ord_i128 quote,
                        int64_t *nb, ord_i128 *nq, ord_i128 *nn) {
    if (base <= 0 || price <= 0 || quote < 0) return ORD_ERR_ARG;
    if (base > o->amount - o->executed_base) return ORD_ERR_OVERFILL;
    *nb = o->executed_base + base;
    ord_i128 product = (ord_i128)base * (ord_i128)price; /* < 2^126: cannot overflow */
    if (__builtin_add_overflow(o->executed_quote, quote, nq)) return ORD_ERR_OVERFLOW;
    if (__builtin_add_overflow(o->notional, product, nn)) return ORD_ERR_OVERFLOW;
    if (o->fill_count == UINT32_MAX) return ORD_ERR_OVERFLOW;
    return ORD_CHANGED;
}

int ord_check_fill(const ord_order *o, int64_t base, int64_t price, ord_i128 quote) {
    int64_t nb;
    ord_i128 nq, nn;
    if (o == NULL) return ORD_ERR_ARG;
    return totals_after(o, base, price, quote, &nb, &nq, &nn);
}

int ord_add_fill_totals(ord_order *o, int64_t base, int64_t price, ord_i128 quote) {
    int64_t nb;
    ord_i128 nq, nn;
    if (o == NULL) return ORD_ERR_ARG;
    int r = totals_after(o, base, price, quote, &nb, &nq, &nn);
    if (r != ORD_CHANGED) return r;
    o->executed_base = nb;
    o->executed_quote = nq;
    o->notional = nn;
    o->fill_count++;
    return ORD_CHANGED;
}

int ord_apply_fill(ord_order *o, int64_t base, int64_t price, ord_i128 quote) {
    int r = ord_add_fill_totals(o, base, price, quote);
    if (r != ORD_CHANGED) return r;
    if (!ord_state_terminal(o->state)) {
        if (o->executed_base == o->amount)
            o->state = ORD_FILLED;
        else if (o->state == ORD_PENDING_CREATE || o->state == ORD_OPEN)
            o->state = ORD_PARTIALLY_FILLED;
    }
    return ORD_CHANGED;
}

/* ------------------------------------------------------------------ 128-bit text */
#define ORD_MAX_SCALE 38

int ord_parse_i128(const char *s, size_t len, int scale, ord_i128 *out) {
    /* Same grammar as fx_parse: [+-]digits[.digits][(e|E)[+-]digits]. */
    if (scale < 0 || scale > ORD_MAX_SCALE || s == NULL || len == 0 || out == NULL) return ORD_ERR_ARG;
    const ord_u128 limit = ((ord_u128)1 << 127) - 1; /* max magnitude kept symmetric */
    size_t i = 0;
    int neg = 0;
    if (s[i] == '-' || s[i] == '+') { neg = (s[i] == '-'); i++; }
    ord_u128 mant = 0;
    long zeros = 0, frac = 0;
    int ndigits = 0, seen_dot = 0, overflow = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            ndigits++;
            if (seen_dot) frac++;
            if (c == '0') { if (mant != 0) zeros++; continue; }
            if (!overflow) {
                /* mant * 10^(zeros+1) + digit, refusing anything past the limit */
                for (long z = 0; z <= zeros && !overflow; z++) {
                    if (mant > limit / 10) overflow = 1; else mant *= 10;
                }
                if (!overflow) {
                    if (mant > limit - (ord_u128)(c - '0')) overflow = 1;
                    else mant += (ord_u128)(c - '0');
                }
            }
            zeros = 0;
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (ndigits == 0) return ORD_ERR_ARG;
    long exp10;
    if (!nt_exponent_tail(s, i, len, 99999, &exp10)) return ORD_ERR_ARG; /* saturates at >= 100000 */
    if (mant == 0 && !overflow) { *out = 0; return ORD_CHANGED; }
    long k = zeros + exp10 - frac + scale;
    if (k < 0) return ORD_ERR_ARG; /* digits beyond the scale */
    if (overflow || k > 38) return ORD_ERR_OVERFLOW;
    for (long z = 0; z < k; z++) {
        if (mant > limit / 10) return ORD_ERR_OVERFLOW;
        mant *= 10;
    }
    *out = neg ? -(ord_i128)mant : (ord_i128)mant;
    return ORD_CHANGED;
}

int ord_format_i128(ord_i128 v, int scale, int trim, char *buf, size_t cap) {
    if (scale < 0 || scale > ORD_MAX_SCALE || buf == NULL) return -1;
    char tmp[96];
    int n = 0;
    ord_u128 m = v < 0 ? (ord_u128)0 - (ord_u128)v : (ord_u128)v;
    /* digits, least significant first; at least scale+1 of them */
    do { tmp[n++] = (char)('0' + (int)(m % 10)); m /= 10; } while (m != 0);
    while (n < scale + 1) tmp[n++] = '0';
    int frac = scale;
    if (trim) {
        int t = 0;
        while (t < frac && tmp[t] == '0') t++;
        /* drop t trailing fractional zeros */
        memmove(tmp, tmp + t, (size_t)(n - t));
        n -= t;
        frac -= t;
    }
    size_t need = (size_t)n + (v < 0 ? 1 : 0) + (frac > 0 ? 1 : 0);
    if (need > cap) return -1;
    size_t p = 0;
    if (v < 0) buf[p++] = '-';
    for (int d = n - 1; d >= 0; d--) {
        buf[p++] = tmp[d];
        if (d == frac && frac > 0) buf[p++] = '.';
    }
    if (p < cap) buf[p] = '\0';
    return (int)p;
}

const char *ord_strerror(int result) {
    switch (result) {
    case ORD_UNCHANGED: return "unchanged";
    case ORD_CHANGED: return "ok";
    case ORD_ERR_ILLEGAL: return "illegal state transition";
    case ORD_ERR_OVERFILL: return "fill exceeds the order amount";
    case ORD_ERR_ARG: return "invalid argument";
    case ORD_ERR_OVERFLOW: return "value out of range";
    default: return "unknown result";
    }
}
