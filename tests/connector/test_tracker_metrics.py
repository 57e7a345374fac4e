"""OB-31: order book tracker metrics (counts, per-minute rates, sampled latency, dict export).

Unit tests feed frames straight into ``OrderBookTracker._on_frame`` through a fake data source
(frames ``b"D|pair|update_id|event_ms"`` / ``b"T|pair"``; a book is its last update id) with fake
clocks; the last test reads the metrics of a connector running against the simulator."""
from decimal import Decimal

from connector_helpers import PAIR, eventually

from exconnect.connector.order_book_tracker import (APPLIED, DIFF, GAP, STALE, TRADE, OrderBookTracker,
                                                    OrderBookTrackerDataSource)

ETH = "ETH-USDT"


class Book:
    def __init__(self):
        self.last = None

    @property
    def in_sync(self):
        return self.last is not None


class FakeSource(OrderBookTrackerDataSource):
    supports_dynamic_pairs = True

    def new_order_book(self, trading_pair):
        return Book()

    async def fetch_snapshot(self, trading_pair):
        raise AssertionError("not used")

    def apply_snapshot(self, book, body):
        book.last = int(body)

    def apply_diff(self, book, frame):
        parts = frame.split(b"|")
        if len(parts) < 3 or not parts[2].isdigit():
            raise ValueError("malformed")
        uid = int(parts[2])
        if uid <= book.last:
            return STALE
        if uid > book.last + 1:
            return GAP
        book.last = uid
        return APPLIED

    def route(self, frame):
        parts = frame.split(b"|")
        kind = {b"D": DIFF, b"T": TRADE}.get(parts[0], 0)
        return (kind, parts[1].decode()) if kind else (0, None)

    def parse_trade(self, frame, trading_pair):
        return ("trade", trading_pair)

    def event_time_ms(self, frame):
        parts = frame.split(b"|")
        return float(parts[3]) if len(parts) > 3 else None

    async def listen_for_subscriptions(self, trading_pairs, on_frame, on_connected):
        raise AssertionError("not used")


class Clocks:
    def __init__(self):
        self.mono = 1000.0
        self.wall_ms = 5_000_000.0


def make(pairs=(PAIR,), cls=OrderBookTracker):
    clocks = Clocks()
    t = cls(FakeSource(), list(pairs), metrics_clock=lambda: clocks.mono, wall_clock_ms=lambda: clocks.wall_ms)
    t._request_resync = lambda pair, restart=False: t._syncing.add(pair)     # no task: tests drive it
    return t, clocks


def diff(pair, uid, event_ms=None):
    return f"D|{pair}|{uid}".encode() + (f"|{event_ms}".encode() if event_ms is not None else b"")


def test_empty_metrics_are_zero():
    t, _ = make()
    m = t.metrics()
    g = m["global"]
    assert g["diffs_processed"] == g["diffs_rejected"] == g["diffs_queued"] == g["snapshots"] == g["trades"] == 0
    assert g["diffs_processed_per_min"] == 0.0 and g["trades_per_min"] == 0.0 and g["elapsed_s"] == 0.0
    assert m["pairs"][PAIR]["diffs_processed"] == 0
    assert m["latency"] == {"samples": 0, "window": 0, "sample_every": 128, "min_ms": 0, "max_ms": 0,
                            "mean_ms": 0.0}
    assert m["reconnects"] == 0 and m["unrouted_frames"] == 0


def test_frames_of_an_untracked_pair_are_rejected_and_counted():
    """OB-28: a depth or trade frame of a pair the tracker does not follow touches no book and is
    counted; frames that are neither (subscription answers...) are not."""
    t, _ = make()
    assert t._load_snapshot(PAIR, b"100")
    t._on_frame(diff("DOGE-USDT", 1))
    t._on_frame(b"T|DOGE-USDT")
    t._on_frame(b"X|whatever")
    m = t.metrics()
    assert m["unrouted_frames"] == 2 and t.unrouted_count == 2
    assert m["global"]["diffs_processed"] == m["global"]["trades"] == 0 and set(m["pairs"]) == {PAIR}
    t._on_frame(diff(PAIR, 101))                                  # the tracked pair is unaffected
    assert t.metrics()["pairs"][PAIR]["diffs_processed"] == 1 and t.order_books[PAIR].last == 101


def test_counts_per_pair_and_global():
    t, _ = make((PAIR, ETH))
    t._on_frame(diff(PAIR, 100))                 # not in sync yet: queued
    t._on_frame(diff(PAIR, 101))
    assert t.metrics()["pairs"][PAIR]["diffs_queued"] == 2
    assert t._load_snapshot(PAIR, b"100")        # replay: 100 stale, 101 applied
    assert t._load_snapshot(ETH, b"7")
    t._on_frame(diff(PAIR, 102))                 # applied
    t._on_frame(diff(PAIR, 102))                 # stale
    t._on_frame(diff(ETH, 8))
    t._on_frame(b"T|" + PAIR.encode())
    t._on_frame(b"T|" + PAIR.encode())
    t._on_frame(b"T|" + ETH.encode())
    t._on_frame(b"D|" + ETH.encode() + b"|x")   # malformed: rejected, resync
    t._on_frame(diff(PAIR, 110))                 # gap: rejected, resync (then queued from now on)
    t._on_frame(diff(PAIR, 111))
    t._on_frame(b"X|nothing")                    # not a book frame
    t._on_frame(diff("DOGE-USDT", 1))            # untracked pair
    m = t.metrics()
    btc, eth, g = m["pairs"][PAIR], m["pairs"][ETH], m["global"]
    assert (btc["diffs_processed"], btc["diffs_rejected_stale"], btc["diffs_rejected_gap"],
            btc["diffs_rejected_malformed"], btc["diffs_queued"], btc["snapshots"], btc["trades"]) == (2, 2, 1, 0, 3, 1, 2)
    assert btc["diffs_rejected"] == 3
    assert (eth["diffs_processed"], eth["diffs_rejected_malformed"], eth["trades"], eth["snapshots"]) == (1, 1, 1, 1)
    assert eth["diffs_rejected"] == 1
    assert (g["diffs_processed"], g["diffs_rejected"], g["diffs_queued"], g["snapshots"], g["trades"]) == (3, 4, 3, 2, 3)
    # the historical counters are views of the same numbers
    assert (t.diff_count, t.gap_count, t.snapshot_count) == (3, 1, 2)


