"""The replay workload generator, the plain-Python depth book, and `exconnect replay`."""
import os
import re
import subprocess
import sys
from decimal import Decimal

import orjson
import pytest

from exconnect import cli
from exconnect.replay import WorkloadConfig, cache, generate, load_workload
from exconnect.replay.encoding import price_text, qty_text
from exconnect.replay.python_book import APPLIED, GAP, STALE, PythonDepthBook

NUMBER = re.compile(rb"^[0-9]+\.[0-9]{8}$")
SMALL = 1500


@pytest.fixture(scope="module")
def spot():
    return load_workload(frames=SMALL, seed=11, use_cache=False)


@pytest.fixture(scope="module")
def futures():
    return load_workload(frames=SMALL, seed=11, futures=True, use_cache=False)


def test_same_seed_same_bytes_other_seed_other_bytes(spot):
    again = load_workload(frames=SMALL, seed=11, use_cache=False)
    assert again.snapshot == spot.snapshot and again.frames == spot.frames
    other = load_workload(frames=SMALL, seed=12, use_cache=False)
    assert other.frames != spot.frames


def test_shorter_workload_is_a_prefix_of_the_longer(spot):
    # The cache relies on this: a run of N frames may be served from a longer cached run.
    short = load_workload(frames=300, seed=11, use_cache=False)
    assert short.snapshot == spot.snapshot
    assert short.frames == spot.frames[:300]
    assert short.frame_levels("ticks") == spot.frame_levels("ticks")[:300]


