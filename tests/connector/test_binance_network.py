"""NET / TRL / THR / fees / secrets."""
import logging
from decimal import Decimal

import pytest
from connector_helpers import PAIR, eventually, make_connector

from exconnect.connector.exchange_base import NetworkStatus
from exconnect.connector.web import RateLimitedError
from exconnect.events import MarketEvent
from exconnect.sim import SimConfig, Simulator
from exconnect.types import OrderType, TradeType


async def test_status_dict_before_start_and_ready_after(sim, tmp_path):
    conn = make_connector(sim, tmp_path)
    assert conn.network_status == NetworkStatus.STOPPED
    assert set(conn.status_dict) == {"symbols_mapping_initialized", "order_books_initialized", "account_balance",
                                     "trading_rule_initialized", "user_stream_initialized"}
    assert not conn.ready
    await conn.start(timeout=20)
    try:
        assert conn.ready and all(conn.status_dict.values())
        assert await conn.check_network() == NetworkStatus.CONNECTED
        await eventually(lambda: conn.network_status == NetworkStatus.CONNECTED)
    finally:
        await conn.stop()


async def test_check_network_not_connected_on_error(connector, sim):
    sim.faults.rest_fault_path = "/api/v3/ping"
    sim.faults.rest_errors_next(1, status=500)
    assert await connector.check_network() == NetworkStatus.NOT_CONNECTED


async def test_trading_rules_from_exchange_info(connector):
    rule = connector.trading_rules[PAIR]
    assert rule.min_order_size == Decimal("0.00001")
    assert rule.min_price_increment == Decimal("0.01")
    assert rule.min_base_amount_increment == Decimal("0.00001")
    assert rule.min_notional_size == Decimal("5")
    assert connector.get_order_price_quantum(PAIR, Decimal("60000")) == Decimal("0.01")
    assert connector.get_order_size_quantum(PAIR, Decimal("1")) == Decimal("0.00001")
    assert connector.trading_pair_associated_to_exchange_symbol("ETHUSDT") == "ETH-USDT"
    assert connector.exchange_symbol_associated_to_pair("ETH-USDT") == "ETHUSDT"


def test_format_trading_rules_skips_bad_and_non_spot_entries(sim, tmp_path, caplog):
    conn = make_connector(sim, tmp_path)
    filters = [{"filterType": "PRICE_FILTER", "minPrice": "0.000001", "maxPrice": "1000", "tickSize": "0.000001"},
               {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
               {"filterType": "NOTIONAL", "minNotional": "10"}]
    info = {"symbols": [
        {"symbol": "COINALPHAHBOT", "status": "TRADING", "baseAsset": "COINALPHA", "quoteAsset": "HBOT",
         "permissionSets": [["SPOT"]], "filters": filters},
        {"symbol": "BADHBOT", "status": "TRADING", "baseAsset": "BAD", "quoteAsset": "HBOT",
         "permissionSets": [["SPOT"]]},
        {"symbol": "MARGINHBOT", "status": "TRADING", "baseAsset": "MARGIN", "quoteAsset": "HBOT",
         "permissionSets": [["MARGIN"]], "filters": filters},
    ]}
    with caplog.at_level(logging.ERROR):
        rules = conn._format_trading_rules(info)
    assert [r.trading_pair for r in rules] == ["COINALPHA-HBOT"]
    assert rules[0].min_notional_size == Decimal("10") and rules[0].min_order_size == Decimal("0.001")
    assert "Error parsing the trading pair rule" in caplog.text


def test_min_notional_filter_variant(sim, tmp_path):
    """TRL-03: the older MIN_NOTIONAL filter gives the same rule field as NOTIONAL."""
    conn = make_connector(sim, tmp_path)
    info = {"symbols": [{
        "symbol": "COINALPHAHBOT", "status": "TRADING", "baseAsset": "COINALPHA", "quoteAsset": "HBOT",
        "permissionSets": [["SPOT"]], "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
            {"filterType": "MIN_NOTIONAL", "minNotional": "5", "applyToMarket": True, "avgPriceMins": 5}]}]}
    rules = conn._format_trading_rules(info)
    assert [r.trading_pair for r in rules] == ["COINALPHA-HBOT"] and rules[0].min_notional_size == Decimal("5")


async def test_clock_skew_resynced_and_request_retried_once(connector, sim):
    sim.faults.clock_skew_ms = 20_000          # exchange clock jumps 20 s ahead
    balances = await connector._api_get("/api/v3/account", is_auth_required=True)
    assert "balances" in balances
    assert connector.time_synchronizer.time_offset_ms > 5_000


def test_fee_override_and_maker_taker(sim, tmp_path):
    conn = make_connector(sim, tmp_path, fee_overrides={"maker_percent_fee": Decimal("0.0002"),
                                                        "taker_percent_fee": "0.0007"})
    assert conn.get_fee("BTC", "USDT", OrderType.LIMIT_MAKER, TradeType.BUY, Decimal(1), Decimal(1)).percent == \
        Decimal("0.0002")
    assert conn.get_fee("BTC", "USDT", OrderType.LIMIT, TradeType.SELL, Decimal(1), Decimal(1)).percent == \
        Decimal("0.0007")
    default = make_connector(sim, tmp_path / "x")
    assert default.get_fee("BTC", "USDT", OrderType.MARKET, TradeType.BUY, Decimal(1)).percent == Decimal("0.001")
    with pytest.raises(ValueError):
        make_connector(sim, tmp_path / "y", fee_overrides={"maker": 1})


