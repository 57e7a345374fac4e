"""User-data and mark-price event payloads of the futures venue (Binance field names)."""
from __future__ import annotations

from . import money
from .futures_model import FuturesOrder
from .positions import FuturesAccount

def order_event(venue, o: FuturesOrder, exec_type: str, now: int, fill=None) -> dict:
    """ORDER_TRADE_UPDATE for ``o`` (every field Binance sends; ``fill`` = trade details)."""
    sym = venue.symbols[o.symbol]
    ev = {
        "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type, "f": o.tif,
        "q": sym.fmt_qty(o.qty), "p": sym.fmt_price(o.price), "ap": money.text(o.avg_price()),
        "sp": "0", "x": exec_type, "X": o.status, "i": o.order_id,
        "l": "0", "z": sym.fmt_qty(o.executed), "L": "0", "T": now, "t": 0,
        "b": "0", "a": "0", "m": False, "R": o.reduce_only, "wt": "CONTRACT_PRICE",
        "ot": o.type, "ps": o.position_side, "cp": False, "rp": "0", "pP": False,
        "si": 0, "ss": 0, "V": o.stp, "pm": o.price_match, "gtd": o.good_till, "er": o.expire_reason,
    }
    if fill is not None:
        trade_id, price, qty, maker, commission, realized = fill
        ev.update({"l": sym.fmt_qty(qty), "L": sym.fmt_price(price), "N": "USDT",
                   "n": money.text(commission), "t": trade_id, "m": maker, "rp": money.text(realized)})
    bids, asks = order_notionals(venue, o.account_id, o.symbol)
    ev["b"], ev["a"] = money.text(bids), money.text(asks)
    return {"e": "ORDER_TRADE_UPDATE", "E": venue.clock.now_ms(), "T": now, "o": ev}

def order_notionals(venue, account_id: int, symbol: str) -> tuple:
    """(bids, asks) notional of the account's open orders in ``symbol`` (the event's b / a)."""
    bids = asks = 0
    for o in venue.open_orders[account_id].values():
        if o.symbol == symbol:
            n = money.mul(o.price, o.remaining)
            if o.side == "BUY":
                bids += n
            else:
                asks += n
    return bids, asks

def account_update(venue, account_id: int, symbol: str, sides, now: int, reason: str = "ORDER") -> dict:
    """ACCOUNT_UPDATE with the wallet and the given position sides of ``symbol``."""
    acct = venue.accounts[account_id]
    wb = money.text(acct.wallet["USDT"])
    mark = venue.mark(symbol)
    positions = []
    for side in sides:
        pos = acct.position(symbol, side)
        positions.append({
            "s": symbol, "pa": venue.symbols[symbol].fmt_qty(pos.amount), "ep": money.text(pos.entry_price),
            "bep": money.text(break_even(acct, pos)), "cr": money.text(pos.realized),
            "up": money.text(pos.unrealized(mark)), "mt": "isolated" if acct.margin_type_of(symbol) == "ISOLATED" else "cross",
            "iw": "0", "ps": side})
    return {"e": "ACCOUNT_UPDATE", "E": venue.clock.now_ms(), "T": now,
            "a": {"m": reason, "B": [{"a": "USDT", "wb": wb, "cw": wb, "bc": "0"}], "P": positions}}

def break_even(acct: FuturesAccount, pos) -> int:
    """Entry price moved by the taker fee for a round trip (Binance's rough breakEvenPrice)."""
    if pos.amount == 0:
        return 0
    ep = pos.entry_price
    adj = money.mul(ep, acct.fee_taker) * 2
    return ep + adj if pos.amount > 0 else ep - adj


def mark_price_event(venue, symbol: str, now: int) -> dict:
    """markPriceUpdate (mark, its interval average, index, estimated rate, next funding time)."""
    f = venue.funding[symbol]
    return {"e": "markPriceUpdate", "E": now, "s": symbol, "p": money.text(f.mark),
            "ap": money.text(f.mark_average()), "P": money.text(f.mark), "i": money.text(f.index),
            "r": money.text(f.estimated_rate()), "T": venue.next_funding_time()}


def margin_call(venue, account_id: int) -> dict:
    """MARGIN_CALL with every open position of the account (cross wallet balance in ``cw``)."""
    acct = venue.accounts[account_id]
    marks = venue.marks()
    positions = []
    for (symbol, side), pos in acct.positions.items():
        if not pos.amount:
            continue
        mark = marks.get(symbol, 0)
        positions.append({
            "s": symbol, "ps": side, "pa": venue.symbols[symbol].fmt_qty(pos.amount),
            "mt": acct.margin_type_of(symbol), "iw": "0", "mp": money.text(mark),
            "up": money.text(pos.unrealized(mark)), "mm": money.text(acct.maint_margin(pos, mark))})
    return {"e": "MARGIN_CALL", "E": venue.clock.now_ms(), "cw": money.text(acct.wallet["USDT"]), "p": positions}
