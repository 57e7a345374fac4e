/* order.h — order state machine and fill aggregation, exact fixed point, no Python.
 *
 * Scales (chosen so every Binance number is exact, see docs in order.c):
 *   ORD_SCALE        8  base amounts and prices (Binance prints at most 8 decimals)
 *   ORD_QUOTE_SCALE 16  quote amounts: price(8) * qty(8) has at most 16 decimals, so the
 *                        notional of any fill is exact; held in a 128-bit integer.
 *
 * State values equal Hummingbot's OrderState values (exconnect.types.OrderState).
 * Legal moves (anything else is refused and changes nothing):
 *   by order update: PENDING_CREATE -> OPEN | PARTIALLY_FILLED | PENDING_CANCEL
 *                    OPEN           -> PARTIALLY_FILLED | PENDING_CANCEL
 *                    PARTIALLY_FILLED -> PENDING_CANCEL
 *                    any live state -> CANCELED | FILLED | FAILED | EXPIRED   (terminal)
 *   by fill:         PENDING_CREATE | OPEN -> PARTIALLY_FILLED, any live state -> FILLED when
 *                    the executed amount reaches the order amount; PENDING_CANCEL stays
 *                    PENDING_CANCEL on a partial fill (the cancel is still unresolved).
 * Terminal states never change, but a fill reported after them is still counted (a late trade
 * report of a cancelled or lost order is real money and must not be dropped).
 */
#ifndef EXCONNECT_ORDER_H
#define EXCONNECT_ORDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORD_SCALE 8
#define ORD_QUOTE_SCALE 16

/* GCC/Clang extension; the only 128-bit quantity is a sum of price*qty products. */
__extension__ typedef __int128 ord_i128;

typedef enum {
    ORD_PENDING_CREATE = 0,
    ORD_OPEN = 1,
    ORD_PENDING_CANCEL = 2,
    ORD_CANCELED = 3,
    ORD_PARTIALLY_FILLED = 4,
    ORD_FILLED = 5,
    ORD_FAILED = 6,
    /* 7..10: Hummingbot's gateway/AMM states, not used by order-book venues */
    ORD_EXPIRED = 11
} ord_state;

typedef enum {
    ORD_UNCHANGED = 0,        /* valid request, nothing to do (same state) */
    ORD_CHANGED = 1,
    ORD_ERR_ILLEGAL = -1,     /* transition not allowed from the current state */
    ORD_ERR_OVERFILL = -2,    /* fill would take executed base beyond the order amount */
    ORD_ERR_ARG = -3,         /* non-positive amount/price, negative quote, unknown state */
    ORD_ERR_OVERFLOW = -4     /* a running total would not fit */
} ord_result;

typedef struct {
    int64_t amount;          /* ordered base amount, ORD_SCALE, > 0 */
    int64_t executed_base;   /* sum of fill base amounts, ORD_SCALE */
    ord_i128 executed_quote; /* sum of fill quote amounts as reported, ORD_QUOTE_SCALE */
    ord_i128 notional;       /* sum of fill price * fill base, ORD_QUOTE_SCALE (average price) */
    uint32_t fill_count;
    int32_t state;
} ord_order;

/* 1 for states this machine knows (0..6, 11), else 0. */
int ord_state_valid(int state);
/* 1 for CANCELED, FILLED, FAILED, EXPIRED. */
int ord_state_terminal(int state);

/* amount > 0 and a valid state, else ORD_ERR_ARG (order untouched). */
int ord_init(ord_order *o, int64_t amount, int state);

/* Order-update transition: ORD_CHANGED, ORD_UNCHANGED (already there) or ORD_ERR_ILLEGAL/ARG. */
int ord_apply_state(ord_order *o, int new_state);

/* Check a fill without applying it (same result codes as ord_apply_fill, CHANGED if fine). */
int ord_check_fill(const ord_order *o, int64_t base, int64_t price, ord_i128 quote);

/* Count a fill (base > 0, price > 0, quote >= 0) and move the state as described above.
 * On any error the order is unchanged. */
int ord_apply_fill(ord_order *o, int64_t base, int64_t price, ord_i128 quote);

/* Count a fill without touching the state (restoring persisted orders). */
int ord_add_fill_totals(ord_order *o, int64_t base, int64_t price, ord_i128 quote);

/* 128-bit text conversions at a scale (0..38): same grammar and strictness as fx_parse
 * (digits beyond the scale are an error, never rounded).  Format returns length or -1. */
int ord_parse_i128(const char *s, size_t len, int scale, ord_i128 *out);
int ord_format_i128(ord_i128 v, int scale, int trim, char *buf, size_t cap);

const char *ord_strerror(int result);

#ifdef __cplusplus
}
#endif
#endif
