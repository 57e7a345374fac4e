"""Local derivative state of one account: positions, leverage, position mode, funding info.

Plain bookkeeping (no I/O), so the connector's wire code stays separate from the rules:
* positions are keyed by pair in ONEWAY mode and by pair + side in HEDGE mode; a position whose
  amount becomes zero is removed;
* leverage is per trading pair (1 until the exchange says otherwise) and is stamped on new orders;
* funding info is per pair and only exists once a full FundingInfo was set.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from exconnect.types import FundingInfo, Position, PositionMode, PositionSide

__all__ = ["PerpetualTrading"]


class PerpetualTrading:
    def __init__(self, trading_pairs: Iterable[str], funding_payment_span: Sequence[int] = (0, 0)) -> None:
        self._trading_pairs = list(trading_pairs)
        span = list(funding_payment_span)
        if len(span) != 2 or any(not isinstance(s, int) or s < 0 for s in span):
            raise ValueError(f"funding_payment_span must be two non-negative integers (seconds before, "
                             f"after the funding time), got {funding_payment_span!r}")
        self.funding_payment_span: List[int] = span
        self._positions: Dict[str, Position] = {}
        self._leverage: Dict[str, int] = {}
        self._position_mode = PositionMode.ONEWAY
        self._funding_info: Dict[str, FundingInfo] = {}

    # ---------------------------------------------------------------- pairs
    def add_trading_pair(self, trading_pair: str) -> None:
        if trading_pair not in self._trading_pairs:
            self._trading_pairs.append(trading_pair)

    def remove_trading_pair(self, trading_pair: str) -> None:
        """Its funding info goes; positions and leverage stay (they are the account's)."""
        if trading_pair in self._trading_pairs:
            self._trading_pairs.remove(trading_pair)
        self._funding_info.pop(trading_pair, None)

    # ---------------------------------------------------------------- position mode
    @property
    def position_mode(self) -> PositionMode:
        return self._position_mode

    def set_position_mode(self, mode: PositionMode) -> None:
        self._position_mode = PositionMode(mode)

    # ---------------------------------------------------------------- leverage
    def get_leverage(self, trading_pair: str) -> int:
        return self._leverage.get(trading_pair, 1)

    def set_leverage(self, trading_pair: str, leverage: int) -> None:
        self._leverage[trading_pair] = int(leverage)
        for pos in self._positions.values():
            if pos.trading_pair == trading_pair:
                pos.update_position(leverage=Decimal(int(leverage)))

    # ---------------------------------------------------------------- positions
    @property
    def account_positions(self) -> Dict[str, Position]:
        return self._positions

    def position_key(self, trading_pair: str, side: Optional[PositionSide] = None) -> str:
        if self._position_mode is PositionMode.HEDGE and side is not None:
            return f"{trading_pair}{side.name}"
        return trading_pair

    def get_position(self, trading_pair: str, side: Optional[PositionSide] = None) -> Optional[Position]:
        return self._positions.get(self.position_key(trading_pair, side))

    def set_position(self, trading_pair: str, side: PositionSide, amount: Decimal, entry_price: Decimal,
                     unrealized_pnl: Decimal, leverage: Optional[int] = None) -> None:
        key = self.position_key(trading_pair, side)
        if amount == 0:
            self._positions.pop(key, None)
            return
        lev = Decimal(leverage if leverage is not None else self.get_leverage(trading_pair))
        pos = self._positions.get(key)
        if pos is None:
            self._positions[key] = Position(trading_pair, side, unrealized_pnl, entry_price, amount, lev)
        else:
            pos.update_position(side, unrealized_pnl, entry_price, amount, lev)

    def replace_positions(self, rows: Iterable[Tuple[str, PositionSide, Decimal, Decimal, Decimal, int]]) -> None:
        """The exchange's full list (pair, side, amount, entry, upnl, leverage): anything else is closed."""
        fresh: Dict[str, Position] = {}
        for pair, side, amount, entry, upnl, leverage in rows:
            if amount == 0:
                continue
            fresh[self.position_key(pair, side)] = Position(pair, side, upnl, entry, amount, Decimal(leverage))
        self._positions.clear()
        self._positions.update(fresh)

    # ---------------------------------------------------------------- funding info
    @property
    def funding_info(self) -> Dict[str, FundingInfo]:
        return self._funding_info

    def is_funding_info_initialized(self) -> bool:
        return all(p in self._funding_info for p in self._trading_pairs)

    def get_funding_info(self, trading_pair: str) -> FundingInfo:
        info = self._funding_info.get(trading_pair)
        if info is None:
            raise KeyError(f"no funding info for {trading_pair} yet")
        return info

    def update_funding_info(self, trading_pair: str, index_price: Decimal, mark_price: Decimal,
                            next_funding_utc_timestamp: int, rate: Decimal) -> FundingInfo:
        info = self._funding_info.get(trading_pair)
        if info is None:
            info = self._funding_info[trading_pair] = FundingInfo(trading_pair, index_price, mark_price,
                                                                  next_funding_utc_timestamp, rate)
        else:
            info.update(index_price, mark_price, next_funding_utc_timestamp, rate)
        return info
