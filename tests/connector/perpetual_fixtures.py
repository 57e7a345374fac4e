"""Fixtures for the perpetual connector tests: a quiet simulator and a connector on its futures port."""
from decimal import Decimal

import pytest

from connector_helpers import EventLog, connector_params, eventually, running  # noqa: F401  (re-exported for the tests)

from exconnect.binance_perpetual import BinancePerpetualDerivative
from exconnect.events import AccountEvent

PAIR = "BTC-USDT"
SYMBOL = "BTCUSDT"


class PerpEventLog(EventLog):
    """EventLog plus the account events (position mode changes)."""

    def __init__(self, connector):
        super().__init__(connector)
        for tag in AccountEvent:
            connector.add_listener(tag, self._make(tag))


def make_perpetual(sim, tmp_path, **kw):
    conn = BinancePerpetualDerivative.from_base_urls(sim.futures_url, **connector_params(tmp_path, **kw))
    conn.event_log = PerpEventLog(conn)
    return conn


@pytest.fixture
def perp_sim(sim):
    """The quiet simulator of conftest.py (the perpetual connector uses its futures port)."""
    return sim


@pytest.fixture
async def perp(perp_sim, tmp_path):
    async with running(make_perpetual(perp_sim, tmp_path)) as conn:
        yield conn


def best(conn, is_buy):
    return conn.get_order_book(PAIR).get_price(is_buy)


async def open_position(conn, sim, side="BUY", amount="0.01", **kw):
    """Rest a LIMIT inside the spread and have an external taker fill it completely."""
    from exconnect.events import MarketEvent
    log = conn.event_log
    created_tag = MarketEvent.BuyOrderCreated if side == "BUY" else MarketEvent.SellOrderCreated
    done_tag = MarketEvent.BuyOrderCompleted if side == "BUY" else MarketEvent.SellOrderCompleted
    n_created, n_done = len(log[created_tag]), len(log[done_tag])
    if side == "BUY":
        oid = conn.buy(PAIR, Decimal(amount), price=best(conn, False) + Decimal("0.1"), **kw)
    else:
        oid = conn.sell(PAIR, Decimal(amount), price=best(conn, True) - Decimal("0.1"), **kw)
    await log.wait_for(created_tag, n_created + 1)
    await sim.futures.take(SYMBOL, "SELL" if side == "BUY" else "BUY", amount)
    await log.wait_for(done_tag, n_done + 1)
    return oid


__all__ = ["PAIR", "SYMBOL", "make_perpetual", "perp_sim", "perp", "best", "open_position", "eventually",
           "order_posts"]


def order_posts(sim):
    """Params of every order POST the simulator received, in order."""
    return [e.get("params", {}) for e in sim.request_log
            if e["method"] == "POST" and e["path"] == "/fapi/v1/order"]
