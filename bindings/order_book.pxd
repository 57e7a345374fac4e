# Public Cython interface of exconnect.native.order_book.OrderBook.
#
# Cython strategies can `cimport` this and read the book without Python objects:
#   from exconnect.native.order_book cimport OrderBook
#   cdef int64_t bid = book.c_best_bid()      # fixed point at book.price_scale
from libc.stdint cimport int64_t
from exconnect.native.cbook cimport bk_book, bk_level
from exconnect.native.cbinance_parse cimport bp_depth, bp_seq

cdef class OrderBook:
    cdef bk_book _book
    cdef bp_depth _msg
    cdef bp_seq _seq
    cdef readonly int price_scale
    cdef readonly int size_scale
    cdef readonly bint futures
    cdef readonly object symbol
    cdef bytes _symbol_key
    cdef int64_t _snapshot_uid
    cdef int64_t _last_diff_uid
    cdef object _last_trade_price
    cdef double _last_applied_trade
    cdef int64_t _cached_bid_value
    cdef int64_t _cached_ask_value
    cdef object _cached_bid
    cdef object _cached_ask
    cdef bk_level *_scratch
    cdef size_t _scratch_cap

    # --- reads (fixed point at price_scale / size_scale) ---
    cdef bint c_has_bid(self) noexcept
    cdef bint c_has_ask(self) noexcept
    cdef int64_t c_best_bid(self) except? -1          # EnvironmentError if no bids
    cdef int64_t c_best_ask(self) except? -1          # EnvironmentError if no asks
    cdef size_t c_depth(self, int side) noexcept      # side: BK_BID (0) / BK_ASK (1)
    cdef const bk_level *c_level(self, int side, size_t k) noexcept   # k-th best or NULL
    cdef size_t c_top(self, int side, size_t n, bk_level *out) noexcept
    # --- writes (all-or-nothing; errors raise) ---
    cdef int c_apply_levels(self, const bk_level *bids, size_t nb, const bk_level *asks, size_t na,
                            int64_t update_id) except -1
    cdef int c_apply_snapshot_levels(self, const bk_level *bids, size_t nb, const bk_level *asks, size_t na,
                                     int64_t update_id) except -1
    cdef int c_apply_binance_depth(self, const char *buf, Py_ssize_t n) except -1     # returns DEPTH_*
    cdef int c_apply_binance_snapshot(self, const char *buf, Py_ssize_t n) except -1
    cdef bk_level *_reserve_scratch(self, size_t n) except NULL
    cdef void _trim_buffers(self) noexcept
    # --- internal helpers (declared here because Cython requires it) ---
    cdef int _check_symbol(self, const char *buf, Py_ssize_t n) except -1
    cdef int _raise_parse(self, int st, const char *buf, Py_ssize_t n, str what) except -1
    cdef size_t _rows_to_levels(self, object rows, size_t offset, int64_t default_uid) except? 0
    cdef int _apply_rows(self, object bids, object asks, int64_t update_id, bint snapshot) except -1
    cdef int _apply_pairs_buffers(self, object bids, object asks, int64_t update_id) except -1
    cdef object _row(self, const bk_level *lv)
    cdef object _top_side(self, int side, Py_ssize_t n)
    cdef int _side(self, bint is_buy) noexcept
    cdef int64_t _volume(self, object volume) except? -1
    cdef list _simulate(self, int side, object amount)
