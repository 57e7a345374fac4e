"""`exconnect replay`: replay the bundled depth workload into a book and show it live.

The workload (see workload.py) is replayed as fast as the book takes it (or at --rate frames/s);
at the end of the frames the book is reset from the snapshot and the replay starts over, until
--seconds or --frames is reached. On a terminal the top levels refresh ~10 times a second (rich);
when stdout is not a terminal a plain status line is printed every --interval seconds instead.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Optional

from .books import make_book
from .python_book import APPLIED, GAP
from .view import ReplayStats, plain_line, render, summary
from .workload import WorkloadConfig, cache_path, load_workload

HELP = "replay a Binance depth workload into the order book and show it live"
DEFAULT_SECONDS = 10.0
CHUNK = 256          # frames applied between clock checks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=None,
                        help=f"stop after this many seconds (default {DEFAULT_SECONDS:g} unless --frames is given)")
    parser.add_argument("--frames", type=int, default=None,
                        help="stop after this many frames (the workload loops after 100,000)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="frames per second to replay at (default 0: as fast as the book goes; "
                             "10 is Binance's real @depth@100ms pace)")
    parser.add_argument("--depth", type=int, default=10, help="levels shown per side (default 10)")
    parser.add_argument("--book", choices=("auto", "native", "python"), default="auto",
                        help="book implementation (default: compiled when built, else plain Python)")
    parser.add_argument("--seed", type=int, default=WorkloadConfig.seed, help="workload seed")
    parser.add_argument("--futures", action="store_true", help="USDⓈ-M frames (T, pu chain)")
    parser.add_argument("--plain", action="store_true", help="plain status lines even on a terminal")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between plain status lines (default 1)")


def _validate(args: argparse.Namespace) -> None:
    if args.seconds is not None and args.seconds <= 0:
        raise SystemExit(f"exconnect replay: --seconds must be > 0, got {args.seconds}")
    if args.frames is not None and args.frames <= 0:
        raise SystemExit(f"exconnect replay: --frames must be > 0, got {args.frames}")
    if args.rate < 0:
        raise SystemExit(f"exconnect replay: --rate must be >= 0, got {args.rate}")
    if not 1 <= args.depth <= 100:
        raise SystemExit(f"exconnect replay: --depth must be in 1..100, got {args.depth}")
    if args.interval <= 0:
        raise SystemExit(f"exconnect replay: --interval must be > 0, got {args.interval}")


def run(args: argparse.Namespace) -> int:
    _validate(args)
    seconds: Optional[float] = args.seconds
    if seconds is None and args.frames is None:
        seconds = DEFAULT_SECONDS
    max_frames = args.frames
    length = min(max_frames, WorkloadConfig.frames) if max_frames else WorkloadConfig.frames
    config = WorkloadConfig(seed=args.seed, frames=length, futures=args.futures)
    if not cache_path(config).exists():
        print("generating the workload (first run only; cached afterwards)...", file=sys.stderr, flush=True)
    workload = load_workload(config)
    frames = workload.frames
    level_counts = workload.frame_level_counts()
    book = make_book(args.book, futures=args.futures)
    stats = ReplayStats(symbol=config.symbol, book_name=book.name)

    from rich.console import Console
    console = Console()
    live_view = console.is_terminal and not args.plain
    refresh_every = 0.1 if live_view else args.interval

    book.apply_snapshot(workload.snapshot)
    stats.in_sync = book.in_sync
    start = time.perf_counter()
    next_refresh = start + refresh_every
    position = 0

    shown_frames = -1

    def show(live) -> None:
        nonlocal shown_frames
        shown_frames = stats.frames
        bids, asks = book.top(args.depth)
        if live is not None:
            live.update(render(stats, bids, asks, args.depth), refresh=True)
        else:
            print(plain_line(stats, bids, asks), flush=True)

    live = None
    if live_view:
        from rich.live import Live
        live = Live(console=console, auto_refresh=False, transient=False)
        live.start()
    interrupted = False
    try:
        while True:
            now = time.perf_counter()
            stats.elapsed = now - start
            if seconds is not None and stats.elapsed >= seconds:
                break
            if max_frames is not None and stats.frames >= max_frames:
                break
            if position == len(frames):
                # End of the workload: start over from the snapshot.
                stats.passes += 1
                book.apply_snapshot(workload.snapshot)
                position = 0
            count = min(CHUNK, len(frames) - position)
            if max_frames is not None:
                count = min(count, max_frames - stats.frames)
            if args.rate > 0:
                # Paced: apply only the frames that are due by now; sleep otherwise.
                due = int(stats.elapsed * args.rate) + 1 - stats.frames
                if due <= 0:
                    time.sleep(min(1.0 / args.rate, max(0.0, next_refresh - now)))
                    due = 0
                count = min(count, max(due, 0))
            if count:
                apply = book.apply_depth
                t0 = time.perf_counter()
                for frame in frames[position:position + count]:
                    status = apply(frame)
                    if status is not APPLIED and status != APPLIED:
                        stats.gaps += status == GAP
                stats.apply_seconds += time.perf_counter() - t0
                stats.levels += sum(level_counts[position:position + count])
                stats.frames += count
                position += count
            stats.in_sync = book.in_sync
            if time.perf_counter() >= next_refresh:
                stats.elapsed = time.perf_counter() - start
                show(live)
                # Never schedule in the past: a slow terminal must not make every loop render.
                next_refresh = max(next_refresh + refresh_every, time.perf_counter())
    except KeyboardInterrupt:
        interrupted = True      # Ctrl-C ends the replay early; still show where it got to
    finally:
        stats.elapsed = time.perf_counter() - start
        stats.in_sync = book.in_sync
        if live is not None or shown_frames != stats.frames:
            show(live)
        if live is not None:
            live.stop()
    print(summary(stats), flush=True)
    if interrupted:
        return 130
    return 0 if stats.in_sync and stats.gaps == 0 else 1