def test_snapshot_has_binance_rest_depth_shape(spot):
    body = orjson.loads(spot.snapshot)
    assert list(body) == ["lastUpdateId", "bids", "asks"]
    assert body["lastUpdateId"] == spot.snapshot_update_id
    assert len(body["bids"]) == len(body["asks"]) == 1000
    bids = [Decimal(p) for p, _ in body["bids"]]
    asks = [Decimal(p) for p, _ in body["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)
    assert bids[0] < asks[0]
    assert all(Decimal(q) > 0 for _, q in body["bids"] + body["asks"])


def test_frames_are_binance_spot_depth_updates(spot):
    for frame in spot.frames:
        event = orjson.loads(frame)
        assert list(event) == ["e", "E", "s", "U", "u", "b", "a"]
        assert event["e"] == "depthUpdate" and event["s"] == "BTCUSDT"
        for side, descending in ((event["b"], True), (event["a"], False)):
            prices = [Decimal(p) for p, _ in side]
            assert prices == sorted(prices, reverse=descending)
            assert len(set(prices)) == len(prices)          # one entry per price per side
            for price, qty in side:
                assert NUMBER.match(price.encode()) and NUMBER.match(qty.encode())
                assert Decimal(price) % Decimal("0.01") == 0
                assert Decimal(qty) % Decimal("0.00001") == 0
    times = [orjson.loads(f)["E"] for f in spot.frames]
    assert times == sorted(times)


def test_spot_update_id_chain(spot):
    first, last = spot.first_update_ids, spot.last_update_ids
    snapshot_id = spot.snapshot_update_id
    assert first[0] <= snapshot_id + 1 <= last[0]            # first event overlaps the snapshot
    for i in range(1, len(spot)):
        assert first[i] == last[i - 1] + 1
        assert last[i] >= first[i]
    # The id arrays are what the frames carry.
    for i in (0, 1, len(spot) - 1):
        event = orjson.loads(spot.frames[i])
        assert (event["U"], event["u"]) == (first[i], last[i])


def test_futures_frames_carry_t_and_a_pu_chain(futures):
    events = [orjson.loads(f) for f in futures.frames]
    assert list(events[0]) == ["e", "E", "T", "s", "U", "u", "pu", "b", "a"]
    snapshot_id = futures.snapshot_update_id
    assert events[0]["U"] <= snapshot_id <= events[0]["u"]
    gaps = 0
    for previous, event in zip(events, events[1:]):
        assert event["pu"] == previous["u"]
        assert event["U"] > previous["u"]
        gaps += event["U"] != previous["u"] + 1
        assert event["T"] <= event["E"]
    assert gaps > 0                                          # ids are not contiguous on futures


def test_combined_stream_envelope_wraps_the_same_payload(spot):
    combined = load_workload(frames=50, seed=11, combined=True, use_cache=False)
    for wrapped, plain in zip(combined.frames, spot.frames):
        message = orjson.loads(wrapped)
        assert list(message) == ["stream", "data"]
        assert message["stream"] == "btcusdt@depth@100ms"
        assert message["data"] == orjson.loads(plain)


def test_delete_ratio_and_changes_per_frame(spot):
    assert 0.27 <= spot.delete_count / spot.level_count <= 0.33
    assert 11.0 <= spot.level_count / len(spot) <= 13.0
    for frame in spot.frames:
        event = orjson.loads(frame)
        deletes = [q for _, q in event["b"] + event["a"] if q == "0.00000000"]
        zeros = [q for _, q in event["b"] + event["a"] if Decimal(q) == 0]
        assert deletes == zeros                              # deletes print exactly as Binance does


def test_pre_parsed_views_match_the_frames(spot):
    text = spot.frame_levels("text")
    fixed = spot.frame_levels("fixed")
    decimal = spot.frame_levels("decimal")
    for i in range(0, len(spot), 97):
        event = orjson.loads(spot.frames[i])
        assert text[i] == ([tuple(x) for x in event["b"]], [tuple(x) for x in event["a"]])
        for side in (0, 1):
            for (p_text, q_text), (p_fixed, q_fixed), (p_dec, q_dec) in zip(text[i][side], fixed[i][side], decimal[i][side]):
                assert p_fixed == int(Decimal(p_text) * 10**8) and q_fixed == int(Decimal(q_text) * 10**8)
                assert p_dec == Decimal(p_text) and q_dec == Decimal(q_text)
    sb, sa = spot.snapshot_levels("text")
    body = orjson.loads(spot.snapshot)
    assert sb == [tuple(x) for x in body["bids"]] and sa == [tuple(x) for x in body["asks"]]
    with pytest.raises(ValueError, match="unknown levels form"):
        spot.frame_levels("float")
    with pytest.raises(ValueError, match="price_scale"):
        spot.frame_levels("fixed", price_scale=1)


def test_book_stays_uncrossed_and_every_delete_hits_a_live_level(spot):
    bids = dict(spot.snapshot_levels("ticks")[0])
    asks = dict(spot.snapshot_levels("ticks")[1])
    for frame_bids, frame_asks in spot.frame_levels("ticks"):
        for side, changes in ((bids, frame_bids), (asks, frame_asks)):
            for price, qty in changes:
                if qty:
                    side[price] = qty
                else:
                    assert price in side
                    del side[price]
        assert max(bids) < min(asks)
    assert 500 <= len(bids) <= 1500 and 500 <= len(asks) <= 1500
    assert (bids, asks) == spot.final_book()


def test_python_book_replays_the_workload_exactly(spot):
    book = PythonDepthBook()
    book.apply_snapshot(spot.snapshot)
    assert all(book.apply_depth(frame) == APPLIED for frame in spot.frames)
    expected_bids, expected_asks = spot.final_book()
    assert {round(p * 100): q for p, q in book.bids.items()} == {p: qty_text(q) for p, q in expected_bids.items()}
    assert {round(p * 100): q for p, q in book.asks.items()} == {p: qty_text(q) for p, q in expected_asks.items()}
    top_bids, top_asks = book.top(3)
    assert top_bids[0][0] == book.best_bid() < book.best_ask() == top_asks[0][0]


def test_python_book_sequence_rules(spot, futures):
    book = PythonDepthBook()
    assert book.apply_depth(spot.frames[0]) == "not_synced"
    book.apply_snapshot(spot.snapshot)
    assert book.apply_depth(spot.frames[0]) == APPLIED
    assert book.apply_depth(spot.frames[0]) == STALE         # replayed frame
    assert book.apply_depth(spot.frames[2]) == GAP           # frame 1 skipped
    assert not book.in_sync and book.apply_depth(spot.frames[3]) == "not_synced"
    fbook = PythonDepthBook(futures=True)
    fbook.apply_snapshot(futures.snapshot)
    assert fbook.apply_depth(futures.frames[0]) == APPLIED
    assert fbook.apply_depth(futures.frames[2]) == GAP       # pu != previous u


def test_config_rejects_bad_input():
    with pytest.raises(ValueError, match="frames"):
        WorkloadConfig(frames=-1)
    with pytest.raises(ValueError, match="symbol"):
        WorkloadConfig(symbol="btc-usdt")
    with pytest.raises(ValueError, match="start_price"):
        WorkloadConfig(start_price="60000.001")
    with pytest.raises(ValueError, match="delete_ratio"):
        generate(WorkloadConfig(frames=1, delete_ratio=1.5))
    with pytest.raises(ValueError, match="deep_fraction"):
        generate(WorkloadConfig(frames=1, deep_fraction=-0.1))


def test_deep_fraction_moves_changes_away_from_the_top():
    near = load_workload(frames=400, seed=5, deep_fraction=0.0, use_cache=False)
    deep = load_workload(frames=400, seed=5, deep_fraction=0.5, use_cache=False)

    def mean_distance(workload):
        best_bid = max(p for p, _ in workload.snapshot_levels("ticks")[0])
        distances = [abs(p - best_bid) for bids, asks in workload.frame_levels("ticks") for p, _ in bids + asks]
        return sum(distances) / len(distances)
    assert mean_distance(deep) > 5 * mean_distance(near)


def test_text_helpers_print_like_binance():
    assert price_text(6000001) == "60000.01000000"
    assert qty_text(0) == "0.00000000" and qty_text(123) == "0.00123000" and qty_text(250_000) == "2.50000000"


def test_cache_round_trip_and_unreadable_file(tmp_path):
    path = tmp_path / "sub" / "x.pickle"
    assert cache.store(path, {"a": b"1"}) and cache.load(path) == {"a": b"1"}
    path.write_bytes(b"not a pickle")
    assert cache.load(path) is None
    assert cache.load(tmp_path / "absent") is None


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "exconnect", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "120"})


