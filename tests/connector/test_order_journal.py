"""The new-order journal of ConnectorStore: a new order is durable after one append, reaches sqlite
with its next state (or at the next open), and a crash at any point restores exactly the orders
that were live — never a finished one, never an older state over a newer one."""
import logging
import os
import signal
import subprocess
import sys

from exconnect.connector.persistence import ConnectorStore


def store_at(folder):
    return ConnectorStore.in_folder(str(folder), "binance")


def journal_size(store):
    return os.path.getsize(store.journal_path)


def test_journaled_order_is_seen_at_once_and_folded_into_sqlite_at_reopen(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    assert journal_size(s) > 0
    assert s.load_tracking_states() == {"c1": {"state": "PENDING_CREATE"}}
    assert s._load_rows() == {}                              # not in sqlite yet: no commit paid
    s.close()                                               # as good as a crash for the journal
    again = store_at(tmp_path)
    assert again._load_rows() == {"c1": {"state": "PENDING_CREATE"}}
    assert journal_size(again) == 0


def test_next_save_moves_the_order_to_sqlite_and_the_journal_line_is_superseded(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    s.save_order("c1", {"state": "OPEN"})
    assert s._load_rows() == {"c1": {"state": "OPEN"}} and not s._pending
    assert journal_size(s) > 0                             # not cleared after every order (ftruncate costs)
    s.close()                                              # nothing pending: the journal is left empty
    again = store_at(tmp_path)
    assert journal_size(again) == 0 and again.load_tracking_states() == {"c1": {"state": "OPEN"}}


def test_large_journal_cleared_once_nothing_waits(tmp_path, monkeypatch):
    import exconnect.connector.persistence as persistence
    monkeypatch.setattr(persistence, "JOURNAL_CLEAR_BYTES", 200)
    s = store_at(tmp_path)
    for i in range(5):
        s.journal_order(f"c{i}", {"state": "PENDING_CREATE", "pad": "x" * 40})
    assert journal_size(s) >= 200
    for i in range(4):
        s.save_order(f"c{i}", {"state": "OPEN"})
        assert journal_size(s) >= 200                      # c4 still waits: its line must stay
    s.save_order("c4", {"state": "OPEN"})
    assert journal_size(s) == 0 and not s._in_journal
    s.remove_order("c0")                                   # no line any more: no tombstone needed
    assert journal_size(s) == 0


def test_newer_sqlite_state_wins_over_a_journal_line_still_on_disk(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    s.journal_order("c2", {"state": "PENDING_CREATE"})
    s.save_order("c1", {"state": "OPEN"})                  # the journal keeps c1's line
    s.close()
    again = store_at(tmp_path)
    assert again.load_tracking_states() == {"c1": {"state": "OPEN"}, "c2": {"state": "PENDING_CREATE"}}


def test_finished_order_is_never_revived_by_the_journal(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    s.journal_order("c2", {"state": "PENDING_CREATE"})
    s.save_order("c1", {"state": "OPEN"})
    s.remove_order("c1")                                   # done while c2 still waits: a tombstone
    s.close()
    assert store_at(tmp_path).load_tracking_states() == {"c2": {"state": "PENDING_CREATE"}}


def test_order_failed_before_any_answer_leaves_nothing(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    s.remove_order("c1")
    assert s.load_tracking_states() == {}
    s.close()
    assert store_at(tmp_path).load_tracking_states() == {}


def test_fill_with_state_catches_up_only_when_committed(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    fill = dict(trading_pair="BTC-USDT", trade_id="7", client_order_id="c1", exchange_order_id="e1",
                trade_type="BUY", price="100", amount="0.5", fee=None, fill_timestamp=1.0)
    assert s.record_fill_with_state(fill, "c1", {"state": "PARTIALLY_FILLED"})
    assert not s._pending
    s.journal_order("c2", {"state": "PENDING_CREATE"})
    assert not s.record_fill_with_state(fill, "c2", {"state": "x"})   # duplicate: nothing written
    assert "c2" in s._pending
    s.close()
    assert store_at(tmp_path).load_tracking_states() == {"c1": {"state": "PARTIALLY_FILLED"},
                                                         "c2": {"state": "PENDING_CREATE"}}


def test_damaged_line_is_skipped_with_a_warning(tmp_path, caplog):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    path = s.journal_path
    s.close()
    with open(path, "ab") as f:
        f.write(b'{"c": "c2", "s": {"sta')                   # a torn last line
    with caplog.at_level(logging.WARNING):
        again = store_at(tmp_path)
    assert again.load_tracking_states() == {"c1": {"state": "PENDING_CREATE"}}
    assert "Skipping a damaged line" in caplog.text


def test_second_process_on_the_folder_fails_and_leaves_the_journal_alone(tmp_path):
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    size = journal_size(s)
    code = f"from exconnect.connector.persistence import ConnectorStore\nConnectorStore.in_folder({str(tmp_path)!r}, 'binance')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "locked" in r.stderr
    assert journal_size(s) == size and s.load_tracking_states() == {"c1": {"state": "PENDING_CREATE"}}


def test_sigkill_right_after_the_append_keeps_the_order(tmp_path):
    code = ("import os, signal\nfrom exconnect.connector.persistence import ConnectorStore\n"
            f"s = ConnectorStore.in_folder({str(tmp_path)!r}, 'binance')\n"
            "s.journal_order('c1', {'state': 'PENDING_CREATE', 'amount': '0.001'})\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    r = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert r.returncode == -signal.SIGKILL
    assert store_at(tmp_path).load_tracking_states() == {"c1": {"state": "PENDING_CREATE", "amount": "0.001"}}


def test_live_reader_neither_folds_nor_truncates_the_owners_journal(tmp_path):
    owner = ConnectorStore.in_folder(str(tmp_path), "binance", exclusive=False)
    owner.journal_order("c1", {"state": "PENDING_CREATE"})
    size = journal_size(owner)
    reader = ConnectorStore.in_folder(str(tmp_path), "binance", exclusive=False)
    assert journal_size(owner) == size and reader.load_tracking_states() == {}   # not folded
    reader.journal_order("r1", {"state": "PENDING_CREATE"})    # no journal of its own: sqlite
    assert reader._load_rows() == {"r1": {"state": "PENDING_CREATE"}} and journal_size(owner) == size
    reader.close()
    assert journal_size(owner) == size                    # the reader's close leaves it alone too
    owner.save_order("c1", {"state": "OPEN"})
    owner.close()
    assert journal_size(owner) == 0


def test_short_write_is_refused_and_taken_back(tmp_path, monkeypatch, caplog):
    import pytest
    s = store_at(tmp_path)
    s.journal_order("c1", {"state": "PENDING_CREATE"})
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[: len(data) // 2]))  # disk full
    with pytest.raises(OSError, match="short write"):
        s.journal_order("c2", {"state": "PENDING_CREATE"})
    monkeypatch.setattr(os, "write", real_write)
    assert "c2" not in s._pending
    s.journal_order("c3", {"state": "PENDING_CREATE"})      # not glued to a torn piece
    s.close()
    with caplog.at_level(logging.WARNING):
        again = store_at(tmp_path)
    assert set(again.load_tracking_states()) == {"c1", "c3"} and "damaged" not in caplog.text


async def test_buy_with_a_full_disk_raises_and_tracks_nothing(connector, sim, monkeypatch):
    """The durable write comes before tracking: a failed write is the caller's error, and no order
    is left tracked in memory that was never saved nor sent."""
    import pytest
    from decimal import Decimal
    from exconnect.types import OrderType
    real_write = os.write
    store = connector.store
    monkeypatch.setattr(os, "write", lambda fd, data: (real_write(fd, data[:1]) if fd == store._journal_fd
                                                       else real_write(fd, data)))
    with pytest.raises(OSError, match="short write"):
        connector.buy("BTC-USDT", Decimal("0.001"), OrderType.LIMIT, Decimal("50000"))
    monkeypatch.setattr(os, "write", real_write)
    assert connector.in_flight_orders == {} and store.load_tracking_states() == {}
