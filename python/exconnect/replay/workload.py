"""The replay workload: a Binance-shaped depth snapshot and a stream of `depthUpdate` frames.

    from exconnect.replay import load_workload
    w = load_workload()                  # 100,000 spot frames, seed 7, ~1,000 levels a side
    book.apply_binance_snapshot(w.snapshot)
    for frame in w.frames: book.apply_binance_depth(frame)
    w.frame_levels("fixed")              # the same changes pre-parsed: [(bids, asks), ...]

Deterministic: the same config gives the same bytes on every machine. The full default workload
is cached under `cache.cache_dir()`; a shorter one (`frames=N`) is the prefix of the longer one.
"""
from __future__ import annotations

import hashlib
from array import array
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from . import cache
from .encoding import (STEPS_PER_UNIT, TICKS_PER_UNIT, combined_envelope, depth_frame,
                       depth_stream_name, price_text, qty_text, snapshot_body)
from .generator import GENERATOR_VERSION, DepthProcess

PriceQty = Tuple[object, object]
FrameLevels = Tuple[List[PriceQty], List[PriceQty]]

START_TIME_MS = 1767225600000        # 2026-01-01T00:00:00Z
FIRST_UPDATE_ID = 71234567890        # the order of magnitude of BTCUSDT's live ids
# Below this many frames generation is quick (< ~1 s): skip the cache.
CACHE_FROM_FRAMES = 20_000


