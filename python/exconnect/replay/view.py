"""Rendering of the replayed book: a rich live table on a terminal, plain lines otherwise."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import List, Optional, Tuple

from rich.console import Group
from rich.table import Table
from rich.text import Text

TextLevels = List[Tuple[str, str]]


@dataclass
class ReplayStats:
    symbol: str
    book_name: str
    frames: int = 0          # frames handed to the book
    levels: int = 0          # level changes in those frames
    passes: int = 0          # completed passes over the workload (each restarts from the snapshot)
    elapsed: float = 0.0     # seconds spent replaying
    apply_seconds: float = 0.0   # of which inside the book's apply calls
    gaps: int = 0
    in_sync: bool = False

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ns_per_frame_in_book(self) -> float:
        return self.apply_seconds * 1e9 / self.frames if self.frames else 0.0


def _spread(bids: TextLevels, asks: TextLevels) -> Optional[Decimal]:
    if not bids or not asks:
        return None
    try:
        return Decimal(asks[0][0]) - Decimal(bids[0][0])
    except InvalidOperation:
        return None


def _trim(text: str, keep: int = 2) -> str:
    """"60000.10000000" → "60000.10" for display (at least `keep` decimals); the value is unchanged."""
    if "." in text:
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0").ljust(keep, "0")
        text = f"{whole}.{frac}" if frac else whole
    return text


def render(stats: ReplayStats, bids: TextLevels, asks: TextLevels, depth: int) -> Group:
    spread = _spread(bids, asks)
    sync = Text("in sync", style="bold green") if stats.in_sync else Text("OUT OF SYNC", style="bold red")
    header = Text.assemble(
        (f"{stats.symbol}  ", "bold"),
        f"frames {stats.frames:,}  ({stats.frames_per_second:,.0f}/s, "
        f"{stats.ns_per_frame_in_book:,.0f} ns/frame in the book)  passes {stats.passes}  ",
        f"spread {_trim(str(spread)) if spread is not None else '-'}  ", sync)
    table = Table(title=f"top {depth} levels — {stats.book_name}", expand=False)
    table.add_column("bid qty", justify="right", style="green")
    table.add_column("bid", justify="right", style="bold green")
    table.add_column("ask", justify="left", style="bold red")
    table.add_column("ask qty", justify="left", style="red")
    for i in range(depth):
        bid = bids[i] if i < len(bids) else ("", "")
        ask = asks[i] if i < len(asks) else ("", "")
        table.add_row(_trim(bid[1], 5), _trim(bid[0]), _trim(ask[0]), _trim(ask[1], 5))
    return Group(header, table)


def plain_line(stats: ReplayStats, bids: TextLevels, asks: TextLevels) -> str:
    spread = _spread(bids, asks)
    best_bid = f"{_trim(bids[0][0])} x {_trim(bids[0][1], 5)}" if bids else "-"
    best_ask = f"{_trim(asks[0][0])} x {_trim(asks[0][1], 5)}" if asks else "-"
    return (f"t={stats.elapsed:5.1f}s frames={stats.frames:,} ({stats.frames_per_second:,.0f}/s) "
            f"bid {best_bid} | ask {best_ask} spread "
            f"{_trim(str(spread)) if spread is not None else '-'} "
            f"{'in sync' if stats.in_sync else 'OUT OF SYNC'}")


def summary(stats: ReplayStats) -> str:
    return (f"replayed {stats.frames:,} {stats.symbol} depth frames ({stats.levels:,} level changes, "
            f"{stats.passes} full passes over the workload) in {stats.elapsed:.2f} s: {stats.frames_per_second:,.0f} frames/s, "
            f"{stats.ns_per_frame_in_book:,.0f} ns/frame inside the book; gaps {stats.gaps}; "
            f"book {'in sync' if stats.in_sync else 'OUT OF SYNC'} — {stats.book_name}")
