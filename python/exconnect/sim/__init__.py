"""``exconnect.sim``: a Binance-compatible exchange simulator (spot + USDⓈ-M) on loopback.

    from exconnect.sim import Simulator, SimConfig
    async with Simulator(SimConfig.default(seed=7, market_activity=False)) as sim:
        ...  # point a client at sim.spot_url / sim.spot_ws_url

See README.md in this folder for the internal APIs and test helpers.
"""
from .config import AccountConfig, FaultConfig, RateLimitConfig, SimConfig, SymbolConfig
from .server import Simulator

__all__ = ["Simulator", "SimConfig", "SymbolConfig", "AccountConfig", "RateLimitConfig", "FaultConfig"]
