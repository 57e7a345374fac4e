"""USR-24/33/36 for the listenKey data source, over real sockets: receive time 0 without a socket and
the socket's otherwise; empty frames dropped, events queued; an interrupted listener closes and
forgets its socket and keepalive; ``stop`` cancels the keepalive, clears the key and the
"initialized" flag, closes and forgets the socket."""
import asyncio
import time

from perpetual_fixtures import PAIR, best, eventually, make_perpetual, perp, perp_sim  # noqa: F401


def private_connections(sim):
    return [c for c in sim.futures.hub.connections if c.request.path.startswith("/private")]


async def own_listener(perp):
    """Take the data source away from the connector's tracker and listen into our own queue."""
    await perp.user_stream_tracker.stop()
    ds = perp.user_stream_tracker.data_source
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.get_running_loop().create_task(ds.listen_for_user_stream(queue))
    await eventually(lambda: ds._ws is not None)
    return ds, queue, task


async def test_fresh_source_has_no_receive_time_nor_key(perp_sim, tmp_path):
    conn = make_perpetual(perp_sim, tmp_path)
    try:
        ds = conn.user_stream_tracker.data_source
        assert ds.last_recv_time == 0 and ds.listen_key is None and not ds.listen_key_initialized.is_set()
        assert conn.status_dict["user_stream_initialized"] is False
    finally:
        await conn.stop()


async def test_receive_time_is_the_sockets_and_zero_without_one(perp, perp_sim):
    ds = perp.user_stream_tracker.data_source
    await eventually(lambda: ds._ws is not None)
    before = ds.last_recv_time
    assert 0 < before <= time.time() and ds.last_recv_time == ds._last_recv
    perp_sim.futures.deposit(0, "1")                       # one frame on the socket
    await eventually(lambda: ds.last_recv_time > before)
    await ds.stop()
    assert ds.last_recv_time == 0 and ds._last_recv > 0     # no socket: 0, whatever was seen
    assert perp.status_dict["user_stream_initialized"] is False
    await eventually(lambda: ds._ws is not None)           # the tracker's loop takes a new session
    assert ds.last_recv_time > 0 and perp.status_dict["user_stream_initialized"]


async def test_empty_frames_dropped_events_queued(perp, perp_sim):
    ds, queue, task = await own_listener(perp)
    try:
        perp_sim.faults.bad_user_frames_next("empty", "empty_object", "not_object")
        perp_sim.futures.deposit(0, "1")
        event = await asyncio.wait_for(queue.get(), 10)
        assert event["e"] == "ACCOUNT_UPDATE" and event["a"]["m"] == "DEPOSIT"
        assert queue.empty()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_interruption_closes_and_forgets_socket_and_keepalive(perp, perp_sim):
    ds, queue, task = await own_listener(perp)
    ws, keepalive = ds._ws, ds._keepalive_task
    assert keepalive is not None and not keepalive.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert ws.closed and ds._ws is None and ds.last_recv_time == 0
    assert ds._keepalive_task is None
    await eventually(lambda: keepalive.done())
    await eventually(lambda: private_connections(perp_sim) == [])      # the server saw it go


async def test_stop_cancels_keepalive_clears_key_and_flag_and_forgets_socket(perp, perp_sim):
    ds, queue, task = await own_listener(perp)
    try:
        ws, keepalive = ds._ws, ds._keepalive_task
        assert ds.listen_key and ds.listen_key_initialized.is_set()
        await ds.stop()
        assert ds._ws is None and ws.closed
        assert ds.listen_key is None and not ds.listen_key_initialized.is_set()
        assert ds._keepalive_task is None
        await eventually(lambda: keepalive.done())
        assert keepalive.cancelled()
        assert ds.last_recv_time == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
