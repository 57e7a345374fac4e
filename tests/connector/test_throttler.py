import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exconnect.connector.throttler import AsyncThrottler, LinkedLimitWeightPair, RateLimit


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def make(clock, share=100):
    return AsyncThrottler([
        RateLimit("POOL", 10, 60),
        RateLimit("ORDERS", 2, 10),
        RateLimit("/order", 1_000_000, 60, weight=0,
                  linked_limits=[LinkedLimitWeightPair("POOL", 4), LinkedLimitWeightPair("ORDERS", 1)]),
        RateLimit("/ping", 1_000_000, 60, weight=0, linked_limits=[LinkedLimitWeightPair("POOL", 1)]),
    ], limits_share_percentage=share, time_provider=clock)


async def test_weights_count_against_linked_pools():
    clock = FakeClock()
    th = make(clock)
    await th.acquire("/order")
    await th.acquire("/order")
    assert th.used("POOL") == 8 and th.used("ORDERS") == 2
    assert not th.within_capacity("/order")      # ORDERS pool full
    assert th.within_capacity("/ping")           # POOL has 2 left
    clock.t += 10.01                             # ORDERS window slides
    assert th.used("ORDERS") == 0
    assert not th.within_capacity("/order")      # POOL 8 + 4 > 10 still
    clock.t += 60
    assert th.within_capacity("/order")


def test_related_limits_pool_has_none_endpoint_lists_its_pools():
    """THR-03: a pool id links to nothing; an endpoint id lists its pools with their weights."""
    th = make(FakeClock())
    assert th.limit("POOL").linked_limits == [] and th.limit("ORDERS").linked_limits == []
    assert [(p.limit_id, p.weight) for p in th.limit("/order").linked_limits] == [("POOL", 4), ("ORDERS", 1)]
    assert [(p.limit_id, p.weight) for p in th.limit("/ping").linked_limits] == [("POOL", 1)]


async def test_unknown_id_is_not_throttled():
    th = make(FakeClock())
    for _ in range(100):
        await th.acquire("/nope")
    assert th.within_capacity("/nope")


def test_share_percentage_floors_but_keeps_at_least_one():
    th = AsyncThrottler([RateLimit("A", 1, 1), RateLimit("B", 10, 1)], limits_share_percentage=55)
    assert th.capacity("A") == 1 and th.capacity("B") == 5


async def test_acquire_waits_until_window_frees():
    th = AsyncThrottler([RateLimit("A", 1, 0.05)])
    await th.acquire("A")
    assert not th.within_capacity("A")
    await asyncio.wait_for(th.acquire("A"), 2)   # must wait ~50 ms, not forever
    assert th.used("A") == 1


async def test_backoff_blocks_everything_until_retry_after():
    clock = FakeClock()
    th = make(clock)
    th.backoff(30)
    assert not th.within_capacity("/ping")
    assert th.blocked_for == pytest.approx(30)
    clock.t += 30.5
    assert th.within_capacity("/ping")


def test_bookkeeping_stays_bounded_over_many_requests():
    clock = FakeClock()
    th = AsyncThrottler([RateLimit("A", 10**9, 1.0)], time_provider=clock)
    loop = asyncio.new_event_loop()
    try:
        for i in range(20000):
            clock.t += 0.001
            loop.run_until_complete(th.acquire("A"))
    finally:
        loop.close()
    # only the last second's entries are kept (expired ones popped as we go)
    assert len(th._windows["A"].entries) <= 1001


def test_invalid_limits_rejected():
    with pytest.raises(ValueError):
        RateLimit("x", 1, 0)
    with pytest.raises(ValueError):
        AsyncThrottler([], limits_share_percentage=0)


def test_day_window_keeps_about_a_thousand_entries():
    """A day-long ORDERS pool (Binance spot: 160,000 orders a day) must not hold one entry per order."""
    clock = FakeClock()
    th = AsyncThrottler([RateLimit("ORDERS_1D", 200_000, 86_400)], time_provider=clock)
    loop = asyncio.new_event_loop()
    try:
        for i in range(50_000):
            clock.t += 1.0                                   # an order a second for ~14 hours
            loop.run_until_complete(th.acquire("ORDERS_1D"))
    finally:
        loop.close()
    assert th.used("ORDERS_1D") == 50_000
    assert len(th._windows["ORDERS_1D"].entries) <= 1001


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(0, 0.3), st.integers(1, 3)), min_size=1, max_size=300))
def test_never_admits_more_than_the_limit_in_any_window(steps):
    """Bucketing errs on the safe side: whatever the request times, the weight admitted in any
    interval never exceeds the limit (checked against the exact sliding window)."""
    clock = FakeClock()
    th = AsyncThrottler([RateLimit("A", 10, 1.0)], time_provider=clock)
    th._windows["A"].bucket = 0.25          # coarse buckets, so that any under-count would show
    admitted = []
    for dt, weight in steps:
        clock.t += dt
        th._windows["A"].expire(clock.t)
        if th._windows["A"].wait_time(clock.t, weight) == 0.0:
            th._windows["A"].add(clock.t, weight)
            admitted.append((clock.t, weight))
    for t, _ in admitted:
        assert sum(w for u, w in admitted if t - 1.0 < u <= t) <= 10
