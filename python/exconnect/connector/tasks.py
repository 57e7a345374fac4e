"""Small asyncio helpers shared by the connector parts."""
from __future__ import annotations

import asyncio
from typing import Iterable, Optional

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(tasks: Iterable[Optional[asyncio.Task]]) -> None:
    """Cancel every task, then wait until each has finished; their results and errors are
    dropped. ``None`` entries and the calling task itself are skipped."""
    current = asyncio.current_task()
    pending = [t for t in tasks if t is not None and t is not current]
    for t in pending:
        t.cancel()
    for t in pending:
        try:
            await t
        except (asyncio.CancelledError, Exception):
            pass
