"""BAL-06..10, BAL-12: in-flight locked funds and the estimated available balance (simulator).

With ``real_time_balance_update`` (the default: Binance pushes balances on the user stream) the
available balance is the exchange's own. Without it, the last polled balance is adjusted for orders
placed / finished since that poll; the exchange's ``free`` balance is the truth to compare against.
"""
import logging
from decimal import Decimal

from connector_helpers import PAIR, eventually

from exconnect.events import MarketEvent
from exconnect.types import OrderType


def exchange_free(sim, asset):
    return Decimal(sim.spot.balances()[asset][0])


async def polls_by_hand(connector):
    """User stream off, automatic polls off: balances change only when the test polls."""
    await connector.user_stream_tracker.stop()
    connector.SHORT_POLL_INTERVAL = connector.LONG_POLL_INTERVAL = 1e9
    connector.real_time_balance_update = False
    await connector._status_polling_once()


async def place(connector, side, amount, price, n_created):
    oid = (connector.buy if side == "BUY" else connector.sell)(PAIR, Decimal(amount), OrderType.LIMIT, price)
    tag = MarketEvent.BuyOrderCreated if side == "BUY" else MarketEvent.SellOrderCreated
    await connector.event_log.wait_for(tag, n_created)
    return oid


async def test_estimated_available_balance_tracks_orders_between_polls(connector, sim):
    await polls_by_hand(connector)
    reported = connector._account_available_balances["USDT"]
    # BAL-07: no orders at the poll, none now -> the reported balance
    assert connector.get_available_balance("USDT") == reported == exchange_free(sim, "USDT")
    bid = connector.get_order_book(PAIR).get_price(False)
    p1, p2 = bid - 50, bid - 60
    a = await place(connector, "BUY", "0.01", p1, 1)
    b = await place(connector, "BUY", "0.02", p2, 2)
    # BAL-09: two new orders since the poll -> their locked quote is subtracted
    assert connector._account_available_balances["USDT"] == reported               # not polled yet
    assert connector.get_available_balance("USDT") == reported - Decimal("0.01") * p1 - Decimal("0.02") * p2
    assert connector.get_available_balance("USDT") == exchange_free(sim, "USDT")
    connector.real_time_balance_update = True                                     # the switch matters
    assert connector.get_available_balance("USDT") == reported
    connector.real_time_balance_update = False
    # BAL-10: same orders at the poll and now -> no adjustment
    await connector._status_polling_once()
    assert connector.get_available_balance("USDT") == connector._account_available_balances["USDT"]
    assert connector.get_available_balance("USDT") == exchange_free(sim, "USDT")
    # BAL-08: an order alive at the poll, cancelled now -> its funds come back
    await connector._execute_cancel(PAIR, a)
    assert a not in connector.in_flight_orders and b in connector.in_flight_orders
    assert connector.get_available_balance("USDT") == connector._account_available_balances["USDT"] + \
        Decimal("0.01") * p1
    assert connector.get_available_balance("USDT") == exchange_free(sim, "USDT")


async def test_estimate_returns_only_the_unfilled_part_of_a_finished_order(connector, sim):
    await polls_by_hand(connector)
    bid = connector.get_order_book(PAIR).get_price(False)
    price = bid + Decimal("0.01")                                   # top of book: the taker hits it
    oid = await place(connector, "BUY", "0.03", price, 1)
    await connector._status_polling_once()
    await sim.spot.take("BTCUSDT", "SELL", "0.01")
    await connector._execute_cancel(PAIR, oid)                     # the answer reports 0.01 executed
    await eventually(lambda: connector.event_log[MarketEvent.OrderCancelled])
    assert connector.event_log[MarketEvent.OrderFilled][0].amount == Decimal("0.01")
    assert connector.get_available_balance("USDT") == connector._account_available_balances["USDT"] + \
        Decimal("0.02") * price
    assert connector.get_available_balance("USDT") == exchange_free(sim, "USDT")


async def test_estimate_for_sells_and_in_flight_locked_funds(connector, sim):
    await polls_by_hand(connector)
    ask = connector.get_order_book(PAIR).get_price(True)
    bid = connector.get_order_book(PAIR).get_price(False)
    await place(connector, "BUY", "0.01", bid - 10, 1)
    await place(connector, "BUY", "0.02", bid - 20, 2)
    await place(connector, "SELL", "0.015", ask + 10, 1)
    # BAL-06: open buys lock quote (amount x price), open sells lock base
    locked = connector.in_flight_asset_balances()
    assert locked == {"USDT": Decimal("0.01") * (bid - 10) + Decimal("0.02") * (bid - 20), "BTC": Decimal("0.015")}
    assert connector.get_available_balance("BTC") == exchange_free(sim, "BTC")
    assert connector.get_available_balance("BTC") == connector._account_available_balances["BTC"] - Decimal("0.015")


async def test_balance_refresh_failure_keeps_last_balances(connector, sim, caplog):
    """BAL-12: a failed account poll warns, keeps the last balances, and polling goes on."""
    caplog.set_level(logging.WARNING, logger="exconnect.connector.exchange_base")
    before = dict(connector._account_balances)
    sim.faults.rest_fault_path = "/api/v3/account"
    sim.faults.rest_errors_next(1, status=500, code=-1000, msg="Internal error.")
    await connector._status_polling_once()
    assert any("Failed to update balances" in r.getMessage() for r in caplog.records)
    assert connector._account_balances == before and before
    await connector._status_polling_once()                          # next poll works again
    assert connector.get_balance("USDT") == sum(Decimal(x) for x in sim.spot.balances()["USDT"])


async def test_order_placed_while_balances_are_in_flight_is_not_overstated(connector, sim):
    """The account answer was computed before the order locked funds; the order is acked before the
    answer arrives. The estimate must still subtract it (a too-high available balance overspends)."""
    await polls_by_hand(connector)
    sim.faults.rest_fault_path = "/api/v3/account"
    sim.faults.response_delay_ms = 300
    n = len([r for r in sim.request_log if r["path"] == "/api/v3/account"])
    import asyncio
    poll = asyncio.get_running_loop().create_task(connector._status_polling_once())
    await eventually(lambda: len([r for r in sim.request_log if r["path"] == "/api/v3/account"]) > n)
    bid = connector.get_order_book(PAIR).get_price(False)
    await place(connector, "BUY", "0.01", bid - 30, 1)
    await poll
    sim.faults.clear()
    assert connector.get_available_balance("USDT") == exchange_free(sim, "USDT")
