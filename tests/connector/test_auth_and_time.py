import pickle

import pytest

from exconnect.binance.binance_auth import BinanceAuth
from exconnect.connector.auth import HmacSha256Signer
from exconnect.connector.time_sync import TimeSynchronizer

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_binance_documented_signature_vector():
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
               "&recvWindow=5000&timestamp=1499827319559")
    assert HmacSha256Signer(SECRET).sign(payload) == \
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_signed_query_adds_timestamp_then_signature_last():
    auth = BinanceAuth("key-1234567890", SECRET, time_ms=lambda: 1499827319559)
    q = auth.signed_query({"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                           "quantity": "1", "price": "0.1", "recvWindow": 5000})
    assert q.endswith("&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
    assert auth.header_for_authentication() == {"X-MBX-APIKEY": "key-1234567890"}


def test_ws_signature_sorted_and_independent_of_insertion_order():
    auth = BinanceAuth("key-1234567890", SECRET, time_ms=lambda: 1)
    a = auth.sign_ws_params({"timestamp": 1, "apiKey": "k"})
    b = auth.sign_ws_params({"apiKey": "k", "timestamp": 1})
    assert a == b and len(a) == 64
    assert a == HmacSha256Signer(SECRET).sign("apiKey=k&timestamp=1")
    p = auth.ws_signed_params()
    assert set(p) == {"apiKey", "timestamp", "signature"}


def test_secret_never_in_repr_or_pickle():
    auth = BinanceAuth("abcdefghijkl", SECRET, time_ms=lambda: 1)
    for text in (repr(auth), str(auth), repr(auth._signer)):
        assert SECRET not in text
    assert "abcdefghijkl" not in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth._signer)


def test_bad_keys_rejected():
    with pytest.raises(ValueError):
        HmacSha256Signer("")
    with pytest.raises(ValueError):
        BinanceAuth("", SECRET, time_ms=lambda: 1)


def test_time_offset_single_and_multiple_samples():
    local = [1000.0]
    ts = TimeSynchronizer(time_provider=lambda: local[0])
    assert ts.time() == 1000.0
    ts.add_time_offset_ms_sample(3000)
    assert ts.time() == 1003.0
    ts.add_time_offset_ms_sample(1000)
    ts.add_time_offset_ms_sample(2000)
    # median 2000, weighted (1*3000 + 3*1000 + 5*2000)/9 = 1777.78 -> mean 1888.89
    assert ts.time_offset_ms == pytest.approx((2000 + 16000 / 9) / 2)


async def test_offset_from_server_time_uses_round_trip_midpoint():
    local = [1000.0]
    ts = TimeSynchronizer(time_provider=lambda: local[0])

    async def server():
        local[0] += 0.2                      # 200 ms round trip
        return 1640000003000

    await ts.update_server_time_offset_with_time_provider(server)
    assert ts.time_ms() == pytest.approx(1640000003000 + 100, abs=1)


def test_fast_param_encoding_equals_urlencode():
    from urllib.parse import urlencode

    from exconnect.binance.binance_auth import encode_params
    for params in ({"symbol": "BTCUSDT", "price": "0.1", "id": "exc-B_1"}, {"a": "x y", "b": "é"}, {"q": "1&2"}):
        assert encode_params(params) == urlencode(params)
