"""USDⓈ-M WebSocket routes on the futures port.

Binance split futures streams into ``/public``, ``/market`` and ``/private`` routes (2026-04-23) and
retired the unrouted ``/ws`` and ``/stream``; clients in the wild use all of them (python-binance
sends depth to ``/market``, older clients use no route). The simulator is lenient, as the protocol
notes recommend: every route — and the legacy unrouted paths — serves every market stream and
every listen key:

* ``<route>/ws`` (then SUBSCRIBE), ``<route>/ws/<stream>[/<stream>...]``, ``<route>/ws/<n>`` (ccxt),
  ``<route>/ws/<listenKey>``, ``<route>/ws?listenKey=<k>``;
* ``<route>/stream?streams=a/b`` and ``<route>/stream?listenKey=<k>`` (combined envelopes).
"""
from __future__ import annotations

from .ws_streams import stream_handler

ROUTES = ("", "/public", "/market", "/private")


def install(venue) -> None:
    sim = venue.sim
    router = sim.futures_app.router
    is_key = venue.users.is_listen_key
    raw = stream_handler(sim, venue.hub, combined=False, is_listen_key=is_key)
    combined = stream_handler(sim, venue.hub, combined=True, is_listen_key=is_key)
    for prefix in ROUTES:
        router.add_get(prefix + "/ws", raw)
        router.add_get(prefix + "/ws/{tail:.*}", raw)
        router.add_get(prefix + "/stream", combined)
        router.add_get(prefix + "/stream/{tail:.*}", combined)
