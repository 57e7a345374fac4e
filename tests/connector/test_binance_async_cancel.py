"""CXL-02: a connector flagged asynchronous-cancel (IS_CANCEL_REQUEST_SYNCHRONOUS = False) keeps an
accepted cancel in PENDING_CANCEL until the exchange confirms it (user stream or status poll).

The simulator cancels at once and reports CANCELED on the stream right after; to see the window
in between, the test connector can hold user stream events (``hold_stream``) or defer the DELETE
(``defer_cancels``: the exchange "queues" the request, as an asynchronous venue does)."""
import asyncio
from decimal import Decimal

import pytest

from connector_helpers import PAIR, EventLog, connector_params, eventually, running

from exconnect.binance import BinanceExchange, BinanceUrls
from exconnect.events import MarketEvent
from exconnect.types import CancellationResult, OrderState, OrderType, OrderUpdate


class AsyncCancelBinance(BinanceExchange):
    IS_CANCEL_REQUEST_SYNCHRONOUS = False

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.stream_gate = asyncio.Event()
        self.stream_gate.set()
        self.cancel_gate = None            # asyncio.Event: DELETE sent only once it is set

    def _process_user_stream_event(self, event):
        if self.stream_gate.is_set():
            return super()._process_user_stream_event(event)
        self._spawn(self._deliver_later(event))

    async def _deliver_later(self, event):
        await self.stream_gate.wait()
        super()._process_user_stream_event(event)

    async def _place_cancel(self, order):
        if self.cancel_gate is None:
            return await super()._place_cancel(order)
        self._spawn(self._send_cancel_later(order))
        # "accepted": what an asynchronous venue answers before it has acted on the request
        return OrderUpdate(order.trading_pair, self.current_timestamp, OrderState.CANCELED, order.client_order_id,
                           order.exchange_order_id)

    async def _send_cancel_later(self, order):
        await self.cancel_gate.wait()
        try:
            await BinanceExchange._place_cancel(self, order)
        except Exception:
            pass                            # e.g. -2011: it filled meanwhile


def make_async(sim, tmp_path, **kw):
    conn = AsyncCancelBinance.from_base_urls(sim.spot_url, **connector_params(tmp_path, **kw))
    conn.event_log = EventLog(conn)
    return conn


@pytest.fixture
async def aconn(sim, tmp_path):
    # Polling only when asked (start, reconnect, cancel_all): confirmations come from the stream.
    async with running(make_async(sim, tmp_path, short_poll_interval=3600, long_poll_interval=3600)) as conn:
        yield conn


async def resting_buy(conn, below=Decimal("50"), amount="0.01"):
    bid = conn.get_order_book(PAIR).get_price(False)
    oid = conn.buy(PAIR, Decimal(amount), OrderType.LIMIT, bid - below)
    await eventually(lambda: oid in conn.in_flight_orders
                     and conn.in_flight_orders[oid].current_state == OrderState.OPEN)
    return oid


def test_flag_defaults():
    assert BinanceExchange.IS_CANCEL_REQUEST_SYNCHRONOUS is True
    conn = BinanceExchange(trading_required=False, trading_pairs=[PAIR], data_folder=None,
                           urls=BinanceUrls.from_base("http://127.0.0.1:1"))
    assert conn.is_cancel_request_in_exchange_synchronous is True
    aconn = AsyncCancelBinance(trading_required=False, trading_pairs=[PAIR], data_folder=None,
                               urls=BinanceUrls.from_base("http://127.0.0.1:1"))
    assert aconn.is_cancel_request_in_exchange_synchronous is False


async def test_cancel_waits_in_pending_cancel_until_stream_confirms(aconn, sim):
    oid = await resting_buy(aconn)
    order = aconn.in_flight_orders[oid]
    aconn.stream_gate.clear()                          # the exchange's confirmation is "late"
    assert await aconn._execute_cancel(PAIR, oid) == oid        # request accepted
    assert order.current_state == OrderState.PENDING_CANCEL and order.is_pending_cancel_confirmation
    assert oid in aconn.in_flight_orders and not order.is_done
    assert sim.spot.open_orders(0) == []               # the simulator has cancelled it already
    await asyncio.sleep(0.3)
    assert oid in aconn.in_flight_orders and order.is_pending_cancel_confirmation
    assert aconn.event_log[MarketEvent.OrderCancelled] == []
    aconn.stream_gate.set()                            # executionReport CANCELED arrives
    ev = (await aconn.event_log.wait_for(MarketEvent.OrderCancelled))[0]
    assert ev.order_id == oid
    assert oid not in aconn.in_flight_orders and order.is_cancelled
    assert len(aconn.event_log[MarketEvent.OrderCancelled]) == 1


