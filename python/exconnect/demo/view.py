"""Terminal view of the demo: a rich live dashboard, or plain lines when stdout is not a TTY."""
from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import List, Optional

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .metrics import DemoMetrics


def _d(x, places: int = 8) -> str:
    if x is None:
        return "-"
    if isinstance(x, Decimal):
        return f"{x.normalize():f}" if x == x.to_integral_value() or places >= 8 else f"{x:.{places}f}"
    return str(x)


def _book_levels(connector, pair: str, depth: int):
    book = connector.order_books.get(pair)
    if book is None:
        return [], [], False
    bids = list(itertools.islice(book.bid_entries(), depth))
    asks = list(itertools.islice(book.ask_entries(), depth))
    return bids, asks, bool(getattr(book, "in_sync", True))


def _book_table(connector, pair: str, depth: int = 6) -> Table:
    bids, asks, in_sync = _book_levels(connector, pair, depth)
    t = Table(title=f"{pair} book ({'in sync' if in_sync else 'RESYNCING'})", expand=True)
    t.add_column("side")
    t.add_column("price", justify="right")
    t.add_column("amount", justify="right")
    for row in reversed(asks):
        t.add_row(Text("ask", style="red"), _d(row.price), _d(row.amount))
    if bids and asks:
        t.add_row("", Text(f"spread {_d(asks[0].price - bids[0].price)}", style="dim"), "")
    for row in bids:
        t.add_row(Text("bid", style="green"), _d(row.price), _d(row.amount))
    return t


def _orders_table(connector) -> Table:
    t = Table(title="open orders", expand=True)
    for col in ("client id", "side", "price", "amount", "executed", "state"):
        t.add_column(col, justify="right" if col in ("price", "amount", "executed") else "left")
    for o in list(connector.in_flight_orders.values())[:8]:
        t.add_row(o.client_order_id[-14:], o.trade_type.name, _d(o.price), _d(o.amount),
                  _d(o.executed_amount_base), o.current_state.name)
    return t


def _fills_table(metrics: DemoMetrics) -> Table:
    t = Table(title="recent fills", expand=True)
    for col in ("time", "side", "price", "amount", "fee"):
        t.add_column(col)
    for row in list(metrics.fills)[:8]:
        t.add_row(row[0], row[1], _d(row[2]), _d(row[3]), row[4])
    return t


def _balances_table(connector, assets: List[str]) -> Table:
    t = Table(title="balances", expand=True)
    t.add_column("asset")
    t.add_column("total", justify="right")
    t.add_column("available", justify="right")
    for a in assets:
        t.add_row(a, _d(connector.get_balance(a)), _d(connector.get_available_balance(a)))
    return t


def _stats_table(metrics: DemoMetrics) -> Table:
    t = Table(title="activity and latency", expand=True, show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("orders sent / cancels sent", f"{metrics.orders_sent} / {metrics.cancels_sent}")
    events = ", ".join(f"{k}={v}" for k, v in sorted(metrics.events.items())) or "-"
    t.add_row("events", events)
    for s in metrics.series():
        t.add_row(s.name, s.describe())
    return t


def _derivative_table(connector, pair: str) -> Optional[Table]:
    positions = getattr(connector, "account_positions", None)
    if positions is None:
        return None
    t = Table(title="positions and funding", expand=True)
    for col in ("pair", "side", "amount", "entry", "uPnL", "leverage"):
        t.add_column(col)
    for p in positions.values():
        t.add_row(p.trading_pair, p.position_side.name, _d(p.amount), _d(p.entry_price),
                  _d(p.unrealized_pnl), _d(p.leverage))
    info = None
    getter = getattr(connector, "get_funding_info", None)
    try:
        info = getter(pair) if getter else None
    except Exception:
        info = None
    if info is not None:
        nxt = time.strftime("%H:%M:%S", time.gmtime(info.next_funding_utc_timestamp))
        t.caption = (f"mark {_d(info.mark_price)}  index {_d(info.index_price)}  rate {_d(info.rate)}"
                     f"  next funding {nxt} UTC")
    return t


def render(connector, pair: str, assets: List[str], metrics: DemoMetrics, header: str) -> Group:
    parts = [Panel(Text(header, style="bold")), _book_table(connector, pair), _orders_table(connector),
             _fills_table(metrics), _balances_table(connector, assets)]
    deriv = _derivative_table(connector, pair)
    if deriv is not None:
        parts.append(deriv)
    parts.append(_stats_table(metrics))
    return Group(*parts)


def plain_line(connector, pair: str, metrics: DemoMetrics, elapsed: float) -> str:
    bids, asks, in_sync = _book_levels(connector, pair, 1)
    top = f"{_d(bids[0].price)} / {_d(asks[0].price)}" if bids and asks else "-"
    return (f"[{elapsed:5.1f}s] {pair} {top} sync={in_sync} open={len(connector.in_flight_orders)} "
            f"sent={metrics.orders_sent} fills={metrics.events.get('OrderFilled', 0)} "
            f"ack {metrics.sent_to_ack.describe()}")
