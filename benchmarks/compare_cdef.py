"""The book's cdef API measured from Cython, as a Cython strategy would call it.

Compiles a small Cython module (source below) against the installed `.pxd` files and caches it
under ~/.cache/exconnect/cdef-bench-<hash>; the hash covers the source and every bindings/*.pxd,
so a changed OrderBook layout always gets a fresh build. It separates what the C book costs from
what the Python call per frame / per query costs in replay_bench.py's figures.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import sys
from typing import Union

from exconnect.replay.cache import cache_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = "exconnect_cdef_bench"

SOURCE = r'''
# cython: language_level=3, boundscheck=False, wraparound=False
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from time import perf_counter_ns
from exconnect.native.cbook cimport bk_level
from exconnect.native.order_book cimport OrderBook


def replay_bytes(OrderBook book, list frames):
    """ns for c_apply_binance_depth over every frame (no Python call per frame)."""
    cdef Py_ssize_t i, n = len(frames)
    cdef bytes f
    cdef int applied = 0
    t0 = perf_counter_ns()
    for i in range(n):
        f = <bytes>frames[i]
        applied += book.c_apply_binance_depth(PyBytes_AS_STRING(f), PyBytes_GET_SIZE(f)) == 0
    t1 = perf_counter_ns()
    if applied != n:
        raise RuntimeError(f"only {applied} of {n} frames applied")
    return t1 - t0


cdef class PreparedLevels:
    """Every frame's levels as one contiguous bk_level array (built before timing)."""
    cdef bk_level *lv
    cdef Py_ssize_t *nb
    cdef Py_ssize_t *na
    cdef int64_t *uid
    cdef Py_ssize_t frames

    def __cinit__(self, list per_frame, uids):
        cdef Py_ssize_t total = 0, k = 0, i
        self.frames = len(per_frame)
        for bids, asks in per_frame:
            total += len(bids) // 2 + len(asks) // 2
        self.lv = <bk_level *>malloc(max(total, 1) * sizeof(bk_level))
        self.nb = <Py_ssize_t *>malloc(max(self.frames, 1) * sizeof(Py_ssize_t))
        self.na = <Py_ssize_t *>malloc(max(self.frames, 1) * sizeof(Py_ssize_t))
        self.uid = <int64_t *>malloc(max(self.frames, 1) * sizeof(int64_t))
        if not (self.lv and self.nb and self.na and self.uid):
            raise MemoryError()
        for i in range(self.frames):
            bids, asks = per_frame[i]
            self.nb[i] = len(bids) // 2
            self.na[i] = len(asks) // 2
            self.uid[i] = uids[i]
            for side in (bids, asks):
                for j in range(0, len(side), 2):
                    self.lv[k].price = side[j]
                    self.lv[k].qty = side[j + 1]
                    self.lv[k].uid = uids[i]
                    k += 1

    def __dealloc__(self):
        free(self.lv); free(self.nb); free(self.na); free(self.uid)

    def apply(self, OrderBook book):
        """ns for c_apply_levels over every frame."""
        cdef Py_ssize_t i, k = 0
        t0 = perf_counter_ns()
        for i in range(self.frames):
            book.c_apply_levels(self.lv + k, self.nb[i], self.lv + k + self.nb[i], self.na[i], self.uid[i])
            k += self.nb[i] + self.na[i]
        return perf_counter_ns() - t0


def best_bid_ask(OrderBook book, Py_ssize_t calls):
    """ns for `calls` pairs of c_best_bid + c_best_ask."""
    cdef Py_ssize_t i
    cdef int64_t acc = 0
    t0 = perf_counter_ns()
    for i in range(calls):
        acc += book.c_best_bid() + book.c_best_ask()
    t1 = perf_counter_ns()
    return t1 - t0, acc


def top20(OrderBook book, Py_ssize_t calls):
    """ns for `calls` copies of the 20 best levels of both sides into a C buffer."""
    cdef bk_level out[40]
    cdef Py_ssize_t i
    cdef int64_t acc = 0
    t0 = perf_counter_ns()
    for i in range(calls):
        book.c_top(0, 20, out)
        book.c_top(1, 20, out + 20)
        acc += out[0].price + out[20].price
    t1 = perf_counter_ns()
    return t1 - t0, acc
'''


def _key() -> str:
    digest = hashlib.sha256(SOURCE.encode() + sys.version.encode())
    for path in sorted(glob.glob(os.path.join(ROOT, "bindings", "*.pxd"))):
        with open(path, "rb") as handle:
            digest.update(path.encode() + handle.read())
    # The built OrderBook too: its struct layout must match what the probe was compiled against.
    for path in sorted(glob.glob(os.path.join(ROOT, "bindings", "order_book*.so"))):
        stat = os.stat(path)
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def load() -> Union[object, str]:
    """The compiled probe module, or a reason string when it cannot be built here."""
    if not glob.glob(os.path.join(ROOT, "bindings", "order_book.pxd")):
        return "bindings/order_book.pxd not found"
    out_dir = cache_dir() / f"cdef-bench-{_key()}"
    built = glob.glob(str(out_dir / f"{MODULE}*.so"))
    if not built:
        try:
            _build(out_dir)
        except Exception as error:  # report, never take the benchmark down
            return f"could not compile the Cython probe: {type(error).__name__}: {str(error)[-300:]}"
        built = glob.glob(str(out_dir / f"{MODULE}*.so"))
        if not built:
            return "the Cython probe build produced no module"
    spec = importlib.util.spec_from_file_location(MODULE, built[0])
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (ImportError, ValueError) as error:
        # e.g. "OrderBook size changed": bindings/order_book.pxd edited but the extension not
        # rebuilt yet (or the reverse). Report it; the rest of the benchmark still runs.
        return f"Cython probe does not match the built OrderBook ({error}); rebuild: tools/build.sh order_book"
    return module


def _build(out_dir) -> None:
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    out_dir.mkdir(parents=True, exist_ok=True)
    pyx = out_dir / f"{MODULE}.pyx"
    pyx.write_text(SOURCE)
    pxd_root = os.path.join(ROOT, "build", "pxd")     # setup.py stages exconnect/native -> bindings
    if not os.path.isdir(os.path.join(pxd_root, "exconnect", "native")):
        raise RuntimeError(f"{pxd_root}/exconnect/native missing (run tools/build.sh once)")
    extension = Extension(MODULE, [str(pyx)], include_dirs=[os.path.join(ROOT, "core"), os.path.join(ROOT, "bindings")],
                          extra_compile_args=["-O3", "-std=c11", "-Wno-unused-function"])
    modules = cythonize([extension], include_path=[pxd_root], quiet=True,
                        build_dir=str(out_dir / "c"), compiler_directives={"language_level": 3})
    distribution = Distribution({"ext_modules": modules, "script_name": "compare_cdef"})
    command = distribution.get_command_obj("build_ext")
    command.build_lib = str(out_dir)
    command.build_temp = str(out_dir / "tmp")
    distribution.run_command("build_ext")
