"""Client order ids: unique within and across processes, short, Binance-safe characters."""
import multiprocessing
import os
import re

import pytest
from hypothesis import given, strategies as st

from exconnect.native.client_order_id import get_new_client_order_id

BINANCE_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
OUR_CHARSET = re.compile(r"^[A-Za-z0-9_-]+$")
BROKER = "x-XEKWYICX"


def test_readable_head_like_hummingbot():
    assert get_new_client_order_id(True, "BTC-USDT").startswith("BBCUT")
    assert get_new_client_order_id(False, "ETH-USDT", BROKER).startswith(BROKER + "SEHUT")


def test_unique_across_many_calls_in_one_process():
    ids = [get_new_client_order_id(i % 2 == 0, "BTC-USDT", BROKER, 32) for i in range(100_000)]
    assert len(set(ids)) == len(ids)
    # ids sort by creation: the time part increases monotonically
    assert ids[1::2] == sorted(ids[1::2])


def _make_ids(n):
    return [get_new_client_order_id(True, "BTC-USDT", BROKER, 32) for _ in range(n)]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_unique_across_processes(method):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(3) as pool:
        batches = pool.map(_make_ids, [20_000] * 3)
    batches.append(_make_ids(20_000))
    ids = [i for b in batches for i in b]
    assert len(set(ids)) == len(ids)


def test_forked_child_does_not_repeat_the_parent():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: same clock, same counter state, must differ by its random part
        os.write(write, "\n".join(_make_ids(1000)).encode())
        os._exit(0)
    os.close(write)
    parent_ids = _make_ids(1000)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    child_ids = b"".join(chunks).decode().split("\n")
    assert len(child_ids) == 1000
    assert not set(child_ids) & set(parent_ids)


@given(st.booleans(), st.text(max_size=20), st.text("ABCxyz019_-", max_size=12),
       st.one_of(st.none(), st.integers(min_value=28, max_value=64)))
def test_length_and_charset(is_buy, pair, prefix, max_len):
    oid = get_new_client_order_id(is_buy, pair, prefix, max_len)
    assert len(oid) <= (36 if max_len is None else max_len)
    assert oid.startswith(prefix)
    assert OUR_CHARSET.match(oid)
    if max_len is None or max_len <= 36:
        assert BINANCE_ID.match(oid)


def test_short_limits_keep_uniqueness_before_readability():
    oid = get_new_client_order_id(True, "BTC-USDT", BROKER, 32)
    assert len(oid) == 32 and oid.startswith(BROKER)
    # 11 time chars + at least 8 random chars survive; the head was shortened instead
    assert len(oid) - len(BROKER) - 11 >= 8
    assert len(get_new_client_order_id(True, "BTC-USDT", "", 16)) == 16


@pytest.mark.parametrize("prefix,max_len", [("bad prefix", None), ("é", None), ("", 15), (BROKER, 25), ("", 0),
                                             ("x" * 70, 200)])
def test_impossible_requests_are_value_errors(prefix, max_len):
    with pytest.raises(ValueError):
        get_new_client_order_id(True, "BTC-USDT", prefix, max_len)


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError):
        get_new_client_order_id(True, None)
    with pytest.raises(TypeError):
        get_new_client_order_id(True, "BTC-USDT", None)