def test_per_minute_rates():
    t, clocks = make()
    assert t._load_snapshot(PAIR, b"0")
    for uid in range(1, 31):
        t._on_frame(diff(PAIR, uid))
    t._on_frame(b"T|" + PAIR.encode())
    assert t.metrics()["global"]["diffs_processed_per_min"] == 0.0       # no time elapsed yet
    clocks.mono += 30.0
    m = t.metrics()
    assert m["global"]["diffs_processed_per_min"] == 60.0
    assert m["global"]["trades_per_min"] == 2.0 and m["global"]["snapshots_per_min"] == 2.0
    assert m["pairs"][PAIR]["diffs_processed_per_min"] == 60.0
    assert m["global"]["elapsed_s"] == 30.0


def test_latency_sampled_every_128th_applied_diff():
    t, clocks = make()
    assert t._load_snapshot(PAIR, b"0")
    for uid in range(1, 128):
        t._on_frame(diff(PAIR, uid, clocks.wall_ms - 1000))
    assert t.latency_stats()["samples"] == 0                # 127 applied: none sampled yet
    t._on_frame(diff(PAIR, 128, clocks.wall_ms - 7))        # the 128th
    t._on_frame(diff(PAIR, 128, clocks.wall_ms - 1000))     # stale: never sampled
    for uid in range(129, 257):
        t._on_frame(diff(PAIR, uid, clocks.wall_ms - (3 if uid == 256 else 1000)))
    lat = t.metrics()["latency"]
    assert (lat["samples"], lat["window"], lat["min_ms"], lat["max_ms"], lat["mean_ms"]) == (2, 2, 3, 7, 5.0)


def test_latency_rolling_window_keeps_the_last_samples():
    class Small(OrderBookTracker):
        LATENCY_WINDOW = 2

    t, clocks = make(cls=Small)
    assert t._load_snapshot(PAIR, b"0")
    lags = iter([50, 10, 20])
    for uid in range(1, 3 * 128 + 1):
        lag = next(lags) if uid % 128 == 0 else 0
        t._on_frame(diff(PAIR, uid, clocks.wall_ms - lag))
    lat = t.latency_stats()
    assert (lat["samples"], lat["window"], lat["min_ms"], lat["max_ms"], lat["mean_ms"]) == (3, 2, 10, 20, 15.0)


def test_no_latency_without_event_time():
    t, _ = make()
    assert t._load_snapshot(PAIR, b"0")
    for uid in range(1, 257):
        t._on_frame(diff(PAIR, uid))
    assert t.latency_stats()["samples"] == 0 and t.latency_stats()["min_ms"] == 0


async def test_removing_a_pair_drops_its_metrics_and_keeps_global_totals():
    t, clocks = make((PAIR, ETH))
    assert t._load_snapshot(PAIR, b"0") and t._load_snapshot(ETH, b"0")
    for uid in range(1, 6):
        t._on_frame(diff(ETH, uid))
    t._on_frame(diff(PAIR, 1))
    assert await t.remove_trading_pair(ETH)
    m = t.metrics()
    assert ETH not in m["pairs"] and PAIR in m["pairs"]
    assert m["global"]["diffs_processed"] == 6 and m["global"]["snapshots"] == 2
    clocks.mono += 60.0
    assert await t.add_trading_pair(ETH)                    # back: counted afresh
    m = t.metrics()
    assert m["pairs"][ETH]["diffs_processed"] == 0 and m["pairs"][ETH]["diffs_processed_per_min"] == 0.0
    assert m["pairs"][PAIR]["diffs_processed_per_min"] == 1.0
    assert m["global"]["diffs_processed"] == 6


async def test_metrics_of_a_connector_on_the_simulator(connector, sim):
    tracker = connector.order_book_tracker
    before = tracker.metrics()
    assert before["pairs"][PAIR]["snapshots"] >= 1 and before["global"]["snapshots"] >= 1
    bid = connector.get_order_book(PAIR).get_price(False)
    for i in range(130):                                    # 130 book changes, one diff each
        sim.spot.add_liquidity("BTCUSDT", "BUY", str(bid - Decimal(200) - i), "0.01")
        sim.spot.publisher.tick()
    await eventually(lambda: tracker.metrics()["pairs"][PAIR]["diffs_processed"]
                     >= before["pairs"][PAIR]["diffs_processed"] + 130)
    m = tracker.metrics()
    assert m["latency"]["samples"] >= 1                      # Binance frames carry E
    assert m["latency"]["min_ms"] <= m["latency"]["mean_ms"] <= m["latency"]["max_ms"]
    assert m["global"]["diffs_processed"] == tracker.diff_count
    assert "metrics" not in connector.status_dict
