"""Bad input on the spot user stream (WebSocket API; catalogue rows tagged `bad`: USR-05, USR-09,
USR-33): frames that are not JSON, not an object, empty, not an event, or events missing fields
are logged and skipped — the listener and the subscription stay up and later events are processed
(reconnecting for one bad frame would lose whatever is sent while a new session is set up)."""
import logging
from decimal import Decimal

from connector_helpers import PAIR, make_connector

from exconnect.events import MarketEvent
from exconnect.types import OrderType

BAD = ("not_json", "not_object", "empty", "empty_object",
       {"e": "executionReport"},                                         # no order fields at all
       {"e": "executionReport", "s": "BTCUSDT", "x": "TRADE"},           # a trade without its fill
       {"e": "outboundAccountPosition", "B": [{"a": "BTC"}]},            # balance without amounts
       '{"subscriptionId": 0, "event": 5}',                              # envelope around no event
       '{"id": "x", "status": 400, "error": {"code": -1}}')             # a stray request answer


async def test_malformed_frames_skipped_and_later_events_processed(sim, tmp_path, caplog):
    # polling slowed down: the fill must come from the stream that received the bad frames
    conn = make_connector(sim, tmp_path, short_poll_interval=600, long_poll_interval=600)
    await conn.start(timeout=20)
    try:
        ds = conn.user_stream_tracker.data_source
        subs = ds.subscription_count
        sim.faults.bad_user_frames_next(*BAD)
        book = conn.get_order_book(PAIR)
        with caplog.at_level(logging.INFO):
            oid = conn.buy(PAIR, Decimal("0.03"), OrderType.LIMIT, book.get_price(False) + Decimal("0.01"))
            await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
            await sim.spot.take("BTCUSDT", "SELL", "0.03")
            done = (await conn.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
        assert done.order_id == oid
        assert sum(f.amount for f in conn.event_log[MarketEvent.OrderFilled]) == Decimal("0.03")
        # the same subscription carried on
        assert ds.subscription_count == subs and ds.is_subscribed
        assert "Skipping a user stream frame that is not JSON" in caplog.text
        assert "Skipping a user stream frame that is not an event" in caplog.text
        assert "Unexpected error in user stream listener loop." in caplog.text      # missing fields
        assert ds.last_recv_time > 0 and conn.ready
        assert "sim-secret" not in caplog.text
    finally:
        await conn.stop()


async def test_raw_frames_reach_the_websocket_api_subscription(connector, sim):
    """The simulator's send_raw reaches WS-API subscribers (not only listen keys)."""
    account = next(iter(sim.spot.user_streams.api_subs))
    assert sim.spot.user_streams.send_raw(account, "") == 1
    assert sim.spot.user_streams.send_raw(account, "{}", wrap=True) == 1
