"""ClientOrderTracker: events, exactly-once fills, lost orders, persistence (no network)."""
from decimal import Decimal

import pytest

from exconnect.connector.order_tracker import ClientOrderTracker
from exconnect.connector.persistence import ConnectorStore
from exconnect.events import MarketEvent
from exconnect.native.in_flight_order import InFlightOrder
from exconnect.types import (DeductedFromReturnsTradeFee, OrderState, OrderType, OrderUpdate, TokenAmount,
                             TradeType, TradeUpdate)

T = 1640780000.0


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, tag, ev):
        self.events.append((tag, ev))

    def tags(self):
        return [t for t, _ in self.events]


@pytest.fixture
def env(tmp_path):
    rec = Recorder()
    missing = []
    store = ConnectorStore.in_folder(str(tmp_path), "binance")
    tracker = ClientOrderTracker(trigger_event=rec, current_timestamp=lambda: T, store=store,
                                 lost_order_count_limit=1, on_fills_missing=missing.append)
    return tracker, rec, store, missing


def order(cid="c1", amount="1", side=TradeType.BUY):
    return InFlightOrder(cid, "BTC-USDT", OrderType.LIMIT, side, Decimal(amount), T, price=Decimal("100"))


def trade(tid, qty, cid="c1", eid="e1", price="100"):
    fee = DeductedFromReturnsTradeFee(percent_token="USDT", flat_fees=[TokenAmount("USDT", Decimal("0.1"))])
    return TradeUpdate(str(tid), cid, eid, "BTC-USDT", T + 1, Decimal(price), Decimal(qty),
                       Decimal(price) * Decimal(qty), fee)


def upd(state, cid="c1", eid="e1"):
    return OrderUpdate("BTC-USDT", T, state, cid, eid)


def test_created_then_fills_then_completed_exactly_once(env):
    tracker, rec, store, _ = env
    tracker.start_tracking_order(order())
    assert "c1" in store.load_tracking_states()
    tracker.process_order_update(upd(OrderState.OPEN))
    assert rec.tags() == [MarketEvent.BuyOrderCreated]
    created = rec.events[0][1]
    assert created.exchange_order_id == "e1" and created.amount == Decimal(1) and created.timestamp == T
    assert tracker.process_trade_update(trade(1, "0.4"))
    assert not tracker.process_trade_update(trade(1, "0.4"))            # duplicate: nothing
    assert tracker.process_trade_update(trade(2, "0.6"))
    tracker.process_order_update(upd(OrderState.FILLED))               # late status: nothing more
    assert rec.tags() == [MarketEvent.BuyOrderCreated, MarketEvent.OrderFilled, MarketEvent.OrderFilled,
                          MarketEvent.BuyOrderCompleted]
    done = rec.events[-1][1]
    assert done.base_asset_amount == Decimal(1) and done.quote_asset_amount == Decimal(100)
    assert "c1" not in tracker.active_orders and tracker.fetch_cached_order("c1") is not None
    assert [f["trade_id"] for f in store.fills()] == ["1", "2"]
    assert store.load_tracking_states() == {}


def test_filled_status_before_trades_waits_for_fills(env):
    tracker, rec, store, missing = env
    tracker.start_tracking_order(order())
    tracker.process_order_update(upd(OrderState.OPEN))
    tracker.process_order_update(upd(OrderState.FILLED))
    assert [o.client_order_id for o in missing] == ["c1"]
    assert MarketEvent.BuyOrderCompleted not in rec.tags() and "c1" in tracker.active_orders
    tracker.process_trade_update(trade(5, "1"))
    assert rec.tags()[-2:] == [MarketEvent.OrderFilled, MarketEvent.BuyOrderCompleted]


def test_fill_before_ack_is_kept(env):
    tracker, rec, _, _ = env
    tracker.start_tracking_order(order())
    assert tracker.process_trade_update(trade(1, "0.5", eid="e1"))
    tracker.process_order_update(upd(OrderState.OPEN))
    assert rec.tags() == [MarketEvent.OrderFilled, MarketEvent.BuyOrderCreated] or \
        MarketEvent.OrderFilled in rec.tags()
    assert tracker.active_orders["c1"].executed_amount_base == Decimal("0.5")


def test_cancel_and_failure_events(env):
    tracker, rec, _, _ = env
    tracker.start_tracking_order(order("a"))
    tracker.start_tracking_order(order("b"))
    tracker.process_order_update(upd(OrderState.CANCELED, "a", "ea"))
    tracker.process_order_update(OrderUpdate("BTC-USDT", T, OrderState.FAILED, "b",
                                             misc_updates={"error_message": "nope", "error_type": "X"}))
    assert rec.tags() == [MarketEvent.OrderCancelled, MarketEvent.OrderFailure]
    assert rec.events[1][1].error_message == "nope"
    assert tracker.active_orders == {}
    # a fill for the cancelled order arriving later is still recorded (cache)
    assert tracker.process_trade_update(trade(9, "0.1", cid="a", eid="ea"))


