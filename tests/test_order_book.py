"""Explicit cases for exconnect.native.order_book (Hummingbot semantics, Binance fast path)."""
import random
from decimal import Decimal

import pytest

from exconnect.native.order_book import (
    DEPTH_APPLIED, DEPTH_GAP, DEPTH_NOT_SYNCED, DEPTH_STALE, OrderBook, peek_binance_symbol,
)
from exconnect.types import OrderBookRow

SPOT_SNAPSHOT = (b'{"lastUpdateId": 1000, "bids": [["60000.00", "1.50000"], ["59999.99", "0.20000"]], '
                 b'"asks": [["60000.01", "0.75000"]]}')
SPOT_DIFFS = [
    b'{"e":"depthUpdate","E":1767225600100,"s":"BTCUSDT","U":995,"u":1000,"b":[],"a":[]}',
    b'{"e":"depthUpdate","E":1767225600200,"s":"BTCUSDT","U":1001,"u":1004,"b":[["60000.00","1.25000"]],'
    b'"a":[["60000.01","0"],["60000.02","2.00000"]]}',
    b'{"e":"depthUpdate","E":1767225600300,"s":"BTCUSDT","U":1005,"u":1005,"b":[["59999.99","0"]],"a":[]}',
]
FUT_SNAPSHOT = b'{"lastUpdateId":5003,"E":1767225600240,"T":1767225600239,"bids":[["60000.0","1.000"]],"asks":[["60000.1","2.000"],["60000.2","1.000"]]}'
FUT_DIFFS = [
    b'{"e":"depthUpdate","E":1767225600250,"T":1767225600248,"s":"BTCUSDT","U":5000,"u":5007,"pu":4990,'
    b'"b":[["60000.0","3.210"]],"a":[["60000.1","0"]]}',
    b'{"e":"depthUpdate","E":1767225600500,"T":1767225600497,"s":"BTCUSDT","U":5012,"u":5020,"pu":5007,'
    b'"b":[],"a":[["60000.2","1.500"]]}',
]


def state(book):
    return book.snapshot, book.sequence_id, book.in_sync, book.last_diff_uid, book.snapshot_uid


def spot_book():
    book = OrderBook(2, 5, symbol="BTCUSDT")
    book.apply_binance_snapshot(SPOT_SNAPSHOT)
    return book


# ---------------------------------------------------------------- Binance sequence rules
def test_spot_chain_from_protocol_example():
    book = spot_book()
    assert book.in_sync and book.snapshot_uid == 1000
    assert [book.apply_binance_depth(f) for f in SPOT_DIFFS] == [DEPTH_STALE, DEPTH_APPLIED, DEPTH_APPLIED]
    bids, asks = book.snapshot
    assert bids == [OrderBookRow(Decimal("60000.00"), Decimal("1.25"), 1004)]
    assert asks == [OrderBookRow(Decimal("60000.02"), Decimal("2"), 1004)]
    assert book.last_diff_uid == 1005 and book.sequence_id == 1005
    gap = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1007,"u":1008,"b":[["1","1"]],"a":[]}'
    assert book.apply_binance_depth(gap) == DEPTH_GAP
    assert not book.in_sync
    before = book.snapshot
    ok_next = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1006,"u":1006,"b":[["2","1"]],"a":[]}'
    assert book.apply_binance_depth(ok_next) == DEPTH_NOT_SYNCED   # stays out of sync ...
    assert book.snapshot == before
    book.apply_binance_snapshot(SPOT_SNAPSHOT.replace(b"1000", b"1007"))   # ... until a snapshot
    assert book.in_sync and book.sequence_id == 1007


def test_spot_first_diff_must_span_snapshot_id():
    book = spot_book()
    too_new = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1002,"u":1003,"b":[],"a":[]}'
    assert book.apply_binance_depth(too_new) == DEPTH_GAP
    book = spot_book()
    spanning = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":990,"u":1003,"b":[],"a":[]}'
    assert book.apply_binance_depth(spanning) == DEPTH_APPLIED
    assert book.apply_binance_depth(spanning) == DEPTH_STALE      # replayed frame


def test_spot_later_frames_follow_the_official_overlap_rule():
    # §1.8 step 6: apply when U <= id+1 <= u; in steady state that is U == previous u + 1,
    # and a frame overlapping the book (U <= id < u) is applied too (absolute quantities)
    book = spot_book()
    assert book.apply_binance_depth(SPOT_DIFFS[1]) == DEPTH_APPLIED          # 1001..1004
    overlap = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1003,"u":1006,"b":[["59000.00","1"]],"a":[]}'
    assert book.apply_binance_depth(overlap) == DEPTH_APPLIED and book.sequence_id == 1006
    skip = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1008,"u":1009,"b":[],"a":[]}'
    assert book.apply_binance_depth(skip) == DEPTH_GAP


