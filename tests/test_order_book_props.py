"""Compiled OrderBook vs the plain-Python reference, driven by the same random
operation sequences (snapshots, diffs, absent deletes, far outliers, extreme
numbers, Binance frames with gaps/stale/out-of-order ids, every query)."""
from decimal import Decimal

import json

import orjson
from hypothesis import HealthCheck, given, settings, strategies as st

from exconnect.native.order_book import OrderBook
from tests.reference.order_book_ref import INT64_MAX, OrderBookRef, dec

SCALES = [(8, 8), (2, 5), (0, 0), (4, 12)]


def same(a, b) -> bool:
    """Equality that treats Decimal NaN as equal to NaN, elementwise on tuples/lists."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Decimal) and isinstance(b, Decimal) and a.is_nan() and b.is_nan():
        return True
    return type(a) is type(b) and a == b if not isinstance(a, Decimal) else a == b


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except (ValueError, TypeError, EnvironmentError, OverflowError) as e:
        return ("err", type(e).__name__)


# ---- value strategies (fixed-point integers, rendered as text at the book's scale)
near = st.integers(990, 1010)                       # dense around a mid: crossings, updates
far = st.sampled_from([1, 2, 10**6, 10**15, INT64_MAX - 1, INT64_MAX])
price_units = st.one_of(near, near, near, far)
qty_units = st.one_of(st.integers(0, 3), st.integers(1, 10**6), st.sampled_from([INT64_MAX, 1]))


@st.composite
def levels(draw, scales, max_size=6):
    ps, ss = scales
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        p, q = draw(price_units), draw(qty_units)
        ptxt, qtxt = str(dec(p, ps)), str(dec(q, ss))
        if draw(st.integers(0, 80)) == 0:
            ptxt += "1" if "." in ptxt else ".01"  # digits beyond the scale: both must refuse
        out.append((ptxt, qtxt))
    return out


@st.composite
def operations(draw, scales):
    ops = []
    ps, ss = scales
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["snapshot", "diffs", "diffs", "bsnap", "bdepth", "bdepth", "bdepth", "query"]))
        if kind in ("snapshot", "diffs"):
            uid = draw(st.integers(0, 50))
            rows = lambda: [r if draw(st.booleans()) else (r[0], r[1], draw(st.integers(0, 50)))
                            for r in draw(levels(scales))]
            ops.append((kind, rows(), rows(), uid))
        elif kind == "bsnap":
            ops.append((kind, draw(st.integers(0, 60)), draw(levels(scales, 8)), draw(levels(scales, 8)),
                        draw(st.booleans())))
        elif kind == "bdepth":
            # ids relative to the book's current id so that apply/stale/gap all happen
            ops.append((kind, draw(st.one_of(st.just(1), st.just(1), st.integers(-4, 3))), draw(st.integers(0, 3)),
                        draw(st.one_of(st.just(0), st.just(0), st.integers(-2, 1))),
                        draw(levels(scales)), draw(levels(scales)), draw(st.booleans())))
        else:
            is_buy = draw(st.booleans())
            q = draw(st.sampled_from(["price", "pfv", "vwap", "vfp", "qvfp", "sim"]))
            arg = str(dec(draw(st.one_of(qty_units, st.integers(0, 40))), ss)) if q in ("pfv", "vwap", "sim") \
                else str(dec(draw(price_units), ps))
            ops.append((kind, q, is_buy, arg))
    return ops


def depth_frame(book_id, dU, span, dpu, bids, asks, envelope, futures):
    U = book_id + dU
    payload = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": U, "u": U + span,
               "b": [list(x) for x in bids], "a": [list(x) for x in asks]}
    if futures:
        payload["T"] = 1
        payload["pu"] = book_id + dpu
    if envelope:
        payload = {"stream": "btcusdt@depth", "data": payload}
    return orjson.dumps(payload)


def check_same_state(c: OrderBook, r: OrderBookRef, ps, ss):
    assert same(c.snapshot, r.snapshot)
    assert [list(x) for x in c.top(3)] == [list(x) for x in r.top(3)]
    assert c.in_sync == r.in_sync
    assert c.sequence_id == r.sequence_id
    assert c.last_diff_uid == r.last_diff_uid
    assert c.snapshot_uid == r.snapshot_uid
    for is_buy in (True, False):
        assert same(outcome(c.get_price, is_buy), outcome(r.get_price, is_buy))


def run(ops, scales, futures):
    ps, ss = scales
    c = OrderBook(ps, ss, symbol="BTCUSDT", futures=futures)
    r = OrderBookRef(ps, ss, symbol="BTCUSDT", futures=futures)
    for op in ops:
        kind = op[0]
        if kind in ("snapshot", "diffs"):
            _, bids, asks, uid = op
            name = "apply_snapshot" if kind == "snapshot" else "apply_diffs"
            got, want = outcome(getattr(c, name), bids, asks, uid), outcome(getattr(r, name), bids, asks, uid)
        elif kind == "bsnap":
            _, uid, bids, asks, envelope = op
            body = {"lastUpdateId": uid, "bids": [list(x) for x in bids], "asks": [list(x) for x in asks]}
            if futures:
                body.update(E=5, T=4)
            if envelope:
                body = {"stream": "btcusdt@depth20", "data": body}
            frame = orjson.dumps(body)
            got, want = outcome(c.apply_binance_snapshot, frame), outcome(r.apply_binance_snapshot, frame)
        elif kind == "bdepth":
            frame = depth_frame(r.sequence_id, *op[1:], futures)
            got, want = outcome(c.apply_binance_depth, frame), outcome(r.apply_binance_depth, frame)
        else:
            _, q, is_buy, arg = op
            fn = {"price": lambda b: b.get_price(is_buy), "pfv": lambda b: b.get_price_for_volume(is_buy, arg),
                  "vwap": lambda b: b.get_vwap_for_volume(is_buy, arg),
                  "vfp": lambda b: b.get_volume_for_price(is_buy, arg),
                  "qvfp": lambda b: b.get_quote_volume_for_price(is_buy, arg),
                  "sim": lambda b: b.simulate_buy(arg) if is_buy else b.simulate_sell(arg)}[q]
            got, want = outcome(fn, c), outcome(fn, r)
        assert same(got, want), (op, got, want)
        check_same_state(c, r, ps, ss)


@st.composite
def scenario(draw):
    scales = draw(st.sampled_from(SCALES))
    return scales, draw(operations(scales))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_spot_book_matches_reference(sc):
    scales, ops = sc
    run(ops, scales, futures=False)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_futures_book_matches_reference(sc):
    scales, ops = sc
    run(ops, scales, futures=True)


# ---- the scanner: key order, whitespace and unknown keys never change the result
_WS = st.text(alphabet=" \t\r\n", max_size=3)
_JUNK = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                               st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
                     lambda kids: st.one_of(st.lists(kids, max_size=3),
                                            st.dictionaries(st.text(max_size=4), kids, max_size=3)),
                     max_leaves=8)


def _render(value, draw) -> str:
    """JSON text of value with random whitespace around every token."""
    w = lambda: draw(_WS)
    if isinstance(value, dict):
        items = list(value.items())
        order = draw(st.permutations(range(len(items)))) if items else []
        body = ",".join(f"{w()}{json.dumps(items[i][0])}{w()}:{_render(items[i][1], draw)}" for i in order)
        return f"{w()}{{{body}{w()}}}{w()}"
    if isinstance(value, list):
        return f"{w()}[{','.join(_render(v, draw) for v in value)}{w()}]{w()}"
    return f"{w()}{json.dumps(value)}{w()}"


@st.composite
def reshaped_frame(draw):
    bids = draw(levels((8, 8), 5))
    asks = draw(levels((8, 8), 5))
    payload = {"e": "depthUpdate", "E": 7, "s": "BTCUSDT", "U": 101, "u": 103,
               "b": [list(x) for x in bids], "a": [list(x) for x in asks]}
    for key in draw(st.lists(st.sampled_from(["x", "ps", "st", "zz", "bids", "lastUpdateId"]), unique=True,
                             max_size=3)):
        payload[key] = draw(_JUNK)
    canonical = json.dumps(payload, separators=(",", ":")).encode()
    if draw(st.booleans()):
        payload = {"stream": "btcusdt@depth", "data": payload}
    return canonical, _render(payload, draw).encode()


@settings(max_examples=150, deadline=None)
@given(reshaped_frame())
def test_key_order_whitespace_and_unknown_keys_do_not_matter(frames):
    canonical, reshaped = frames
    results = []
    for frame in (canonical, reshaped):
        book = OrderBook(8, 8, symbol="BTCUSDT")
        book.apply_snapshot([], [], 100)
        try:
            status = book.apply_binance_depth(frame)
        except ValueError as error:
            status = "ValueError"
        results.append((status, book.snapshot, book.sequence_id))
    assert results[0] == results[1]
