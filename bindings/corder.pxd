# Declarations of core/order.h for Cython code (bindings and third-party strategies).
# ord_i128 is a C __int128: Cython only passes it between C functions (never converts it to a
# Python int directly: format it with ord_format_i128).
from libc.stdint cimport int64_t, uint32_t, int32_t

cdef extern from "order.h" nogil:
    enum:
        ORD_SCALE
        ORD_QUOTE_SCALE
    ctypedef long long ord_i128
    ctypedef enum ord_state:
        ORD_PENDING_CREATE
        ORD_OPEN
        ORD_PENDING_CANCEL
        ORD_CANCELED
        ORD_PARTIALLY_FILLED
        ORD_FILLED
        ORD_FAILED
        ORD_EXPIRED
    ctypedef enum ord_result:
        ORD_UNCHANGED
        ORD_CHANGED
        ORD_ERR_ILLEGAL
        ORD_ERR_OVERFILL
        ORD_ERR_ARG
        ORD_ERR_OVERFLOW
    ctypedef struct ord_order:
        int64_t amount
        int64_t executed_base
        ord_i128 executed_quote
        ord_i128 notional
        uint32_t fill_count
        int32_t state
    int ord_state_valid(int state)
    int ord_state_terminal(int state)
    int ord_init(ord_order *o, int64_t amount, int state)
    int ord_apply_state(ord_order *o, int new_state)
    int ord_check_fill(const ord_order *o, int64_t base, int64_t price, ord_i128 quote)
    int ord_apply_fill(ord_order *o, int64_t base, int64_t price, ord_i128 quote)
    int ord_add_fill_totals(ord_order *o, int64_t base, int64_t price, ord_i128 quote)
    int ord_parse_i128(const char *s, size_t len, int scale, ord_i128 *out)
    int ord_format_i128(ord_i128 v, int scale, int trim, char *buf, size_t cap)
    const char *ord_strerror(int result)
