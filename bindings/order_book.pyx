# cython: language_level=3
"""L2 order book with Hummingbot's API over the C book (core/book.h).

Prices and amounts are Decimal at the API (str/int also accepted, float refused)
and int64 fixed point inside, at `price_scale` / `size_scale` decimals.  The
Binance fast path (`apply_binance_depth`, `apply_binance_snapshot`) goes from
frame bytes to the applied book in C and enforces Binance's sequence rules.
"""
import time
from decimal import Context, Decimal, ROUND_HALF_EVEN

cimport cython
from cpython.array cimport array, clone
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_CheckExact
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_CheckExact
from cpython.unicode cimport PyUnicode_Check
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.object cimport Py_SIZE
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcmp, memcpy

from exconnect.native.cbook cimport (
    BK_ASK, BK_BID, BK_ERR_NOMEM, BK_ERR_OVERFLOW, BK_OK, bk_apply, bk_apply_pairs, bk_best, bk_bytes_used, bk_depth,
    bk_free, bk_i128, bk_init, bk_level, bk_level_at, bk_price_for_volume, bk_quote_volume_for_price,
    bk_snapshot, bk_strerror, bk_top, bk_volume_for_price, bk_vwap_for_volume,
)
from exconnect.native.cbinance_parse cimport (
    BP_ERR_NOMEM, BP_ERR_NUMBER, BP_EXPECT_SNAPSHOT, BP_EXPECT_UPDATE, BP_HAS_PREV, BP_HAS_STREAM,
    BP_HAS_SYMBOL, BP_KEEP_LEVELS, BP_OK, BP_SEQ_APPLY, BP_SEQ_GAP, bp_free, bp_init, bp_parse_depth,
    bp_peek_symbol, bp_shrink,
    bp_seq_check, bp_seq_commit, bp_seq_init, bp_seq_snapshot, bp_strerror,
)
from exconnect.native.cfixed cimport FX_MAX_SCALE, fx_strerror
from exconnect.native.fixed cimport to_decimal, to_fixed

from exconnect.types import OrderBookQueryResult, OrderBookRow

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object s, Py_ssize_t *size) except NULL

DEPTH_APPLIED = 0      # frame applied; book advanced to its u
DEPTH_STALE = 1        # frame entirely older than the book: ignored
DEPTH_GAP = 2          # sequence broken: book out of sync until the next snapshot
DEPTH_NOT_SYNCED = 3   # no snapshot yet, or out of sync: ignored

cdef object _NaN = Decimal("NaN")
# Exact scaling of integers, then one correctly rounded division (28 digits,
# half even) for VWAP: independent of the caller's decimal context.
cdef object _EXACT = Context(prec=80, Emax=999999, Emin=-999999)
cdef object _DIV = Context(prec=28, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999)
cdef array _I64 = array("q")
cdef object _Row = OrderBookRow
cdef object _Query = OrderBookQueryResult


cdef inline object _i128(bk_i128 v):
    return (<object>v.hi << 64) | <object>v.lo


cdef inline object _scaled(object integer, int scale):
    return _EXACT.scaleb(Decimal(integer), -scale)


cdef bytes _symbol_key(object symbol):
    """Exchange symbol for comparison: 'btc-usdt' / 'BTCUSDT' -> b'BTCUSDT'."""
    return symbol.replace("-", "").replace("/", "").replace("_", "").upper().encode()


cdef object _excerpt(const char *buf, Py_ssize_t n, size_t at):
    cdef Py_ssize_t lo = <Py_ssize_t>at - 20 if at > 20 else 0
    cdef Py_ssize_t hi = <Py_ssize_t>at + 20 if <Py_ssize_t>at + 20 < n else n
    return buf[lo:hi]