def test_futures_duplicate_frame_is_stale_not_a_gap():
    book = OrderBook(1, 3, futures=True)
    book.apply_binance_snapshot(FUT_SNAPSHOT)
    assert book.apply_binance_depth(FUT_DIFFS[0]) == DEPTH_APPLIED
    assert book.apply_binance_depth(FUT_DIFFS[0]) == DEPTH_STALE
    assert book.in_sync and book.apply_binance_depth(FUT_DIFFS[1]) == DEPTH_APPLIED


def test_not_synced_before_any_snapshot():
    book = OrderBook(2, 5)
    assert not book.in_sync
    assert book.apply_binance_depth(SPOT_DIFFS[1]) == DEPTH_NOT_SYNCED
    assert book.snapshot == ([], [])


def test_futures_pu_chain_from_protocol_example():
    book = OrderBook(1, 3, futures=True)
    book.apply_binance_snapshot(FUT_SNAPSHOT)
    assert [book.apply_binance_depth(f) for f in FUT_DIFFS] == [DEPTH_APPLIED, DEPTH_APPLIED]
    assert book.sequence_id == 5020
    assert [r.price for r in book.ask_entries()] == [Decimal("60000.2")]
    assert book.get_price(True) == Decimal("60000.2") and book.get_price(False) == Decimal("60000.0")
    broken = b'{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":5030,"u":5040,"pu":5025,"b":[],"a":[]}'
    assert book.apply_binance_depth(broken) == DEPTH_GAP and not book.in_sync


def test_futures_rules_detected_from_pu_and_first_frame_rules():
    book = OrderBook(1, 3)          # futures=False, but pu in the frames selects the pu chain
    book.apply_binance_snapshot(FUT_SNAPSHOT)
    stale = b'{"e":"depthUpdate","E":1,"T":1,"s":"X","U":4990,"u":5002,"pu":4980,"b":[],"a":[]}'
    assert book.apply_binance_depth(stale) == DEPTH_STALE        # u < lastUpdateId
    late = b'{"e":"depthUpdate","E":1,"T":1,"s":"X","U":5005,"u":5010,"pu":5004,"b":[],"a":[]}'
    assert book.apply_binance_depth(late) == DEPTH_GAP            # U > lastUpdateId and pu != lastUpdateId


def test_futures_book_refuses_later_frame_without_pu():
    book = OrderBook(1, 3, futures=True)
    book.apply_binance_snapshot(FUT_SNAPSHOT)
    assert book.apply_binance_depth(FUT_DIFFS[0]) == DEPTH_APPLIED
    no_pu = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5012,"u":5020,"b":[],"a":[]}'
    with pytest.raises(ValueError, match="pu"):
        book.apply_binance_depth(no_pu)


def test_combined_stream_envelope_any_key_order_and_whitespace():
    book = spot_book()
    frame = (b' \n{ "data" : {"a":[ ["60000.03" , "1"] ],"u" :1004,\t"b":[],"U": 1001,"s":"BTCUSDT",'
             b'"E":5, "e":"depthUpdate", "x":{"nested":[1,2.5e3,true,false,null,"\\u00e9\\""]}} ,'
             b'"stream":"btcusdt@depth@100ms"}\r\n')
    assert book.apply_binance_depth(frame) == DEPTH_APPLIED
    assert book.ask_depth == 2 and book.sequence_id == 1004


def test_str_and_bytearray_frames_accepted():
    book = spot_book()
    assert book.apply_binance_depth(SPOT_DIFFS[1].decode()) == DEPTH_APPLIED
    assert book.apply_binance_depth(bytearray(SPOT_DIFFS[2])) == DEPTH_APPLIED
    with pytest.raises(TypeError):
        book.apply_binance_depth(12)


def test_wrong_symbol_refused():
    book = spot_book()
    eth = SPOT_DIFFS[1].replace(b"BTCUSDT", b"ETHUSDT")
    with pytest.raises(ValueError, match="ETHUSDT"):
        book.apply_binance_depth(eth)
    env = b'{"stream":"ethusdt@depth","data":' + SPOT_DIFFS[1].replace(b'"s":"BTCUSDT",', b"") + b"}"
    with pytest.raises(ValueError, match="ethusdt"):
        book.apply_binance_depth(env)
    assert book.sequence_id == 1000


