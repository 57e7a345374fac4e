"""The log lines Hummingbot users grep for (catalogue PLC-01/02/07, TRK-17/23, CXL-01, USR-14), from
a connector trading on the simulator over real sockets: same wording, the order's own values."""
import logging
from decimal import Decimal

from connector_helpers import PAIR, make_connector

from exconnect.events import MarketEvent
from exconnect.types import OrderType


def lines(caplog, level):
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def test_create_fill_cancel_and_reject_are_logged_as_hummingbot_does(sim, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    conn = make_connector(sim, tmp_path)
    await conn.start(timeout=20)
    try:
        # USR-14: the subscription is announced
        assert "Successfully subscribed to user data stream via WebSocket API" in lines(caplog, logging.INFO)
        book = conn.get_order_book(PAIR)
        bid = book.get_price(False)
        price = bid + Decimal("0.01")
        oid = conn.buy(PAIR, Decimal("0.02"), OrderType.LIMIT, price)
        await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
        # PLC-01 / TRK-17
        assert f"Created LIMIT BUY order {oid} for 0.02 {PAIR} at {price}." in lines(caplog, logging.INFO)
        await sim.spot.take("BTCUSDT", "SELL", "0.01")               # half of it
        fill = (await conn.event_log.wait_for(MarketEvent.OrderFilled))[0]
        # TRK-23: "The BUY order <id> amounting to <filled>/<amount> <base> has been filled at <price> <quote>."
        assert (f"The BUY order {oid} amounting to 0.01/0.02 BTC has been filled at {fill.price} USDT."
                in lines(caplog, logging.INFO))
        conn.cancel(PAIR, oid)
        await conn.event_log.wait_for(MarketEvent.OrderCancelled)
        assert f"Successfully canceled order {oid}." in lines(caplog, logging.INFO)            # CXL-01
        # PLC-02: a sell is logged alike
        ask = book.get_price(True)
        sell_price = ask + Decimal("100")
        sid = conn.sell(PAIR, Decimal("0.03"), OrderType.LIMIT, sell_price)
        await conn.event_log.wait_for(MarketEvent.SellOrderCreated)
        assert f"Created LIMIT SELL order {sid} for 0.03 {PAIR} at {sell_price}." in lines(caplog, logging.INFO)
        # PLC-07: an exchange rejection is an ERROR naming side, type, venue, amount, pair and price
        cross = book.get_price(True) + Decimal("5")
        rid = conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT_MAKER, cross)
        await conn.event_log.wait_for(MarketEvent.OrderFailure)
        errors = [m for m in lines(caplog, logging.ERROR) if m.startswith("Error submitting")]
        assert errors and errors[0].startswith(f"Error submitting buy LIMIT_MAKER order to binance for 0.01 {PAIR} ")
        assert "Order would immediately match and take." in errors[0] and rid not in conn.in_flight_orders
        assert "sim-secret" not in caplog.text
    finally:
        await conn.stop()
