# TradingRule: Hummingbot's fields as exact Decimals, plus a compiled int64
# fixed-point copy used by the quantizers.  Cython users can call the c_*
# methods on fixed-point values directly (no Decimal, no allocation).
from libc.stdint cimport int64_t


cdef class TradingRule:
    cdef:
        public str trading_pair
        public bint supports_limit_orders
        public bint supports_market_orders
        public object buy_order_collateral_token
        public object sell_order_collateral_token
        # exact values as given (Decimal)
        object _min_order_size
        object _max_order_size
        object _min_price_increment
        object _min_base_amount_increment
        object _min_quote_amount_increment
        object _min_notional_size
        object _min_order_value
        object _max_price_significant_digits
        # compiled state (valid when the matching *_fast flag is set)
        readonly bint price_fast        # tick > 0 fits int64 at price_scale
        readonly bint size_fast         # step > 0, min/max size fit at size_scale
        readonly bint notional_fast     # effective min notional fits at notional_scale
        readonly int price_scale        # decimals of the tick
        readonly int size_scale         # max decimals of step, min size, max size
        readonly int notional_scale     # decimals of the effective min notional
        int step_scale                  # decimals of the step (output exponent)
        int64_t _tick                   # at price_scale
        int64_t _step                   # at size_scale
        int64_t _min_size               # at size_scale
        int64_t _max_size               # at size_scale; INT64_MAX when above every representable size
        int64_t _min_notional           # at notional_scale; max(min_notional_size, min_order_value)
        int _sig_digits                 # 0: unlimited

    cdef int _compile(self) except -1
    cdef int _assign(self, str name, object d) except -1

    # Fixed-point fast paths.  price at price_scale, amount at size_scale.
    # Raise ValueError if the rule is not representable in fixed point
    # (check price_fast / size_fast first).
    cdef int64_t c_quantize_price(self, int64_t price) except? -1
    # Floors to the step; 0 below the minimum size or (price > 0) below the
    # minimum notional at `price`; price <= 0 means "unknown, skip notional".
    cdef int64_t c_quantize_amount(self, int64_t amount, int64_t price) except? -1
    # 1 if the order passes every rule check_order applies, else 0 (check_order
    # explains why).  price <= 0: market order without a reference price.
    cdef int c_order_ok(self, int64_t price, int64_t amount, bint is_market) except -1
