/* book.c — see book.h.
 *
 * Representation: per side one array of 24-byte levels sorted worse -> better
 * (bids ascending, asks descending), best at the end, with free slots at both
 * ends of the allocation.  Why:
 *  - memory is proportional to the number of levels whatever the price range
 *    (a far outlier costs one slot; a tick ladder would cost the whole range
 *    and need an overflow structure for outliers); capacity grows by 1/4 and
 *    shrinks when under half full: 27.5 bytes/level measured on the replay
 *    workload (1,000 levels a side), target <= 32;
 *  - best bid/ask, crossing removal and top-N are plain array reads at the end;
 *  - depth traffic concentrates at the touch.  Measured on the replay workload
 *    (exconnect.replay, 238k level changes): 44% land within 8 levels of the
 *    top, 90% within 64, 10% anywhere in the side (avg 60 levels from the top).
 * Apply cost per level, gcc -O3, CPU time on this shared 2-core VM:
 *    galloping search with branches        ~45 ns
 *    branchless binary search, whole side  ~37 ns
 *    branchless in windows of 16/128/all   ~33 ns
 *    count over the top 15, then windows of 64/all: 7% less than the row
 *      above in the same run of a C replay of the level arrays (30.3 -> 28.0);
 *      counting over the top 31 or 47 instead was 25-35% slower
 *    ... and levels 16-63 by counting (block heads every 8, then one block of
 *      7) instead of a 6-step binary search: 28.2 -> 27.3  <- used
 *      (one branch-free count over all of the top 64: no better, 28.0)
 *  (profile: branch mispredictions in the search, then memmove for the deep
 *  10%, ~24% of the apply time; an inline copy loop for short shifts instead
 *  of memmove measured slower).  Inserts/deletes shift whichever part of the array is shorter, which
 *  bounds a deep change to half a side.  Not built/measured: a B-tree or
 *  chunked side would make deep changes O(chunk) but costs ~35+ bytes/level at
 *  typical fill and an indirection on every top-of-book read.
 */
#include "book.h"

#include <stdlib.h>
#include <string.h>

void bk_init(bk_book *b) { memset(b, 0, sizeof(*b)); }

void bk_free(bk_book *b) {
    for (int s = 0; s < 2; s++) {
        free(b->side[s].base);
        memset(&b->side[s], 0, sizeof(bk_side));
    }
}

void bk_clear(bk_book *b) {
    for (int s = 0; s < 2; s++) {
        b->side[s].n = 0;
        if (b->side[s].base != NULL) b->side[s].lv = b->side[s].base + b->side[s].cap / 2;
    }
}

/* "a is worse than p" on this side: lower bid, higher ask. */
static inline int worse(int side, int64_t a, int64_t p) { return side == BK_BID ? a < p : a > p; }

/* Number of levels worse than p (they form a prefix of the array), found with a
 * branchless binary search: mispredicted branches,
 * not memory, were the measured cost (galloping with branches: ~44 ns/level on
 * the replay, branchless over the whole side ~36, windowed: see the report). */
static inline size_t bsearch_worse(const bk_level *lv, size_t from, size_t to, int side, int64_t p) {
    /* levels in [from, to) are searched; all before `from` are known worse */
    const bk_level *base = lv + from;
    size_t len = to - from;
    if (len == 0) return from;
    while (len > 1) {
        size_t half = len / 2;
        base = worse(side, base[half].price, p) ? base + half : base;
        len -= half;
    }
    return (size_t)(base - lv) + (worse(side, base->price, p) ? 1u : 0u);
}

static inline size_t lower_pos(const bk_level *lv, size_t n, int side, int64_t p) {
    /* Two thirds of the replay's changes land within 16 levels of the top: there,
     * count the worse levels among the top 15 (independent compares, no branch, no
     * dependent chain of loads).  Then the window of 64 levels (90% of changes are
     * within it), also by counting; then the whole side, branchless binary search. */
    if (n >= 16 && worse(side, lv[n - 16].price, p)) {
        const bk_level *t = lv + n - 15;
        size_t k = 0;
        for (int j = 0; j < 15; j++) k += worse(side, t[j].price, p);
        return n - 15 + k;
    }
    if (n > 64 && worse(side, lv[n - 64].price, p)) {
        /* the level is in [n-63, n-16]: count the worse of the block heads n-24, n-32,
         * .., n-64, then the worse levels inside the one block of 7 that remains */
        size_t c = 0;
        for (int j = 1; j <= 6; j++) c += worse(side, lv[n - 16 - 8 * j].price, p);
        const bk_level *t = lv + (n - 16 - 8 * (7 - c)) + 1;
        size_t k = 0;
        for (int j = 0; j < 7; j++) k += worse(side, t[j].price, p);
        return (size_t)(t - lv) + k;
    }
    return bsearch_worse(lv, 0, n > 64 ? n - 63 : (n >= 16 ? n - 15 : n), side, p);
}

