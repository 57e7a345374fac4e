"""Funding payments recorded exactly once, across restarts.

A payment is keyed by the exchange's income ``tranId``; it is written *before* its
FundingPaymentCompletedEvent is emitted, so a crash between the two cannot make a restart
announce it a second time (at most once after a crash, as for fills: record first, then tell).
The table lives in its own sqlite file next to the connector's order store (that one is opened
exclusively by its owner), or in memory when the connector has no data folder.
"""
from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from typing import Any, Dict, List, Optional

from exconnect.connector.persistence import open_sqlite, select_for_pair

__all__ = ["FundingPaymentStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS funding_payments (
    connector TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    trading_pair TEXT NOT NULL,
    amount TEXT NOT NULL,
    rate TEXT,
    asset TEXT,
    payment_timestamp REAL NOT NULL,
    recorded REAL NOT NULL,
    PRIMARY KEY (connector, payment_id)
);
CREATE TABLE IF NOT EXISTS funding_watermark (
    connector TEXT NOT NULL PRIMARY KEY,
    since_ms INTEGER NOT NULL
);
"""


class FundingPaymentStore:
    def __init__(self, path: Optional[str], connector: str) -> None:
        self.connector = connector
        # One process owns a data folder (as the connector's order store): exclusive, WAL.
        self._db = (open_sqlite(path) if path
                    else sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False))
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass

    def record(self, payment_id: str, trading_pair: str, amount: Decimal, rate: Optional[Decimal],
               asset: Optional[str], timestamp: float) -> bool:
        """Insert a payment; False if this payment id is already recorded."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO funding_payments (connector, payment_id, trading_pair, amount, rate, asset,"
            " payment_timestamp, recorded) VALUES (?,?,?,?,?,?,?,?)",
            (self.connector, str(payment_id), trading_pair, str(amount), None if rate is None else str(rate),
             asset, timestamp, time.time()))
        return cur.rowcount == 1

    def has(self, payment_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM funding_payments WHERE connector=? AND payment_id=?",
                                (self.connector, str(payment_id))).fetchone() is not None

    def payments(self, trading_pair: Optional[str] = None) -> List[Dict[str, Any]]:
        sql, args = select_for_pair("SELECT payment_id, trading_pair, amount, rate, asset, payment_timestamp"
                                    " FROM funding_payments WHERE connector=?", self.connector, trading_pair)
        return [dict(payment_id=r[0], trading_pair=r[1], amount=Decimal(r[2]),
                     rate=None if r[3] is None else Decimal(r[3]), asset=r[4], timestamp=r[5])
                for r in self._db.execute(sql + " ORDER BY payment_timestamp, payment_id", args)]

    def since_ms(self) -> Optional[int]:
        """Start of the funding history this connector is responsible for (set at first start)."""
        row = self._db.execute("SELECT since_ms FROM funding_watermark WHERE connector=?",
                               (self.connector,)).fetchone()
        return int(row[0]) if row else None

    def set_since_ms(self, since_ms: int) -> None:
        self._db.execute("INSERT INTO funding_watermark (connector, since_ms) VALUES (?,?) "
                         "ON CONFLICT(connector) DO UPDATE SET since_ms=excluded.since_ms",
                         (self.connector, int(since_ms)))