def test_exconnect_replay_runs_for_a_second_and_exits_0():
    result = _run_cli("replay", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("replayed ") and "gaps 0" in lines[-1] and "in sync" in lines[-1]
    assert any(line.startswith("t=") and "bid " in line for line in lines[:-1])   # plain, not rich
    assert "\x1b[" not in result.stdout


def test_exconnect_replay_python_book_by_frame_count():
    result = _run_cli("replay", "--frames", "700", "--book", "python")
    assert result.returncode == 0, result.stderr
    assert "replayed 700 BTCUSDT depth frames" in result.stdout and "plain Python" in result.stdout


def test_exconnect_replay_compiled_book_when_built():
    pytest.importorskip("exconnect.native.order_book")
    result = _run_cli("replay", "--frames", "5000", "--book", "native")
    assert result.returncode == 0, result.stderr
    assert "replayed 5,000 BTCUSDT depth frames" in result.stdout and "(C)" in result.stdout
    assert "gaps 0" in result.stdout and "in sync" in result.stdout


def test_exconnect_replay_futures_frames_keep_the_pu_chain():
    result = _run_cli("replay", "--futures", "--frames", "2000")
    assert result.returncode == 0, result.stderr
    assert "replayed 2,000 BTCUSDT depth frames" in result.stdout and "gaps 0" in result.stdout


def test_exconnect_replay_rejects_bad_arguments():
    result = _run_cli("replay", "--seconds", "-1")
    assert result.returncode != 0 and "--seconds must be > 0" in result.stderr


def test_cli_dispatcher_registry():
    assert cli.COMMANDS["replay"] == "exconnect.replay.command"
    assert cli.main([]) == 2


def test_view_renders_levels_spread_and_sync_state():
    from rich.console import Console

    from exconnect.replay.view import ReplayStats, plain_line, render, summary
    stats = ReplayStats(symbol="BTCUSDT", book_name="test book", frames=1000, levels=12000, elapsed=0.5,
                        apply_seconds=0.25, in_sync=True)
    bids = [("60000.00000000", "0.01260000"), ("59999.99000000", "1.50000000")]
    asks = [("60000.01000000", "0.00100000")]
    console = Console(record=True, width=120, color_system=None)
    console.print(render(stats, bids, asks, depth=3))
    text = console.export_text()
    assert "60000.00" in text and "59999.99" in text and "60000.01" in text and "1.50000" in text
    assert "spread 0.01" in text and "in sync" in text and "2,000/s" in text
    line = plain_line(stats, bids, asks)
    assert "bid 60000.00 x 0.01260 | ask 60000.01 x 0.00100 spread 0.01 in sync" in line
    stats.in_sync = False
    assert "OUT OF SYNC" in plain_line(stats, [], asks) and "bid - |" in plain_line(stats, [], asks)
    assert "250,000 ns/frame inside the book" in summary(stats)


def test_make_book_choices():
    from exconnect.replay.books import PythonBook, make_book
    assert isinstance(make_book("python"), PythonBook)
    with pytest.raises(ValueError, match="unknown book"):
        make_book("rust")
