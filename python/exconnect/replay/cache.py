"""Where generated workloads are kept between runs (~/.cache/exconnect by default).

Generating the full 100,000-frame workload takes a few seconds of pure Python; loading it back
takes tens of milliseconds. Nothing large is bundled in git: the cache is rebuilt on demand.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Optional


def cache_dir() -> Path:
    """EXCONNECT_CACHE_DIR, else $XDG_CACHE_HOME/exconnect, else ~/.cache/exconnect."""
    explicit = os.environ.get("EXCONNECT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exconnect"


def load(path: Path) -> Optional[Any]:
    """The cached object, or None when absent or unreadable (then it is simply regenerated)."""
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
        return None


def store(path: Path, value: Any) -> bool:
    """Write atomically (temp file + rename: parallel runs never read a half-written file).

    Returns False, without raising, when the cache location is not writable.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        return True
    except OSError:
        return False
