"""Binance USDⓈ-M user data events → orders, fills, positions, balances, leverage (mixin of
BinancePerpetualDerivative). The listener loop and the order-status handling are the spot
connector's (BinanceExchange._user_stream_event_listener / _apply_stream_order_status).
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Dict

from exconnect.types import PositionSide, TradeUpdate

__all__ = ["UserStreamEventsMixin"]

# Executions after which the margin held by open orders changes without an ACCOUNT_UPDATE.
_MARGIN_CHANGING_EXECUTIONS = frozenset({"NEW", "CANCELED", "EXPIRED", "AMENDMENT"})

_log = logging.getLogger("exconnect.binance_perpetual.binance_perpetual_derivative")


class UserStreamEventsMixin:
    def _process_user_stream_event(self, event: Dict[str, Any]) -> None:
        kind = event.get("e")
        if kind == "ORDER_TRADE_UPDATE":
            self._process_order_trade_update(event)
        elif kind == "ACCOUNT_UPDATE":
            self._process_account_update(event)
        elif kind == "ACCOUNT_CONFIG_UPDATE":
            ac = event.get("ac") or {}
            pair = self._trading_pair_symbol_map.get(ac.get("s"))
            if pair is not None and ac.get("l") is not None:
                self._perpetual.set_leverage(pair, int(ac["l"]))
        elif kind == "MARGIN_CALL":
            self._process_margin_call(event)

    def _process_order_trade_update(self, event: Dict[str, Any]) -> None:
        o = event["o"]
        if o.get("x") in _MARGIN_CHANGING_EXECUTIONS:
            # resting / cancelled orders (ours or not) hold / free margin without an ACCOUNT_UPDATE
            self._account_refresher.request()
        tracker = self._order_tracker
        exchange_order_id = str(o["i"])
        order = tracker.fetch_order(o.get("c"), exchange_order_id)
        if order is None:
            return
        self._ensure_created(order, exchange_order_id, event["E"] / 1000.0)
        if o.get("x") == "TRADE":
            # ``l`` is this trade's quantity; ``z`` is the order's cumulative (field bug: z as a fill).
            price, qty = Decimal(o["L"]), Decimal(o["l"])
            tracker.process_trade_update(TradeUpdate(
                str(o["t"]), order.client_order_id, exchange_order_id, order.trading_pair, o["T"] / 1000.0,
                price, qty, price * qty, self._fee(o.get("N"), o.get("n", "0")), not o.get("m", False)))
        if o.get("x") == "AMENDMENT":
            self._apply_amendment(order, o)
            order = tracker.fetch_order(order.client_order_id) or order
        self._apply_stream_order_status(order, exchange_order_id, event["E"], o.get("X"), o.get("z"),
                                        "ORDER_TRADE_UPDATE")

    def _process_account_update(self, event: Dict[str, Any]) -> None:
        a = event.get("a") or {}
        for b in a.get("B", ()):
            # wb is the wallet balance (total). Available margin is not in this event (``cw`` is the
            # cross wallet balance, not what can be used): it is re-read right after (account_refresh).
            self._account_balances[b["a"]] = Decimal(b["wb"])
        if a.get("B"):
            self._balance_events += 1
        # Every reason (ORDER, FUNDING_FEE, DEPOSIT, ...) moves the available margin.
        self._account_refresher.request()
        for p in a.get("P", ()):
            pair = self._trading_pair_symbol_map.get(p.get("s"))
            if pair is None:
                continue
            self._position_events += 1
            self._perpetual.set_position(pair, PositionSide(p["ps"]), Decimal(p["pa"]), Decimal(p["ep"]),
                                         Decimal(p["up"]))
        if a.get("m") == "FUNDING_FEE":
            self._request_funding_payment_update()

    def _process_margin_call(self, event: Dict[str, Any]) -> None:
        """Hummingbot's log lines (USR-08/09); positions of our pairs take the event's amount and PnL,
        entries for other symbols (delivery contracts, pairs we do not trade) are skipped."""
        _log.warning("Margin Call: Your position risk is too high, and you are at risk of liquidation. "
                     "Close your positions or add additional margin to your wallet.")
        required = Decimal(0)
        negative = []
        for p in event.get("p", ()):
            pair = self._trading_pair_symbol_map.get(p.get("s"))
            if pair is None:
                continue
            pos = self._perpetual.get_position(pair, PositionSide(p["ps"]))
            self._position_events += 1
            pnl = Decimal(p["up"])
            if pos is not None:
                pos.update_position(unrealized_pnl=pnl, amount=Decimal(p["pa"]))
            required += Decimal(p.get("mm") or 0)
            if pnl < 0:
                negative.append(f"{pair}: {pnl}, ")
        _log.info("Margin Required: %s. Negative PnL assets: %s.", required, "".join(negative))
