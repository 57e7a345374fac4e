from exconnect.connector.persistence import ConnectorStore


def fill(**kw):
    base = dict(trading_pair="BTC-USDT", trade_id="7", client_order_id="c1", exchange_order_id="e1",
                trade_type="BUY", price="100", amount="0.5", fee={"x": 1}, fill_timestamp=1.0)
    base.update(kw)
    return base


def test_fill_recorded_once_per_pair_and_trade_id(tmp_path):
    store = ConnectorStore.in_folder(str(tmp_path / "data"), "binance")
    assert store.record_fill(**fill())
    assert not store.record_fill(**fill(amount="9"))                 # duplicate trade id
    assert store.record_fill(**fill(trading_pair="ETH-USDT"))       # same id, other pair: new
    assert [f["amount"] for f in store.fills("BTC-USDT")] == ["0.5"]
    assert store.client_order_id_for("e1") == "c1"
    assert store.has_fill("BTC-USDT", "7") and not store.has_fill("BTC-USDT", "8")


def test_states_survive_reopen_and_wal_mode(tmp_path):
    folder = str(tmp_path)
    store = ConnectorStore.in_folder(folder, "binance")
    store.save_order("c1", {"client_order_id": "c1", "amount": "1"})
    store.save_order("c2", {"client_order_id": "c2"})
    store.remove_order("c2")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = ConnectorStore.in_folder(folder, "binance")
    assert again.load_tracking_states() == {"c1": {"client_order_id": "c1", "amount": "1"}}
    assert ConnectorStore.in_folder(folder, "other").load_tracking_states() == {}


def test_fill_with_state_is_atomic_and_skips_duplicates(tmp_path):
    store = ConnectorStore.in_folder(str(tmp_path), "binance")
    assert store.record_fill_with_state(fill(), "c1", {"v": 1})
    assert not store.record_fill_with_state(fill(), "c1", {"v": 2})
    assert store.load_tracking_states() == {"c1": {"v": 1}}
