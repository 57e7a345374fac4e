"""User stream tracker: one data source feeding one queue of private events."""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Callable, Optional

from .tasks import cancel_and_wait

__all__ = ["UserStreamTrackerDataSource", "UserStreamTracker"]

_log = logging.getLogger(__name__)


class UserStreamTrackerDataSource(ABC):
    """Exchange-specific: connects, authenticates, subscribes, puts event dicts on ``output``."""

    def __init__(self) -> None:
        self.last_recv_time: float = 0.0   # time.time() of the last frame of any kind
        self.on_connected: Optional[Callable[[], None]] = None

    @abstractmethod
    async def listen_for_user_stream(self, output: asyncio.Queue) -> None: ...

    async def stop(self) -> None:
        return None


class UserStreamTracker:
    def __init__(self, data_source: UserStreamTrackerDataSource) -> None:
        self.data_source = data_source
        self.user_stream: asyncio.Queue = asyncio.Queue()
        self._task: Optional[asyncio.Task] = None

    @property
    def last_recv_time(self) -> float:
        return self.data_source.last_recv_time

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self.data_source.listen_for_user_stream(self.user_stream))

    async def stop(self) -> None:
        await self.data_source.stop()
        task, self._task = self._task, None
        await cancel_and_wait([task])
