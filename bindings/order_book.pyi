"""Type stubs for exconnect.native.order_book (compiled)."""
from array import array
from decimal import Decimal
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from exconnect.types import OrderBookQueryResult, OrderBookRow

Number = Union[Decimal, str, int]
Row = Union[OrderBookRow, Tuple[Number, Number], Tuple[Number, Number, int]]
Frame = Union[bytes, bytearray, str]

DEPTH_APPLIED: int      # 0: frame applied, book advanced to its u
DEPTH_STALE: int        # 1: frame entirely older than the book, ignored
DEPTH_GAP: int          # 2: sequence broken; book out of sync until the next snapshot
DEPTH_NOT_SYNCED: int   # 3: no snapshot yet / out of sync; ignored

def peek_binance_symbol(frame: Frame) -> Optional[str]:
    """Upper-case symbol of a frame ("s", else the combined-stream name before '@'), or None."""

class OrderBook:
    price_scale: int          # decimals of the fixed-point prices (read-only)
    size_scale: int           # decimals of the fixed-point amounts (read-only)
    futures: bool             # use the futures `pu` chain for every frame
    symbol: Optional[str]     # if set, frames for another symbol raise ValueError

    def __init__(self, price_scale: int = 8, size_scale: int = 8, symbol: Optional[str] = None,
                 futures: bool = False) -> None: ...

    # Hummingbot API.  Amounts/prices: Decimal, str or int (float -> TypeError);
    # more decimals than the scale or out of int64 range -> ValueError.  Calls are
    # all-or-nothing: on any error the book is unchanged.
    def apply_snapshot(self, bids: Iterable[Row], asks: Iterable[Row], update_id: int) -> None:
        """Replace the book; rows in any order, amount 0 rows dropped, a repeated price keeps
        the later row.  Starts a new Binance sequence at update_id (in_sync becomes True)."""
    def apply_diffs(self, bids: Iterable[Row], asks: Iterable[Row], update_id: int) -> None:
        """Set levels (amount 0 removes; absent level: no-op); rows without an update id get
        update_id.  Then, while crossed, the older of best bid/ask is removed (tie: the bid)."""
    def apply_levels_fixed(self, bids: Sequence[int], asks: Sequence[int], update_id: int) -> None:
        """Pre-parsed diff: int64 buffers (array('q')) of interleaved price, qty in fixed point."""
    def apply_trade(self, trade: object) -> None: ...
    def get_price(self, is_buy: bool) -> Decimal:
        """Best ask if is_buy else best bid; EnvironmentError if that side is empty."""
    def get_price_for_volume(self, is_buy: bool, volume: Number) -> OrderBookQueryResult:
        """(NaN, volume, price of the level where cumulative amount >= volume or NaN, min(cum, volume))"""
    def get_vwap_for_volume(self, is_buy: bool, volume: Number) -> OrderBookQueryResult:
        """(NaN, volume, VWAP of taking volume or NaN if too thin / volume 0, amount taken).
        The VWAP is the exact cost / amount rounded once to 28 significant digits (half even)."""
    def get_volume_for_price(self, is_buy: bool, price: Number) -> OrderBookQueryResult:
        """(price, NaN, last level price not worse than price or NaN, total amount up to price)"""
    def get_quote_volume_for_price(self, is_buy: bool, price: Number) -> OrderBookQueryResult:
        """Same walk, result_volume = sum(price * amount); OverflowError beyond 127 bits."""
    def simulate_buy(self, amount: Number) -> List[OrderBookRow]: ...
    def simulate_sell(self, amount: Number) -> List[OrderBookRow]: ...
    def bid_entries(self) -> Iterator[OrderBookRow]: ...   # best (highest) first
    def ask_entries(self) -> Iterator[OrderBookRow]: ...   # best (lowest) first
    @property
    def snapshot(self) -> Tuple[List[OrderBookRow], List[OrderBookRow]]: ...
    def top(self, n: int) -> Tuple[array, array]:
        """(bids, asks), each array('q') of interleaved fixed-point price, qty for the n best
        levels, best first: bids[0] is the best bid price, bids[1] its amount, ..."""
    def top_into(self, out: array, n: int) -> Tuple[int, int]:
        """Allocation-free top(n): n best bids then n best asks written into out (array('q'),
        len >= 4*n) as interleaved fixed-point price, qty; returns (bid_levels, ask_levels)."""
    @property
    def last_diff_uid(self) -> int: ...
    @property
    def snapshot_uid(self) -> int: ...
    @property
    def last_trade_price(self) -> Decimal: ...
    @property
    def last_applied_trade(self) -> float: ...

    # Binance fast path
    def apply_binance_snapshot(self, body: Frame) -> None:
        """REST depth answer (also inside a combined-stream envelope); ValueError if malformed."""
    def apply_binance_depth(self, frame: Frame) -> int:
        """Raw depthUpdate frame (raw or combined stream) -> DEPTH_*.  Spot: first diff after a
        snapshot needs U <= id+1 <= u, then U <= id+1 (U == previous u + 1 in practice);
        futures (futures=True or `pu` present): first U <= id <= u, then pu == previous u.
        Malformed frame or wrong symbol -> ValueError, book unchanged."""
    @property
    def in_sync(self) -> bool: ...
    @property
    def sequence_id(self) -> int: ...

    # fixed-point reads and measurement
    @property
    def best_bid(self) -> int: ...      # EnvironmentError if empty
    @property
    def best_ask(self) -> int: ...
    @property
    def bid_depth(self) -> int: ...
    @property
    def ask_depth(self) -> int: ...
    @property
    def bytes_used(self) -> int: ...    # C book: struct + level arrays
    def _bench_best(self, reps: int) -> int: ...
