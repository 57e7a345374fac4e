"""Random order flow through the spot venue; balances must reconcile exactly with the trades."""
import random

import pytest

from exconnect.sim import AccountConfig, Simulator, money
from exconnect.sim.errors import BinanceError
from sim_helpers import make_config

P = money.parse
INITIAL = {"USDT": "200000", "BTC": "3", "ETH": "40"}


def check_invariants(sim):
    venue = sim.spot
    for acct in venue.accounts:
        initial = {a: P(v) for a, v in sim.config.accounts[acct.account_id].balances.items()}
        expected = dict(initial)
        for sym, trades in acct.trades.items():
            info = venue.symbols[sym]
            for t in trades:
                sign = 1 if t.is_buyer else -1
                expected[info.base] = expected.get(info.base, 0) + sign * t.qty
                expected[info.quote] = expected.get(info.quote, 0) - sign * t.quote
                expected[t.commission_asset] -= t.commission
        locks = {}
        for o in acct.orders.values():
            if o.is_open:
                asset = venue.symbols[o.symbol].quote if o.is_buy else venue.symbols[o.symbol].base
                locks[asset] = locks.get(asset, 0) + o.locked
                if o.is_buy:
                    assert o.locked >= money.mul(o.price, o.engine.remaining)
                else:
                    assert o.locked == o.engine.remaining
            else:
                assert o.locked == 0 and o.order_id not in venue.books[o.symbol].orders
        for asset in set(expected) | set(acct.free):
            assert acct.free.get(asset, 0) >= 0 and acct.locked.get(asset, 0) >= 0
            assert acct.free.get(asset, 0) + acct.locked.get(asset, 0) == expected.get(asset, 0), asset
            assert acct.locked.get(asset, 0) == locks.get(asset, 0), asset
    for book in venue.books.values():
        bb, ba = book.best_bid(), book.best_ask()
        assert bb is None or ba is None or bb[0] < ba[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_flow_reconciles(seed):
    cfg = make_config(accounts=[AccountConfig("a", "sa", dict(INITIAL)), AccountConfig("b", "sb", dict(INITIAL))],
                      book_levels=200)
    rng = random.Random(seed)
    async with Simulator(cfg) as sim:
        venue = sim.spot
        for step in range(400):
            acct = rng.randrange(2)
            sym = rng.choice(["BTCUSDT", "ETHUSDT"])
            info = venue.symbols[sym]
            book = venue.books[sym]
            side = rng.choice(["BUY", "SELL"])
            mid = (book.best_bid()[0] + book.best_ask()[0]) // 2
            price = mid + rng.randint(-30, 30) * info.tick * 20
            qty = rng.randint(1, 400) * info.step * 10
            kind = rng.random()
            try:
                if kind < 0.45:
                    venue.place_order(acct, sym, side, "LIMIT", tif=rng.choice(["GTC", "GTC", "IOC", "FOK"]),
                                      qty=qty, price=price, stp=rng.choice(["EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "NONE"]))
                elif kind < 0.55:
                    venue.place_order(acct, sym, side, "LIMIT_MAKER", qty=qty, price=price)
                elif kind < 0.65:
                    venue.place_order(acct, sym, side, "MARKET", qty=qty)
                elif kind < 0.7:
                    venue.place_order(acct, sym, side, "MARKET", quote_qty=rng.randint(10, 3000) * money.ONE)
                elif kind < 0.85:
                    opened = venue.open_orders(acct, sym)
                    if opened:
                        venue.cancel_order(acct, sym, rng.choice(opened).order_id)
                elif kind < 0.95:
                    await venue.take(sym, side, money.text(qty))
                else:
                    venue.agents.step(0.5)
            except BinanceError as exc:
                assert exc.code in (-2010, -1013), exc
            if step % 20 == 0:
                check_invariants(sim)
        check_invariants(sim)
        assert any(acct.trades for acct in venue.accounts)