@pytest.mark.parametrize("frame, message", [
    (b'{"e":"trade","E":1,"s":"BTCUSDT","U":1001,"u":1004,"b":[],"a":[]}', "not a depthUpdate"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[]}', "missing"),
    (b'{"e":"depthUpdate","U":1001,"U":1001,"u":1004,"b":[],"a":[]}', "twice"),
    (b'{"e":"depthUpdate","U":1005,"u":1004,"b":[],"a":[]}', "greater than"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[["60000.001","1"]],"a":[]}', "decimal places"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[["60000.00","-1"]],"a":[]}', "not representable"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[["1e400","1"]],"a":[]}', "too large"),
    (b'{"e":"depthUpdate","U":"1001","u":1004,"b":[],"a":[]}', "type"),
    (b'{"e":"depthUpdate","U":1001.5,"u":1004,"b":[],"a":[]}', "not representable"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[["1"]],"a":[]}', "malformed"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[],"a":[]} x', "malformed JSON"),
    (b'{"e":"depthUpdate","U":1001,"u":1004,"b":[],"a":[],"z":' + b"[" * 100 + b"]" * 100 + b"}", "nested"),
    (b'{"stream":"btcusdt@depth","e":"depthUpdate","data":{"e":"depthUpdate","U":1001,"u":1004,"b":[],"a":[]}}',
     "twice"),
    (b'{"e":"depthUpdate",""":1,"U":1001,"u":1004,"b":[],"a":[]}', "malformed"),
    (b'{"e":"depthUpdate","\\":1,"U":1001,"u":1004,"b":[],"a":[]}', "malformed"),
    (b"", "malformed"),
    (b"[]", "malformed"),
])
def test_malformed_frames_raise_and_leave_book_unchanged(frame, message):
    book = spot_book()
    before = state(book)
    with pytest.raises(ValueError, match=message):
        book.apply_binance_depth(frame)
    assert state(book) == before


def test_every_truncation_and_random_corruption_is_refused_cleanly():
    rng = random.Random(7)
    for good in SPOT_DIFFS[1:] + FUT_DIFFS[:1]:
        for cut in range(len(good)):
            book = spot_book()
            before = state(book)
            with pytest.raises(ValueError):
                book.apply_binance_depth(good[:cut])
            assert state(book) == before
        for _ in range(300):
            data = bytearray(good)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            book = spot_book()
            before = state(book)
            try:
                status = book.apply_binance_depth(bytes(data))
            except ValueError:
                assert state(book) == before
            else:
                assert status in (DEPTH_APPLIED, DEPTH_STALE, DEPTH_GAP, DEPTH_NOT_SYNCED)
    for _ in range(500):
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        book = spot_book()
        before = state(book)
        with pytest.raises(ValueError):
            book.apply_binance_depth(junk)
        with pytest.raises(ValueError):
            book.apply_binance_snapshot(junk)
        assert state(book) == before


def test_snapshot_truncations_refused_and_book_unchanged():
    for cut in range(len(SPOT_SNAPSHOT)):
        book = spot_book()
        book.apply_binance_depth(SPOT_DIFFS[1])
        before = state(book)
        with pytest.raises(ValueError):
            book.apply_binance_snapshot(SPOT_SNAPSHOT[:cut])
        assert state(book) == before


def test_peek_binance_symbol():
    assert peek_binance_symbol(SPOT_DIFFS[1]) == "BTCUSDT"
    assert peek_binance_symbol(b'{"stream":"ethusdt@depth@100ms","data":{"e":"x"}}') == "ETHUSDT"
    assert peek_binance_symbol(b'{"data":{"e":"x"},"stream":"bnbusdt@trade"}') == "BNBUSDT"
    assert peek_binance_symbol(b'{"lastUpdateId":1,"bids":[],"asks":[]}') is None
    assert peek_binance_symbol(b'{"s":') is None
    assert peek_binance_symbol(b"") is None


# ---------------------------------------------------------------- Hummingbot semantics
def test_diffs_set_replace_delete_and_absent_delete_is_noop():
    book = OrderBook(2, 3)
    book.apply_snapshot([("100", "1"), ("99", "2")], [("101", "1")], 10)
    book.apply_diffs([("100", "0"), ("98", "5"), ("97.5", "0")], [("101", "3"), ("105", "0")], 11)
    assert [(r.price, r.amount, r.update_id) for r in book.bid_entries()] == [
        (Decimal("99"), Decimal("2"), 10), (Decimal("98"), Decimal("5"), 11)]
    assert list(book.ask_entries()) == [OrderBookRow(Decimal("101"), Decimal("3"), 11)]
    assert book.last_diff_uid == 11 and book.snapshot_uid == 10


