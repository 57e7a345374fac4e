"""A busy session under random faults: the fill log must still equal the exchange's trades."""
import random
from decimal import Decimal

from connector_helpers import PAIR, eventually

from exconnect.events import MarketEvent
from exconnect.types import OrderType


async def test_fill_log_exact_under_random_faults(connector, sim):
    rng = random.Random(5)
    connector.UNKNOWN_OUTCOME_RECHECK = 0.05
    faults = sim.faults
    faults.rest_error_rate = 0.15                # 5xx, not executed
    faults.order_503_but_placed_rate = 0.15      # executed, answered 503
    faults.duplicate_user_events_rate = 0.3
    faults.reorder_user_events = True
    book = connector.get_order_book(PAIR)
    placed = []
    for round_ in range(12):
        bid, ask = book.get_price(False), book.get_price(True)
        placed.append(connector.buy(PAIR, Decimal("0.004"), OrderType.LIMIT, bid + Decimal("0.01")))
        placed.append(connector.sell(PAIR, Decimal("0.004"), OrderType.LIMIT, ask - Decimal("0.01")))
        await eventually(lambda: not connector._orders_being_placed)
        await sim.spot.take("BTCUSDT", "SELL", str(Decimal(rng.randint(1, 6)) / 1000))
        await sim.spot.take("BTCUSDT", "BUY", str(Decimal(rng.randint(1, 6)) / 1000))
        if round_ % 3 == 2:
            for oid in list(connector.in_flight_orders)[:2]:
                connector.cancel(PAIR, oid)
    faults.clear()
    await connector.cancel_all(10)
    await eventually(lambda: not connector.in_flight_orders and not connector.order_tracker.lost_orders, timeout=20)
    open_orders = await connector.get_open_orders()
    assert open_orders == []
    rows = await connector._api_get("/api/v3/myTrades", {"symbol": "BTCUSDT"}, is_auth_required=True)
    exchange = sorted((str(r["id"]), Decimal(r["qty"]), str(r["orderId"])) for r in rows)
    await eventually(lambda: len(connector.store.fills()) >= len(exchange), timeout=20)
    local = sorted((f["trade_id"], Decimal(f["amount"]), f["exchange_order_id"]) for f in connector.store.fills())
    assert local == exchange and len(local) >= 10
    fills = connector.event_log[MarketEvent.OrderFilled]
    assert sorted(f.exchange_trade_id for f in fills) == sorted(t for t, _, _ in exchange)
