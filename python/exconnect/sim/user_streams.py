"""Delivery of private (user-data) events to listen-key streams and WebSocket-API subscriptions.

A venue calls :meth:`UserStreams.emit` with an account id and an event dict (``executionReport``,
``outboundAccountPosition``, ``ORDER_TRADE_UPDATE``...). Each event goes to

* every live listen key of the account (legacy flow: published on the hub under the key's name,
  as a bare payload, or wrapped by combined connections), and
* every WebSocket-API subscription of the account, as ``{"subscriptionId": N, "event": {...}}``.

Faults apply here: an event may be delivered twice, or held back and delivered after the next one
(reorder). A held event is flushed after ``REORDER_FLUSH_S`` if nothing follows it, so it is never lost.

Listen keys live ``ttl_s`` (60 min on Binance) unless kept alive; on expiry subscribers get
``{"e":"listenKeyExpired",...}`` and the key stops working.
"""
from __future__ import annotations

import asyncio
import secrets

import orjson

from . import errors

REORDER_FLUSH_S = 0.2


class _ListenKey:
    __slots__ = ("key", "account_id", "expires")

    def __init__(self, key, account_id, expires):
        self.key, self.account_id, self.expires = key, account_id, expires


#: -1125 wording per venue (protocol doc §1 / §2.11)
SPOT_MISSING_KEY = "This listenKey does not exist."
FUTURES_MISSING_KEY = "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`"


class UserStreams:
    def __init__(self, hub, clock, faults, ttl_s: float = 3600.0, missing_key_msg: str = SPOT_MISSING_KEY):
        self.missing_key_msg = missing_key_msg
        self.hub = hub
        self.clock = clock
        self.faults = faults
        self.ttl_s = ttl_s
        self.listen_keys: dict[str, _ListenKey] = {}
        # account_id → {(conn, subscription_id)}
        self.api_subs: dict[int, set] = {}
        self._held: list | None = None
        self._flush_handle = None
        self._expiry_task: asyncio.Task | None = None
        self.events_emitted = 0

    # -- listen keys -----------------------------------------------------------------------------
    def create_listen_key(self, account_id: int) -> str:
        """Binance returns the same key while one is live for the account; a new one otherwise."""
        now = self.clock.monotonic()
        for lk in self.listen_keys.values():
            if lk.account_id == account_id:
                lk.expires = now + self.ttl_s
                return lk.key
        key = secrets.token_urlsafe(45)[:60].replace("-", "A").replace("_", "b")
        self.listen_keys[key] = _ListenKey(key, account_id, now + self.ttl_s)
        return key

    def missing_key(self) -> errors.BinanceError:
        """-1125 in this venue's wording."""
        return errors.BinanceError(-1125, self.missing_key_msg)

    def keepalive(self, key: str | None, account_id: int | None = None) -> None:
        lk = self.listen_keys.get(key or "")
        if lk is None or (account_id is not None and lk.account_id != account_id):
            raise self.missing_key()
        lk.expires = self.clock.monotonic() + self.ttl_s

    def close_listen_key(self, key: str | None, account_id: int | None = None) -> None:
        lk = self.listen_keys.get(key or "")
        if lk is None or (account_id is not None and lk.account_id != account_id):
            raise self.missing_key()
        del self.listen_keys[lk.key]

    def is_listen_key(self, name: str) -> bool:
        return name in self.listen_keys

    def expire_listen_key(self, key: str) -> None:
        """End a key now (also used by tests): subscribers get ``listenKeyExpired``."""
        lk = self.listen_keys.pop(key, None)
        if lk is not None:
            now = self.clock.now_ms()
            self.hub.publish(key, {"e": "listenKeyExpired", "E": now, "listenKey": key})

    def start(self) -> None:
        self._expiry_task = asyncio.get_running_loop().create_task(self._expire_loop())

    async def stop(self) -> None:
        if self._expiry_task:
            self._expiry_task.cancel()
        if self._flush_handle:
            self._flush_handle.cancel()

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = self.clock.monotonic()
            for key in [k for k, lk in self.listen_keys.items() if lk.expires <= now]:
                self.expire_listen_key(key)

    # -- WebSocket API subscriptions -------------------------------------------------------------
    def add_api_subscription(self, account_id: int, conn, subscription_id: int) -> None:
        self.api_subs.setdefault(account_id, set()).add((conn, subscription_id))

    def remove_api_subscription(self, conn, subscription_id: int | None = None) -> list[int]:
        """Remove ``conn``'s subscriptions (one id or all); returns the ids removed."""
        removed = []
        for subs in self.api_subs.values():
            for item in [s for s in subs if s[0] is conn and (subscription_id is None or s[1] == subscription_id)]:
                subs.discard(item)
                removed.append(item[1])
        return removed

    def has_listeners(self, account_id: int) -> bool:
        """Anyone to deliver to? Venues skip building events nobody would receive."""
        if self.api_subs.get(account_id):
            return True
        return any(lk.account_id == account_id for lk in self.listen_keys.values())

    # -- delivery --------------------------------------------------------------------------------
    def emit(self, account_id: int, event: dict) -> None:
        self.events_emitted += 1
        bad = self.faults.take_bad_user_frames()
        if bad:
            now = self.clock.now_ms()
            for frame in bad:
                if isinstance(frame, dict):
                    self.send_raw(account_id, orjson.dumps({"E": now, **frame} if frame else frame).decode(),
                                  wrap=True)
                else:
                    self.send_raw(account_id, frame)
        if _is_trade(event) and self.faults.strip_user_fee():
            event = _without_fee(event)
        if self.faults.reorder_user_event() and self._held is None:
            self._held = [account_id, event]
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(REORDER_FLUSH_S, self._flush_held)
            return
        self._deliver(account_id, event)
        if self.faults.duplicate_user_event():
            self._deliver(account_id, event)
        self._flush_held()

    def send_raw(self, account_id: int, text: str, wrap: bool = False) -> int:
        """Send ``text`` on every listen-key stream and WebSocket-API subscription of the account —
        verbatim, or with ``wrap`` in the subscription envelope on the WebSocket API, as events go
        (fault injection sends malformed frames verbatim); returns the number of streams."""
        n = 0
        for lk in self.listen_keys.values():
            if lk.account_id == account_id and self.hub.has_subscribers(lk.key):
                self.hub.publish(lk.key, text)
                n += 1
        subs = self.api_subs.get(account_id)
        for conn, sid in tuple(subs or ()):
            if conn.closed:
                subs.discard((conn, sid))
                continue
            conn.send('{"subscriptionId":' + str(sid) + ',"event":' + text + "}" if wrap else text)
            n += 1
        return n

    def _flush_held(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            if self._flush_handle:
                self._flush_handle.cancel()
                self._flush_handle = None
            self._deliver(*held)

    def _deliver(self, account_id: int, event: dict) -> None:
        if self.has_listeners(account_id):
            self.send_raw(account_id, orjson.dumps(event).decode(), wrap=True)


def _is_trade(event: dict) -> bool:
    if event.get("e") == "ORDER_TRADE_UPDATE":
        return (event.get("o") or {}).get("x") == "TRADE"
    return event.get("e") == "executionReport" and event.get("x") == "TRADE"


def _without_fee(event: dict) -> dict:
    """A copy of a trade event without its commission fields (``n``, ``N``)."""
    if event.get("e") == "ORDER_TRADE_UPDATE":
        o = {k: v for k, v in event["o"].items() if k not in ("n", "N")}
        return {**event, "o": o}
    return {k: v for k, v in event.items() if k not in ("n", "N")}
