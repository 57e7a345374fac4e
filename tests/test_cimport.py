"""Third-party Cython code can `cimport` exconnect's public types and call their cdef paths.

Builds a tiny extension module outside the package, against the installed .pxd files and
`exconnect.native.get_include()` (C headers) and `get_pxd_include()` (Cython include path), exactly as a strategy author would.
"""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("Cython")

STRATEGY_PYX = textwrap.dedent('''
    # cython: language_level=3
    from libc.stdint cimport int64_t
    from exconnect.native.order_book cimport OrderBook
    from exconnect.native.trading_rule cimport TradingRule
    from exconnect.native.in_flight_order cimport InFlightOrder

    def spread_ticks(OrderBook book):
        """best ask - best bid, in fixed-point units, with no Python object per call"""
        cdef int64_t bid = book.c_best_bid()
        cdef int64_t ask = book.c_best_ask()
        return ask - bid

    def apply_frame(OrderBook book, bytes frame):
        return book.c_apply_binance_depth(frame, len(frame))

    def floor_price(TradingRule rule, int64_t price):
        return rule.c_quantize_price(price)

    def fill(InFlightOrder order, trade_update):
        return order.c_update_with_trade_update(trade_update)
''')

SETUP_PY = textwrap.dedent('''
    from setuptools import setup, Extension
    from Cython.Build import cythonize
    import exconnect.native
    setup(name="strategy_ext", ext_modules=cythonize(
        [Extension("strategy_ext", ["strategy_ext.pyx"], include_dirs=[exconnect.native.get_include()])],
        include_path=[exconnect.native.get_pxd_include()], language_level=3, quiet=True))
''')


@pytest.mark.slow
def test_external_cython_module_cimports_public_types(tmp_path):
    (tmp_path / "strategy_ext.pyx").write_text(STRATEGY_PYX)
    (tmp_path / "setup.py").write_text(SETUP_PY)
    build = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-3000:]
    check = textwrap.dedent('''
        from decimal import Decimal
        import strategy_ext
        from exconnect.native.order_book import OrderBook, DEPTH_APPLIED
        from exconnect.native.trading_rule import TradingRule
        from exconnect.native.in_flight_order import InFlightOrder
        from exconnect.types import OrderType, TradeType, TradeUpdate, TradeFee, TokenAmount
        book = OrderBook(price_scale=2, size_scale=5)
        book.apply_binance_snapshot(b'{"lastUpdateId":10,"bids":[["100.00","1"]],"asks":[["100.05","2"]]}')
        assert strategy_ext.spread_ticks(book) == 5
        frame = b'{"e":"depthUpdate","E":1,"s":"X","U":11,"u":11,"b":[["100.03","1"]],"a":[]}'
        assert strategy_ext.apply_frame(book, frame) == DEPTH_APPLIED
        assert strategy_ext.spread_ticks(book) == 2
        rule = TradingRule("BTC-USDT", min_price_increment=Decimal("0.05"))
        from exconnect.native import fixed
        sc = rule.price_scale
        assert strategy_ext.floor_price(rule, fixed.parse("7.04", sc)) == fixed.parse("7.00", sc)
        o = InFlightOrder("c1", "BTC-USDT", OrderType.LIMIT, TradeType.BUY, Decimal("1"), 1.0, price=Decimal("10"))
        tu = TradeUpdate("t1", "c1", "e1", "BTC-USDT", 2.0, Decimal("10"), Decimal("0.5"), Decimal("5"),
                         TradeFee(flat_fees=[TokenAmount("USDT", Decimal("0.01"))]))
        assert strategy_ext.fill(o, tu) == 1 and strategy_ext.fill(o, tu) == 0
        assert o.executed_amount_base == Decimal("0.5")
        print("OK")
    ''')
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK" in run.stdout
