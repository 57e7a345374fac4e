import logging

from exconnect.events import (AccountEvent, MarketEvent, OrderBookEvent, OrderCancelledEvent,
                              OrderFilledEvent, PubSub)


def test_tags_have_hummingbots_numeric_values():
    assert MarketEvent.BuyOrderCompleted.value == 102
    assert MarketEvent.OrderCancelled.value == 106
    assert MarketEvent.OrderFilled.value == 107
    assert MarketEvent.OrderExpired.value == 108
    assert MarketEvent.OrderFailure.value == 198
    assert MarketEvent.BuyOrderCreated.value == 200
    assert MarketEvent.SellOrderCreated.value == 201
    assert MarketEvent.FundingPaymentCompleted.value == 202
    assert AccountEvent.PositionModeChangeSucceeded.value == 400
    assert OrderBookEvent.TradeEvent == 901


def test_listeners_called_synchronously_in_order_and_removable():
    hub = PubSub()
    seen = []
    a = lambda e: seen.append(("a", e))
    b = lambda e: seen.append(("b", e))
    hub.add_listener(MarketEvent.OrderCancelled, a)
    hub.add_listener(MarketEvent.OrderCancelled, b)
    hub.add_listener(MarketEvent.OrderCancelled, a)          # duplicate registration ignored
    ev = OrderCancelledEvent(1.0, "id1")
    hub.trigger_event(MarketEvent.OrderCancelled, ev)
    assert seen == [("a", ev), ("b", ev)]
    hub.remove_listener(MarketEvent.OrderCancelled, a)
    hub.trigger_event(MarketEvent.OrderCancelled, ev)
    assert seen[-1] == ("b", ev) and len(seen) == 3
    hub.trigger_event(MarketEvent.OrderFilled, ev)           # other tag: nobody called
    assert len(seen) == 3


def test_int_tags_equal_enum_tags():
    hub = PubSub()
    seen = []
    hub.add_listener(107, seen.append)
    hub.trigger_event(MarketEvent.OrderFilled, "x")
    assert seen == ["x"]


def test_failing_listener_is_logged_and_others_still_run(caplog):
    hub = PubSub()
    seen = []

    def bad(_):
        raise RuntimeError("boom")

    hub.add_listener(MarketEvent.OrderFilled, bad)
    hub.add_listener(MarketEvent.OrderFilled, seen.append)
    with caplog.at_level(logging.ERROR):
        hub.trigger_event(MarketEvent.OrderFilled, 1)
    assert seen == [1]
    assert "boom" in caplog.text


def test_filled_event_fields_default_like_hummingbot():
    ev = OrderFilledEvent(1.0, "oid", "BTC-USDT", "BUY", "LIMIT", 1, 2, None)
    assert ev.exchange_trade_id == "" and ev.leverage == 1 and ev.position == "NIL"
