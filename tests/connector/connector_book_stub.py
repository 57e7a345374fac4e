"""Plain-Python stand-in for ``exconnect.native.order_book`` used only while the compiled module
is not built yet (same Binance fast-path API, Decimal levels). Installed by conftest if missing."""
import sys
import types
from decimal import Decimal

import orjson

DEPTH_APPLIED, DEPTH_STALE, DEPTH_GAP, DEPTH_NOT_SYNCED = 0, 1, 2, 3


def peek_binance_symbol(frame: bytes):
    msg = orjson.loads(frame)
    return msg.get("data", msg).get("s")


class OrderBook:
    def __init__(self, price_scale=8, size_scale=8, symbol=None, futures=False):
        self.bids, self.asks, self.uid, self.in_sync = {}, {}, 0, False

    def apply_binance_snapshot(self, body: bytes):
        msg = orjson.loads(body)
        self.bids = {Decimal(p): Decimal(q) for p, q in msg["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in msg["asks"]}
        self.uid, self.in_sync = msg["lastUpdateId"], True

    def apply_binance_depth(self, frame: bytes) -> int:
        msg = orjson.loads(frame)
        msg = msg.get("data", msg)
        if not self.in_sync:
            return DEPTH_NOT_SYNCED
        if msg["u"] <= self.uid:
            return DEPTH_STALE
        if msg["U"] > self.uid + 1:
            self.in_sync = False
            return DEPTH_GAP
        for side, rows in ((self.bids, msg["b"]), (self.asks, msg["a"])):
            for p, q in rows:
                p, q = Decimal(p), Decimal(q)
                if q == 0:
                    side.pop(p, None)
                else:
                    side[p] = q
        self.uid = msg["u"]
        return DEPTH_APPLIED

    def get_price(self, is_buy: bool) -> Decimal:
        side = self.asks if is_buy else self.bids
        if not side:
            raise EnvironmentError("empty side")
        return min(side) if is_buy else max(side)

    @property
    def snapshot_uid(self):
        return self.uid

    @property
    def last_diff_uid(self):
        return self.uid


def install():
    try:
        import exconnect.native.order_book  # noqa: F401
        return False
    except ImportError:
        mod = types.ModuleType("exconnect.native.order_book")
        for name in ("DEPTH_APPLIED", "DEPTH_STALE", "DEPTH_GAP", "DEPTH_NOT_SYNCED", "peek_binance_symbol",
                     "OrderBook"):
            setattr(mod, name, globals()[name])
        sys.modules["exconnect.native.order_book"] = mod
        import exconnect.native
        exconnect.native.order_book = mod
        return True