def test_not_found_beyond_limit_makes_lost_order_still_fillable(env):
    tracker, rec, store, _ = env
    tracker.start_tracking_order(order())
    tracker.process_order_not_found("c1")
    assert tracker.not_found_count("c1") == 1 and "c1" in tracker.active_orders
    tracker.process_order_not_found("c1")
    assert "c1" in tracker.lost_orders and rec.tags() == [MarketEvent.OrderFailure]
    assert "c1" in tracker.tracking_states
    assert tracker.process_trade_update(trade(3, "1"))           # late fill still recorded
    assert rec.tags()[-1] == MarketEvent.OrderFilled
    assert "c1" not in tracker.lost_orders and store.has_fill("BTC-USDT", "3")


def test_update_without_ids_is_ignored(env, caplog):
    tracker, rec, _, _ = env
    tracker.process_order_update(OrderUpdate("BTC-USDT", T, OrderState.OPEN))
    assert rec.events == [] and "does not contain any client_order_id" in caplog.text


def test_restore_only_open_orders_and_failed_as_lost(env):
    tracker, _, _, _ = env
    states = {}
    for cid, state in (("p", OrderState.PENDING_CREATE), ("c", OrderState.CANCELED), ("f", OrderState.FILLED),
                       ("x", OrderState.FAILED)):
        o = order(cid)
        if state is not OrderState.PENDING_CREATE:
            o.update_with_order_update(upd(state, cid, "e" + cid))
        states[cid] = o.to_json()
    tracker.restore_tracking_states(states, InFlightOrder.from_json)
    assert list(tracker.active_orders) == ["p"] and list(tracker.lost_orders) == ["x"]


def test_restored_order_does_not_rerecord_known_fill(env, tmp_path):
    tracker, rec, store, _ = env
    tracker.start_tracking_order(order())
    tracker.process_order_update(upd(OrderState.OPEN))
    tracker.process_trade_update(trade(1, "0.5"))
    saved = tracker.tracking_states
    rec2 = Recorder()
    t2 = ClientOrderTracker(trigger_event=rec2, current_timestamp=lambda: T, store=store)
    t2.restore_tracking_states(saved, InFlightOrder.from_json)
    assert not t2.process_trade_update(trade(1, "0.5"))           # same fill replayed
    assert t2.process_trade_update(trade(2, "0.5"))
    assert rec2.tags() == [MarketEvent.OrderFilled, MarketEvent.BuyOrderCompleted]
    assert len(store.fills()) == 2


def test_expired_order_emits_expired_event(env):
    tracker, rec, _, _ = env
    tracker.start_tracking_order(order())
    tracker.process_order_update(upd(OrderState.OPEN))
    tracker.process_trade_update(trade(1, "0.4"))
    tracker.process_order_update(upd(OrderState.EXPIRED))
    assert rec.tags() == [MarketEvent.BuyOrderCreated, MarketEvent.OrderFilled, MarketEvent.OrderExpired]
    assert "c1" not in tracker.active_orders


def test_give_up_waiting_for_fills_completes_with_warning(env, caplog):
    tracker, rec, _, missing = env
    tracker.start_tracking_order(order())
    tracker.process_order_update(upd(OrderState.OPEN))
    tracker.process_trade_update(trade(1, "0.4"))
    tracker.process_order_update(upd(OrderState.FILLED))
    assert tracker.is_waiting_for_fills("c1")
    tracker.force_complete("c1")
    assert rec.tags()[-1] == MarketEvent.BuyOrderCompleted
    assert rec.events[-1][1].base_asset_amount == Decimal("0.4")
    assert "did not arrive on time" in caplog.text


def test_sell_order_events_and_cache_bound(env):
    tracker, rec, _, _ = env
    tracker.CACHE_SIZE = 3
    for i in range(5):
        tracker.start_tracking_order(order(f"s{i}", side=TradeType.SELL))
        tracker.process_order_update(upd(OrderState.OPEN, f"s{i}", f"es{i}"))
        tracker.process_order_update(upd(OrderState.CANCELED, f"s{i}", f"es{i}"))
    assert MarketEvent.SellOrderCreated in rec.tags()
    assert len(tracker.cached_orders) == 3 and "s4" in tracker.cached_orders


def test_overfill_from_exchange_is_still_recorded_and_announced(env, caplog):
    tracker, rec, store, _ = env
    tracker.start_tracking_order(order())
    tracker.process_order_update(upd(OrderState.OPEN))
    assert tracker.process_trade_update(trade(1, "0.6"))
    assert tracker.process_trade_update(trade(2, "0.6"))      # exceeds the amount: kept anyway
    assert not tracker.process_trade_update(trade(2, "0.6"))
    assert [f["trade_id"] for f in store.fills()] == ["1", "2"]
    assert rec.tags().count(MarketEvent.OrderFilled) == 2
    assert "does not fit order" in caplog.text
