# cython: language_level=3
"""Client order ids: short, readable, unique across processes and restarts.

Shape: <hbot_order_id_prefix><side B|S><base first+last><quote first+last><T><R>
  e.g. "x-XEKWYICXBBCUT" + "1kc3v0q8a9e" + "k2m9x0f4..."
- T: 11 base-32 chars of a per-process strictly increasing microsecond stamp,
  T = max(wall clock in µs, previous T + 1).
- R: base-32 chars of 80 random bits drawn from os.urandom when the module is
  imported and again in every forked child (os.register_at_fork).

Why this is unique:
- within one process: T strictly increases, so no two ids share T (the GIL
  serialises calls; nothing is released while an id is built);
- across processes running at the same time: they have independent R; two ids
  collide only if both T and the kept R characters coincide -- probability
  2^-(5 * len(R)) per pair of processes that hit the same microsecond
  (len(R) >= 5, 16 by default);
- across restarts: a new process draws a new R, and T follows the wall clock,
  so it does not repeat an earlier process's stamps unless the clock moved
  back, and even then R differs.
Alphabet 0-9a-v (lower case only), so ids stay unique on exchanges that
compare them case-insensitively; all characters are in Binance's
`^[\\.A-Z\\:/a-z0-9_-]{1,36}$`.
"""
import os

from libc.stdint cimport uint64_t
from libc.string cimport memcpy
from posix.time cimport clock_gettime, timespec, CLOCK_REALTIME

DEF _TIME_CHARS = 11      # 55 bits of µs: good until the year 3111
DEF _RAND_CHARS = 16      # 80 random bits
DEF _MIN_RAND_CHARS = 5   # below this, ids are refused rather than made weak
DEF _PREFERRED_RAND = 8
DEF _MAX_HEAD = 64

cdef const char *_ALPHABET = b"0123456789abcdefghijklmnopqrstuv"
cdef char _rand[_RAND_CHARS]
cdef uint64_t _last_us = 0
cdef dict _heads = {}
BINANCE_MAX_ID_LEN = 36
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


cdef void _reseed() noexcept:
    cdef bytes raw = os.urandom(_RAND_CHARS)
    cdef int i
    for i in range(_RAND_CHARS):
        _rand[i] = _ALPHABET[(<unsigned char>raw[i]) & 31]


def _reseed_after_fork():
    _reseed()


_reseed()
os.register_at_fork(after_in_child=_reseed_after_fork)


cdef inline uint64_t _now_us() noexcept:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <uint64_t>ts.tv_sec * 1000000u + <uint64_t>(ts.tv_nsec // 1000)


cdef tuple _head(bint is_buy, str trading_pair, str prefix, object max_id_len):
    """(readable head, number of random chars) for these arguments; cached."""
    key = (is_buy, trading_pair, prefix, max_id_len)
    cdef tuple cached = _heads.get(key)
    if cached is not None:
        return cached
    bad = set(prefix) - _ALLOWED
    if bad:
        raise ValueError(f"hbot_order_id_prefix {prefix!r} has characters outside [A-Za-z0-9_-]: {sorted(bad)}")
    limit = BINANCE_MAX_ID_LEN if max_id_len is None else max_id_len
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"max_id_len must be a positive int, got {max_id_len!r}")
    parts = trading_pair.upper().split("-", 1)
    letters = ""
    for token in parts:
        token = "".join(c for c in token if c.isascii() and c.isalnum())
        if token:
            letters += token[0] + token[len(token) - 1]
    readable = ("B" if is_buy else "S") + letters
    room = limit - len(prefix) - _TIME_CHARS
    if room < _MIN_RAND_CHARS:
        raise ValueError(f"max_id_len {limit} leaves no room for a unique id after the prefix {prefix!r} "
                         f"(needs >= {len(prefix) + _TIME_CHARS + _MIN_RAND_CHARS})")
    # The random part keeps at least _PREFERRED_RAND chars (40 bits) before the
    # readable part is shortened; only then does it shrink, down to _MIN_RAND_CHARS.
    n_readable = min(len(readable), max(0, room - _PREFERRED_RAND))
    n_rand = min(_RAND_CHARS, room - n_readable)
    cached = ((prefix + readable[:n_readable]).encode("ascii"), n_rand)
    if len(cached[0]) > _MAX_HEAD:
        raise ValueError(f"hbot_order_id_prefix too long ({len(prefix)} > {_MAX_HEAD - 5} characters)")
    if len(_heads) > 4096:
        _heads.clear()
    _heads[key] = cached
    return cached


def get_new_client_order_id(bint is_buy, str trading_pair not None, str hbot_order_id_prefix not None="",
                            max_id_len=None):
    """A new client order id, unique across processes and restarts (see the module doc).

    At most max_id_len characters (default 36, Binance's newClientOrderId limit)."""
    global _last_us
    cdef tuple head = _head(is_buy, trading_pair, hbot_order_id_prefix, max_id_len)
    cdef bytes head_b = <bytes>head[0]
    cdef int n_rand = <int>head[1]
    cdef uint64_t t = _now_us()
    if t <= _last_us:
        t = _last_us + 1
    _last_us = t
    cdef Py_ssize_t h = len(head_b)  # <= _MAX_HEAD, checked by _head
    cdef char buf[_MAX_HEAD + _TIME_CHARS + _RAND_CHARS]
    memcpy(buf, <const char *>head_b, h)
    cdef int i
    for i in range(_TIME_CHARS - 1, -1, -1):
        buf[h + i] = _ALPHABET[t & 31]
        t >>= 5
    memcpy(buf + h + _TIME_CHARS, _rand, n_rand)
    return buf[:h + _TIME_CHARS + n_rand].decode("ascii")
