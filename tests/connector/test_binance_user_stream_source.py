"""USR-36: internals of the spot user stream data source (WebSocket API subscription, no listen
key), over real sockets to the simulator. The listen-key parts of the scenario belong to the
perpetual data source."""
import asyncio

import pytest

from connector_helpers import eventually, make_connector

from exconnect.binance import BinanceUrls

DEAD_WS = "ws://127.0.0.1:1"          # nothing listens there: reconnects fail


@pytest.fixture
async def source(sim, tmp_path):
    """The data source of a connector that is not started: the test runs its listen loop."""
    conn = make_connector(sim, tmp_path)
    ds = conn.user_stream_tracker.data_source
    try:
        yield ds
    finally:
        await ds.stop()
        await conn.stop()


async def listen(ds, queue):
    task = asyncio.get_running_loop().create_task(ds.listen_for_user_stream(queue))
    await eventually(lambda: ds.is_subscribed)
    return task


async def test_last_recv_time_is_zero_without_a_socket_else_the_sockets(source, sim):
    ds = source
    assert ds.last_recv_time == 0 and ds._ws is None and not ds.is_subscribed
    queue = asyncio.Queue()
    await listen(ds, queue)
    at_subscribe = ds.last_recv_time
    assert at_subscribe > 0 and ds._ws is not None
    await asyncio.sleep(0.01)
    sim.spot.user_streams.emit(0, {"e": "custom", "E": 1})
    await asyncio.wait_for(queue.get(), 5)
    assert ds.last_recv_time > at_subscribe                  # the socket's last frame
    ds._urls = BinanceUrls(sim.spot_url, sim.spot_ws_url, DEAD_WS)
    sim.faults.drop_ws("api")
    await eventually(lambda: ds._ws is None)
    assert ds.last_recv_time == 0 and not ds.is_subscribed


async def test_connector_not_user_stream_initialized_while_socket_is_down(connector, sim):
    ds = connector.user_stream_tracker.data_source
    assert connector.status_dict["user_stream_initialized"] is True
    ds._urls = BinanceUrls(sim.spot_url, sim.spot_ws_url, DEAD_WS)
    sim.faults.drop_ws("api")
    await eventually(lambda: ds._ws is None)
    assert connector.user_stream_tracker.last_recv_time == 0
    assert connector.status_dict["user_stream_initialized"] is False and not connector.ready
    ds._urls = BinanceUrls.from_base(sim.spot_url)
    await connector.wait_until_ready(20)


async def test_empty_events_dropped_others_queued(source, sim):
    ds = source
    queue = asyncio.Queue()
    await listen(ds, queue)
    emit = sim.spot.user_streams.emit
    emit(0, {})
    emit(0, {"e": "first", "E": 1})
    emit(0, {})
    emit(0, {"e": "second", "E": 2})
    assert await asyncio.wait_for(queue.get(), 5) == {"e": "first", "E": 1}
    assert await asyncio.wait_for(queue.get(), 5) == {"e": "second", "E": 2}
    emit(0, {"e": "third", "E": 3})                          # delivered after both empty ones
    assert await asyncio.wait_for(queue.get(), 5) == {"e": "third", "E": 3}
    assert queue.empty()


async def test_subscribe_request_carries_key_timestamp_and_signature(source, sim):
    """USR-13, read off the wire: userDataStream.subscribe.signature with a uuid id, the API key,
    a millisecond timestamp and a 64-hex-digit HMAC-SHA256 signature (never the secret)."""
    import re
    import uuid

    import orjson
    await listen(source, asyncio.Queue())
    sent = [orjson.loads(e["data"]) for e in sim.ws_log if '"userDataStream.subscribe.signature"' in e["data"]]
    assert len(sent) == 1
    req = sent[0]
    uuid.UUID(req["id"])
    p = req["params"]
    assert p["apiKey"] == "sim-key" and isinstance(p["timestamp"], int) and p["timestamp"] > 1_600_000_000_000
    assert re.fullmatch(r"[0-9a-f]{64}", p["signature"]) and "sim-secret" not in repr(req)


async def test_frame_shapes_queued_or_skipped(source, sim):
    """USR-16/17/18/20 over the socket: request answers, empty frames and empty objects are not
    queued; a bare event is queued unchanged; a wrapped one is queued unwrapped."""
    ds = source
    queue = asyncio.Queue()
    await listen(ds, queue)
    raw = sim.spot.user_streams.send_raw
    subs = ds.subscription_count
    raw(0, '{"id": "abc", "status": 200, "result": {}}')                      # USR-16
    raw(0, "")                                                               # USR-20
    raw(0, "{}")
    raw(0, '{"subscriptionId": 0, "event": {}}')
    raw(0, '{"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1.5", "T": 1}')  # USR-17
    raw(0, '{"e": "outboundAccountPosition", "E": 2}', wrap=True)            # USR-18
    assert await asyncio.wait_for(queue.get(), 5) == {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1.5", "T": 1}
    assert await asyncio.wait_for(queue.get(), 5) == {"e": "outboundAccountPosition", "E": 2}
    assert queue.empty() and ds.subscription_count == subs and ds.is_subscribed


async def test_stream_terminated_closes_the_socket_and_resubscribes(source, sim):
    ds = source
    queue = asyncio.Queue()
    await listen(ds, queue)
    first = ds._ws
    sim.spot.user_streams.emit(0, {"e": "eventStreamTerminated", "E": 1})
    await eventually(lambda: first.closed)
    await eventually(lambda: ds.is_subscribed and ds.subscription_count == 2)
    assert ds._ws is not first and queue.empty()


async def test_error_while_listening_closes_the_socket(source, sim):
    class FailingOnce(asyncio.Queue):
        failed = False

        def put_nowait(self, item):
            if not self.failed:
                self.failed = True
                raise RuntimeError("consumer broke")
            super().put_nowait(item)

    ds = source
    queue = FailingOnce()
    await listen(ds, queue)
    first = ds._ws
    sim.spot.user_streams.emit(0, {"e": "lost", "E": 1})
    await eventually(lambda: first.closed)
    await eventually(lambda: ds.is_subscribed and ds.subscription_count == 2)
    sim.spot.user_streams.emit(0, {"e": "kept", "E": 2})
    assert await asyncio.wait_for(queue.get(), 5) == {"e": "kept", "E": 2}


async def test_stop_cancels_task_clears_state_and_forgets_socket(source, sim):
    ds = source
    task = await listen(ds, asyncio.Queue())
    ws = ds._ws
    await ds.stop()
    assert task.done() and task.cancelled()
    assert ws.closed and ds._ws is None
    assert not ds.is_subscribed and ds.last_recv_time == 0
    await eventually(lambda: not sim.spot.user_streams.api_subs.get(0))   # the exchange saw it go
    await ds.stop()                                           # idempotent


async def test_tracker_stop_and_restart(connector, sim):
    tracker = connector.user_stream_tracker
    ds = tracker.data_source
    ws = ds._ws
    await tracker.stop()
    assert ws.closed and ds._ws is None and tracker.last_recv_time == 0 and not ds.is_subscribed
    subs = ds.subscription_count
    tracker.start()
    await eventually(lambda: ds.is_subscribed and ds.subscription_count == subs + 1)
    assert tracker.last_recv_time > 0
