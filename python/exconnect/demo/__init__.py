"""Run the exconnect demo: an in-process Binance-compatible simulator with live market activity,
a connector on real loopback sockets, and a small market maker quoting both sides, shown live.

    exconnect demo                     # spot, BTC-USDT, 30 s
    exconnect demo --market perp       # USDⓈ-M perpetual (positions and funding in the view)
    exconnect demo --seconds 120 --pair ETH-USDT

On exit (end of duration or Ctrl-C) every open order is cancelled and a summary is printed.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from typing import Any, Dict

HELP = "run a market-making demo against the embedded Binance-compatible simulator"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--market", choices=("spot", "perp"), default="spot",
                        help="spot (/api/v3) or USDⓈ-M perpetual (/fapi) connector (default spot)")
    parser.add_argument("--perp", action="store_const", const="perp", dest="market",
                        help="shorthand for --market perp")
    parser.add_argument("--pair", default="BTC-USDT", help="trading pair, BASE-QUOTE (default BTC-USDT)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--amount", type=Decimal, default=None, help="order amount in base asset")
    parser.add_argument("--spread-bps", type=Decimal, default=Decimal("4"), help="quote spread in bps")
    parser.add_argument("--seed", type=int, default=7, help="simulator random seed")
    parser.add_argument("--activity", type=float, default=40.0,
                        help="simulated market activity, agent actions per second per symbol")
    parser.add_argument("--funding-interval", type=float, default=20.0,
                        help="perp only: funding interval of the simulator in seconds (default 20)")
    parser.add_argument("--data-folder", default=None,
                        help="where the connector persists orders and fills (default: a temp dir)")
    parser.add_argument("--plain", action="store_true", help="plain log lines instead of the live view")


def _make_connector(market: str, sim, pair: str, data_folder: str):
    common: Dict[str, Any] = dict(api_key="sim-key", api_secret="sim-secret", trading_pairs=[pair],
                                  data_folder=data_folder)
    if market == "spot":
        from exconnect.binance import BinanceExchange
        return BinanceExchange.from_base_urls(sim.spot_url, **common)
    from exconnect.binance_perpetual import BinancePerpetualDerivative
    return BinancePerpetualDerivative.from_base_urls(sim.futures_url, **common)


async def _run(args: argparse.Namespace) -> int:
    from exconnect.sim import SimConfig, Simulator
    from .metrics import DemoMetrics
    from .strategy import QuotingStrategy
    from . import view

    pair = args.pair.upper()
    base, quote = pair.split("-")
    derivative = args.market == "perp"
    amount = args.amount if args.amount is not None else (Decimal("0.002") if base == "BTC" else Decimal("0.05"))
    cfg = SimConfig.default(seed=args.seed, market_activity=True, activity_rate=args.activity,
                            funding_interval_s=args.funding_interval if derivative else 8 * 3600)
    metrics = DemoMetrics()
    tmp = None
    data_folder = args.data_folder
    if data_folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="exconnect-demo-")
        data_folder = tmp.name
    live_view = sys.stdout.isatty() and not args.plain
    try:
        async with Simulator(cfg) as sim:
            connector = _make_connector(args.market, sim, pair, data_folder)
            _instrument_frames(connector, metrics)
            strategy = QuotingStrategy(connector, pair, metrics, order_amount=amount,
                                       spread_bps=args.spread_bps, derivative=derivative)
            print(f"simulator: spot {sim.spot_url}  futures {sim.futures_url}  (seed {args.seed})", flush=True)
            await connector.start(timeout=30)
            stop = asyncio.Event()
            task = asyncio.create_task(strategy.run(stop))
            started = time.monotonic()
            header = lambda: (f"exconnect demo — {connector.name} {pair} on the embedded simulator — "
                              f"{time.monotonic() - started:5.1f}s / {args.seconds:.0f}s")
            assets = [base, quote] if not derivative else [quote]
            try:
                if live_view:
                    from rich.live import Live
                    with Live(view.render(connector, pair, assets, metrics, header()), refresh_per_second=4,
                              transient=False) as live:
                        while time.monotonic() - started < args.seconds:
                            await asyncio.sleep(0.25)
                            live.update(view.render(connector, pair, assets, metrics, header()))
                else:
                    next_print = 0.0
                    while (elapsed := time.monotonic() - started) < args.seconds:
                        if elapsed >= next_print:
                            print(view.plain_line(connector, pair, metrics, elapsed), flush=True)
                            next_print += 2.0
                        await asyncio.sleep(0.1)
            finally:
                stop.set()
                await task
                results = await connector.cancel_all(10.0)
                _print_summary(connector, pair, assets, metrics, results, time.monotonic() - started)
                await connector.stop()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


def _instrument_frames(connector, metrics) -> None:
    """Time every depth frame from arrival to applied book (parse + sequence check + apply + notify).

    Wraps the tracker's frame handler before the network starts, so the data source binds the
    timed version; nothing else in the hot path changes."""
    tracker = connector.order_book_tracker
    inner = tracker._on_frame
    series = metrics.frame_to_book
    clock = time.perf_counter_ns

    def timed(frame: bytes) -> None:
        if frame.find(b'"depthUpdate"', 0, 120) < 0:   # trades and other frames: not timed
            inner(frame)
            return
        t0 = clock()
        inner(frame)
        series.add(clock() - t0)

    tracker._on_frame = timed


def _print_summary(connector, pair, assets, metrics, results, elapsed) -> None:
    ok = sum(1 for r in results if r.success)
    print()
    print(f"=== exconnect demo summary ({connector.name} {pair}, {elapsed:.1f}s) ===")
    print(f"orders sent {metrics.orders_sent}, cancels sent {metrics.cancels_sent}, "
          f"quote refreshes {metrics.quote_refreshes}")
    print(f"cancel_all at exit: {ok}/{len(results)} cancelled")
    print("events: " + (", ".join(f"{k}={v}" for k, v in sorted(metrics.events.items())) or "none"))
    for a in assets:
        print(f"balance {a}: total {connector.get_balance(a)}  available {connector.get_available_balance(a)}")
    positions = getattr(connector, "account_positions", None)
    if positions:
        for p in positions.values():
            print(f"position {p.trading_pair} {p.position_side.name}: {p.amount} @ {p.entry_price} "
                  f"uPnL {p.unrealized_pnl}")
    for s in metrics.series():
        print(f"{s.name}: {s.describe()}")


def run(args: argparse.Namespace) -> int:
    try:
        import uvloop
    except ImportError:                      # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(_run(args))
    return uvloop.run(_run(args))
