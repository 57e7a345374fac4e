"""Fixtures for connector tests: a quiet simulator on loopback and a connector talking to it."""
import pytest

from connector_helpers import make_connector, running

from exconnect.sim import SimConfig, Simulator


@pytest.fixture
async def sim():
    async with Simulator(SimConfig.default(seed=7, market_activity=False)) as s:
        yield s


@pytest.fixture
async def connector(sim, tmp_path):
    async with running(make_connector(sim, tmp_path)) as conn:
        yield conn
