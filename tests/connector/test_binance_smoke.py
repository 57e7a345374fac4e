from decimal import Decimal

from exconnect.events import MarketEvent
from exconnect.types import OrderType

from connector_helpers import PAIR


async def test_ready_and_limit_order_lifecycle(connector, sim):
    assert connector.ready
    book = connector.get_order_book(PAIR)
    ask = book.get_price(True)
    bid = book.get_price(False)
    assert bid < ask
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("100"))
    assert oid in connector.in_flight_orders
    log = connector.event_log
    created = await log.wait_for(MarketEvent.BuyOrderCreated)
    assert created[0].order_id == oid and created[0].exchange_order_id
    connector.cancel(PAIR, oid)
    cancelled = await log.wait_for(MarketEvent.OrderCancelled)
    assert cancelled[0].order_id == oid
    assert oid not in connector.in_flight_orders