def test_crossed_levels_older_side_removed():
    book = OrderBook(2, 3)
    book.apply_snapshot([("100", "1")], [("101", "1"), ("102", "1")], 10)
    book.apply_diffs([("101.5", "1", 12)], [], 12)         # newer bid crosses the 101 ask
    assert book.get_price(True) == Decimal("102") and book.get_price(False) == Decimal("101.5")
    book.apply_diffs([], [("101", "1", 11)], 12)            # older ask crosses the 101.5 bid
    assert book.get_price(True) == Decimal("102")


def test_snapshot_unsorted_duplicates_and_zero_rows():
    book = OrderBook(0, 0)
    book.apply_snapshot([(5, 1), (7, 1), (6, 2), (7, 3), (4, 0)], [(9, 1), (8, 0), (9, 0), (10, 2)], 3)
    assert [(int(r.price), int(r.amount)) for r in book.bid_entries()] == [(7, 3), (6, 2), (5, 1)]
    assert [(int(r.price), int(r.amount)) for r in book.ask_entries()] == [(10, 2)]


def test_bad_rows_refused_book_unchanged():
    book = OrderBook(2, 3)
    book.apply_snapshot([("100", "1")], [("101", "1")], 1)
    before = book.snapshot
    with pytest.raises(TypeError):
        book.apply_diffs([(100.5, "1")], [], 2)
    with pytest.raises(ValueError):
        book.apply_diffs([("99", "1"), ("98", "-1")], [], 2)
    with pytest.raises(ValueError):
        book.apply_diffs([("99", "1")], [("102.001", "1")], 2)
    with pytest.raises(ValueError):
        book.apply_diffs([("99",)], [], 2)
    assert book.snapshot == before and book.last_diff_uid == 0


def test_queries_match_hummingbot_meaning():
    book = OrderBook(2, 2)
    book.apply_snapshot([("99", "1"), ("98", "2")], [("100", "1"), ("101", "2"), ("103", "4")], 1)
    r = book.get_price_for_volume(True, "2")
    assert (r.result_price, r.result_volume, r.query_volume) == (Decimal("101"), Decimal("2"), Decimal("2"))
    assert book.get_price_for_volume(True, "100").result_price.is_nan()
    assert book.get_price_for_volume(True, "100").result_volume == Decimal("7")
    v = book.get_vwap_for_volume(True, "2")
    assert v.result_price == Decimal("100.5") and v.result_volume == Decimal("2")
    assert book.get_vwap_for_volume(True, "3").result_price == (Decimal(100) + 2 * Decimal(101)) / 3
    assert book.get_vwap_for_volume(False, "10").result_price.is_nan()
    q = book.get_volume_for_price(True, "101.50")
    assert (q.query_price, q.result_price, q.result_volume) == (Decimal("101.5"), Decimal("101"), Decimal("3"))
    assert book.get_volume_for_price(False, "98.5").result_volume == Decimal("1")
    assert book.get_volume_for_price(True, "99").result_price.is_nan()
    assert book.get_quote_volume_for_price(False, "0").result_volume == Decimal("295")
    assert book.simulate_buy("2.5") == [OrderBookRow(Decimal("100"), Decimal("1"), 1),
                                        OrderBookRow(Decimal("101"), Decimal("1.5"), 1)]
    assert book.simulate_sell("100") == list(book.bid_entries())
    with pytest.raises(ValueError):
        book.get_price_for_volume(True, "-1")


def test_empty_book_raises_environment_error_and_top_is_empty():
    book = OrderBook()
    with pytest.raises(EnvironmentError):
        book.get_price(True)
    with pytest.raises(EnvironmentError):
        book.best_bid
    assert [list(x) for x in book.top(20)] == [[], []]
    assert book.simulate_buy("1") == []


def test_top_is_fixed_point_best_first():
    book = OrderBook(2, 3)
    book.apply_snapshot([("100", "1"), ("99.5", "2")], [("101", "0.5")], 1)
    bids, asks = book.top(5)
    assert list(bids) == [10000, 1000, 9950, 2000] and list(asks) == [10100, 500]
    assert list(book.top(1)[0]) == [10000, 1000]
    assert book.best_bid == 10000 and book.best_ask == 10100
    with pytest.raises(ValueError):
        book.top(-1)