static size_t grown_cap(size_t need) { return need + need / 4 + 8; }

/* Move the levels into a new allocation of `cap` slots, centred so that both
 * ends have room.  BK_ERR_NOMEM leaves the side untouched. */
static int relocate(bk_side *s, size_t cap) {
    if (cap < s->n || cap > SIZE_MAX / sizeof(bk_level)) return BK_ERR_NOMEM;
    bk_level *p = malloc((cap ? cap : 1) * sizeof(bk_level));
    if (p == NULL) return BK_ERR_NOMEM;
    bk_level *lv = p + (cap - s->n) / 2;
    if (s->n) memcpy(lv, s->lv, s->n * sizeof(bk_level));
    free(s->base);
    s->base = p;
    s->lv = lv;
    s->cap = cap;
    return BK_OK;
}

/* Ensure room for `need` levels. */
static int reserve(bk_side *s, size_t need) {
    if (need <= s->cap) return BK_OK;
    return relocate(s, grown_cap(need));
}

/* Give memory back once a side is under half full (a failed shrink is harmless). */
static void maybe_shrink(bk_side *s) {
    if (s->cap <= 64 || s->n >= s->cap / 2) return;
    (void)relocate(s, grown_cap(s->n));
}

/* Set or delete one level; capacity for an insert must already be reserved.
 * Inserts and deletes shift whichever part of the array is shorter (there is
 * free room at both ends), so a change deep in the book costs at most half the
 * side, and one near the top almost nothing. */
static inline void set_reserved(bk_side *s, int side, const bk_level *u) {
    size_t n = s->n;
    bk_level *lv = s->lv;
    size_t i = lower_pos(lv, n, side, u->price);
    int found = i < n && lv[i].price == u->price;
    if (u->qty == 0) {
        if (!found) return;
        if (i < n - 1 - i) {
            memmove(lv + 1, lv, i * sizeof(bk_level));
            s->lv = lv + 1;
        } else {
            memmove(lv + i, lv + i + 1, (n - i - 1) * sizeof(bk_level));
        }
        s->n = n - 1;
    } else if (found) {
        lv[i].qty = u->qty;
        lv[i].uid = u->uid;
    } else {
        size_t front = (size_t)(lv - s->base), back = s->cap - front - n;
        if (front > 0 && (i < n - i || back == 0)) {
            memmove(lv - 1, lv, i * sizeof(bk_level));
            s->lv = --lv;
        } else {
            memmove(lv + i + 1, lv + i, (n - i) * sizeof(bk_level));
        }
        lv[i] = *u;
        s->n = n + 1;
    }
}

int bk_set(bk_book *b, int side, int64_t price, int64_t qty, int64_t uid) {
    if (b == NULL || (side != BK_BID && side != BK_ASK) || qty < 0) return BK_ERR_ARG;
    bk_side *s = &b->side[side];
    if (qty > 0) {
        int st = reserve(s, s->n + 1);
        if (st != BK_OK) return st;
    }
    bk_level u = {price, qty, uid};
    set_reserved(s, side, &u);
    if (qty == 0) maybe_shrink(s);
    return BK_OK;
}

static void uncross(bk_book *b) {
    bk_side *bid = &b->side[BK_BID], *ask = &b->side[BK_ASK];
    while (bid->n > 0 && ask->n > 0) {
        const bk_level *tb = &bid->lv[bid->n - 1], *ta = &ask->lv[ask->n - 1];
        if (tb->price < ta->price) break;
        if (tb->uid > ta->uid) ask->n--;
        else bid->n--;
    }
}

