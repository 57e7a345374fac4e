"""Crash recovery of a perpetual run: a child process trades against the simulator (this process),
is SIGKILLed mid-run, and a restarted child on the same data folder recovers. Afterwards the local
fill log equals the exchange's userTrades exactly, every funding payment since the first start is
recorded once, no fill or payment was announced twice across the two runs, and the restarted run
holds the exchange's position."""
import asyncio
import os
import signal
import sys
import textwrap
from decimal import Decimal


from perpetual_fixtures import perp_sim  # noqa: F401

from exconnect.binance_perpetual.funding_payments import FundingPaymentStore
from exconnect.connector.persistence import ConnectorStore

SYMBOL = "BTCUSDT"

CHILD = textwrap.dedent('''
    import asyncio, sys
    from decimal import Decimal
    from exconnect.binance_perpetual import BinancePerpetualDerivative
    from exconnect.events import MarketEvent
    from exconnect.types import OrderType, PositionAction

    def out(*parts):
        print(*parts, flush=True)

    async def main(url, folder, mode):
        conn = BinancePerpetualDerivative.from_base_urls(
            url, api_key="sim-key", api_secret="sim-secret", trading_pairs=["BTC-USDT"], data_folder=folder,
            short_poll_interval=0.2, long_poll_interval=0.5, tick_interval=0.05, funding_fee_poll_interval=0.3)
        conn.add_listener(MarketEvent.OrderFilled, lambda e: out("FILL", e.exchange_trade_id, e.amount))
        conn.add_listener(MarketEvent.FundingPaymentCompleted, lambda e: out("FUNDING", e.timestamp, e.amount))
        for tag in (MarketEvent.BuyOrderCreated, MarketEvent.SellOrderCreated):
            conn.add_listener(tag, lambda e: out("CREATED", e.order_id))
        await conn.start(timeout=30)
        out("READY")
        if mode == "trade":
            book = conn.get_order_book("BTC-USDT")
            bid, ask = book.get_price(False), book.get_price(True)
            for i in range(3):
                conn.buy("BTC-USDT", Decimal("0.02"), OrderType.LIMIT, bid + Decimal("0.1"),
                         position_action=PositionAction.OPEN)
            while "BTC-USDT" not in conn.account_positions:      # close part of it once it exists
                await asyncio.sleep(0.02)
            conn.sell("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, ask - Decimal("0.1"),
                      position_action=PositionAction.CLOSE)
            await asyncio.Event().wait()          # trade until killed
        else:
            for _ in range(3):                    # a few reconciliation rounds, then wind down
                await conn._status_polling_once()
            await conn.cancel_all(10)
            await conn._status_polling_once()
            await conn._update_funding_payments()
            for key, pos in conn.account_positions.items():
                out("POSITION", key, pos.amount, pos.entry_price)
            out("DONE", len(conn.in_flight_orders))
            await conn.stop()

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
''')


class Child:
    def __init__(self, proc):
        self.proc = proc
        self.lines = []

    @classmethod
    async def start(cls, script, url, folder, mode):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = await asyncio.create_subprocess_exec(sys.executable, str(script), url, folder, mode,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL, env=env)
        return cls(proc)

    async def wait_for(self, predicate, timeout=30):
        async def read():
            while not predicate(self.lines):
                line = await self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"child exited early; output: {self.lines}")
                self.lines.append(line.decode().split())
        try:
            await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"child did not get there; output so far: {self.lines}") from None

    def count(self, kind):
        return sum(1 for parts in self.lines if parts and parts[0] == kind)

    def ids(self, kind):
        return [parts[1] for parts in self.lines if parts and parts[0] == kind]


async def test_sigkill_mid_run_then_restart_recovers_fills_and_funding_exactly_once(perp_sim, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folder = str(tmp_path / "data")
    futures = perp_sim.futures

    first = await Child.start(script, perp_sim.futures_url, folder, "trade")
    try:
        await first.wait_for(lambda lines: sum(1 for p in lines if p[0] == "CREATED") >= 3)
        await futures.take(SYMBOL, "SELL", "0.03")             # fills the buys at the top, seen live
        await first.wait_for(lambda lines: sum(1 for p in lines if p[0] == "FILL") >= 2)
        await first.wait_for(lambda lines: sum(1 for p in lines if p[0] == "CREATED") >= 4)   # the CLOSE
        await futures.run_funding()                             # a long position pays funding
        await first.wait_for(lambda lines: any(p[0] == "FUNDING" for p in lines))
        await futures.take(SYMBOL, "BUY", "0.005")              # and the killing blow lands mid-flight
        first.proc.send_signal(signal.SIGKILL)
        await first.proc.wait()
    finally:
        if first.proc.returncode is None:
            first.proc.kill()
            await first.proc.wait()

    await futures.take(SYMBOL, "SELL", "0.02")                 # fills while nobody is running
    await futures.run_funding()                                 # a payment while down

    second = await Child.start(script, perp_sim.futures_url, folder, "reconcile")
    await second.wait_for(lambda lines: any(p[0] == "DONE" for p in lines), timeout=60)
    assert await second.proc.wait() == 0

    # the exchange's view
    trades = sorted((str(t["id"]), Decimal(t["qty"])) for t in futures.trades[0])
    payments = sorted(str(r.tran_id) for r in futures.accounts[0].income if r.income_type == "FUNDING_FEE")
    assert len(trades) >= 4 and len(payments) == 2

    store = ConnectorStore.in_folder(folder, "binance_perpetual")
    funding = FundingPaymentStore(os.path.join(folder, "binance_perpetual_funding.sqlite"), "binance_perpetual")
    try:
        assert sorted((f["trade_id"], Decimal(f["amount"])) for f in store.fills()) == trades
        assert sorted(p["payment_id"].split(":")[0] for p in funding.payments()) == payments
        assert store.load_tracking_states() == {}
    finally:
        store.close()
        funding.close()
    # announced at most once across both runs (record first, then announce), and none lost:
    # the second run announced exactly what the first had not recorded
    fills = first.ids("FILL") + second.ids("FILL")
    assert len(fills) == len(set(fills)) and set(fills) <= {t for t, _ in trades}
    # the restarted run knows the position the exchange holds
    pos = futures.accounts[0].position(SYMBOL, "BOTH")
    reported = {p[1]: (Decimal(p[2]), Decimal(p[3])) for p in second.lines if p[0] == "POSITION"}
    assert reported == {"BTC-USDT": (Decimal(pos.amount) / 10 ** 8, Decimal(pos.entry_price) / 10 ** 8)}
    announced_funding = first.count("FUNDING") + second.count("FUNDING")
    assert first.count("FUNDING") >= 1 and second.count("FUNDING") >= 1 and announced_funding <= len(payments)