def test_top_into_fills_caller_buffer_without_allocating():
    from array import array
    book = OrderBook(2, 3)
    book.apply_snapshot([("100", "1"), ("99", "2")], [("101", "1")], 1)
    out = array("q", [7] * 8)
    assert book.top_into(out, 2) == (2, 1)
    assert list(out) == [10000, 1000, 9900, 2000, 10100, 1000, 7, 7]
    with pytest.raises(ValueError):
        book.top_into(array("q", [0] * 7), 2)
    with pytest.raises(ValueError):
        book.top_into(array("l", [0] * 8) if array("l").itemsize != 8 else array("i", [0] * 8), 2)


def test_far_outliers_keep_memory_bounded():
    book = OrderBook(8, 8)
    book.apply_snapshot([("0.00000001", "1"), ("92233720368.54775807", "1")],
                        [("92233720368.54775806", "1"), ("0.00000002", "1")], 1)
    assert book.bytes_used < 1024
    assert book.get_price(False) == Decimal("92233720368.54775807")
    big = OrderBook(0, 0)
    top = 2**63 - 1
    big.apply_snapshot([], [(top - i, top) for i in range(4)], 1)
    assert big.get_volume_for_price(True, top).result_volume == 4 * top
    with pytest.raises(OverflowError):       # 4 * (2^63)^2 exceeds 127 bits: refused, not wrapped
        big.get_quote_volume_for_price(True, top)


def test_memory_per_level_within_budget():
    book = OrderBook(2, 8)
    book.apply_snapshot([(str(10000 - i), "1") for i in range(1000)], [(str(10001 + i), "1") for i in range(1000)], 1)
    for i in range(3000):   # churn: inserts and deletes grow and shrink the arrays
        book.apply_diffs([(str(9000 - i % 500), "1" if i % 3 else "0")], [], 2 + i)
    levels = book.bid_depth + book.ask_depth
    assert book.bytes_used / levels <= 32


def test_apply_levels_fixed_matches_decimal_api():
    from array import array
    a, b = OrderBook(2, 3), OrderBook(2, 3)
    a.apply_snapshot([("100", "1")], [("101", "1")], 1)
    b.apply_snapshot([("100", "1")], [("101", "1")], 1)
    a.apply_levels_fixed(array("q", [9950, 2000, 10000, 0]), array("q", [10200, 500]), 7)
    b.apply_diffs([("99.5", "2"), ("100", "0")], [("102", "0.5")], 7)
    assert a.snapshot == b.snapshot and a.last_diff_uid == 7
    with pytest.raises(ValueError):
        a.apply_levels_fixed(array("q", [1]), array("q"), 8)
    with pytest.raises(ValueError):
        a.apply_levels_fixed(array("q", [1, -1]), array("q"), 8)


def test_get_price_decimal_is_cached_but_tracks_changes():
    book = OrderBook(2, 3)
    book.apply_snapshot([("100", "1")], [("101", "1")], 1)
    first = book.get_price(True)
    assert book.get_price(True) is first
    book.apply_diffs([], [("100.5", "1")], 2)
    assert book.get_price(True) == Decimal("100.5")


def test_constructor_validation():
    with pytest.raises(ValueError):
        OrderBook(19, 8)
    with pytest.raises(TypeError):
        OrderBook(8, 8, symbol=5)


def test_futures_first_frame_continuing_the_snapshot_by_pu_is_applied():
    """Snapshot id equal to the last published u: the next frame has pu == id and U == id + 1.
    Binance's 'U <= id <= u' wording would call it a gap; the pu chain says it continues exactly."""
    from exconnect.native.order_book import OrderBook, DEPTH_APPLIED
    book = OrderBook(futures=True)
    book.apply_binance_snapshot(b'{"lastUpdateId":2400,"E":1,"T":1,"bids":[["100","1"]],"asks":[["101","1"]]}')
    frame = (b'{"e":"depthUpdate","E":2,"T":2,"s":"BTCUSDT","U":2401,"u":2412,"pu":2400,'
             b'"b":[["100.5","2"]],"a":[]}')
    assert book.apply_binance_depth(frame) == DEPTH_APPLIED
    assert book.in_sync and book.get_price(False) == Decimal("100.5")