int bk_apply_pairs(bk_book *b, const int64_t *bids, size_t nb, const int64_t *asks, size_t na, int64_t uid) {
    if (b == NULL || (nb && bids == NULL) || (na && asks == NULL)) return BK_ERR_ARG;
    for (size_t i = 0; i < nb; i++) if (bids[2 * i + 1] < 0) return BK_ERR_ARG;
    for (size_t i = 0; i < na; i++) if (asks[2 * i + 1] < 0) return BK_ERR_ARG;
    bk_side *sb = &b->side[BK_BID], *sa = &b->side[BK_ASK];
    if (nb > SIZE_MAX / 2 || na > SIZE_MAX / 2) return BK_ERR_NOMEM;
    int st = reserve(sb, sb->n + nb);
    if (st != BK_OK) return st;
    st = reserve(sa, sa->n + na);
    if (st != BK_OK) return st;
    for (size_t i = 0; i < nb; i++) {
        bk_level u = {bids[2 * i], bids[2 * i + 1], uid};
        set_reserved(sb, BK_BID, &u);
    }
    for (size_t i = 0; i < na; i++) {
        bk_level u = {asks[2 * i], asks[2 * i + 1], uid};
        set_reserved(sa, BK_ASK, &u);
    }
    uncross(b);
    maybe_shrink(sb);
    maybe_shrink(sa);
    return BK_OK;
}

int bk_apply(bk_book *b, const bk_level *bids, size_t nb, const bk_level *asks, size_t na) {
    if (b == NULL || (nb && bids == NULL) || (na && asks == NULL)) return BK_ERR_ARG;
    for (size_t i = 0; i < nb; i++) if (bids[i].qty < 0) return BK_ERR_ARG;
    for (size_t i = 0; i < na; i++) if (asks[i].qty < 0) return BK_ERR_ARG;
    /* reserve the worst case first so that applying cannot fail half way */
    bk_side *sb = &b->side[BK_BID], *sa = &b->side[BK_ASK];
    if (nb > SIZE_MAX / 2 || na > SIZE_MAX / 2) return BK_ERR_NOMEM;
    int st = reserve(sb, sb->n + nb);
    if (st != BK_OK) return st;
    st = reserve(sa, sa->n + na);
    if (st != BK_OK) return st;
    for (size_t i = 0; i < nb; i++) set_reserved(sb, BK_BID, &bids[i]);
    for (size_t i = 0; i < na; i++) set_reserved(sa, BK_ASK, &asks[i]);
    uncross(b);
    maybe_shrink(sb);
    maybe_shrink(sa);
    return BK_OK;
}

/* Stable merge sort of levels worse -> better for `side`. */
static void merge_sort(bk_level *a, bk_level *tmp, size_t n, int side) {
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                /* take from the right only if strictly worse: keeps equal prices in input order */
                if (worse(side, a[j].price, a[i].price)) tmp[k++] = a[j++];
                else tmp[k++] = a[i++];
            }
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof(bk_level));
        if (width > SIZE_MAX / 4) break;
    }
}

/* Build a sorted, de-duplicated, zero-free side from rows; *out owns memory. */
static int build_side(const bk_level *rows, size_t n, int side, bk_side *out) {
    memset(out, 0, sizeof(*out));
    if (n == 0) return BK_OK;
    if (n > (SIZE_MAX / sizeof(bk_level)) / 2) return BK_ERR_NOMEM;
    size_t cap = n + n / 8 + 8;
    bk_level *a = malloc(cap * sizeof(bk_level));
    if (a == NULL) return BK_ERR_NOMEM;
    int ordered = 1, reversed = 1;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!worse(side, rows[i].price, rows[i + 1].price)) ordered = 0;
        if (!worse(side, rows[i + 1].price, rows[i].price)) reversed = 0;
    }
    if (reversed && !ordered) {
        /* exchanges send best first: the common case, no sort needed */
        for (size_t i = 0; i < n; i++) a[i] = rows[n - 1 - i];
    } else {
        memcpy(a, rows, n * sizeof(bk_level));
        if (!ordered) {
            bk_level *tmp = malloc(n * sizeof(bk_level));
            if (tmp == NULL) { free(a); return BK_ERR_NOMEM; }
            merge_sort(a, tmp, n, side);
            free(tmp);
        }
    }
    /* keep the last row of each equal-price run, then drop qty 0 */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && a[i + 1].price == a[i].price) continue;
        if (a[i].qty == 0) continue;
        a[m++] = a[i];
    }
    /* centre the levels so that both ends have room to grow */
    size_t front = (cap - m) / 2;
    memmove(a + front, a, m * sizeof(bk_level));
    out->base = a;
    out->lv = a + front;
    out->n = m;
    out->cap = cap;
    return BK_OK;
}

