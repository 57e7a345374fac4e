"""FND: funding info from premiumIndex and the markPrice stream; funding payments from ACCOUNT_UPDATE
FUNDING_FEE + the income endpoint, each emitted once and persisted (a restart does not re-emit);
a real funding cycle with a seconds-long funding interval."""
from decimal import Decimal

import pytest

from perpetual_fixtures import PAIR, SYMBOL, eventually, make_perpetual, open_position, perp, perp_sim  # noqa: F401

from exconnect.events import MarketEvent
from exconnect.sim import SimConfig, Simulator


def income_rows(sim):
    return [r for r in sim.futures.accounts[0].income if r.income_type == "FUNDING_FEE"]


def atoms(value):
    return Decimal(value) / Decimal(10 ** 8)


async def test_funding_info_from_premium_index_then_mark_price_stream(perp, perp_sim):
    info = perp.get_funding_info(PAIR)
    f = perp_sim.futures.funding[SYMBOL]
    assert info.mark_price == atoms(f.mark) and info.index_price == atoms(f.index)
    assert info.next_funding_utc_timestamp == perp_sim.futures.next_funding_time() // 1000
    # the index moves below mark → the premium, hence the estimated rate, rises; the stream tells us
    perp_sim.futures.set_index_premium(SYMBOL, "0.003")
    await eventually(lambda: perp.get_funding_info(PAIR).index_price < perp.get_funding_info(PAIR).mark_price)
    assert perp.get_funding_info(PAIR).index_price == atoms(perp_sim.futures.funding[SYMBOL].index)
    updates = perp.event_log[MarketEvent.FundingInfo]
    assert updates and all(u.trading_pair == PAIR for u in updates)


async def test_bad_mark_price_frame_is_logged_and_the_stream_goes_on(perp, perp_sim, caplog):
    """FND-06: a markPrice frame the funding-info consumer cannot use is logged as Hummingbot does
    and skipped; the market stream stays up and later frames update the funding info."""
    tracker = perp.order_book_tracker
    reconnects = tracker.reconnect_count
    bad = ('{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"not-a-price","P":"x","i":"x","r":"x",'
           '"T":"never"}')
    assert perp_sim.futures.hub.publish("btcusdt@markPrice@1s", bad) == 1
    await eventually(lambda: "Unexpected error updating funding info." in caplog.text)
    perp_sim.futures.set_index_premium(SYMBOL, "0.004")     # valid frames follow
    await eventually(lambda: perp.get_funding_info(PAIR).index_price == atoms(perp_sim.futures.funding[SYMBOL].index))
    assert tracker.reconnect_count == reconnects and perp.ready


async def test_funding_payment_emitted_once_and_persisted(perp, perp_sim, tmp_path):
    log = perp.event_log
    await open_position(perp, perp_sim, side="BUY", amount="0.01")
    rates = await perp_sim.futures.run_funding()
    event = (await log.wait_for(MarketEvent.FundingPaymentCompleted))[0]
    row = income_rows(perp_sim)[-1]
    assert event.trading_pair == PAIR and event.market == "binance_perpetual"
    assert event.amount == atoms(row.income) and event.amount < 0          # a long pays a positive rate
    assert event.funding_rate == atoms(rates[SYMBOL]) and event.timestamp == row.time / 1000
    # the income poll runs again (tick-driven or forced): nothing new
    await perp._update_funding_payments()
    assert len(log[MarketEvent.FundingPaymentCompleted]) == 1
    assert [p["amount"] for p in perp.funding_payments] == [event.amount]
    # a second settlement: exactly one more
    await perp_sim.futures.run_funding()
    await log.wait_for(MarketEvent.FundingPaymentCompleted, 2)
    await perp._update_funding_payments()
    assert len(log[MarketEvent.FundingPaymentCompleted]) == 2
    await perp.stop()
    # restart on the same data folder: recorded payments are not announced again
    again = make_perpetual(perp_sim, tmp_path)
    await again.start(timeout=20)
    try:
        await again._update_funding_payments()
        assert again.event_log[MarketEvent.FundingPaymentCompleted] == []
        assert len(again.funding_payments) == 2
    finally:
        await again.stop()


async def test_payment_during_user_stream_outage_found_by_income_poll(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path, funding_fee_poll_interval=0.2)
    await conn.start(timeout=20)
    try:
        await open_position(conn, perp_sim, side="SELL", amount="0.01")
        await conn.user_stream_tracker.stop()                # no ACCOUNT_UPDATE FUNDING_FEE will arrive
        await perp_sim.futures.run_funding()
        event = (await conn.event_log.wait_for(MarketEvent.FundingPaymentCompleted))[0]
        assert event.amount == atoms(income_rows(perp_sim)[-1].income) and event.amount > 0   # a short receives
    finally:
        await conn.stop()


async def test_payment_while_connector_down_emitted_once_after_restart(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path)
    await conn.start(timeout=20)
    await open_position(conn, perp_sim, side="BUY", amount="0.01")
    await conn.stop()
    await perp_sim.futures.run_funding()                       # settled while we are down
    again = make_perpetual(perp_sim, tmp_path)
    await again.start(timeout=20)
    try:
        event = (await again.event_log.wait_for(MarketEvent.FundingPaymentCompleted))[0]
        assert event.amount == atoms(income_rows(perp_sim)[-1].income)
        await again._update_funding_payments()
        assert len(again.event_log[MarketEvent.FundingPaymentCompleted]) == 1
    finally:
        await again.stop()


async def test_income_request_failure_reports_nothing_and_recovers(perp, perp_sim):
    await open_position(perp, perp_sim, side="BUY", amount="0.01")
    await perp.user_stream_tracker.stop()
    await perp_sim.futures.run_funding()
    perp_sim.faults.rest_fault_path = "/fapi/v1/income"
    perp_sim.faults.rest_errors_next(1, status=500)
    await perp._update_funding_payments()
    assert perp.event_log[MarketEvent.FundingPaymentCompleted] == []
    await perp._update_funding_payments()
    assert len(perp.event_log[MarketEvent.FundingPaymentCompleted]) == 1


async def test_funding_cycle_with_short_interval(tmp_path):
    cfg = SimConfig.default(seed=7, market_activity=False, funding_interval_s=1.0)
    async with Simulator(cfg) as sim:
        conn = make_perpetual(sim, tmp_path)
        await conn.start(timeout=20)
        try:
            first_next = conn.get_funding_info(PAIR).next_funding_utc_timestamp
            await open_position(conn, sim, side="BUY", amount="0.01")
            events = await conn.event_log.wait_for(MarketEvent.FundingPaymentCompleted, 2, timeout=15)
            rows = income_rows(sim)
            assert len(rows) >= 2
            by_time = {r.time / 1000: atoms(r.income) for r in rows}
            for e in events:
                assert by_time[e.timestamp] == e.amount
            assert len({e.timestamp for e in events}) == len(events)          # each payment once
            await eventually(lambda: conn.get_funding_info(PAIR).next_funding_utc_timestamp > first_next)
        finally:
            await conn.stop()


def test_funding_payment_span_settable():
    from exconnect.binance_perpetual import BinancePerpetualDerivative
    conn = BinancePerpetualDerivative("k", "s", ["BTC-USDT"], data_folder=None, funding_payment_span=[60, 30])
    assert conn.funding_payment_span == [60, 30]
    assert BinancePerpetualDerivative("k", "s", ["BTC-USDT"], data_folder=None).funding_payment_span == [0, 0]
    with pytest.raises(ValueError):
        BinancePerpetualDerivative("k", "s", ["BTC-USDT"], data_folder=None, funding_payment_span=[-1, 0])
