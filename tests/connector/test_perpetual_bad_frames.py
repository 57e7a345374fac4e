"""Bad input on the futures user stream (catalogue rows tagged `bad`: USR-05, USR-09, USR-33, TRK-15,
TRK-36): frames that are not JSON, not an object, empty, or events missing fields are logged and
skipped — the listener and the socket stay up and later frames are processed; a trade without its
commission fields (``n``/``N``) is recorded with a zero fee (Hummingbot's TRK-36: percent 0, no flat
fees), the rest of the fill (amount, price, completion) as usual."""
import logging
from decimal import Decimal

from perpetual_fixtures import PAIR, SYMBOL, best, eventually, make_perpetual, perp, perp_sim  # noqa: F401

from exconnect.events import MarketEvent
from exconnect.types import OrderType


async def resting_buy(conn, amount="0.03"):
    n = len(conn.event_log[MarketEvent.BuyOrderCreated])
    oid = conn.buy(PAIR, Decimal(amount), OrderType.LIMIT, best(conn, False) + Decimal("0.1"))
    await conn.event_log.wait_for(MarketEvent.BuyOrderCreated, n + 1)
    return oid


def no_polling(sim, tmp_path):
    """Fills come only from the user stream (the trade poll would find them with their fee)."""
    return make_perpetual(sim, tmp_path, short_poll_interval=600, long_poll_interval=600)


async def test_malformed_frames_skipped_and_later_events_processed(perp, perp_sim, caplog):
    ds = perp.user_stream_tracker.data_source
    subs = ds.subscription_count
    perp_sim.faults.bad_user_frames_next(
        "not_json", "not_object", "empty", "empty_object", "order_update_without_order",
        "order_update_missing_fields", "account_update_missing_fields", '{"stream": "x", "data": 5}')
    with caplog.at_level(logging.INFO):
        oid = await resting_buy(perp)             # its NEW event comes right after the bad frames
        await perp_sim.futures.take(SYMBOL, "SELL", "0.03")
        done = (await perp.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
    assert done.order_id == oid
    assert sum(f.amount for f in perp.event_log[MarketEvent.OrderFilled]) == Decimal("0.03")
    # the same socket and key carried on: a malformed frame is not a reason to reconnect
    assert ds.subscription_count == subs
    assert "Unexpected error in user stream listener loop." in caplog.text          # missing fields
    assert "Skipping a user stream frame that is not JSON" in caplog.text
    assert perp.user_stream_tracker.data_source.last_recv_time > 0
    assert perp.ready


async def test_trade_without_commission_recorded_with_zero_fee(perp_sim, tmp_path):
    conn = no_polling(perp_sim, tmp_path)
    await conn.start(timeout=20)
    try:
        oid = await resting_buy(conn)
        perp_sim.faults.user_trades_without_fee_next(1)
        await perp_sim.futures.take(SYMBOL, "SELL", "0.01")
        first = (await conn.event_log.wait_for(MarketEvent.OrderFilled))[0]
        assert first.order_id == oid and first.amount == Decimal("0.01")
        assert first.trade_fee.percent == 0 and first.trade_fee.flat_fees == []
        await perp_sim.futures.take(SYMBOL, "SELL", "0.02")        # this one carries its fee
        done = (await conn.event_log.wait_for(MarketEvent.BuyOrderCompleted))[0]
        second = conn.event_log[MarketEvent.OrderFilled][1]
        assert done.order_id == oid and second.amount == Decimal("0.02")
        assert [(f.token, f.amount > 0) for f in second.trade_fee.flat_fees] == [("USDT", True)]
    finally:
        await conn.stop()


async def test_margin_call_for_unknown_symbol_skipped(perp, perp_sim, caplog):
    # USR-09: only the warning, nothing required, no position touched
    seen = perp._position_events
    with caplog.at_level(logging.INFO):
        perp_sim.faults.bad_user_frames_next("margin_call_unknown_symbol")
        await resting_buy(perp, "0.01")
        await eventually(lambda: "Margin Required: 0. Negative PnL assets: ." in caplog.text)
    assert "Margin Call: Your position risk is too high" in caplog.text
    assert perp._position_events == seen and perp.account_positions == {}


async def test_margin_call_logs_required_margin_and_losing_pairs(perp, caplog):
    # USR-08 wording
    event = {"e": "MARGIN_CALL", "E": 1, "cw": "3.16812045",
             "p": [{"s": SYMBOL, "ps": "LONG", "pa": "1.327", "mt": "CROSSED", "iw": "0", "mp": "187.17127",
                    "up": "-1.166074", "mm": "1.614445"}]}
    with caplog.at_level(logging.INFO):
        perp._process_margin_call(event)
    assert ("Margin Call: Your position risk is too high, and you are at risk of liquidation. Close your "
            "positions or add additional margin to your wallet.") in caplog.text
    assert f"Margin Required: 1.614445. Negative PnL assets: {PAIR}: -1.166074, ." in caplog.text
