"""Fixtures for simulator tests: a still-market Simulator and a plain aiohttp Binance client."""
from __future__ import annotations

import aiohttp
import pytest

from exconnect.sim import Simulator
from sim_helpers import RestClient, make_config


@pytest.fixture
async def sim():
    async with Simulator(make_config()) as s:
        yield s


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def client(sim, session):
    return RestClient(session, sim.spot_url)