def test_missing_keys_is_a_clear_error(sim, tmp_path, monkeypatch):
    monkeypatch.delenv("EXCONNECT_BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("EXCONNECT_BINANCE_API_SECRET", raising=False)
    with pytest.raises(ValueError, match="API key and secret"):
        make_connector(sim, tmp_path, api_key=None, api_secret=None)


def test_keys_from_environment(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("EXCONNECT_BINANCE_API_KEY", "sim-key")
    monkeypatch.setenv("EXCONNECT_BINANCE_API_SECRET", "sim-secret")
    conn = make_connector(sim, tmp_path, api_key=None, api_secret=None)
    assert conn.authenticator.api_key == "sim-key"


async def test_secret_never_in_logs_repr_or_database(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    conn = make_connector(sim, tmp_path)
    await conn.start(timeout=20)
    try:
        bid = conn.get_order_book(PAIR).get_price(False)
        conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))
        await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
        await sim.spot.take("BTCUSDT", "SELL", "0.01")
        await conn.event_log.wait_for(MarketEvent.BuyOrderCompleted)
        text = repr(conn) + repr(conn.authenticator) + str(vars(conn))
    finally:
        await conn.stop()
    assert "sim-secret" not in text and "sim-secret" not in caplog.text
    for f in (tmp_path / "data").iterdir():
        assert b"sim-secret" not in f.read_bytes()


async def test_rate_limit_429_backs_off_with_retry_after(tmp_path):
    cfg = SimConfig.default(seed=3, market_activity=False)
    cfg.rate_limits.weight_per_minute = 30
    async with Simulator(cfg) as sim:
        conn = make_connector(sim, tmp_path, trading_required=False)
        conn.throttler.update_pool_limit("REQUEST_WEIGHT", 10_000, 60)   # let requests reach the sim
        with pytest.raises(RateLimitedError) as info:
            for _ in range(100):
                await conn._api_get("/api/v3/exchangeInfo")
        assert info.value.status == 429 and info.value.retry_after > 0
        assert conn.throttler.blocked_for > 0
        assert not conn.throttler.within_capacity("/api/v3/ping")
        await conn.stop()


async def test_wrong_secret_never_ready_and_says_why(sim, tmp_path, caplog):
    conn = make_connector(sim, tmp_path, api_secret="wrong-secret-value")
    with pytest.raises(TimeoutError, match="user_stream_initialized"):
        await conn.start(timeout=1.5)
    await conn.stop()
    assert "wrong-secret-value" not in caplog.text


async def test_all_trading_pairs_and_last_traded_prices(connector, sim):
    pairs = await connector.all_trading_pairs()
    assert set(pairs) >= {"BTC-USDT", "ETH-USDT"}
    await sim.spot.take("BTCUSDT", "BUY", "0.001")
    prices = await connector.get_last_traded_prices([PAIR])
    assert prices[PAIR] > 0


async def test_market_data_only_connector_needs_no_keys(sim, tmp_path, monkeypatch):
    monkeypatch.delenv("EXCONNECT_BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("EXCONNECT_BINANCE_API_SECRET", raising=False)
    conn = make_connector(sim, tmp_path, api_key=None, api_secret=None, trading_required=False)
    await conn.start(timeout=20)
    try:
        assert conn.ready and conn.get_order_book(PAIR).get_price(True) > 0
    finally:
        await conn.stop()


async def test_throttler_pools_follow_exchange_info_and_session_is_shared(connector, sim):
    th = connector.throttler
    assert th.limit("ORDERS").limit == 1000 and th.limit("ORDERS").time_interval == 10      # sim's exchangeInfo
    assert th.limit("REQUEST_WEIGHT").limit == 6000 and th.limit("ORDERS_24HR").time_interval == 86400
    assert th.used("REQUEST_WEIGHT") > 0                       # weights were counted
    assert connector._rest.throttler is th                       # THR-13: one throttler for every request
    s1 = await connector._http_client
    s2 = await connector.get_http_client()
    assert s1 is s2 and not s1.closed


def test_wire_constants_come_from_each_wires_module():
    """Both connectors read their REST paths, status map and limits from their own constants module;
    the perpetual class states only what differs, and a further subclass inherits as usual."""
    from exconnect.binance import binance_constants as SPOT
    from exconnect.binance.binance_exchange import _WIRE_NAMES, BinanceExchange
    from exconnect.binance_perpetual import BinancePerpetualDerivative
    from exconnect.binance_perpetual import binance_perpetual_constants as FUT
    for name in _WIRE_NAMES:
        assert getattr(BinanceExchange, name) is getattr(SPOT, name), name
        if name not in ("MY_TRADES_PATH", "ACCOUNTS_PATH"):
            assert getattr(BinancePerpetualDerivative, name) is getattr(FUT, name), name
    assert BinancePerpetualDerivative.MY_TRADES_PATH == FUT.USER_TRADES_PATH
    assert BinancePerpetualDerivative.ACCOUNTS_PATH == FUT.ACCOUNT_PATH

    class Mine(BinancePerpetualDerivative):
        pass
    assert Mine.ORDER_PATH == FUT.ORDER_PATH and Mine.MY_TRADES_PATH == FUT.USER_TRADES_PATH
