# Declarations of core/book.h for Cython code (bindings and third-party strategies).
from libc.stdint cimport int64_t, uint64_t

cdef extern from "book.h" nogil:
    ctypedef enum bk_status:
        BK_OK
        BK_ERR_NOMEM
        BK_ERR_ARG
        BK_ERR_OVERFLOW
    enum:
        BK_BID
        BK_ASK
    ctypedef struct bk_level:
        int64_t price
        int64_t qty
        int64_t uid
    ctypedef struct bk_side:
        bk_level *lv        # first (worst) level; best at lv[n - 1]
        size_t n
        size_t cap
        bk_level *base
    ctypedef struct bk_book:
        bk_side side[2]
    ctypedef struct bk_i128:
        int64_t hi
        uint64_t lo

    void bk_init(bk_book *b)
    void bk_free(bk_book *b)
    void bk_clear(bk_book *b)
    int bk_snapshot(bk_book *b, const bk_level *bids, size_t nb, const bk_level *asks, size_t na)
    int bk_apply(bk_book *b, const bk_level *bids, size_t nb, const bk_level *asks, size_t na)
    int bk_apply_pairs(bk_book *b, const int64_t *bids, size_t nb, const int64_t *asks, size_t na, int64_t uid)
    int bk_set(bk_book *b, int side, int64_t price, int64_t qty, int64_t uid)
    size_t bk_depth(const bk_book *b, int side)
    const bk_level *bk_level_at(const bk_book *b, int side, size_t k)
    const bk_level *bk_best(const bk_book *b, int side)
    size_t bk_top(const bk_book *b, int side, size_t n, bk_level *out)
    int bk_price_for_volume(const bk_book *b, int side, int64_t volume, int *found, int64_t *price, bk_i128 *cum)
    int bk_vwap_for_volume(const bk_book *b, int side, int64_t volume, int *found, bk_i128 *cost, bk_i128 *cum)
    int bk_volume_for_price(const bk_book *b, int side, int64_t price, int *found, int64_t *price_out, bk_i128 *cum)
    int bk_quote_volume_for_price(const bk_book *b, int side, int64_t price, int *found, int64_t *price_out, bk_i128 *cum)
    size_t bk_bytes_used(const bk_book *b)
    const char *bk_strerror(int status)
