/* numtext.h — internal helpers shared by the decimal text parsers (fixed.c, order.c).
 * Not part of the public API. */
#ifndef EXCONNECT_NUMTEXT_H
#define EXCONNECT_NUMTEXT_H

#include <stddef.h>

/* The rest of s[i, len) after a mantissa: nothing, or an exponent (e|E)[+-]digits
 * running to the end.  Digits accumulate while the value is <= clamp (beyond it the
 * exponent saturates: callers choose a clamp past which every result is the same).
 * Returns 0 on a syntax error, else 1 with *exp10 set (0 when there is no exponent). */
static inline int nt_exponent_tail(const char *s, size_t i, size_t len, long clamp, long *exp10) {
    long e = 0;
    if (i < len) {
        if (s[i] != 'e' && s[i] != 'E') return 0;
        i++;
        int eneg = 0, edigits = 0;
        if (i < len && (s[i] == '-' || s[i] == '+')) { eneg = (s[i] == '-'); i++; }
        for (; i < len; i++) {
            char c = s[i];
            if (c < '0' || c > '9') return 0;
            edigits++;
            if (e <= clamp) e = e * 10 + (c - '0');
        }
        if (edigits == 0) return 0;
        if (eneg) e = -e;
    }
    *exp10 = e;
    return 1;
}

#endif
