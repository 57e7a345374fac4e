"""Binance's exact text for depth data, from integer ticks (0.01) and steps (0.00001).

Binance spot prints BTCUSDT prices and quantities with 8 decimals ("60000.01000000",
"0.00120000"; a removed level is "0.00000000"); these helpers produce exactly that, byte for byte.
"""
from __future__ import annotations

from typing import Iterable, List, Tuple

from .generator import GeneratedEvent, Level

TICKS_PER_UNIT = 100          # price tick 0.01
STEPS_PER_UNIT = 100_000      # quantity step 0.00001
PRINTED_DECIMALS = 8


def price_text(ticks: int) -> str:
    whole, frac = divmod(ticks, TICKS_PER_UNIT)
    return f"{whole}.{frac:02d}000000"


def qty_text(steps: int) -> str:
    whole, frac = divmod(steps, STEPS_PER_UNIT)
    return f"{whole}.{frac:05d}000"


_PRICE_JSON: dict = {}     # price ticks -> '["60000.01000000","' (prices recur: format each once)


def _levels_json(levels: Iterable[Level]) -> str:
    parts = []
    for price, qty in levels:
        head = _PRICE_JSON.get(price)
        if head is None:
            if len(_PRICE_JSON) > 1_000_000:
                _PRICE_JSON.clear()
            head = _PRICE_JSON[price] = f'["{price_text(price)}","'
        whole, frac = divmod(qty, STEPS_PER_UNIT)
        parts.append(f'{head}{whole}.{frac:05d}000"]')
    return ",".join(parts)


def snapshot_body(last_update_id: int, bids: List[Level], asks: List[Level]) -> bytes:
    """REST `GET /api/v3/depth` answer: {"lastUpdateId":N,"bids":[[p,q],..],"asks":[..]}."""
    return (f'{{"lastUpdateId":{last_update_id},"bids":[{_levels_json(bids)}],'
            f'"asks":[{_levels_json(asks)}]}}').encode()


def depth_frame(event: GeneratedEvent, symbol: str, *, futures: bool = False,
                transaction_time_ms: int = 0) -> bytes:
    """One `depthUpdate` WebSocket text frame: spot (e,E,s,U,u,b,a) or futures (e,E,T,s,U,u,pu,b,a)."""
    if futures:
        return (f'{{"e":"depthUpdate","E":{event.event_time_ms},"T":{transaction_time_ms},'
                f'"s":"{symbol}","U":{event.first_update_id},"u":{event.last_update_id},'
                f'"pu":{event.previous_update_id},"b":[{_levels_json(event.bids)}],'
                f'"a":[{_levels_json(event.asks)}]}}').encode()
    return (f'{{"e":"depthUpdate","E":{event.event_time_ms},"s":"{symbol}",'
            f'"U":{event.first_update_id},"u":{event.last_update_id},'
            f'"b":[{_levels_json(event.bids)}],"a":[{_levels_json(event.asks)}]}}').encode()


def combined_envelope(frame: bytes, stream: str) -> bytes:
    """Wrap a payload as a combined-stream message: {"stream":"<name>","data":<payload>}."""
    return b'{"stream":"' + stream.encode() + b'","data":' + frame + b"}"


def depth_stream_name(symbol: str) -> str:
    return f"{symbol.lower()}@depth@100ms"


def scaled(levels: Iterable[Level], price_factor: int, qty_factor: int) -> List[Tuple[int, int]]:
    return [(p * price_factor, q * qty_factor) for p, q in levels]
