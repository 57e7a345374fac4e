"""Orders modified on the exchange (PUT /fapi/v1/order, e.g. from the web UI or another client):
the tracked order follows the new price and quantity (mixin of BinancePerpetualDerivative).

Why it matters: completion is decided by fills adding up to the order's amount. With a stale
amount, a raised quantity would complete the order early and leave its remainder resting
untracked; a lowered one would leave the order waiting for fills that never come.

InFlightOrder's price and amount are read-only, so the order is rebuilt from its own exact JSON
state (fills, fees, state, leverage, position kept) with the new values and re-tracked under the
same client id. Sources: ORDER_TRADE_UPDATE with execution type AMENDMENT (``q``, ``p``) and the
order status poll (``origQty``, ``price``) for amendments missed during a stream outage.
"""
from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

__all__ = ["OrderAmendmentsMixin"]

_log = logging.getLogger("exconnect.binance_perpetual.binance_perpetual_derivative")


def _decimal(value: Any) -> Optional[Decimal]:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return d if d.is_finite() and d > 0 else None


class OrderAmendmentsMixin:
    def _apply_amendment(self, order, o: dict) -> None:
        """From an ORDER_TRADE_UPDATE x=AMENDMENT."""
        self._apply_order_amendment(order, _decimal(o.get("q")), _decimal(o.get("p")), "amendment event")

    def _apply_order_amendment(self, order, amount: Optional[Decimal], price: Optional[Decimal],
                               source: str) -> bool:
        """Re-track ``order`` with the exchange's amount/price if they differ; True if applied."""
        if amount is None:
            return False
        if order.price is None or order.price.is_nan():
            price = None            # a MARKET order has no price of its own to follow
        same_price = price is None or price == order.price
        if amount == order.amount and same_price:
            return False
        cid = order.client_order_id
        change = f"amount {order.amount} -> {amount}, price {order.price} -> {price if price is not None else order.price}"
        if self._order_tracker.active_orders.get(cid) is not order or cid in self._orders_being_placed:
            # Not ours to rebuild right now (finished, lost, or its placement still running): fills
            # stay exact (per trade); the status poll tries again while the order is tracked.
            _log.warning("Order %s was modified on the exchange (%s, from %s) but could not be updated "
                         "locally now; fills are still counted per trade.", cid, change, source)
            return False
        if amount < order.executed_amount_base:
            _log.error("Order %s modified on the exchange to amount %s below its executed %s (%s); "
                       "keeping amount %s.", cid, amount, order.executed_amount_base, source, order.amount)
            return False
        data = order.to_json()
        data["amount"] = str(amount)
        if price is not None:
            data["price"] = str(price)
        amended = type(order).from_json(data)
        self._order_tracker.start_tracking_order(amended)      # same client id: replaces and saves
        _log.info("Order %s was modified on the exchange (%s, from %s).", cid, change, source)
        return True