cdef class OrderBook:
    """Hummingbot-compatible L2 book.  See order_book.pyi for the full API."""

    def __cinit__(self, *args, **kwargs):
        bk_init(&self._book)
        bp_init(&self._msg)
        bp_seq_init(&self._seq)
        self._scratch = NULL
        self._scratch_cap = 0

    def __init__(self, int price_scale=8, int size_scale=8, symbol=None, bint futures=False):
        if not 0 <= price_scale <= FX_MAX_SCALE or not 0 <= size_scale <= FX_MAX_SCALE:
            raise ValueError(f"scales must be within 0..{FX_MAX_SCALE}, got {price_scale}, {size_scale}")
        if symbol is not None and not isinstance(symbol, str):
            raise TypeError(f"symbol must be a str or None, got {type(symbol).__name__}")
        self.price_scale = price_scale
        self.size_scale = size_scale
        self.futures = futures
        self.symbol = symbol
        self._symbol_key = _symbol_key(symbol) if symbol else None
        self._snapshot_uid = 0
        self._last_diff_uid = 0
        self._last_trade_price = _NaN
        self._last_applied_trade = -1000.0
        self._cached_bid = None
        self._cached_ask = None

    def __dealloc__(self):
        bk_free(&self._book)
        bp_free(&self._msg)
        PyMem_Free(self._scratch)

    # ------------------------------------------------------------------ cdef reads
    cdef bint c_has_bid(self) noexcept:
        return self._book.side[BK_BID].n > 0

    cdef bint c_has_ask(self) noexcept:
        return self._book.side[BK_ASK].n > 0

    cdef int64_t c_best_bid(self) except? -1:
        cdef size_t n = self._book.side[BK_BID].n
        if n == 0:
            raise EnvironmentError("Order book is empty - no price quote is possible.")
        return self._book.side[BK_BID].lv[n - 1].price

    cdef int64_t c_best_ask(self) except? -1:
        cdef size_t n = self._book.side[BK_ASK].n
        if n == 0:
            raise EnvironmentError("Order book is empty - no price quote is possible.")
        return self._book.side[BK_ASK].lv[n - 1].price

    cdef size_t c_depth(self, int side) noexcept:
        return bk_depth(&self._book, side)

    cdef const bk_level *c_level(self, int side, size_t k) noexcept:
        return bk_level_at(&self._book, side, k)

    cdef size_t c_top(self, int side, size_t n, bk_level *out) noexcept:
        return bk_top(&self._book, side, n, out)

    # ------------------------------------------------------------------ cdef writes
    cdef bk_level *_reserve_scratch(self, size_t n) except NULL:
        cdef bk_level *p
        if n <= self._scratch_cap and self._scratch != NULL:
            return self._scratch
        p = <bk_level *>PyMem_Realloc(self._scratch, (n + 16) * sizeof(bk_level))
        if p == NULL:
            raise MemoryError("order book scratch buffer")
        self._scratch = p
        self._scratch_cap = n + 16
        return p

    cdef void _trim_buffers(self) noexcept:
        # The parse levels and the row scratch grow to the largest message seen (a snapshot:
        # thousands of levels, 24 B each) and would stay allocated for the book's lifetime,
        # ~19 B/level of RSS on top of the book's own arrays.  Diff frames need a few dozen.
        if self._msg.bids.cap > BP_KEEP_LEVELS or self._msg.asks.cap > BP_KEEP_LEVELS:
            bp_shrink(&self._msg, BP_KEEP_LEVELS)
        if self._scratch_cap > 2 * BP_KEEP_LEVELS + 16:
            PyMem_Free(self._scratch)
            self._scratch = NULL
            self._scratch_cap = 0

    cdef int c_apply_levels(self, const bk_level *bids, size_t nb, const bk_level *asks, size_t na,
                            int64_t update_id) except -1:
        cdef int st = bk_apply(&self._book, bids, nb, asks, na)
        if st != BK_OK:
            _raise_book(st)
        self._last_diff_uid = update_id
        return 0

    cdef int c_apply_snapshot_levels(self, const bk_level *bids, size_t nb, const bk_level *asks, size_t na,
                                     int64_t update_id) except -1:
        cdef int st = bk_snapshot(&self._book, bids, nb, asks, na)
        if st != BK_OK:
            _raise_book(st)
        self._snapshot_uid = update_id
        bp_seq_snapshot(&self._seq, update_id)
        return 0

    cdef int _check_symbol(self, const char *buf, Py_ssize_t n) except -1:
        cdef const char *sym
        cdef size_t k = 0, i
        cdef const char *want
        cdef char ch
        if self._symbol_key is None:
            return 0
        if self._msg.has & BP_HAS_SYMBOL:
            sym, k = self._msg.symbol, self._msg.symbol_len
        elif self._msg.has & BP_HAS_STREAM:
            sym = self._msg.stream
            while k < self._msg.stream_len and sym[k] != b'@':
                k += 1
        else:
            return 0
        # compare without allocating: ASCII upper-case of the frame's bytes vs the key
        want = PyBytes_AS_STRING(self._symbol_key)
        if k == <size_t>PyBytes_GET_SIZE(self._symbol_key):
            if memcmp(sym, want, k) == 0:
                return 0    # Binance sends the symbol upper-case: one compare
            for i in range(k):
                ch = sym[i]
                if b'a' <= ch <= b'z':
                    ch = ch - 32
                if ch != want[i]:
                    break
            else:
                return 0
        got = sym[:k].decode("utf-8", "replace")
        raise ValueError(f"frame for symbol {got!r} applied to the {self.symbol!r} book")

    cdef int _raise_parse(self, int st, const char *buf, Py_ssize_t n, str what) except -1:
        cdef size_t at = self._msg.err_offset
        detail = ""
        if st == BP_ERR_NOMEM:
            raise MemoryError(f"parsing {what}")
        if st == BP_ERR_NUMBER:
            detail = f" ({fx_strerror(self._msg.err_detail).decode()}; scales {self.price_scale}/{self.size_scale})"
        raise ValueError(f"malformed {what}: {bp_strerror(st).decode()}{detail} at byte {at}: "
                         f"{_excerpt(buf, n, at)!r}")

    cdef int c_apply_binance_depth(self, const char *buf, Py_ssize_t n) except -1:
        cdef int st = bp_parse_depth(&self._msg, buf, <size_t>n, BP_EXPECT_UPDATE,
                                     self.price_scale, self.size_scale)
        cdef int decision
        cdef bint fut
        if st != BP_OK:
            self._raise_parse(st, buf, n, "Binance depthUpdate")
        self._check_symbol(buf, n)
        fut = self.futures or (self._msg.has & BP_HAS_PREV) != 0
        if fut and not (self._msg.has & BP_HAS_PREV) and not self._seq.first_pending:
            raise ValueError("futures depthUpdate without 'pu': the update chain cannot be checked")
        decision = bp_seq_check(&self._seq, fut, self._msg.first_id, self._msg.final_id,
                                self._msg.prev_final_id)
        if decision == BP_SEQ_APPLY:
            st = bk_apply(&self._book, self._msg.bids.v, self._msg.bids.n,
                          self._msg.asks.v, self._msg.asks.n)
            if st != BK_OK:
                _raise_book(st)
            self._last_diff_uid = self._msg.final_id
        bp_seq_commit(&self._seq, decision, self._msg.final_id)
        if self._msg.bids.cap > BP_KEEP_LEVELS or self._msg.asks.cap > BP_KEEP_LEVELS:
            bp_shrink(&self._msg, BP_KEEP_LEVELS)   # an unusually large diff frame
        return decision

    cdef int c_apply_binance_snapshot(self, const char *buf, Py_ssize_t n) except -1:
        cdef int st = bp_parse_depth(&self._msg, buf, <size_t>n, BP_EXPECT_SNAPSHOT,
                                     self.price_scale, self.size_scale)
        try:
            if st != BP_OK:
                self._raise_parse(st, buf, n, "Binance depth snapshot")
            self._check_symbol(buf, n)
            return self.c_apply_snapshot_levels(self._msg.bids.v, self._msg.bids.n, self._msg.asks.v,
                                                self._msg.asks.n, self._msg.last_update_id)
        finally:
            self._trim_buffers()

    # ------------------------------------------------------------------ Binance fast path
    @cython.binding(False)   # plain method descriptor: a cheaper call than a bound CyFunction
    def apply_binance_depth(self, frame) -> int:
        """Apply a raw depthUpdate frame (bytes/bytearray/str; combined-stream envelope too).

        Returns DEPTH_APPLIED, DEPTH_STALE, DEPTH_GAP or DEPTH_NOT_SYNCED.
        A malformed frame raises ValueError and leaves the book unchanged."""
        cdef Py_ssize_t n
        cdef const char *p
        if PyBytes_CheckExact(frame):
            return self.c_apply_binance_depth(PyBytes_AS_STRING(frame), PyBytes_GET_SIZE(frame))
        p = _frame_ptr(frame, &n)
        return self.c_apply_binance_depth(p, n)

    def apply_binance_snapshot(self, body) -> None:
        """Replace the book with a REST depth answer {"lastUpdateId":..,"bids":..,"asks":..}
        and start a new diff sequence from its lastUpdateId."""
        cdef Py_ssize_t n
        cdef const char *p = _frame_ptr(body, &n)
        self.c_apply_binance_snapshot(p, n)

    @property
    def in_sync(self) -> bool:
        """True after a snapshot until a sequence gap is seen."""
        return self._seq.synced != 0

    @property
    def sequence_id(self) -> int:
        """Update id the book is at (snapshot lastUpdateId, then the last applied u)."""
        return self._seq.book_id

    # ------------------------------------------------------------------ Hummingbot API: writes
    cdef size_t _rows_to_levels(self, object rows, size_t offset, int64_t default_uid) except? 0:
        """Convert rows into scratch starting at `offset`; returns the new end (>= offset)."""
        cdef size_t k = offset
        cdef bk_level *lv
        cdef int64_t qty
        for row in rows:
            lv = self._reserve_scratch(k + 1)
            n = len(row)
            if n < 2 or n > 3:
                raise ValueError(f"a book row is (price, amount[, update_id]), got {row!r}")
            qty = to_fixed(row[1], self.size_scale)
            if qty < 0:
                raise ValueError(f"negative amount {row[1]!r} in a book row")
            lv[k].price = to_fixed(row[0], self.price_scale)
            lv[k].qty = qty
            lv[k].uid = default_uid if n == 2 else <int64_t>row[2]
            k += 1
        return k

    cdef int _apply_rows(self, object bids, object asks, int64_t update_id, bint snapshot) except -1:
        cdef size_t nb, end
        cdef bk_level *lv
        try:
            nb = self._rows_to_levels(bids, 0, update_id)
            end = self._rows_to_levels(asks, nb, update_id)
            lv = self._reserve_scratch(end)
            if snapshot:
                return self.c_apply_snapshot_levels(lv, nb, lv + nb, end - nb, update_id)
            return self.c_apply_levels(lv, nb, lv + nb, end - nb, update_id)
        finally:
            if self._scratch_cap > 2 * BP_KEEP_LEVELS + 16:
                self._trim_buffers()

    def apply_snapshot(self, bids, asks, int64_t update_id) -> None:
        """Replace the book.  Rows: OrderBookRow or (price, amount[, update_id])."""
        self._apply_rows(bids, asks, update_id, True)

    def apply_diffs(self, bids, asks, int64_t update_id) -> None:
        """Set levels (amount 0 removes; absent level: no-op), then drop crossed levels
        (the older side loses, as Hummingbot).  No sequence check: see apply_binance_depth."""
        self._apply_rows(bids, asks, update_id, False)

    @cython.binding(False)   # plain method descriptor: a cheaper call than a bound CyFunction
    def apply_levels_fixed(self, bids, asks, int64_t update_id) -> None:
        """Pre-parsed diff: bids/asks are int64 buffers (e.g. array('q')) of interleaved
        price, qty in fixed point; each level gets `update_id`."""
        cdef const int64_t *b
        cdef const int64_t *a
        cdef Py_ssize_t lb, la
        cdef int st
        if type(bids) is array and type(asks) is array and (<array>bids).ob_descr.typecode == b'q' \
                and (<array>asks).ob_descr.typecode == b'q':
            # array('q'): read the storage in place (no copy, no buffer export); nothing runs
            # Python code between here and the apply, so the arrays cannot be resized meanwhile
            b, lb = <const int64_t *>(<array>bids).data.as_longlongs, Py_SIZE(bids)
            a, la = <const int64_t *>(<array>asks).data.as_longlongs, Py_SIZE(asks)
            if lb % 2 or la % 2:
                raise ValueError("interleaved price, qty buffers need an even length")
            st = bk_apply_pairs(&self._book, b, <size_t>lb // 2, a, <size_t>la // 2, update_id)
            if st != BK_OK:
                _raise_book(st)
            self._last_diff_uid = update_id
            return
        self._apply_pairs_buffers(bids, asks, update_id)

    cdef int _apply_pairs_buffers(self, object bids, object asks, int64_t update_id) except -1:
        # any other int64 buffer: typed memoryviews (kept out of the array('q') path above,
        # whose per-call cost they would add to)
        cdef const int64_t[::1] mb = bids
        cdef const int64_t[::1] ma = asks
        cdef Py_ssize_t lb = mb.shape[0], la = ma.shape[0]
        if lb % 2 or la % 2:
            raise ValueError("interleaved price, qty buffers need an even length")
        cdef int st = bk_apply_pairs(&self._book, &mb[0] if lb else NULL, <size_t>lb // 2,
                                     &ma[0] if la else NULL, <size_t>la // 2, update_id)
        if st != BK_OK:
            _raise_book(st)
        self._last_diff_uid = update_id
        return 0

    def apply_trade(self, trade) -> None:
        """Record the last trade (any object with a .price)."""
        self._last_trade_price = to_decimal(to_fixed(trade.price, self.price_scale), self.price_scale)
        self._last_applied_trade = time.perf_counter()

    # ------------------------------------------------------------------ Hummingbot API: reads
    @property
    def snapshot_uid(self) -> int:
        return self._snapshot_uid

    @property
    def last_diff_uid(self) -> int:
        return self._last_diff_uid

    @property
    def last_trade_price(self):
        return self._last_trade_price

    @property
    def last_applied_trade(self) -> float:
        return self._last_applied_trade

    @property
    def bytes_used(self) -> int:
        """Bytes held by the C book (struct + level arrays), for memory-per-level figures."""
        return bk_bytes_used(&self._book)

    @property
    def bid_depth(self) -> int:
        return self._book.side[BK_BID].n

    @property
    def ask_depth(self) -> int:
        return self._book.side[BK_ASK].n

    @property
    def best_bid(self) -> int:
        """Best bid in fixed point (EnvironmentError if none)."""
        return self.c_best_bid()

    @property
    def best_ask(self) -> int:
        """Best ask in fixed point (EnvironmentError if none)."""
        return self.c_best_ask()

    def get_price(self, bint is_buy):
        """Best ask if is_buy else best bid, as Decimal; EnvironmentError on an empty side."""
        cdef int64_t v
        if is_buy:
            v = self.c_best_ask()
            if self._cached_ask is None or self._cached_ask_value != v:
                self._cached_ask = to_decimal(v, self.price_scale)
                self._cached_ask_value = v
            return self._cached_ask
        v = self.c_best_bid()
        if self._cached_bid is None or self._cached_bid_value != v:
            self._cached_bid = to_decimal(v, self.price_scale)
            self._cached_bid_value = v
        return self._cached_bid

    cdef object _row(self, const bk_level *lv):
        return _Row(to_decimal(lv.price, self.price_scale), to_decimal(lv.qty, self.size_scale), lv.uid)

    def _entries(self, int side):
        cdef size_t k = 0
        cdef const bk_level *lv
        while True:
            lv = bk_level_at(&self._book, side, k)
            if lv == NULL:
                return
            yield self._row(lv)
            k += 1

    def bid_entries(self):
        """Bids best (highest) first, as OrderBookRow."""
        return self._entries(BK_BID)

    def ask_entries(self):
        """Asks best (lowest) first, as OrderBookRow."""
        return self._entries(BK_ASK)

    @property
    def snapshot(self):
        """(bids, asks): every level as OrderBookRow lists, best first."""
        return list(self._entries(BK_BID)), list(self._entries(BK_ASK))

    def top(self, Py_ssize_t n):
        """(bids, asks) for the n best levels: array('q') of interleaved price, qty
        in fixed point (bids[0] = best bid price, bids[1] = its qty, ...)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self._top_side(BK_BID, n), self._top_side(BK_ASK, n)

    def top_into(self, array out, Py_ssize_t n):
        """Allocation-free top(n): write the n best bids then the n best asks into `out`
        (array('q'), len >= 4*n) as [bid_p, bid_q, ..., ask_p, ask_q, ...]; slots past a
        short side are left as they were.  Returns (bid_levels, ask_levels)."""
        cdef size_t nb, na
        cdef long long *d
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if out.ob_descr.typecode != b'q' or len(out) < 4 * n:
            raise ValueError(f"out must be an array('q') of at least {4 * n} items")
        d = out.data.as_longlongs
        nb = bk_top_pairs(&self._book, BK_BID, <size_t>n, d)
        na = bk_top_pairs(&self._book, BK_ASK, <size_t>n, d + 2 * n)
        return nb, na

    cdef object _top_side(self, int side, Py_ssize_t n):
        cdef size_t k = bk_depth(&self._book, side), i
        cdef const bk_level *lv = self._book.side[side].lv
        if <size_t>n < k:
            k = <size_t>n
        cdef array out = clone(_I64, 2 * k, False)
        cdef long long *d = out.data.as_longlongs
        cdef size_t last = self._book.side[side].n - 1
        for i in range(k):
            d[2 * i] = lv[last - i].price
            d[2 * i + 1] = lv[last - i].qty
        return out

    cdef int _side(self, bint is_buy) noexcept:
        return BK_ASK if is_buy else BK_BID

    def get_price_for_volume(self, bint is_buy, volume):
        """Price of the level at which cumulative amount reaches `volume` (NaN if never)."""
        cdef int64_t vol = self._volume(volume)
        cdef int found = 0
        cdef int64_t price = 0
        cdef bk_i128 cum
        _check_book(bk_price_for_volume(&self._book, self._side(is_buy), vol, &found, &price, &cum))
        total = _i128(cum)
        return _Query(_NaN, to_decimal(vol, self.size_scale),
                      to_decimal(price, self.price_scale) if found else _NaN,
                      to_decimal(min(total, vol), self.size_scale))

    def get_vwap_for_volume(self, bint is_buy, volume):
        """Volume-weighted average price of taking `volume` (NaN if the book is too thin)."""
        cdef int64_t vol = self._volume(volume)
        cdef int found = 0
        cdef bk_i128 cost, cum
        _check_book(bk_vwap_for_volume(&self._book, self._side(is_buy), vol, &found, &cost, &cum))
        consumed = _i128(cum)
        if found and consumed > 0:
            vwap = _EXACT.scaleb(_DIV.divide(Decimal(_i128(cost)), Decimal(consumed)), -self.price_scale)
        else:
            vwap = _NaN
        return _Query(_NaN, to_decimal(vol, self.size_scale), vwap, _scaled(consumed, self.size_scale))

    def get_volume_for_price(self, bint is_buy, price):
        """Total amount at prices not worse than `price`; result_price = last level used."""
        cdef int64_t p = to_fixed(price, self.price_scale)
        cdef int found = 0
        cdef int64_t last = 0
        cdef bk_i128 cum
        _check_book(bk_volume_for_price(&self._book, self._side(is_buy), p, &found, &last, &cum))
        return _Query(to_decimal(p, self.price_scale), _NaN,
                      to_decimal(last, self.price_scale) if found else _NaN,
                      _scaled(_i128(cum), self.size_scale))

    def get_quote_volume_for_price(self, bint is_buy, price):
        """Total price*amount at prices not worse than `price`."""
        cdef int64_t p = to_fixed(price, self.price_scale)
        cdef int found = 0
        cdef int64_t last = 0
        cdef bk_i128 cum
        _check_book(bk_quote_volume_for_price(&self._book, self._side(is_buy), p, &found, &last, &cum))
        return _Query(to_decimal(p, self.price_scale), _NaN,
                      to_decimal(last, self.price_scale) if found else _NaN,
                      _scaled(_i128(cum), self.price_scale + self.size_scale))

    cdef int64_t _volume(self, object volume) except? -1:
        cdef int64_t v = to_fixed(volume, self.size_scale)
        if v < 0:
            raise ValueError(f"volume must be >= 0, got {volume!r}")
        return v

    cdef list _simulate(self, int side, object amount):
        cdef int64_t left = self._volume(amount)
        cdef size_t k = 0
        cdef const bk_level *lv
        cdef list out = []
        while True:
            lv = bk_level_at(&self._book, side, k)
            if lv == NULL:
                break
            if lv.qty < left:
                out.append(self._row(lv))
                left -= lv.qty
            else:
                out.append(_Row(to_decimal(lv.price, self.price_scale), to_decimal(left, self.size_scale),
                                lv.uid))
                break
            k += 1
        return out

    def simulate_buy(self, amount):
        """Levels a market buy of `amount` would take (the last one partially)."""
        return self._simulate(BK_ASK, amount)

    def simulate_sell(self, amount):
        """Levels a market sell of `amount` would take (the last one partially)."""
        return self._simulate(BK_BID, amount)

    def _bench_best(self, Py_ssize_t reps):
        """Benchmark helper: `reps` rounds of the cdef best bid + best ask reads."""
        cdef Py_ssize_t i
        cdef int64_t acc = 0
        for i in range(reps):
            acc ^= self.c_best_bid() ^ self.c_best_ask()
        return acc

    def __repr__(self):
        return (f"OrderBook(symbol={self.symbol!r}, bids={self.bid_depth}, asks={self.ask_depth}, "
                f"in_sync={self.in_sync}, id={self._seq.book_id})")


cdef inline size_t bk_top_pairs(const bk_book *b, int side, size_t n, long long *d) noexcept:
    cdef size_t k = b.side[side].n, i, last
    cdef const bk_level *lv = b.side[side].lv
    if n < k:
        k = n
    if k:
        last = b.side[side].n - 1
        for i in range(k):
            d[2 * i] = lv[last - i].price
            d[2 * i + 1] = lv[last - i].qty
    return k


cdef const char *_frame_ptr(object frame, Py_ssize_t *n) except NULL:
    if PyBytes_CheckExact(frame) or isinstance(frame, bytes):
        n[0] = PyBytes_GET_SIZE(frame)
        return PyBytes_AS_STRING(frame)
    if PyByteArray_CheckExact(frame):
        n[0] = PyByteArray_GET_SIZE(frame)
        return PyByteArray_AS_STRING(frame)
    if PyUnicode_Check(frame):
        return PyUnicode_AsUTF8AndSize(frame, n)
    raise TypeError(f"expected bytes, bytearray or str, got {type(frame).__name__}")


cdef int _raise_book(int st) except -1:
    if st == BK_ERR_NOMEM:
        raise MemoryError("order book")
    if st == BK_ERR_OVERFLOW:
        raise OverflowError(bk_strerror(st).decode())
    raise ValueError(bk_strerror(st).decode())


cdef inline int _check_book(int st) except -1:
    if st != BK_OK:
        _raise_book(st)
    return 0


def peek_binance_symbol(frame):
    """Symbol of a depth/trade frame ("s", else the stream name before '@'), or None."""
    cdef Py_ssize_t n
    cdef const char *p = _frame_ptr(frame, &n)
    cdef const char *sym = NULL
    cdef size_t sym_len = 0
    if bp_peek_symbol(p, <size_t>n, &sym, &sym_len):
        return sym[:sym_len].decode("utf-8", "replace").upper()
    return None
