"""Money-safety failure modes on the futures paths (CXL-04/08, POL-18, BAL-12): a failed cancel,
status or balance request never drops a live order nor zeroes what the account holds. The
connectors here poll rarely, so only the request a test makes meets the injected fault."""
from decimal import Decimal

import pytest

from connector_helpers import running
from perpetual_fixtures import PAIR, best, eventually, make_perpetual, perp_sim  # noqa: F401

from exconnect.connector.web import UnknownOutcomeError
from exconnect.events import MarketEvent
from exconnect.types import OrderState, OrderType


@pytest.fixture
async def quiet(perp_sim, tmp_path):
    async with running(make_perpetual(perp_sim, tmp_path, short_poll_interval=600, long_poll_interval=600)) as conn:
        yield conn


async def resting(conn):
    oid = conn.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, best(conn, False) - Decimal("300"))
    await conn.event_log.wait_for(MarketEvent.BuyOrderCreated)
    return oid


async def test_cancel_answered_unknown_order_keeps_order_tracked(quiet, perp_sim):
    # -2011 on the cancel counts the order as not found once, and the connector asks the exchange
    # about it at once (a background status check); the exchange says NEW, so that check clears
    # the count again. The count is therefore read where it is set (not after cancel_all, when the
    # check may already have answered — the race that made this test flaky), and the fault is
    # restricted to the DELETE (a status poll on the same path must not take it).
    oid = await resting(quiet)
    tracker = quiet.order_tracker
    counted = []
    real_not_found = tracker.process_order_not_found

    def spy(cid):
        real_not_found(cid)
        counted.append((cid, tracker.not_found_count(cid)))

    tracker.process_order_not_found = spy
    perp_sim.faults.rest_fault_path = "/fapi/v1/order"
    perp_sim.faults.rest_fault_method = "DELETE"
    perp_sim.faults.rest_errors_next(1, status=400, code=-2011, msg="Unknown order sent.")
    n = len(perp_sim.request_log)
    results = await quiet.cancel_all(5)
    assert [(r.order_id, r.success) for r in results] == [(oid, False)]
    assert counted == [(oid, 1)]
    # the status check that follows finds the order open: tracked, not cancelled, no longer "not found"
    await eventually(lambda: any(e["method"] == "GET" and e["path"] == "/fapi/v1/order"
                                 for e in list(perp_sim.request_log)[n:]))
    await eventually(lambda: tracker.not_found_count(oid) == 0)
    order = quiet.in_flight_orders[oid]
    assert order.is_open and not order.is_done and not quiet.event_log[MarketEvent.OrderCancelled]
    results = await quiet.cancel_all(5)                    # the exchange answers normally again
    assert [(r.order_id, r.success) for r in results] == [(oid, True)]
    assert quiet.in_flight_orders == {} and len(quiet.event_log[MarketEvent.OrderCancelled]) == 1


async def test_cancel_with_server_error_reports_failure_and_keeps_order(quiet, perp_sim):
    oid = await resting(quiet)
    perp_sim.faults.rest_fault_path = "/fapi/v1/order"
    perp_sim.faults.rest_errors_next(1, status=500, code=-1000, msg="Unknown error")
    results = await quiet.cancel_all(5)
    assert [(r.order_id, r.success) for r in results] == [(oid, False)]
    assert quiet.in_flight_orders[oid].current_state == OrderState.OPEN
    assert perp_sim.futures.open_orders[0]                  # and it does still rest on the exchange
    assert [r.success for r in await quiet.cancel_all(5)] == [True]


async def test_status_clock_errors_leave_order_state_alone(quiet, perp_sim):
    oid = await resting(quiet)
    perp_sim.faults.rest_fault_path = "/fapi/v1/order"
    perp_sim.faults.rest_errors_next(2, status=400, code=-1021,
                                     msg="Timestamp for this request is outside of the recvWindow.")
    await quiet._update_order_status()                      # fails after one resync + retry
    order = quiet.in_flight_orders[oid]
    assert order.current_state == OrderState.OPEN and quiet.order_tracker.not_found_count(oid) == 0
    assert not quiet.event_log[MarketEvent.OrderFailure]


async def test_balance_request_failure_keeps_last_balances(quiet, perp_sim):
    total, available = quiet.get_balance("USDT"), quiet.get_available_balance("USDT")
    assert total > 0 and available > 0
    perp_sim.faults.rest_fault_path = "/fapi/v2/account"
    perp_sim.faults.rest_errors_next(1, status=500, code=-1000, msg="Unknown error")
    with pytest.raises(UnknownOutcomeError):
        await quiet._update_balances()
    assert quiet.get_balance("USDT") == total and quiet.get_available_balance("USDT") == available


async def test_trade_history_request_failure_leaves_order_untouched(quiet, perp_sim):
    # POL-13
    oid = await resting(quiet)
    perp_sim.faults.rest_fault_path = "/fapi/v1/userTrades"
    perp_sim.faults.rest_errors_next(1, status=500, code=-1000, msg="Unknown error")
    with pytest.raises(UnknownOutcomeError):
        await quiet._update_order_fills_from_trades()
    order = quiet.in_flight_orders[oid]
    assert order.current_state == OrderState.OPEN and order.executed_amount_base == 0
    assert not quiet.event_log[MarketEvent.OrderFilled]