async def test_pending_cancel_confirmed_by_status_poll_while_stream_down(aconn, sim):
    oid = await resting_buy(aconn)
    order = aconn.in_flight_orders[oid]
    ds = aconn.user_stream_tracker.data_source
    subs = ds.subscription_count
    ds._urls = BinanceUrls(sim.spot_url, sim.spot_ws_url, "ws://127.0.0.1:1")   # reconnects fail
    sim.faults.drop_ws("api")                          # user stream down
    await eventually(lambda: ds._ws is None)
    aconn.cancel(PAIR, oid)
    await eventually(lambda: order.is_pending_cancel_confirmation)
    await asyncio.sleep(0.5)
    assert order.is_pending_cancel_confirmation and oid in aconn.in_flight_orders
    assert aconn.event_log[MarketEvent.OrderCancelled] == []
    assert ds.subscription_count == subs               # really no stream all along
    aconn._poll_notifier.set()                         # the next status poll: GET order -> CANCELED
    ev = (await aconn.event_log.wait_for(MarketEvent.OrderCancelled))[0]
    assert ev.order_id == oid and oid not in aconn.in_flight_orders
    assert ds.subscription_count == subs


async def test_fill_while_pending_cancel_completes_the_order(aconn, sim):
    bid = aconn.get_order_book(PAIR).get_price(False)
    oid = aconn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid + Decimal("0.01"))     # top of book
    await eventually(lambda: oid in aconn.in_flight_orders
                     and aconn.in_flight_orders[oid].current_state == OrderState.OPEN)
    order = aconn.in_flight_orders[oid]
    aconn.cancel_gate = asyncio.Event()                # the venue has not acted on the cancel yet
    assert await aconn._execute_cancel(PAIR, oid) == oid
    assert order.is_pending_cancel_confirmation
    await sim.spot.take("BTCUSDT", "SELL", "0.01")     # fills before the cancel is processed
    done = (await aconn.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid and oid not in aconn.in_flight_orders
    assert [f.amount for f in aconn.event_log[MarketEvent.OrderFilled]] == [Decimal("0.01")]
    aconn.cancel_gate.set()                            # the venue now finds nothing to cancel
    await asyncio.sleep(0.2)
    assert aconn.event_log[MarketEvent.OrderCancelled] == []
    assert order.is_filled and not order.is_cancelled


async def test_cancel_all_counts_only_confirmed_cancellations(aconn, sim):
    a = await resting_buy(aconn, Decimal("50"))
    b = await resting_buy(aconn, Decimal("60"))
    aconn._cancel_all_uses_open_orders = False         # one DELETE per order, through _place_cancel
    aconn.cancel_gate = asyncio.Event()                # accepted, not acted on: still open on the venue
    results = await aconn.cancel_all(0.5)              # its status poll sees NEW: not confirmed
    assert sorted(results) == sorted([CancellationResult(a, False), CancellationResult(b, False)])
    assert all(aconn.in_flight_orders[i].is_pending_cancel_confirmation for i in (a, b))
    assert aconn.event_log[MarketEvent.OrderCancelled] == []
    assert len(sim.spot.open_orders(0)) == 2
    aconn.cancel_gate.set()                            # the venue acts; the stream confirms
    evs = await aconn.event_log.wait_for(MarketEvent.OrderCancelled, 2)
    assert sorted(e.order_id for e in evs) == sorted([a, b])
    assert aconn.in_flight_orders == {}


async def test_cancel_all_confirmed_by_poll_reports_success(aconn, sim):
    ids = [await resting_buy(aconn, Decimal(50 + i)) for i in range(2)]
    aconn.stream_gate.clear()                          # no confirmation from the stream
    results = await aconn.cancel_all(5)                # cancel_all asks for a status poll
    assert sorted(results) == sorted(CancellationResult(i, True) for i in ids)
    assert aconn.in_flight_orders == {}
    assert len(aconn.event_log[MarketEvent.OrderCancelled]) == 2


async def test_synchronous_connector_cancel_is_final_at_once(connector, sim):
    bid = connector.get_order_book(PAIR).get_price(False)
    oid = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, bid - Decimal("50"))
    await connector.event_log.wait_for(MarketEvent.BuyOrderCreated)
    order = connector.in_flight_orders[oid]
    await connector.user_stream_tracker.stop()         # only the DELETE answer can cancel it
    assert await connector._execute_cancel(PAIR, oid) == oid
    assert order.is_cancelled and oid not in connector.in_flight_orders
    assert len(connector.event_log[MarketEvent.OrderCancelled]) == 1


async def test_cancel_all_by_open_orders_endpoint_is_pending_until_confirmed(aconn, sim, monkeypatch):
    ids = [await resting_buy(aconn, Decimal(50 + i)) for i in range(2)]
    aconn.stream_gate.clear()
    monkeypatch.setattr(aconn._poll_notifier, "set", lambda: None)   # no poll either
    results = await aconn.cancel_all(0.5)              # DELETE openOrders answers CANCELED for both
    assert any(r["method"] == "DELETE" and r["path"] == "/api/v3/openOrders" for r in sim.request_log)
    assert sorted(results) == sorted(CancellationResult(i, False) for i in ids)
    assert all(aconn.in_flight_orders[i].is_pending_cancel_confirmation for i in ids)
    assert aconn.event_log[MarketEvent.OrderCancelled] == []
    aconn.stream_gate.set()
    evs = await aconn.event_log.wait_for(MarketEvent.OrderCancelled, 2)
    assert sorted(e.order_id for e in evs) == sorted(ids)
    assert aconn.in_flight_orders == {}