@dataclass(frozen=True)
class WorkloadConfig:
    seed: int = 7
    frames: int = 100_000
    levels_per_side: int = 1000
    changes_per_frame: int = 12
    delete_ratio: float = 0.30
    deep_fraction: float = 0.10    # share of changes anywhere in the book; the rest near the top
    symbol: str = "BTCUSDT"
    start_price: str = "60000.00"
    futures: bool = False          # frames carry T and pu; ids are not contiguous between events
    combined: bool = False         # frames wrapped as {"stream":"btcusdt@depth@100ms","data":{..}}

    def __post_init__(self) -> None:
        if self.frames < 0:
            raise ValueError(f"frames must be >= 0, got {self.frames}")
        if not self.symbol.isalnum() or not self.symbol.isupper():
            raise ValueError(f"symbol must be upper-case alphanumeric like BTCUSDT, got {self.symbol!r}")
        price = Decimal(self.start_price)
        if price != price.quantize(Decimal("0.01")) or price <= 0:
            raise ValueError(f"start_price must be a positive multiple of 0.01, got {self.start_price!r}")

    def generation_key(self) -> str:
        """What the generated data depends on (not frames: shorter runs are prefixes; not combined)."""
        fields = asdict(self)
        del fields["frames"], fields["combined"]
        if fields["deep_fraction"] == 0.10:
            del fields["deep_fraction"]       # the default keeps the key it had before it existed
        text = f"v{GENERATOR_VERSION}:" + repr(sorted(fields.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


TICK = Decimal("0.01")
STEP = Decimal("0.00001")


class Workload:
    """Generated data plus views of it. Level arrays hold integer ticks / steps."""

    def __init__(self, config: WorkloadConfig, data: Dict[str, object]) -> None:
        self.config = config
        self.snapshot: bytes = data["snapshot"]                        # REST depth body
        self.snapshot_update_id: int = data["snapshot_update_id"]
        n = config.frames
        frames = data["frames"].split(b"\n")[:n] if n else []
        if config.combined:
            stream = depth_stream_name(config.symbol)
            frames = [combined_envelope(f, stream) for f in frames]
        self.frames: List[bytes] = frames
        self.first_update_ids: array = data["first_ids"][:n]           # U per frame
        self.last_update_ids: array = data["last_ids"][:n]             # u per frame
        self._snapshot_levels: Tuple[array, array] = data["snapshot_levels"]
        self._counts: array = data["counts"][: 2 * n]                  # (bids, asks) per frame
        self._levels: array = data["levels"][: 2 * sum(self._counts)]  # price, qty, price, qty...

    # -- sizes ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frames)

    @property
    def level_count(self) -> int:
        """Level changes over all frames."""
        return len(self._levels) // 2

    def frame_level_counts(self) -> List[int]:
        """Number of level changes in each frame."""
        counts = self._counts
        return [counts[i] + counts[i + 1] for i in range(0, len(counts), 2)]

    @property
    def delete_count(self) -> int:
        return sum(1 for q in self._levels[1::2] if q == 0)

    # -- pre-parsed views -------------------------------------------------------------------------
    def snapshot_levels(self, form: str = "fixed", price_scale: int = 8,
                        size_scale: int = 8) -> FrameLevels:
        """The snapshot's (bids, asks), best first, as (price, qty) in `form` (see frame_levels)."""
        convert = _converter(form, price_scale, size_scale)
        bids, asks = self._snapshot_levels
        return convert(bids), convert(asks)

    def frame_levels(self, form: str = "fixed", price_scale: int = 8,
                     size_scale: int = 8) -> List[FrameLevels]:
        """Every frame's (bids, asks) as lists of (price, qty):

        form "fixed":   ints at price_scale / size_scale decimals (what the C book stores)
        form "ticks":   ints in ticks of 0.01 and steps of 0.00001
        form "text":    Binance's strings ("60000.01000000", "0.00000000")
        form "decimal": Decimal
        """
        convert = _converter(form, price_scale, size_scale)
        levels, counts = self._levels, self._counts
        out: List[FrameLevels] = []
        at = 0
        for i in range(0, len(counts), 2):
            nb, na = counts[i], counts[i + 1]
            mid = at + 2 * nb
            end = mid + 2 * na
            out.append((convert(levels[at:mid]), convert(levels[mid:end])))
            at = end
        return out

    def frame_level_arrays(self, price_scale: int = 8, size_scale: int = 8) -> List[Tuple[array, array]]:
        """Every frame's (bids, asks) as array('q') of interleaved price, qty in fixed point:
        the buffer form OrderBook.apply_levels_fixed takes."""
        _converter("fixed", price_scale, size_scale)     # validates the scales
        pf = 10 ** price_scale // TICKS_PER_UNIT
        qf = 10 ** size_scale // STEPS_PER_UNIT
        levels, counts = self._levels, self._counts
        out: List[Tuple[array, array]] = []
        at = 0
        for i in range(0, len(counts), 2):
            mid = at + 2 * counts[i]
            end = mid + 2 * counts[i + 1]
            sides = []
            for start, stop in ((at, mid), (mid, end)):
                flat = levels[start:stop]
                flat[0::2] = array("q", [p * pf for p in flat[0::2]])
                flat[1::2] = array("q", [q * qf for q in flat[1::2]])
                sides.append(flat)
            out.append((sides[0], sides[1]))
            at = end
        return out

    def final_book(self) -> Tuple[Dict[int, int], Dict[int, int]]:
        """(bids, asks) as {price_ticks: qty_steps} after snapshot + every frame: the expected end state."""
        sb, sa = self._snapshot_levels
        bids = dict(zip(sb[0::2], sb[1::2]))
        asks = dict(zip(sa[0::2], sa[1::2]))
        for frame_bids, frame_asks in self.frame_levels("ticks"):
            for side, changes in ((bids, frame_bids), (asks, frame_asks)):
                for price, qty in changes:
                    if qty:
                        side[price] = qty
                    else:
                        side.pop(price, None)
        return bids, asks


def _converter(form: str, price_scale: int, size_scale: int):
    if form == "ticks":
        return lambda flat: list(zip(flat[0::2], flat[1::2]))
    if form == "fixed":
        # Ticks are 0.01 and steps 0.00001: scales below those would need rounding.
        if not 2 <= price_scale <= 18 or not 5 <= size_scale <= 18:
            raise ValueError(f"fixed form needs price_scale in 2..18 and size_scale in 5..18, "
                             f"got {price_scale}, {size_scale}")
        pf = 10 ** price_scale // TICKS_PER_UNIT
        qf = 10 ** size_scale // STEPS_PER_UNIT
        return lambda flat: [(p * pf, q * qf) for p, q in zip(flat[0::2], flat[1::2])]
    if form == "text":
        return lambda flat: [(price_text(p), qty_text(q)) for p, q in zip(flat[0::2], flat[1::2])]
    if form == "decimal":
        return lambda flat: [(Decimal(p).scaleb(-2), Decimal(q).scaleb(-5))
                             for p, q in zip(flat[0::2], flat[1::2])]
    raise ValueError(f"unknown levels form {form!r}: use 'fixed', 'ticks', 'text' or 'decimal'")


def generate(config: WorkloadConfig) -> Dict[str, object]:
    """Run the random process and encode it (no cache). Returns the raw data a Workload wraps."""
    process = DepthProcess(
        config.seed, levels_per_side=config.levels_per_side,
        changes_per_frame=config.changes_per_frame, delete_ratio=config.delete_ratio,
        start_price_ticks=int(Decimal(config.start_price) * TICKS_PER_UNIT),
        first_update_id=FIRST_UPDATE_ID, start_time_ms=START_TIME_MS, futures=config.futures,
        deep_fraction=config.deep_fraction)
    last_id, snap_bids, snap_asks = process.snapshot()
    frames: List[bytes] = []
    first_ids, last_ids, counts, levels = array("q"), array("q"), array("q"), array("q")
    for _ in range(config.frames):
        event = process.next_event()
        # Futures transaction time precedes the event time by a few ms.
        frames.append(depth_frame(event, config.symbol, futures=config.futures,
                                  transaction_time_ms=event.event_time_ms - 2 - event.last_update_id % 3))
        first_ids.append(event.first_update_id)
        last_ids.append(event.last_update_id)
        counts.append(len(event.bids))
        counts.append(len(event.asks))
        for price, qty in event.bids:
            levels.append(price)
            levels.append(qty)
        for price, qty in event.asks:
            levels.append(price)
            levels.append(qty)
    return {
        "frame_count": config.frames,
        "snapshot": snapshot_body(last_id, snap_bids, snap_asks),
        "snapshot_update_id": last_id,
        "snapshot_levels": (array("q", [x for level in snap_bids for x in level]),
                            array("q", [x for level in snap_asks for x in level])),
        "frames": b"\n".join(frames),
        "first_ids": first_ids, "last_ids": last_ids, "counts": counts, "levels": levels,
    }


def cache_path(config: WorkloadConfig):
    """The cache file holding `config`'s data (it may not exist yet)."""
    return cache.cache_dir() / f"depth-{config.generation_key()}.pickle"


def load_workload(config: Optional[WorkloadConfig] = None, *, use_cache: Optional[bool] = None,
                  **overrides) -> Workload:
    """The workload for `config` (default WorkloadConfig(), fields overridable by keyword).

    use_cache: None → cache when config.frames >= CACHE_FROM_FRAMES; True/False forces it.
    """
    config = replace(config or WorkloadConfig(), **overrides)
    if use_cache is None:
        use_cache = config.frames >= CACHE_FROM_FRAMES
    if not use_cache:
        return Workload(config, generate(config))
    path = cache_path(config)
    data = cache.load(path)
    if not isinstance(data, dict) or data.get("frame_count", -1) < config.frames:
        # Generate at least the default length so later full-length runs hit the cache too.
        full = replace(config, frames=max(config.frames, WorkloadConfig.frames))
        data = generate(full)
        cache.store(path, data)
    return Workload(config, data)
