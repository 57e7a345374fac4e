"""cancel_and_wait: the one 'cancel, then wait for each' used by every stop() of the connector."""
import asyncio

from exconnect.connector.tasks import cancel_and_wait


async def test_cancels_waits_and_drops_outcomes():
    finished = []

    async def forever(tag):
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)          # cleanup that needs the loop: must have run on return
            finished.append(tag)

    async def fails():
        raise RuntimeError("boom")

    loop = asyncio.get_running_loop()
    a, b, c = loop.create_task(forever("a")), loop.create_task(forever("b")), loop.create_task(fails())
    await asyncio.sleep(0)
    await cancel_and_wait([a, None, b, c])
    assert sorted(finished) == ["a", "b"] and a.cancelled() and b.cancelled() and c.done()
    await cancel_and_wait([])


async def test_skips_the_calling_task():
    async def stops_itself():
        await cancel_and_wait([asyncio.current_task()])
        return "still running"

    assert await asyncio.get_running_loop().create_task(stops_itself()) == "still running"
