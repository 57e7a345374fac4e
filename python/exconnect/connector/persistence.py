"""sqlite (WAL) store for a connector's tracking states and fills.

Written *before* events reach listeners, so a crash right after a strategy saw a fill cannot lose
that fill, and a restart can restore every order that was in flight. Fills are keyed by
(exchange, trading pair, trade id): whichever channel delivers a trade first records it, every
later delivery is recognised as a duplicate (``record_fill`` returns False).

WAL with ``synchronous=NORMAL`` survives a killed process (the crash case we design for) at tens of
microseconds per commit; pass ``synchronous="FULL"`` to also survive power loss. The file is held
in exclusive locking mode while the connector runs (``exclusive=False`` to let other processes
read it live).
Only order/fill JSON is stored — never keys or secrets.
"""
from __future__ import annotations

import json

import orjson
import os
import sqlite3
import time
from typing import Any, Dict, List, Optional

__all__ = ["ConnectorStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tracking_states (
    connector TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    state TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (connector, client_order_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fills (
    exchange TEXT NOT NULL,
    trading_pair TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    exchange_order_id TEXT,
    trade_type TEXT,
    price TEXT NOT NULL,
    amount TEXT NOT NULL,
    fee TEXT,
    fill_timestamp REAL,
    recorded REAL NOT NULL,
    PRIMARY KEY (exchange, trading_pair, trade_id)
);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills (exchange, client_order_id);
CREATE TABLE IF NOT EXISTS kv (
    connector TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (connector, key)
);
"""


class ConnectorStore:
    def __init__(self, path: str, connector: str, synchronous: str = "NORMAL", exclusive: bool = True) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"bad synchronous mode {synchronous!r}")
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self.path = path
        self.connector = connector
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if exclusive:
            # One process owns a data folder: no shared-memory locking per commit (about half the
            # cost of a write), and a second process on the same folder fails loudly instead of
            # both trading on the same tracking state.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)

    @classmethod
    def in_folder(cls, folder: str, connector: str, **kw: Any) -> "ConnectorStore":
        return cls(os.path.join(folder, f"{connector}.sqlite"), connector, **kw)

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass

    # -- tracking states -----------------------------------------------------------------------
    def save_order(self, client_order_id: str, state: Dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO tracking_states (connector, client_order_id, state, updated) VALUES (?,?,?,?) "
            "ON CONFLICT(connector, client_order_id) DO UPDATE SET state=excluded.state, updated=excluded.updated",
            (self.connector, client_order_id, orjson.dumps(state, default=str).decode(), time.time()))

    def remove_order(self, client_order_id: str) -> None:
        self._db.execute("DELETE FROM tracking_states WHERE connector=? AND client_order_id=?",
                         (self.connector, client_order_id))

    def load_tracking_states(self) -> Dict[str, Dict[str, Any]]:
        rows = self._db.execute("SELECT client_order_id, state FROM tracking_states WHERE connector=?",
                                (self.connector,)).fetchall()
        return {cid: json.loads(state) for cid, state in rows}

    # -- fills ---------------------------------------------------------------------------------
    def record_fill(self, trading_pair: str, trade_id: str, client_order_id: str,
                    exchange_order_id: Optional[str], trade_type: str, price: str, amount: str,
                    fee: Any, fill_timestamp: float) -> bool:
        """Insert a fill; False if this (exchange, pair, trade id) is already recorded."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO fills (exchange, trading_pair, trade_id, client_order_id, exchange_order_id,"
            " trade_type, price, amount, fee, fill_timestamp, recorded) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (self.connector, trading_pair, str(trade_id), client_order_id, exchange_order_id, trade_type,
             str(price), str(amount), json.dumps(fee, default=str), fill_timestamp, time.time()))
        return cur.rowcount == 1

    def record_fill_with_state(self, fill: Dict[str, Any], client_order_id: str,
                               state: Optional[Dict[str, Any]]) -> bool:
        """Record a fill and the order's new tracking state in one transaction.

        Returns False (and writes nothing) if the fill was already recorded.
        """
        db = self._db
        db.execute("BEGIN")
        try:
            new = self.record_fill(**fill)
            if new and state is not None:
                self.save_order(client_order_id, state)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return new

    def has_fill(self, trading_pair: str, trade_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM fills WHERE exchange=? AND trading_pair=? AND trade_id=?",
                                (self.connector, trading_pair, str(trade_id))).fetchone() is not None

    def fills(self, trading_pair: Optional[str] = None) -> List[Dict[str, Any]]:
        sql = ("SELECT trading_pair, trade_id, client_order_id, exchange_order_id, trade_type, price, amount,"
               " fee, fill_timestamp FROM fills WHERE exchange=?")
        args: List[Any] = [self.connector]
        if trading_pair is not None:
            sql += " AND trading_pair=?"
            args.append(trading_pair)
        out = []
        for row in self._db.execute(sql + " ORDER BY fill_timestamp, trade_id", args):
            out.append(dict(trading_pair=row[0], trade_id=row[1], client_order_id=row[2],
                            exchange_order_id=row[3], trade_type=row[4], price=row[5], amount=row[6],
                            fee=json.loads(row[7]) if row[7] else None, fill_timestamp=row[8]))
        return out

    def client_order_id_for(self, exchange_order_id: str) -> Optional[str]:
        row = self._db.execute("SELECT client_order_id FROM fills WHERE exchange=? AND exchange_order_id=? LIMIT 1",
                               (self.connector, str(exchange_order_id))).fetchone()
        return row[0] if row else None

    def last_fill_timestamp(self, trading_pair: str) -> Optional[float]:
        row = self._db.execute("SELECT MAX(fill_timestamp) FROM fills WHERE exchange=? AND trading_pair=?",
                               (self.connector, trading_pair)).fetchone()
        return row[0] if row and row[0] is not None else None

    # -- small key/value state -----------------------------------------------------------------
    def set_value(self, key: str, value: Any) -> None:
        self._db.execute("INSERT INTO kv (connector, key, value) VALUES (?,?,?) "
                         "ON CONFLICT(connector, key) DO UPDATE SET value=excluded.value",
                         (self.connector, key, json.dumps(value)))

    def get_value(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM kv WHERE connector=? AND key=?", (self.connector, key)).fetchone()
        return json.loads(row[0]) if row else default
