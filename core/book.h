/* book.h — L2 price-level order book over int64 fixed point (see fixed.h).
 *
 * Prices and quantities are integers at the caller's scales; the book never
 * interprets them beyond ordering and (for quote sums) multiplying in 128 bits.
 * Each side is one sorted array ordered worst -> best, so the best level is the
 * last element: top-of-book reads are one load, and the common updates near
 * the top move only a few bytes.  See book.c for the measurements.
 *
 * Every mutating call is all-or-nothing: on error (bad argument, allocation
 * failure) the book is exactly as before.  Nothing reads outside its arrays.
 */
#ifndef EXCONNECT_BOOK_H
#define EXCONNECT_BOOK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BK_OK = 0,
    BK_ERR_NOMEM = 1,    /* allocation failed; book unchanged */
    BK_ERR_ARG = 2,      /* negative quantity, bad side, NULL pointer */
    BK_ERR_OVERFLOW = 3  /* a 128-bit sum would overflow */
} bk_status;

enum { BK_BID = 0, BK_ASK = 1 };

/* One price level (also the input row of snapshots and diffs). 24 bytes. */
typedef struct {
    int64_t price;
    int64_t qty;  /* > 0 in the book; 0 in a diff means delete */
    int64_t uid;  /* update id of the message that last set this level */
} bk_level;

typedef struct {
    bk_level *lv;   /* first (worst) level; sorted worse -> better, best at lv[n-1] */
    size_t n;
    size_t cap;     /* slots in the allocation */
    bk_level *base; /* allocation start: free slots on both sides of [lv, lv+n) */
} bk_side;

typedef struct {
    bk_side side[2]; /* [BK_BID], [BK_ASK] */
} bk_book;

/* 128-bit results for Python/Cython, which lack a portable int128 type. */
typedef struct {
    int64_t hi;
    uint64_t lo;
} bk_i128;

void bk_init(bk_book *b);
void bk_free(bk_book *b);    /* releases memory; the book is empty and reusable */
void bk_clear(bk_book *b);   /* empties both sides, keeps capacity */

/* Replace the whole book.  Rows may come in any order; qty 0 rows are
 * dropped; a repeated price keeps the later row (as if applied in order).
 * Crossed levels are kept (a snapshot is taken as the exchange sent it). */
int bk_snapshot(bk_book *b, const bk_level *bids, size_t nb, const bk_level *asks, size_t na);

/* Apply level updates: qty > 0 sets (insert or replace), qty 0 deletes (absent
 * level: no-op).  Then, while the book is crossed, the older of best bid and
 * best ask (by uid; a tie removes the bid) is dropped — Hummingbot's rule. */
int bk_apply(bk_book *b, const bk_level *bids, size_t nb, const bk_level *asks, size_t na);

/* bk_apply over interleaved (price, qty) int64 pairs: nb / na are level counts
 * (bids holds 2*nb values); every level gets `uid`.  No copy into bk_level rows. */
int bk_apply_pairs(bk_book *b, const int64_t *bids, size_t nb, const int64_t *asks, size_t na, int64_t uid);

/* Single-level update on one side (no crossing check). */
int bk_set(bk_book *b, int side, int64_t price, int64_t qty, int64_t uid);

/* Number of levels on a side; k-th best level (k = 0 is best) or NULL. */
static inline size_t bk_depth(const bk_book *b, int side) { return b->side[side & 1].n; }
static inline const bk_level *bk_level_at(const bk_book *b, int side, size_t k) {
    const bk_side *s = &b->side[side & 1];
    return k < s->n ? &s->lv[s->n - 1 - k] : NULL;
}
static inline const bk_level *bk_best(const bk_book *b, int side) { return bk_level_at(b, side, 0); }

/* Copy up to n best levels (best first) into out; returns how many. */
size_t bk_top(const bk_book *b, int side, size_t n, bk_level *out);

/* Walk `side` from the best level (BK_ASK for a buy, BK_BID for a sell).
 *
 * price_for_volume: accumulate quantity until it reaches `volume`; *found = 1
 *   and *price = that level's price, else *found = 0.  *cum = accumulated qty.
 * vwap_for_volume: *cost = sum price*qty over the levels consumed, the last
 *   one only partially, so that the consumed qty is min(volume, available);
 *   *found = 1 if `volume` was reached.  *cum = consumed qty.
 * volume_for_price: accumulate levels not worse than `price`; *found = 1 and
 *   *price_out = the last such level's price if any.  *cum = sum qty.
 * quote_volume_for_price: same walk, *cum = sum price*qty (BK_ERR_OVERFLOW if
 *   that exceeds 127 bits).
 * volume < 0 is BK_ERR_ARG. */
int bk_price_for_volume(const bk_book *b, int side, int64_t volume, int *found, int64_t *price, bk_i128 *cum);
int bk_vwap_for_volume(const bk_book *b, int side, int64_t volume, int *found, bk_i128 *cost, bk_i128 *cum);
int bk_volume_for_price(const bk_book *b, int side, int64_t price, int *found, int64_t *price_out, bk_i128 *cum);
int bk_quote_volume_for_price(const bk_book *b, int side, int64_t price, int *found, int64_t *price_out, bk_i128 *cum);

/* Bytes held by the book (struct + both arrays' capacity). */
size_t bk_bytes_used(const bk_book *b);

const char *bk_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif
