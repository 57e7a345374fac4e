"""Plain-Python reference of exconnect.native.order_book.OrderBook.

Decimal + sortedcontainers, written from the documented rules (Hummingbot's
OrderBook meaning, Binance §1.8/§2.8 sequence rules), not from the C code.
Property tests drive it and the compiled book with the same operations.
"""
from __future__ import annotations

import json
import re
from decimal import Context, Decimal, ROUND_HALF_EVEN, localcontext
from typing import Iterable, List, Optional, Tuple

from sortedcontainers import SortedDict

from exconnect.types import OrderBookQueryResult, OrderBookRow

DEPTH_APPLIED, DEPTH_STALE, DEPTH_GAP, DEPTH_NOT_SYNCED = 0, 1, 2, 3
NaN = Decimal("NaN")
INT64_MAX = 2**63 - 1
INT128_MAX = 2**127 - 1
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
_DIV = Context(prec=28, rounding=ROUND_HALF_EVEN, Emax=999999, Emin=-999999)


def to_fixed(value, scale: int) -> int:
    """Exact value * 10**scale as int, or ValueError/TypeError like the compiled book."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"not accepted for money: {value!r}")
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a number: {value!r}")
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"unsupported type {type(value).__name__}")
    if not _NUMBER.match(value):
        raise ValueError(f"not a decimal number: {value!r}")
    with localcontext() as ctx:
        ctx.prec = 200
        ctx.Emax, ctx.Emin = 999999, -999999
        d = Decimal(value).scaleb(scale)
        if d != d.to_integral_value():
            raise ValueError(f"more decimal places than scale {scale}: {value!r}")
        i = int(d)
    if abs(i) > INT64_MAX:
        raise ValueError(f"too large for the fixed-point range: {value!r}")
    return i


def dec(i: int, scale: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 200
        return Decimal(i).scaleb(-scale)


class OrderBookRef:
    def __init__(self, price_scale: int = 8, size_scale: int = 8, symbol: Optional[str] = None,
                 futures: bool = False):
        self.price_scale, self.size_scale = price_scale, size_scale
        self.symbol, self.futures = symbol, futures
        # price (int, fixed) -> (qty int, uid); bids and asks both keyed by price
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self.snapshot_uid = 0
        self.last_diff_uid = 0
        self._book_id = 0
        self._synced = False
        self._first_pending = False

    # ---- helpers
    def _rows(self, rows: Iterable, uid: int) -> List[Tuple[int, int, int]]:
        out = []
        for row in rows:
            if not 2 <= len(row) <= 3:
                raise ValueError(f"bad row {row!r}")
            qty = to_fixed(row[1], self.size_scale)
            if qty < 0:
                raise ValueError("negative amount")
            price = to_fixed(row[0], self.price_scale)
            out.append((price, qty, uid if len(row) == 2 else int(row[2])))
        return out

    @staticmethod
    def _set(side: SortedDict, price: int, qty: int, uid: int) -> None:
        if qty == 0:
            side.pop(price, None)
        else:
            side[price] = (qty, uid)

    def _uncross(self) -> None:
        while self._bids and self._asks:
            bp, (bq, bu) = self._bids.peekitem(-1)
            ap, (aq, au) = self._asks.peekitem(0)
            if bp < ap:
                break
            if bu > au:
                del self._asks[ap]
            else:
                del self._bids[bp]

    def _do_snapshot(self, bids, asks, uid) -> None:
        self._bids.clear()
        self._asks.clear()
        for p, q, u in bids:
            self._set(self._bids, p, q, u)
        for p, q, u in asks:
            self._set(self._asks, p, q, u)
        self.snapshot_uid = uid
        self._book_id, self._synced, self._first_pending = uid, True, True

    def _do_diffs(self, bids, asks, uid) -> None:
        for p, q, u in bids:
            self._set(self._bids, p, q, u)
        for p, q, u in asks:
            self._set(self._asks, p, q, u)
        self._uncross()
        self.last_diff_uid = uid

    # ---- Hummingbot API
    def apply_snapshot(self, bids, asks, update_id: int) -> None:
        b, a = self._rows(bids, update_id), self._rows(asks, update_id)
        self._do_snapshot(b, a, update_id)

    def apply_diffs(self, bids, asks, update_id: int) -> None:
        b, a = self._rows(bids, update_id), self._rows(asks, update_id)
        self._do_diffs(b, a, update_id)

    def _best_first(self, is_bid: bool):
        side = self._bids if is_bid else self._asks
        keys = reversed(side.keys()) if is_bid else iter(side.keys())
        for p in list(keys):
            q, u = side[p]
            yield p, q, u

    def _row(self, p, q, u) -> OrderBookRow:
        return OrderBookRow(dec(p, self.price_scale), dec(q, self.size_scale), u)

    def bid_entries(self):
        return (self._row(*x) for x in self._best_first(True))

    def ask_entries(self):
        return (self._row(*x) for x in self._best_first(False))

    @property
    def snapshot(self):
        return list(self.bid_entries()), list(self.ask_entries())

    @property
    def in_sync(self) -> bool:
        return self._synced

    @property
    def sequence_id(self) -> int:
        return self._book_id

    def top(self, n: int):
        def side(is_bid):
            out = []
            for i, (p, q, _) in enumerate(self._best_first(is_bid)):
                if i >= n:
                    break
                out += [p, q]
            return out
        return side(True), side(False)

    def get_price(self, is_buy: bool) -> Decimal:
        side = self._asks if is_buy else self._bids
        if not side:
            raise EnvironmentError("Order book is empty - no price quote is possible.")
        p = side.peekitem(0 if is_buy else -1)[0]
        return dec(p, self.price_scale)

    def _vol(self, volume) -> int:
        v = to_fixed(volume, self.size_scale)
        if v < 0:
            raise ValueError("volume must be >= 0")
        return v

    def get_price_for_volume(self, is_buy: bool, volume) -> OrderBookQueryResult:
        vol = self._vol(volume)
        cum, result = 0, NaN
        for p, q, _ in self._best_first(not is_buy):
            cum += q
            if cum >= vol:
                result = dec(p, self.price_scale)
                break
        return OrderBookQueryResult(NaN, dec(vol, self.size_scale), result, dec(min(cum, vol), self.size_scale))

    def get_vwap_for_volume(self, is_buy: bool, volume) -> OrderBookQueryResult:
        vol = self._vol(volume)
        cost, total, reached = 0, 0, False
        for p, q, _ in self._best_first(not is_buy):
            if total + q >= vol:
                cost += p * (vol - total)
                total, reached = vol, True
                break
            cost += p * q
            total += q
        if reached and total > 0:
            # cost / total in units of 10^-price_scale: one rounding to 28 digits
            vwap = _DIV.divide(Decimal(cost), Decimal(total)).scaleb(-self.price_scale, _DIV)
        else:
            vwap = NaN
        return OrderBookQueryResult(NaN, dec(vol, self.size_scale), vwap, dec(total, self.size_scale))

    def _walk_price(self, is_buy: bool, price, quote: bool) -> OrderBookQueryResult:
        limit = to_fixed(price, self.price_scale)
        cum, result = 0, NaN
        for p, q, _ in self._best_first(not is_buy):
            if (is_buy and p > limit) or (not is_buy and p < limit):
                break
            cum += p * q if quote else q
            if cum > INT128_MAX or cum < -INT128_MAX - 1:
                raise OverflowError("sum exceeds the 128-bit range")
            result = dec(p, self.price_scale)
        scale = self.price_scale + self.size_scale if quote else self.size_scale
        return OrderBookQueryResult(dec(limit, self.price_scale), NaN, result, dec(cum, scale))

    def get_volume_for_price(self, is_buy: bool, price) -> OrderBookQueryResult:
        return self._walk_price(is_buy, price, False)

    def get_quote_volume_for_price(self, is_buy: bool, price) -> OrderBookQueryResult:
        return self._walk_price(is_buy, price, True)

    def _simulate(self, is_bid: bool, amount) -> List[OrderBookRow]:
        left = self._vol(amount)
        out = []
        for p, q, u in self._best_first(is_bid):
            if q < left:
                out.append(self._row(p, q, u))
                left -= q
            else:
                out.append(self._row(p, left, u))
                break
        return out

    def simulate_buy(self, amount) -> List[OrderBookRow]:
        return self._simulate(False, amount)

    def simulate_sell(self, amount) -> List[OrderBookRow]:
        return self._simulate(True, amount)

    # ---- Binance
    def _levels(self, raw, uid) -> List[Tuple[int, int, int]]:
        if not isinstance(raw, list):
            raise ValueError("levels must be a list")
        out = []
        for lv in raw:
            if not isinstance(lv, list) or len(lv) < 2:
                raise ValueError("bad level")
            p, q = (str(x) if isinstance(x, (int, float, str)) and not isinstance(x, bool) else None for x in lv[:2])
            if p is None or q is None:
                raise ValueError("bad level value")
            qf = to_fixed(q, self.size_scale)
            if qf < 0:
                raise ValueError("negative quantity")
            out.append((to_fixed(p, self.price_scale), qf, uid))
        return out

    @staticmethod
    def _payload(frame) -> dict:
        msg = json.loads(frame)
        if not isinstance(msg, dict):
            raise ValueError("not an object")
        if "data" in msg:
            # an envelope carries the payload only under "data"; other unknown keys are ignored
            payload_keys = {"e", "E", "T", "s", "U", "u", "pu", "b", "a", "bids", "asks", "lastUpdateId"}
            if set(msg) & payload_keys or not isinstance(msg["data"], dict):
                raise ValueError("bad envelope")
            msg = msg["data"]
        return msg

    def _check_symbol(self, msg: dict, frame) -> None:
        if not self.symbol:
            return
        want = self.symbol.replace("-", "").replace("/", "").replace("_", "").upper()
        env = json.loads(frame)
        got = msg.get("s")
        if got is None and isinstance(env, dict) and "stream" in env:
            got = env["stream"].split("@")[0]
        if got is not None and got.upper() != want:
            raise ValueError("symbol mismatch")

    def apply_binance_snapshot(self, body) -> None:
        msg = self._payload(body)
        uid = msg.get("lastUpdateId")
        if type(uid) is not int or "bids" not in msg or "asks" not in msg:
            raise ValueError("missing fields")
        b, a = self._levels(msg["bids"], uid), self._levels(msg["asks"], uid)
        self._check_symbol(msg, body)
        self._do_snapshot(b, a, uid)

    def apply_binance_depth(self, frame) -> int:
        msg = self._payload(frame)
        if msg.get("e") != "depthUpdate":
            raise ValueError("not a depthUpdate")
        U, u = msg.get("U"), msg.get("u")
        if type(U) is not int or type(u) is not int or "b" not in msg or "a" not in msg:
            raise ValueError("missing fields")
        if U > u:
            raise ValueError("U > u")
        b, a = self._levels(msg["b"], u), self._levels(msg["a"], u)
        self._check_symbol(msg, frame)
        pu = msg.get("pu")
        futures = self.futures or pu is not None
        if futures and pu is None and not self._first_pending:
            raise ValueError("futures depthUpdate without pu")
        decision = self._decide(futures, U, u, pu)
        if decision == DEPTH_APPLIED:
            self._do_diffs(b, a, u)
            self._book_id, self._first_pending = u, False
        elif decision == DEPTH_GAP:
            self._synced = False
        return decision

    def _decide(self, futures: bool, U: int, u: int, pu) -> int:
        bid = self._book_id
        if not self._synced:
            return DEPTH_NOT_SYNCED
        if not futures:
            if u <= bid:
                return DEPTH_STALE
            return DEPTH_APPLIED if U <= bid + 1 else DEPTH_GAP
        if self._first_pending:
            if u < bid:
                return DEPTH_STALE
            # U <= id <= u (Binance's wording), or the frame continues the snapshot exactly (pu == id)
            return DEPTH_APPLIED if U <= bid or pu == bid else DEPTH_GAP
        if u <= bid:
            return DEPTH_STALE
        return DEPTH_APPLIED if pu == bid else DEPTH_GAP
