"""Client order tracker: the one place where order state changes turn into events.

Orders live in one of three sets:

* ``active_orders`` — tracked in-flight orders (from before the placing request is sent);
* ``cached_orders`` — recently finished orders, kept for ``CACHE_TTL`` seconds (at most
  ``CACHE_SIZE``) so that a fill arriving after a cancel/complete is still attributed;
* ``lost_orders`` — orders the exchange reported "not found" more than ``lost_order_count_limit``
  times. They are marked FAILED (one failure event) but still polled, so a late fill is recorded
  and a final status removes them silently.

Every change is persisted (tracking state + fill in one sqlite transaction) *before* the event is
triggered. A fill is recorded and announced exactly once whatever channel delivers it first.
An order completes (Buy/SellOrderCompletedEvent) the moment its recorded fills add up to its
amount. A FILLED status that arrives before the fills is not acted on: the connector is asked to
fetch the missing trades (``on_fills_missing``), so the Completed event always follows every
OrderFilledEvent of the order.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

from exconnect.events import (BuyOrderCompletedEvent, BuyOrderCreatedEvent, MarketEvent,
                              MarketOrderFailureEvent, OrderCancelledEvent, OrderExpiredEvent,
                              OrderFilledEvent, SellOrderCompletedEvent, SellOrderCreatedEvent)
from exconnect.types import OrderState, OrderUpdate, TradeType, TradeUpdate

if TYPE_CHECKING:  # pragma: no cover
    from exconnect.native.in_flight_order import InFlightOrder
    from .persistence import ConnectorStore

__all__ = ["ClientOrderTracker"]

_log = logging.getLogger(__name__)

_TERMINAL = (OrderState.CANCELED, OrderState.FILLED, OrderState.FAILED, OrderState.EXPIRED)
_LIVE_OR_FILLED = (OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.PENDING_CANCEL, OrderState.FILLED)


class ClientOrderTracker:
    CACHE_TTL = 30.0
    CACHE_SIZE = 1000

    def __init__(self, *, trigger_event: Callable[[Any, Any], None], current_timestamp: Callable[[], float],
                 store: Optional["ConnectorStore"] = None, lost_order_count_limit: int = 3,
                 on_fills_missing: Optional[Callable[["InFlightOrder"], None]] = None,
                 exchange_name: str = "") -> None:
        self._trigger = trigger_event
        self._now = current_timestamp
        self._store = store
        self._lost_limit = lost_order_count_limit
        self._on_fills_missing = on_fills_missing
        self._exchange_name = exchange_name
        self.active_orders: Dict[str, "InFlightOrder"] = {}
        self.lost_orders: Dict[str, "InFlightOrder"] = {}
        self._cached: "OrderedDict[str, Tuple[float, InFlightOrder]]" = OrderedDict()
        self._not_found: Dict[str, int] = {}
        self._filled_pending: set = set()   # FILLED reported, fills not all in yet
        # exchange order id -> client order id for every order seen this session (bounded), so
        # that trades of finished orders can still be attributed by the trade poll.
        self._exchange_to_client: "OrderedDict[str, str]" = OrderedDict()

    # -------------------------------------------------------------------------------- lookups
    @property
    def cached_orders(self) -> Dict[str, "InFlightOrder"]:
        self._expire_cache()
        return {k: v for k, (_, v) in self._cached.items()}

    @property
    def all_fillable_orders(self) -> Dict[str, "InFlightOrder"]:
        out = dict(self.cached_orders)
        out.update(self.lost_orders)
        out.update(self.active_orders)
        return out

    @property
    def all_updatable_orders(self) -> Dict[str, "InFlightOrder"]:
        out = dict(self.lost_orders)
        out.update(self.active_orders)
        return out

    @property
    def current_not_found_counts(self) -> Dict[str, int]:
        return dict(self._not_found)

    def not_found_count(self, client_order_id: str) -> int:
        return self._not_found.get(client_order_id, 0)

    def _expire_cache(self) -> None:
        now = time.monotonic()
        cached = self._cached
        while cached:
            key, (expiry, _) = next(iter(cached.items()))
            if expiry > now and len(cached) <= self.CACHE_SIZE:
                break
            cached.popitem(last=False)

    def remember_exchange_order_id(self, exchange_order_id: Optional[str], client_order_id: str) -> None:
        if exchange_order_id:
            m = self._exchange_to_client
            m[str(exchange_order_id)] = client_order_id
            if len(m) > 20000:
                m.popitem(last=False)

    def client_order_id_for(self, exchange_order_id: str) -> Optional[str]:
        return self._exchange_to_client.get(str(exchange_order_id))

    def fetch_tracked_order(self, client_order_id: str) -> Optional["InFlightOrder"]:
        return self.active_orders.get(client_order_id)

    def fetch_cached_order(self, client_order_id: str) -> Optional["InFlightOrder"]:
        entry = self._cached.get(client_order_id)
        return entry[1] if entry else None

    def fetch_order(self, client_order_id: Optional[str] = None,
                    exchange_order_id: Optional[str] = None) -> Optional["InFlightOrder"]:
        if client_order_id:
            order = (self.active_orders.get(client_order_id) or self.lost_orders.get(client_order_id)
                     or self.fetch_cached_order(client_order_id))
            if order is not None:
                return order
        if exchange_order_id:
            cid = self._exchange_to_client.get(str(exchange_order_id))
            if cid is not None and cid != client_order_id:
                return self.fetch_order(cid)
            for order in (*self.active_orders.values(), *self.lost_orders.values()):
                if order.exchange_order_id is not None and order.exchange_order_id == str(exchange_order_id):
                    return order
        return None

    # ------------------------------------------------------------------------------ tracking
    def start_tracking_order(self, order: "InFlightOrder", new_order: bool = False) -> None:
        """Track (or replace) an order and save it. ``new_order``: placed by ``buy``/``sell``, on the
        tick-to-order path — saved by one journal append instead of a sqlite commit (persistence.py).
        Only an id not tracked already takes that path: a journaled state counts as older than any
        sqlite row of the same id."""
        cid = order.client_order_id
        # saved first: if the write fails (disk full) the error reaches the caller and nothing is
        # tracked, rather than an order tracked in memory that was never saved nor sent
        if new_order and self._store is not None and cid not in self.active_orders and cid not in self.lost_orders:
            self._store.journal_order(cid, order.to_json())
        else:
            self._save(order)
        self.active_orders[cid] = order
        self.remember_exchange_order_id(order.exchange_order_id, cid)

    def stop_tracking_order(self, client_order_id: str, cache: bool = True) -> None:
        """Untrack; ``cache`` keeps it findable for late fills for CACHE_TTL seconds."""
        order = self.active_orders.pop(client_order_id, None)
        if order is None:
            order = self.lost_orders.pop(client_order_id, None)
        self._not_found.pop(client_order_id, None)
        self._filled_pending.discard(client_order_id)
        if order is not None and cache:
            self._cached[client_order_id] = (time.monotonic() + self.CACHE_TTL, order)
            self._expire_cache()
        if self._store is not None:
            self._store.remove_order(client_order_id)

    def _save(self, order: "InFlightOrder") -> None:
        if self._store is not None:
            self._store.save_order(order.client_order_id, order.to_json())

    @property
    def tracking_states(self) -> Dict[str, Any]:
        states = {cid: o.to_json() for cid, o in self.lost_orders.items()}
        states.update({cid: o.to_json() for cid, o in self.active_orders.items()})
        return states

    def restore_tracking_states(self, tracking_states: Dict[str, Any], order_factory: Callable[[Dict[str, Any]], "InFlightOrder"]) -> int:
        """Re-track saved orders: open ones as active, FAILED ones as lost; done ones are ignored."""
        restored = 0
        for cid, data in tracking_states.items():
            try:
                order = order_factory(data)
            except Exception:
                _log.exception("Could not restore saved order %s; skipping it", cid)
                continue
            state = order.current_state
            if state == OrderState.FAILED:
                self.lost_orders[order.client_order_id] = order
            elif state in _TERMINAL:
                continue
            else:
                self.active_orders[order.client_order_id] = order
            self.remember_exchange_order_id(order.exchange_order_id, order.client_order_id)
            for trade in order.order_fills.values():
                self.remember_exchange_order_id(getattr(trade, "exchange_order_id", None), order.client_order_id)
            restored += 1
        return restored

    # ----------------------------------------------------------------------------- updates
    def process_order_update(self, update: OrderUpdate) -> None:
        if not update.client_order_id and not update.exchange_order_id:
            _log.error("OrderUpdate does not contain any client_order_id or exchange_order_id %s", update)
            return
        order = self.fetch_order(update.client_order_id, update.exchange_order_id)
        if order is None or order.client_order_id not in self.active_orders and order.client_order_id not in self.lost_orders:
            _log.debug("Order is not/no longer being tracked (%s)", update)
            return
        cid = order.client_order_id
        if update.exchange_order_id:
            self.remember_exchange_order_id(update.exchange_order_id, cid)
        if cid in self.lost_orders:
            self._process_lost_order_update(order, update)
            return

        self._not_found.pop(cid, None)
        new_state = update.new_state
        prev_state = order.current_state

        if new_state == OrderState.FILLED and not order.is_fully_executed:
            # Fills not all in yet: remember, ask for them, act when they are (or on give-up).
            if update.exchange_order_id and order.exchange_order_id is None:
                self._apply(order, update._replace(new_state=OrderState.OPEN))
                self._maybe_created_event(order, prev_state)
            if cid not in self._filled_pending:
                self._filled_pending.add(cid)
                if self._on_fills_missing is not None:
                    self._on_fills_missing(order)
            return

        changed = self._apply(order, update)
        if not changed:
            return
        self._maybe_created_event(order, prev_state)
        state = order.current_state
        if state == OrderState.FILLED:
            self._complete(order)
        elif state == OrderState.CANCELED:
            self._save(order)
            _log.info("Successfully canceled order %s.", cid)
            self.stop_tracking_order(cid)
            self._trigger(MarketEvent.OrderCancelled,
                          OrderCancelledEvent(self._now(), cid, order.exchange_order_id))
        elif state == OrderState.FAILED:
            self._save(order)
            _log.info("Order %s has failed. Order Update: %s", cid, update)
            self.stop_tracking_order(cid)
            misc = update.misc_updates or {}
            self._trigger(MarketEvent.OrderFailure,
                          MarketOrderFailureEvent(self._now(), cid, order.order_type,
                                                  misc.get("error_message"), misc.get("error_type")))
        elif state == OrderState.EXPIRED:
            self._save(order)
            _log.info("Order %s has expired. Order Update: %s", cid, update)
            self.stop_tracking_order(cid)
            self._trigger(MarketEvent.OrderExpired, OrderExpiredEvent(self._now(), cid))
        else:
            self._save(order)

    def _apply(self, order: "InFlightOrder", update: OrderUpdate) -> bool:
        if update.client_order_id is None or update.client_order_id != order.client_order_id:
            update = update._replace(client_order_id=order.client_order_id)
        try:
            return order.update_with_order_update(update)
        except Exception:
            _log.exception("Could not apply %s to order %s", update, order.client_order_id)
            return False

    def _maybe_created_event(self, order: "InFlightOrder", prev_state: OrderState) -> None:
        if prev_state != OrderState.PENDING_CREATE or order.current_state not in _LIVE_OR_FILLED:
            return
        self._save(order)
        is_buy = order.trade_type == TradeType.BUY
        cls = BuyOrderCreatedEvent if is_buy else SellOrderCreatedEvent
        _log.info("Created %s %s order %s for %s %s at %s.", order.order_type.name,
                  order.trade_type.name, order.client_order_id, order.amount, order.trading_pair, order.price)
        self._trigger(MarketEvent.BuyOrderCreated if is_buy else MarketEvent.SellOrderCreated,
                      cls(self._now(), order.order_type, order.trading_pair, order.amount, order.price,
                          order.client_order_id, order.creation_timestamp, order.exchange_order_id,
                          order.leverage, order.position))

    def _complete(self, order: "InFlightOrder", incomplete: bool = False) -> None:
        cid = order.client_order_id
        self._save(order)
        self.stop_tracking_order(cid)
        is_buy = order.trade_type == TradeType.BUY
        _log.info("%s order %s completely filled.", order.trade_type.name, cid)
        cls = BuyOrderCompletedEvent if is_buy else SellOrderCompletedEvent
        self._trigger(MarketEvent.BuyOrderCompleted if is_buy else MarketEvent.SellOrderCompleted,
                      cls(self._now(), cid, order.base_asset, order.quote_asset, order.executed_amount_base,
                          order.executed_amount_quote, order.order_type, order.exchange_order_id))

    def force_complete(self, client_order_id: str) -> None:
        """Give up waiting for missing fills of a FILLED order (warns; Hummingbot does the same)."""
        order = self.active_orders.get(client_order_id)
        if order is None or client_order_id not in self._filled_pending:
            return
        _log.warning("The order fill updates did not arrive on time for %s. The complete update will be "
                     "processed with incomplete information.", client_order_id)
        self._filled_pending.discard(client_order_id)
        self._apply(order, OrderUpdate(order.trading_pair, self._now(), OrderState.FILLED, client_order_id))
        self._complete(order, incomplete=True)

    def is_waiting_for_fills(self, client_order_id: str) -> bool:
        return client_order_id in self._filled_pending

    def _process_lost_order_update(self, order: "InFlightOrder", update: OrderUpdate) -> None:
        # A lost order already produced its failure event; a final status just ends tracking.
        if update.new_state in _TERMINAL:
            if update.new_state == OrderState.FILLED and not order.is_fully_executed:
                if self._on_fills_missing is not None and order.client_order_id not in self._filled_pending:
                    self._filled_pending.add(order.client_order_id)
                    self._on_fills_missing(order)
                return
            _log.info("Lost order %s reached final state %s; no longer tracked.", order.client_order_id,
                      update.new_state.name)
            self.stop_tracking_order(order.client_order_id)

    def process_order_not_found(self, client_order_id: str) -> None:
        order = self.active_orders.get(client_order_id)
        if order is None:
            return
        count = self._not_found.get(client_order_id, 0) + 1
        self._not_found[client_order_id] = count
        if count > self._lost_limit:
            _log.warning("The order %s(%s) will be considered lost. Please check its status in the exchange.",
                         client_order_id, order.exchange_order_id)
            self._apply(order, OrderUpdate(order.trading_pair, self._now(), OrderState.FAILED, client_order_id))
            self.active_orders.pop(client_order_id, None)
            self._not_found.pop(client_order_id, None)
            self.lost_orders[client_order_id] = order
            self._save(order)
            self._trigger(MarketEvent.OrderFailure,
                          MarketOrderFailureEvent(self._now(), client_order_id, order.order_type,
                                                  "order not found on the exchange", "OrderNotFound"))

    # ------------------------------------------------------------------------------ trades
    def process_trade_update(self, trade: TradeUpdate) -> bool:
        """Apply one fill; True if it was new (recorded and announced)."""
        order = self.fetch_order(trade.client_order_id, trade.exchange_order_id)
        if order is None:
            _log.debug("Trade for an untracked order ignored: %s", trade)
            return False
        cid = order.client_order_id
        if trade.client_order_id != cid:
            trade = trade._replace(client_order_id=cid)
        tracked = cid in self.active_orders or cid in self.lost_orders
        try:
            applied = order.update_with_trade_update(trade)
        except ValueError as e:   # OverfillError and malformed updates
            # The exchange says this trade happened: the order's totals cannot hold it, but the fill
            # log and the strategy must still see it (inventory truth beats order bookkeeping).
            _log.error("Fill %s does not fit order %s (%s); recording it anyway.", trade.trade_id, cid, e)
            applied, tracked = True, False
        if not applied and self._store is None:
            return False
        is_new = applied
        if self._store is not None:
            # The store decides what is new: after a restart the order may already hold the fill
            # (restored from its saved state) while the log does not, or the other way round.
            fill = dict(trading_pair=order.trading_pair, trade_id=str(trade.trade_id), client_order_id=cid,
                        exchange_order_id=trade.exchange_order_id or order.exchange_order_id,
                        trade_type=order.trade_type.name, price=str(trade.fill_price),
                        amount=str(trade.fill_base_amount), fee=trade.fee.to_json(),
                        fill_timestamp=trade.fill_timestamp)
            is_new = self._store.record_fill_with_state(fill, cid, order.to_json() if tracked else None)
        if not is_new:
            return False
        self.remember_exchange_order_id(trade.exchange_order_id, cid)
        fee = trade.fee
        _log.info("The %s order %s amounting to %s/%s %s has been filled at %s %s.", order.trade_type.name, cid,
                  order.executed_amount_base, order.amount, order.base_asset, trade.fill_price, order.quote_asset)
        self._trigger(MarketEvent.OrderFilled,
                      OrderFilledEvent(self._now() if tracked else trade.fill_timestamp, cid, order.trading_pair,
                                       order.trade_type, order.order_type, trade.fill_price, trade.fill_base_amount,
                                       fee, str(trade.trade_id), order.exchange_order_id or trade.exchange_order_id or "",
                                       order.leverage, order.position))
        if tracked and order.is_fully_executed:
            # All fills are in: complete now (the status saying FILLED may come later or never).
            self._filled_pending.discard(cid)
            if cid in self.lost_orders:
                self.stop_tracking_order(cid)
            else:
                if order.current_state != OrderState.FILLED:
                    self._apply(order, OrderUpdate(order.trading_pair, self._now(), OrderState.FILLED, cid))
                self._complete(order)
        return True