int bk_snapshot(bk_book *b, const bk_level *bids, size_t nb, const bk_level *asks, size_t na) {
    if (b == NULL || (nb && bids == NULL) || (na && asks == NULL)) return BK_ERR_ARG;
    for (size_t i = 0; i < nb; i++) if (bids[i].qty < 0) return BK_ERR_ARG;
    for (size_t i = 0; i < na; i++) if (asks[i].qty < 0) return BK_ERR_ARG;
    bk_side nbid, nask;
    int st = build_side(bids, nb, BK_BID, &nbid);
    if (st != BK_OK) return st;
    st = build_side(asks, na, BK_ASK, &nask);
    if (st != BK_OK) { free(nbid.base); return st; }
    bk_free(b);
    b->side[BK_BID] = nbid;
    b->side[BK_ASK] = nask;
    return BK_OK;
}

size_t bk_top(const bk_book *b, int side, size_t n, bk_level *out) {
    const bk_side *s = &b->side[side & 1];
    size_t k = n < s->n ? n : s->n;
    for (size_t i = 0; i < k; i++) out[i] = s->lv[s->n - 1 - i];
    return k;
}

static inline bk_i128 split(__int128 v) {
    bk_i128 r;
    r.hi = (int64_t)(v >> 64);
    r.lo = (uint64_t)v;
    return r;
}

int bk_price_for_volume(const bk_book *b, int side, int64_t volume, int *found, int64_t *price, bk_i128 *cum) {
    if (b == NULL || (side != BK_BID && side != BK_ASK) || volume < 0) return BK_ERR_ARG;
    const bk_side *s = &b->side[side];
    __int128 acc = 0;
    *found = 0;
    for (size_t i = s->n; i-- > 0;) {
        acc += s->lv[i].qty; /* at most 2^63 levels of < 2^63: cannot overflow */
        if (acc >= volume) {
            *found = 1;
            *price = s->lv[i].price;
            break;
        }
    }
    *cum = split(acc);
    return BK_OK;
}

int bk_vwap_for_volume(const bk_book *b, int side, int64_t volume, int *found, bk_i128 *cost, bk_i128 *cum) {
    if (b == NULL || (side != BK_BID && side != BK_ASK) || volume < 0) return BK_ERR_ARG;
    const bk_side *s = &b->side[side];
    __int128 c = 0, acc = 0;
    *found = 0;
    for (size_t i = s->n; i-- > 0;) {
        int64_t q = s->lv[i].qty;
        if (acc + q >= volume) {
            /* consumed qty never exceeds volume < 2^63, so |c| < 2^126 */
            c += (__int128)s->lv[i].price * (volume - (int64_t)acc);
            acc = volume;
            *found = 1;
            break;
        }
        c += (__int128)s->lv[i].price * q;
        acc += q;
    }
    *cost = split(c);
    *cum = split(acc);
    return BK_OK;
}

static int volume_walk(const bk_book *b, int side, int64_t price, int quote, int *found, int64_t *price_out,
                       bk_i128 *cum) {
    if (b == NULL || (side != BK_BID && side != BK_ASK)) return BK_ERR_ARG;
    const bk_side *s = &b->side[side];
    __int128 acc = 0;
    *found = 0;
    for (size_t i = s->n; i-- > 0;) {
        if (worse(side, s->lv[i].price, price)) break;
        if (quote) {
            __int128 v = (__int128)s->lv[i].price * s->lv[i].qty;
            if (__builtin_add_overflow(acc, v, &acc)) return BK_ERR_OVERFLOW;
        } else {
            acc += s->lv[i].qty;
        }
        *found = 1;
        *price_out = s->lv[i].price;
    }
    *cum = split(acc);
    return BK_OK;
}

int bk_volume_for_price(const bk_book *b, int side, int64_t price, int *found, int64_t *price_out, bk_i128 *cum) {
    return volume_walk(b, side, price, 0, found, price_out, cum);
}

int bk_quote_volume_for_price(const bk_book *b, int side, int64_t price, int *found, int64_t *price_out,
                              bk_i128 *cum) {
    return volume_walk(b, side, price, 1, found, price_out, cum);
}

size_t bk_bytes_used(const bk_book *b) {
    return sizeof(*b) + (b->side[0].cap + b->side[1].cap) * sizeof(bk_level);
}

const char *bk_strerror(int status) {
    switch (status) {
    case BK_OK: return "ok";
    case BK_ERR_NOMEM: return "out of memory";
    case BK_ERR_ARG: return "invalid argument (negative quantity?)";
    case BK_ERR_OVERFLOW: return "sum exceeds the 128-bit range";
    default: return "unknown error";
    }
}
