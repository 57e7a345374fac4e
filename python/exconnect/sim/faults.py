"""Fault injection: switches set from the config at start and flipped at run time by tests.

``sim.faults`` is one FaultInjector shared by the spot and futures venues. Rates are
probabilities drawn from a RNG seeded with the config seed (so a run is reproducible); the
``*_next(n)`` methods are deterministic one-shots for tests ("the next 2 REST calls time out").

REST faults apply to every REST path containing ``rest_fault_path`` (default: all paths) and, if
``rest_fault_method`` is set, only to requests of that HTTP method.
"""
from __future__ import annotations

import random

from .clock import Clock
from .config import FaultConfig


class FaultInjector:
    def __init__(self, cfg: FaultConfig, clock: Clock, seed: int = 0):
        self._clock = clock
        self._rng = random.Random(seed ^ 0x5EED)
        self.rest_delay_ms = cfg.rest_delay_ms
        #: delay REST answers *after* executing (user-stream events then beat the REST ack)
        self.response_delay_ms = cfg.response_delay_ms
        self.rest_error_rate = cfg.rest_error_rate
        self.rest_timeout_rate = cfg.rest_timeout_rate
        self.order_503_but_placed_rate = cfg.order_503_but_placed_rate
        self.duplicate_user_events_rate = cfg.duplicate_user_events_rate
        self.reorder_user_events = cfg.reorder_user_events
        self.rest_error_status = 503
        self.rest_error_body = {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}
        self.rest_fault_path = ""
        #: restrict REST faults to this HTTP method ("" = any), e.g. "DELETE" for cancels only
        self.rest_fault_method = ""
        self.clock_skew_ms = cfg.clock_skew_ms
        #: futures leverage changes are answered 200 with this leverage and not applied (None = off)
        self.leverage_answer = cfg.leverage_answer
        self._leverage_answer_next: list = []
        self.user_trades_without_fee = cfg.user_trades_without_fee
        self._bad_user_frames: list = []
        self._user_fee_strip_next = 0
        self._rest_errors_next = 0
        self._rest_timeouts_next = 0
        self._order_503_next = 0
        self._dup_next = 0
        self._reorder_next = 0
        self._hubs = []
        self._depth_publishers = []

    # -- wiring (server) -------------------------------------------------------------------------
    def register_hub(self, hub) -> None:
        self._hubs.append(hub)

    def register_depth_publisher(self, publisher) -> None:
        self._depth_publishers.append(publisher)

    # -- clock -----------------------------------------------------------------------------------
    @property
    def clock_skew_ms(self) -> int:
        return self._clock.skew_ms

    @clock_skew_ms.setter
    def clock_skew_ms(self, value: int) -> None:
        """Shift the exchange's clock (server time, recvWindow checks, event times) by ``value`` ms."""
        self._clock.skew_ms = int(value)

    @property
    def rest_delay(self) -> float:
        """REST answer delay in seconds (contract name; ``rest_delay_ms`` is the same switch in ms)."""
        return self.rest_delay_ms / 1000

    @rest_delay.setter
    def rest_delay(self, seconds: float) -> None:
        self.rest_delay_ms = int(seconds * 1000)

    # -- WebSocket -------------------------------------------------------------------------------
    def drop_ws(self, kind: str | None = None) -> int:
        """Abort live WebSocket connections (``kind``: "market", "user", "api" or all); returns count."""
        return sum(h.drop_all(kind) for h in self._hubs)

    def server_shutdown(self, close_after_s: float | None = None) -> int:
        """Announce ``serverShutdown`` on every WebSocket (market: bare or ``!serverShutdown`` on
        combined connections; WS API: ``{"event": {...}}``), then abort them after ``close_after_s``."""
        import asyncio
        n = 0
        for hub in self._hubs:
            for conn in list(hub.connections):
                ev = {"e": "serverShutdown", "E": self._clock.now_ms()}
                if conn.kind == "api":
                    conn.send_json({"event": ev})
                elif conn.combined:
                    conn.send_json({"stream": "!serverShutdown", "data": ev})
                else:
                    conn.send_json(ev)
                n += 1
                if close_after_s is not None:
                    asyncio.get_running_loop().call_later(close_after_s, conn.abort)
        return n

    def depth_gap(self, symbol: str) -> None:
        """Drop the next diff-depth batch of ``symbol`` on every depth stream (U jumps past u+1)."""
        for p in self._depth_publishers:
            p.inject_gap(symbol.upper())

    # -- REST ------------------------------------------------------------------------------------
    def rest_errors_next(self, n: int = 1, status: int = 503, code: int = -1001,
                         msg: str = "Internal error; unable to process your request. Please try again.") -> None:
        """The next ``n`` REST calls (matching ``rest_fault_path``) are answered with HTTP ``status``
        and ``{"code": code, "msg": msg}`` and not executed (also 4xx, e.g. 400/-1021 or 401/-2015)."""
        self._rest_errors_next += n
        self.rest_error_status = status
        self.rest_error_body = {"code": code, "msg": msg}

    def rest_timeouts_next(self, n: int = 1) -> None:
        """The next ``n`` REST calls are never answered (the client times out); not executed."""
        self._rest_timeouts_next += n

    def order_503_but_placed_next(self, n: int = 1) -> None:
        """The next ``n`` order placements are executed but answered 503 'Unknown error...'."""
        self._order_503_next += n

    def rest_fault(self, path: str, method: str = "") -> str | None:
        """Called per REST request: None, "timeout" or "error"."""
        if self.rest_fault_path and self.rest_fault_path not in path:
            return None
        if self.rest_fault_method and method and self.rest_fault_method.upper() != method.upper():
            return None
        if self._rest_timeouts_next:
            self._rest_timeouts_next -= 1
            return "timeout"
        if self._rest_errors_next:
            self._rest_errors_next -= 1
            return "error"
        if self.rest_timeout_rate and self._rng.random() < self.rest_timeout_rate:
            return "timeout"
        if self.rest_error_rate and self._rng.random() < self.rest_error_rate:
            return "error"
        return None

    def order_503_but_placed(self) -> bool:
        if self._order_503_next:
            self._order_503_next -= 1
            return True
        return bool(self.order_503_but_placed_rate) and self._rng.random() < self.order_503_but_placed_rate

    def wrong_leverage_answer_next(self, n: int = 1, leverage: int = 0) -> None:
        """The next ``n`` futures leverage changes are answered HTTP 200 ``{"leverage": leverage, ...}``
        (not the requested value) and not applied."""
        self._leverage_answer_next.extend([int(leverage)] * n)

    def leverage_answer_for(self, requested: int) -> int | None:
        """Called per futures leverage change: the leverage to answer instead of ``requested``
        (the change is then not applied), or None to execute normally."""
        if self._leverage_answer_next:
            return self._leverage_answer_next.pop(0)
        return self.leverage_answer

    # -- user stream -----------------------------------------------------------------------------
    def duplicate_user_events_next(self, n: int = 1) -> None:
        """The next ``n`` user-stream events are each delivered twice."""
        self._dup_next += n

    def reorder_user_events_next(self, n: int = 1) -> None:
        """The next ``n`` user-stream events are each held back and delivered after the one after."""
        self._reorder_next += n

    #: ready-made bad frames for :meth:`bad_user_frames_next` (``E`` is filled in at delivery)
    BAD_USER_FRAMES = {
        "not_json": '{"e": "ORDER_TRADE_UPDATE", "o": {',      # truncated: not JSON
        "not_object": '["ORDER_TRADE_UPDATE"]',                # JSON, but not an event object
        "empty": "",                                           # empty text frame
        "empty_object": {},
        "order_update_without_order": {"e": "ORDER_TRADE_UPDATE"},            # no "o"
        "order_update_missing_fields": {"e": "ORDER_TRADE_UPDATE", "o": {"s": "BTCUSDT", "x": "TRADE"}},
        "account_update_missing_fields": {"e": "ACCOUNT_UPDATE", "a": {"B": [{"a": "USDT"}], "P": [{"s": "BTCUSDT"}]}},
        "margin_call_unknown_symbol": {"e": "MARGIN_CALL", "cw": "1", "p": [
            {"s": "BTCUSDT_230331", "ps": "LONG", "pa": "1", "mt": "CROSSED", "iw": "0", "mp": "1",
             "up": "-1", "mm": "1"}]},
    }

    def bad_user_frames_next(self, *frames) -> None:
        """Deliver these frames on the user streams (listen keys, WebSocket API) of the account of the next user
        event, just before that event (spot or futures, whichever emits first). A frame is raw text (sent verbatim, e.g. not JSON),
        a dict (JSON-encoded; ``"E"`` added when missing) or a name from :attr:`BAD_USER_FRAMES`."""
        for f in frames:
            if isinstance(f, str) and f in self.BAD_USER_FRAMES:
                f = self.BAD_USER_FRAMES[f]
            self._bad_user_frames.append(f)

    def take_bad_user_frames(self) -> list:
        frames, self._bad_user_frames = self._bad_user_frames, []
        return frames

    def user_trades_without_fee_next(self, n: int = 1) -> None:
        """The next ``n`` trade events on the user streams are sent without ``n``/``N`` (commission)."""
        self._user_fee_strip_next += n

    def strip_user_fee(self) -> bool:
        """Called per user-stream trade event: drop its commission fields?"""
        if self._user_fee_strip_next:
            self._user_fee_strip_next -= 1
            return True
        return self.user_trades_without_fee

    def duplicate_user_event(self) -> bool:
        if self._dup_next:
            self._dup_next -= 1
            return True
        return bool(self.duplicate_user_events_rate) and self._rng.random() < self.duplicate_user_events_rate

    def reorder_user_event(self) -> bool:
        if self._reorder_next:
            self._reorder_next -= 1
            return True
        return self.reorder_user_events and self._rng.random() < 0.5

    def clear(self) -> None:
        """Switch every fault off."""
        self.rest_delay_ms = 0
        self.response_delay_ms = 0
        self.rest_error_rate = self.rest_timeout_rate = self.order_503_but_placed_rate = 0.0
        self.duplicate_user_events_rate = 0.0
        self.reorder_user_events = False
        self.rest_fault_path = ""
        self.rest_fault_method = ""
        self.clock_skew_ms = 0
        self.leverage_answer = None
        self._leverage_answer_next.clear()
        self.user_trades_without_fee = False
        self._bad_user_frames.clear()
        self._user_fee_strip_next = 0
        self._rest_errors_next = self._rest_timeouts_next = self._order_503_next = 0
        self._dup_next = self._reorder_next = 0