def _fast_start_outcome(frame, snapshot_id, futures):
    """(status or exception type, book state) of one frame applied after a snapshot."""
    book = OrderBook(8, 8, symbol="BTCUSDT", futures=futures)
    book.apply_binance_snapshot(b'{"lastUpdateId":%d,"bids":[["59999.99000000","1.00000000"]],'
                                b'"asks":[["60000.01000000","1.00000000"]]}' % snapshot_id)
    try:
        status = book.apply_binance_depth(frame)
    except ValueError as error:
        status = type(error)
    return status, state(book)


@pytest.mark.parametrize("digits", [1, 2, 7, 8, 9, 11, 13, 15, 16, 17, 18, 19, 20])
@pytest.mark.parametrize("tail", ["", ".0", "e0", "E2", "0", "-"])
@pytest.mark.parametrize("futures", [False, True])
def test_fast_start_ids_match_the_generic_scanner(digits, tail, futures):
    """Frames in Binance's exact layout take the fast start (ids of 8-15 digits: a SWAR path);
    the same frame with one space after its first brace takes the generic scanner.  Any id
    length, a fraction or exponent after the digits, a leading zero or a sign: same outcome."""
    u = 10 ** (digits - 1) + 7 if digits > 1 else 7
    ids = {"E": u, "T": u - 1, "U": u - 2, "u": u, "pu": u - 3}
    for key in ids:
        text = {k: str(v) for k, v in ids.items()}
        text[key] = ("-" + text[key]) if tail == "-" else ("0" + text[key]) if tail == "0" else text[key] + tail
        fut = b',"pu":%s' % text["pu"].encode() if futures else b""
        tx = b',"T":%s' % text["T"].encode() if futures else b""
        payload = (b'{"e":"depthUpdate","E":%s%s,"s":"BTCUSDT","U":%s,"u":%s%s,'
                   b'"b":[["60000.00000000","0.00149000"],["59999.98000000","0.00000000"]],'
                   b'"a":[["60000.01000000","0.50000000"]]}'
                   % (text["E"].encode(), tx, text["U"].encode(), text["u"].encode(), fut))
        for frame in (payload, b'{"stream":"btcusdt@depth@100ms","data":' + payload + b"}"):
            fast = _fast_start_outcome(frame, min(u - 3, 10 ** 18), futures)
            generic = _fast_start_outcome(b"{ " + frame[1:], min(u - 3, 10 ** 18), futures)
            assert fast == generic, (frame, fast, generic)


# ---------------------------------------------------------------- buffers released after large messages
def _rows(start_cents, n, step):
    return [[f"{(start_cents + step * i) / 100:.2f}", f"{1 + i % 7}.00000"] for i in range(n)]


def test_large_snapshots_and_frames_then_small_frames_alternate():
    """Parse/scratch buffers are released after any message above the kept size (a snapshot);
    the next message, small or large, regrows them: results must not depend on that."""
    import json
    book = OrderBook(2, 5, symbol="BTCUSDT")
    ref = OrderBook(2, 5, symbol="BTCUSDT")
    for rnd in range(3):
        bids, asks = _rows(6_000_000, 2000, -1), _rows(6_000_001, 2000, 1)
        uid = 10_000 * (rnd + 1)
        body = json.dumps({"lastUpdateId": uid, "bids": bids, "asks": asks}).encode()
        book.apply_binance_snapshot(body)
        ref.apply_snapshot(bids, asks, uid)          # the row path's scratch buffer, same size
        assert book.snapshot == ref.snapshot
        big = [[p, "0"] for p, _ in bids[:700]]      # a diff frame larger than the kept buffer
        frame = json.dumps({"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": uid + 1, "u": uid + 1,
                            "b": big, "a": asks[:3]}).encode()
        assert book.apply_binance_depth(frame) == DEPTH_APPLIED
        ref.apply_diffs(big, asks[:3], uid + 1)
        small = json.dumps({"e": "depthUpdate", "E": 2, "s": "BTCUSDT", "U": uid + 2, "u": uid + 2,
                            "b": [["59000.00", "1.00000"]], "a": [["60000.01", "0"]]}).encode()
        assert book.apply_binance_depth(small) == DEPTH_APPLIED
        ref.apply_diffs([["59000.00", "1.00000"]], [["60000.01", "0"]], uid + 2)
        assert book.snapshot == ref.snapshot
        assert len(book.snapshot[0]) == 2000 - 700 + 1
        # a refused large snapshot after all that leaves the book as it was
        before = book.snapshot
        with pytest.raises(ValueError):
            book.apply_binance_snapshot(body[:-2])
        assert book.snapshot == before
