"""Position mode and leverage of a Binance USDⓈ-M account (mixin of BinancePerpetualDerivative).

Both are the exchange's settings: a change is sent, and only the exchange's confirmation changes
the local value. Outcomes are reported as Hummingbot does (PositionModeChangeSucceeded/Failed per
trading pair; log lines for leverage) and returned as ``(success, message)`` by the tasks that
``set_position_mode`` / ``set_leverage`` return.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Tuple

from exconnect.connector.web import RequestRejected
from exconnect.events import AccountEvent, PositionModeChangeEvent
from exconnect.types import PositionMode

from . import binance_perpetual_constants as CONSTANTS

__all__ = ["AccountConfigMixin"]

_log = logging.getLogger("exconnect.binance_perpetual.binance_perpetual_derivative")


class AccountConfigMixin:
    # ------------------------------------------------------------------ position mode
    async def _initialize_position_mode(self) -> None:
        if self._position_mode_initialized:
            return
        try:
            answer = await self._api_get(CONSTANTS.POSITION_MODE_PATH, is_auth_required=True)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            _log.warning("Could not fetch position mode from exchange. Using default. (%s)", e)
            return
        self._perpetual.set_position_mode(PositionMode.HEDGE if answer.get("dualSidePosition") else PositionMode.ONEWAY)
        self._position_mode_initialized = True

    def set_position_mode(self, mode: PositionMode) -> asyncio.Task:
        """Switch ONEWAY/HEDGE; the task's result is (success, message), events are emitted per pair."""
        return self._spawn(self._execute_set_position_mode(mode))

    async def _execute_set_position_mode(self, mode: Any) -> Tuple[bool, str]:
        if not isinstance(mode, PositionMode) or mode not in self.supported_position_modes():
            msg = f"Position mode {mode} is not supported. Mode not set."
            _log.error(msg)
            self._position_mode_events(False, mode, msg)
            return False, msg
        if not self._trading_pairs:
            msg = "No trading pairs configured; position mode not set."
            _log.warning(msg)
            return False, msg
        if self._position_mode_initialized and mode is self.position_mode:
            self._position_mode_events(True, mode, "")
            return True, ""
        try:
            answer = await self._api_post(CONSTANTS.POSITION_MODE_PATH,
                                          {"dualSidePosition": "true" if mode is PositionMode.HEDGE else "false"},
                                          is_auth_required=True)
            ok = isinstance(answer, dict) and answer.get("code") == 200
            msg = "" if ok else f"unexpected answer {answer!r}"
        except asyncio.CancelledError:
            raise
        except RequestRejected as e:
            ok = e.code == CONSTANTS.NO_NEED_TO_CHANGE_POSITION_SIDE     # already in that mode
            msg = "" if ok else str(e.msg or e)
        except Exception as e:
            ok, msg = False, f"outcome unknown ({type(e).__name__}: {e}); position mode will be re-read"
            self._position_mode_initialized = False
        if ok:
            self._perpetual.set_position_mode(mode)
            self._position_mode_initialized = True
            _log.info("Position mode switched to %s.", mode)
        else:
            _log.error("Failed to set position mode to %s: %s", mode, msg)
        self._position_mode_events(ok, mode, msg)
        return ok, msg

    def _position_mode_events(self, ok: bool, mode: Any, msg: str) -> None:
        tag = AccountEvent.PositionModeChangeSucceeded if ok else AccountEvent.PositionModeChangeFailed
        for pair in self._trading_pairs:
            self.trigger_event(tag, PositionModeChangeEvent(self.current_timestamp, pair, mode, msg or None))

    # ------------------------------------------------------------------ leverage
    def set_leverage(self, trading_pair: str, leverage: int = 1) -> asyncio.Task:
        """Set leverage on the exchange; the task's result is (success, message)."""
        return self._spawn(self._execute_set_leverage(trading_pair, leverage))

    async def _max_leverage(self, trading_pair: str) -> int:
        answer = await self._api_get(CONSTANTS.LEVERAGE_BRACKET_PATH,
                                     {"symbol": self.exchange_symbol_associated_to_pair(trading_pair)},
                                     is_auth_required=True)
        entry = answer[0] if isinstance(answer, list) else answer
        return max(int(b["initialLeverage"]) for b in entry["brackets"])

    async def _execute_set_leverage(self, trading_pair: str, leverage: Any) -> Tuple[bool, str]:
        msg = ""
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            msg = f"leverage must be a positive integer, got {leverage!r}"
        elif trading_pair not in self._trading_pairs:
            msg = f"{trading_pair} is not a trading pair of this connector"
        if not msg:
            try:
                cap = await self._max_leverage(trading_pair)
                if leverage > cap:
                    msg = f"leverage {leverage} is above the maximum {cap} for {trading_pair}"
                else:
                    answer = await self._api_post(CONSTANTS.LEVERAGE_PATH, {
                        "symbol": self.exchange_symbol_associated_to_pair(trading_pair), "leverage": leverage},
                        is_auth_required=True)
                    if int(answer.get("leverage", 0)) != leverage:
                        msg = "Unable to set leverage"
            except asyncio.CancelledError:
                raise
            except RequestRejected as e:
                msg = str(e.msg or e)
            except Exception as e:
                msg = f"{type(e).__name__}: {e}"
        if msg:
            _log.error("Error setting leverage %s for %s: %s", leverage, trading_pair, msg)
            return False, msg
        self._perpetual.set_leverage(trading_pair, leverage)
        _log.info("Leverage for %s successfully set to %s.", trading_pair, leverage)
        return True, ""
