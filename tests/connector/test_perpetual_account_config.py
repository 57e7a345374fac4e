"""LEV / PMD: leverage validated against the exchange's brackets and confirmed by it; position mode
switches, refusals while orders or positions are open, start-up mode (POS-07, PMD-07)."""
from decimal import Decimal

from perpetual_fixtures import PAIR, best, eventually, make_perpetual, open_position, perp, perp_sim  # noqa: F401

from exconnect.events import AccountEvent, MarketEvent
from exconnect.types import OrderType, PositionAction, PositionMode


def posts(sim, path):
    return [e for e in sim.request_log if e["method"] == "POST" and e["path"] == path]


async def test_set_leverage_confirmed_and_stamped_on_orders(perp, perp_sim):
    assert await perp.set_leverage(PAIR, 7) == (True, "")
    assert perp.get_leverage(PAIR) == 7 and perp_sim.futures.accounts[0].leverage["BTCUSDT"] == 7
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    created = (await perp.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.order_id == oid and created.leverage == 7
    assert perp.in_flight_orders[oid].leverage == 7


async def test_leverage_above_bracket_maximum_refused_without_post(perp, perp_sim):
    before = perp.get_leverage(PAIR)
    ok, msg = await perp.set_leverage(PAIR, 126)          # BTCUSDT max is 125
    assert not ok and "125" in msg and perp.get_leverage(PAIR) == before
    assert posts(perp_sim, "/fapi/v1/leverage") == []


async def test_leverage_bad_input_refused(perp, perp_sim):
    for bad in (0, -1, 2.5, "10", True):
        ok, msg = await perp.set_leverage(PAIR, bad)
        assert not ok and "positive integer" in msg
    ok, msg = await perp.set_leverage("DOGE-USDT", 5)
    assert not ok and "DOGE-USDT" in msg
    assert posts(perp_sim, "/fapi/v1/leverage") == []


async def test_leverage_refused_by_exchange_keeps_local_value(perp, perp_sim):
    # a position worth more than the 125x bracket's cap cannot take 125x: -2027 from the exchange
    assert (await perp.set_leverage(PAIR, 20))[0]
    await open_position(perp, perp_sim, side="BUY", amount="1.0")
    ok, msg = await perp.set_leverage(PAIR, 125)
    assert not ok and "maximum allowable position" in msg
    assert perp.get_leverage(PAIR) == 20


async def test_leverage_answer_differing_from_request_is_a_failure(perp, perp_sim, caplog):
    # LEV-04: status 200 but the answer's leverage is not the requested one
    assert (await perp.set_leverage(PAIR, 20))[0]
    perp_sim.faults.wrong_leverage_answer_next(1, leverage=0)
    with caplog.at_level("ERROR"):
        ok, msg = await perp.set_leverage(PAIR, 7)
    assert (ok, msg) == (False, "Unable to set leverage")
    assert perp.get_leverage(PAIR) == 20
    assert len(posts(perp_sim, "/fapi/v1/leverage")) == 2       # it was asked
    assert "Error setting leverage 7 for BTC-USDT: Unable to set leverage" in caplog.text
    # a later change the exchange confirms succeeds
    assert await perp.set_leverage(PAIR, 7) == (True, "")
    assert perp.get_leverage(PAIR) == 7


async def test_leverage_from_exchange_at_start(perp_sim, tmp_path):
    perp_sim.futures.accounts[0].leverage["BTCUSDT"] = 13
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        assert conn.get_leverage(PAIR) == 13
    finally:
        await conn.stop()


async def test_position_mode_switch_and_back(perp, perp_sim):
    log = perp.event_log
    assert perp.supported_position_modes() == [PositionMode.ONEWAY, PositionMode.HEDGE]
    assert await perp.set_position_mode(PositionMode.HEDGE) == (True, "")
    assert await perp.set_position_mode(PositionMode.ONEWAY) == (True, "")
    modes = [e.position_mode for e in log[AccountEvent.PositionModeChangeSucceeded]]
    assert modes == [PositionMode.HEDGE, PositionMode.ONEWAY]
    assert not perp_sim.futures.accounts[0].dual_side


async def test_same_mode_succeeds_without_request(perp, perp_sim):
    assert await perp.set_position_mode(PositionMode.ONEWAY) == (True, "")
    assert posts(perp_sim, "/fapi/v1/positionSide/dual") == []
    assert len(perp.event_log[AccountEvent.PositionModeChangeSucceeded]) == 1


async def test_mode_change_refused_while_order_open(perp, perp_sim):
    perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    await perp.event_log.wait_for(MarketEvent.BuyOrderCreated)
    ok, msg = await perp.set_position_mode(PositionMode.HEDGE)
    assert not ok and "open orders" in msg
    failed = perp.event_log[AccountEvent.PositionModeChangeFailed]
    assert len(failed) == 1 and failed[0].message == msg and failed[0].position_mode is PositionMode.HEDGE
    assert perp.position_mode is PositionMode.ONEWAY


async def test_mode_change_refused_while_position_open(perp, perp_sim):
    await open_position(perp, perp_sim, side="BUY", amount="0.01")
    ok, msg = await perp.set_position_mode(PositionMode.HEDGE)
    assert not ok and "exists position" in msg
    assert perp.position_mode is PositionMode.ONEWAY and not perp_sim.futures.accounts[0].dual_side


async def test_unsupported_mode_refused(perp, perp_sim):
    ok, msg = await perp.set_position_mode("HEDGE")
    assert not ok and "not supported" in msg
    assert posts(perp_sim, "/fapi/v1/positionSide/dual") == []
    assert len(perp.event_log[AccountEvent.PositionModeChangeFailed]) == 1


async def test_start_up_reads_hedge_mode(perp_sim, tmp_path):
    perp_sim.futures.accounts[0].dual_side = True
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        assert conn.position_mode is PositionMode.HEDGE
        oid = conn.sell(PAIR, Decimal("0.01"), OrderType.LIMIT, best(conn, True) + Decimal("5"),
                        position_action=PositionAction.OPEN)
        created = (await conn.event_log.wait_for(MarketEvent.SellOrderCreated))[0]
        assert created.order_id == oid and created.position == "OPEN"
    finally:
        await conn.stop()


async def test_start_up_waits_for_position_mode(perp_sim, tmp_path):
    # the mode query fails first: not ready (would trade in a guessed mode), then it succeeds
    perp_sim.faults.rest_fault_path = "positionSide/dual"
    perp_sim.faults.rest_errors_next(2, status=500)
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        assert conn.status_dict["position_mode"] and conn.position_mode is PositionMode.ONEWAY
        tries = [e for e in perp_sim.request_log if e["path"] == "/fapi/v1/positionSide/dual"]
        assert len(tries) >= 3
    finally:
        await conn.stop()


async def test_in_flight_margin_of_opening_orders_only(perp, perp_sim):
    assert (await perp.set_leverage(PAIR, 4))[0]
    price = best(perp, True) - Decimal("100")
    perp.buy(PAIR, Decimal("0.02"), OrderType.LIMIT, price)
    await perp.event_log.wait_for(MarketEvent.BuyOrderCreated)
    assert perp.in_flight_asset_balances() == {"USDT": Decimal("0.02") * price / 4}


async def test_mode_changed_elsewhere_is_detected_and_read_again(perp, perp_sim):
    perp_sim.futures.accounts[0].dual_side = True          # another client switched to hedge mode
    oid = perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"))
    failure = (await perp.event_log.wait_for(MarketEvent.OrderFailure))[0]
    assert failure.order_id == oid and "position side" in failure.error_message
    await eventually(lambda: perp.position_mode is PositionMode.HEDGE and perp.ready)
    perp.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(perp, True) - Decimal("5"),
             position_action=PositionAction.OPEN)
    created = (await perp.event_log.wait_for(MarketEvent.BuyOrderCreated))[0]
    assert created.position == "OPEN"


async def test_leverage_per_pair_is_independent_and_stamped_on_each_pairs_orders(perp_sim, tmp_path):
    # LEV-05: margin per order depends on its own pair's leverage
    conn = make_perpetual(perp_sim, tmp_path, trading_pairs=[PAIR, "ETH-USDT"])
    await conn.start(timeout=20)
    try:
        assert (await conn.set_leverage(PAIR, 5))[0] and (await conn.set_leverage("ETH-USDT", 3))[0]
        assert (conn.get_leverage(PAIR), conn.get_leverage("ETH-USDT")) == (5, 3)
        eth_bid = conn.get_order_book("ETH-USDT").get_price(False)
        a = conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(conn, False) - Decimal("300"))
        b = conn.buy("ETH-USDT", Decimal("0.1"), OrderType.LIMIT, eth_bid - Decimal("100"))
        created = {e.order_id: e.leverage for e in await conn.event_log.wait_for(MarketEvent.BuyOrderCreated, 2)}
        assert created == {a: 5, b: 3}
        exchange = perp_sim.futures.accounts[0].leverage
        assert (exchange["BTCUSDT"], exchange["ETHUSDT"]) == (5, 3)
    finally:
        await conn.stop()
