"""Market activity, determinism, configuration and the command line."""
import asyncio
import json
import subprocess
import sys

import pytest

from exconnect.sim import AccountConfig, SimConfig, Simulator, SymbolConfig, money
from sim_helpers import RestClient, make_config


def book_state(sim, symbol="BTCUSDT"):
    return sim.spot.books[symbol].depth(2000)


async def test_same_seed_same_market():
    async with Simulator(make_config()) as a, Simulator(make_config()) as b:
        assert book_state(a) == book_state(b)
        for _ in range(200):
            a.spot.agents.step(0.05)
            b.spot.agents.step(0.05)
        assert book_state(a) == book_state(b)
        assert a.spot.agents.state["BTCUSDT"].mid == b.spot.agents.state["BTCUSDT"].mid
    async with Simulator(SimConfig.default(seed=8, market_activity=False)) as c:
        assert book_state(c) != book_state(a)


async def test_initial_books_deep_and_uncrossed(sim):
    for sym in ("BTCUSDT", "ETHUSDT"):
        bids, asks = sim.spot.books[sym].depth(5000)
        assert len(bids) >= 1000 and len(asks) >= 1000 and bids[0][0] < asks[0][0]


async def test_agents_move_the_book_and_fill_user_orders(sim, session):
    c = RestClient(session, sim.spot_url)
    bid = sim.spot.books["BTCUSDT"].best_bid()[0]
    price = money.text(bid + money.parse("0.01"))
    o = (await c.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price=price)).body
    start_mid = sim.spot.agents.state["BTCUSDT"].mid
    for _ in range(4000):
        sim.spot.agents.step(0.05)
        if not sim.spot.open_orders(0):
            break
    q = (await c.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]}, signed=True)).body
    assert q["status"] == "FILLED"
    assert sim.spot.agents.actions > 0 and sim.spot.agents.state["BTCUSDT"].mid != start_mid
    assert len(sim.spot.books["BTCUSDT"].depth(1000)[0]) == 1000


async def test_market_activity_runs_in_background():
    cfg = SimConfig.default(seed=3, market_activity=True, activity_rate=200)
    async with Simulator(cfg) as sim:
        uid = sim.spot.books["BTCUSDT"].update_id
        for _ in range(100):
            await asyncio.sleep(0.02)
            if sim.spot.books["BTCUSDT"].update_id != uid:
                break
        assert sim.spot.books["BTCUSDT"].update_id != uid


async def test_set_mid_moves_market_through_user_orders(sim, session):
    c = RestClient(session, sim.spot_url)
    o = (await c.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.001", price="60500")).body
    sim.spot.set_mid("BTCUSDT", "61000")
    q = (await c.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]}, signed=True)).body
    assert q["status"] == "FILLED"
    bb, ba = sim.spot.books["BTCUSDT"].best_bid(), sim.spot.books["BTCUSDT"].best_ask()
    assert bb[0] < money.parse("61000") < ba[0]
    with pytest.raises(ValueError):
        sim.spot.set_mid("BTCUSDT", "61000.001")


def test_config_validation():
    with pytest.raises(TypeError):
        AccountConfig(api_key="k", api_secret="s", balances={"USDT": 1.5})
    with pytest.raises(ValueError):
        SymbolConfig(symbol="BTCUSDT", base_asset="ETH", quote_asset="USDT")
    with pytest.raises(ValueError):
        SymbolConfig(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size="0.000000001")
    with pytest.raises(ValueError):
        SymbolConfig(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size="0.1", initial_price="100.05")
    with pytest.raises(ValueError):
        SimConfig.default(accounts=[AccountConfig("k", "s"), AccountConfig("k", "t")])
    with pytest.raises(ValueError):
        SimConfig.from_dict({"nonsense": 1})


def test_config_file_round_trip(tmp_path):
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"seed": 11, "maker_fee": 0.0002, "accounts": [
        {"api_key": "k1", "api_secret": "s1", "balances": {"USDT": 10.5}}]}))
    cfg = SimConfig.from_file(str(path))
    assert cfg.seed == 11 and cfg.maker_fee == "0.0002"
    assert cfg.accounts[0].balances == {"USDT": "10.5"}       # JSON numbers kept as exact text
    assert [s.symbol for s in cfg.spot_symbols] == ["BTCUSDT", "ETHUSDT"]
    assert SimConfig.from_dict(cfg.to_dict()).to_dict() == cfg.to_dict()


def test_cli_print_config_and_bad_file(tmp_path):
    out = subprocess.run([sys.executable, "-m", "exconnect.sim", "--print-config", "--seed", "5"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and json.loads(out.stdout)["seed"] == 5
    bad = tmp_path / "bad.json"
    bad.write_text('{"accounts": [{"api_key": "", "api_secret": "x"}]}')
    out = subprocess.run([sys.executable, "-m", "exconnect.sim", "--config", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "bad configuration" in out.stderr


def test_cli_starts_and_prints_urls():
    proc = subprocess.Popen([sys.executable, "-m", "exconnect.sim", "--port", "0", "--no-market-activity"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("exconnect.sim spot") and "http://127.0.0.1:" in line and "/ws-api/v3" in line
        assert "futures" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_futures_route_hook_serves_both_ports(session):
    sim = Simulator(make_config())
    calls = []

    async def handler(call):
        calls.append(call.params)
        return {"ok": call.get("x")}

    sim.add_futures_route("GET", "/fapi/v1/hooktest", handler, weight=3)
    async with sim:
        for base in (sim.futures_url, sim.spot_url):
            async with session.get(base + "/fapi/v1/hooktest?x=1") as r:
                assert r.status == 200 and await r.json() == {"ok": "1"}
                assert r.headers["x-mbx-used-weight-1m"] in ("3", "6")   # one futures limiter for both
        async with session.get(sim.futures_url + "/api/v3/ping") as r:
            assert r.status == 404                                   # spot REST only on the spot port
    assert len(calls) == 2


async def test_long_activity_keeps_depth_and_follows_mid(sim):
    agents = sim.spot.agents
    for i in range(3000):          # 150 s of simulated market
        agents.step(0.05)
        if i % 250 == 0:
            for sym, book in sim.spot.books.items():
                assert len(book.bids) >= 1000 and len(book.asks) >= 1000, sym
                bb, ba = book.best_bid()[0], book.best_ask()[0]
                st = agents.state[sym]
                assert bb < ba
                lag = 25 * st.spacing     # the book follows the mid within a few steps
                assert bb <= st.mid + lag and ba >= st.mid - lag
    assert sim.spot.books["BTCUSDT"].next_trade_id > 100
