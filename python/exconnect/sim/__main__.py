"""``python -m exconnect.sim --port 8080 [--futures-port 8081] [--config file.json] [--seed N]``."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from .config import SimConfig
from .server import Simulator


def build_config(args) -> SimConfig:
    cfg = SimConfig.from_file(args.config) if args.config else SimConfig.default()
    if args.seed is not None:
        cfg.seed = args.seed
    if args.no_market_activity:
        cfg.market_activity = False
    if args.activity_rate is not None:
        cfg.activity_rate = args.activity_rate
    if args.volatility is not None:
        cfg.volatility = args.volatility
    if args.funding_interval is not None:
        cfg.funding_interval_s = args.funding_interval
    cfg.host = args.host
    cfg.spot_port = args.port
    cfg.futures_port = args.futures_port if args.futures_port is not None else (args.port + 1 if args.port else 0)
    return cfg


async def serve(cfg: SimConfig) -> None:
    sim = Simulator(cfg)
    await sim.start()
    keys = ", ".join(f"{a.api_key}" for a in cfg.accounts)
    print(f"exconnect.sim spot    REST {sim.spot_url}/api/v3   WS {sim.spot_ws_url}/ws  {sim.spot_ws_url}/stream  "
          f"WS-API {sim.spot_ws_url}/ws-api/v3", flush=True)
    print(f"exconnect.sim futures REST {sim.futures_url}/fapi   WS {sim.futures_ws_url}/ws"
          + ("" if sim.futures else "   (no futures symbols configured)"), flush=True)
    print(f"api keys: {keys}; seed {cfg.seed}; market activity {'on' if cfg.market_activity else 'off'}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exconnect.sim", description="Binance-compatible exchange simulator")
    ap.add_argument("--port", type=int, default=8080, help="spot port (0 = free port)")
    ap.add_argument("--futures-port", type=int, default=None, help="futures port (default: port + 1)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--config", help="JSON file with SimConfig fields")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--no-market-activity", action="store_true")
    ap.add_argument("--activity-rate", type=float)
    ap.add_argument("--volatility", type=float)
    ap.add_argument("--funding-interval", type=float, help="seconds between funding times")
    ap.add_argument("--print-config", action="store_true", help="print the effective config as JSON and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        cfg = build_config(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: bad configuration: {exc}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(cfg.to_dict(), indent=2))
        return 0
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(serve(cfg))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
