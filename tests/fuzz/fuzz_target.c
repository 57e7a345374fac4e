/* fuzz_target.c — libFuzzer entry point for core/binance_parse, core/fixed and
 * core/book.  Built by run.sh with clang -fsanitize=fuzzer,address,undefined or,
 * without clang, linked with driver.c (gcc ASan+UBSan standalone driver).
 *
 * Beyond "no crash / no sanitizer report", it checks invariants and aborts on
 * a violation so the fuzzer reports it:
 *   - fixed: a parsed value formats back to text that parses to the same value;
 *   - parser: on success every level has qty >= 0 and the right uid;
 *   - book: after any apply the sides are strictly sorted, quantities > 0, the
 *     book is not crossed after bk_apply, and a failed call changes nothing;
 *   - queries never fail on a valid book except quote-volume overflow.
 * The first input byte picks scales and options so one corpus covers them all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance_parse.h"
#include "book.h"
#include "fixed.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

static bk_book g_book;
static bp_depth g_msg;
static bp_seq g_seq;
static int g_ready;

static void check_book(const bk_book *b, int uncrossed) {
    for (int s = 0; s < 2; s++) {
        const bk_side *sd = &b->side[s];
        CHECK(sd->n <= sd->cap);
        for (size_t i = 0; i < sd->n; i++) {
            CHECK(sd->lv[i].qty > 0);
            if (i + 1 < sd->n) {
                if (s == BK_BID) CHECK(sd->lv[i].price < sd->lv[i + 1].price);
                else CHECK(sd->lv[i].price > sd->lv[i + 1].price);
            }
        }
    }
    const bk_level *bb = bk_best(b, BK_BID), *ba = bk_best(b, BK_ASK);
    if (uncrossed && bb && ba) CHECK(bb->price < ba->price);
}

/* Copy of a book's contents to verify that failed calls change nothing. */
typedef struct { size_t n[2]; bk_level *lv[2]; } image;

static void take(image *im, const bk_book *b) {
    for (int s = 0; s < 2; s++) {
        im->n[s] = b->side[s].n;
        im->lv[s] = malloc((im->n[s] + 1) * sizeof(bk_level));
        CHECK(im->lv[s] != NULL);
        if (im->n[s]) memcpy(im->lv[s], b->side[s].lv, im->n[s] * sizeof(bk_level));
    }
}

static void same_and_drop(image *im, const bk_book *b) {
    for (int s = 0; s < 2; s++) {
        CHECK(im->n[s] == b->side[s].n);
        if (im->n[s]) CHECK(memcmp(im->lv[s], b->side[s].lv, im->n[s] * sizeof(bk_level)) == 0);
        free(im->lv[s]);
    }
}

static void queries(const bk_book *b, int64_t x) {
    int found;
    int64_t p;
    bk_i128 a, c;
    for (int s = 0; s < 2; s++) {
        int64_t vol = x < 0 ? -(x + 1) : x;
        CHECK(bk_price_for_volume(b, s, vol, &found, &p, &a) == BK_OK);
        CHECK(bk_vwap_for_volume(b, s, vol, &found, &c, &a) == BK_OK);
        if (found) CHECK(a.hi == 0 && a.lo == (uint64_t)vol);
        CHECK(bk_volume_for_price(b, s, x, &found, &p, &a) == BK_OK);
        int st = bk_quote_volume_for_price(b, s, x, &found, &p, &a);
        CHECK(st == BK_OK || st == BK_ERR_OVERFLOW);
        bk_level top[4];
        CHECK(bk_top(b, s, 4, top) <= 4);
    }
    CHECK(bk_price_for_volume(b, 0, -1, &found, &p, &a) == BK_ERR_ARG);
}

/* Differential check: a price string inside a depth message must parse to
 * exactly what fx_parse says (the parser's SWAR/one-pass fast paths included). */
static void diff_price(const uint8_t *data, size_t size, int scale) {
    static bp_depth msg;
    static int ready;
    char frame[400];
    if (!ready) { bp_init(&msg); ready = 1; }
    if (size > 100) return;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '"' || data[i] == '\\' || data[i] < 0x20) return;
    int n = snprintf(frame, sizeof frame, "{\"lastUpdateId\":1,\"bids\":[[\"%.*s\",\"1\"]],\"asks\":[]}",
                     (int)size, (const char *)data);
    CHECK(n > 0 && (size_t)n < sizeof frame);
    int64_t want;
    int fst = fx_parse((const char *)data, size, scale, &want);
    int pst = bp_parse_depth(&msg, frame, (size_t)n, BP_EXPECT_SNAPSHOT, scale, 0);
    CHECK((fst == FX_OK) == (pst == BP_OK));
    if (pst == BP_OK) CHECK(msg.bids.n == 1 && msg.bids.v[0].price == want && msg.bids.v[0].qty == 1);
    /* the same text as price and quantity of a depthUpdate in Binance's exact layout (the fast
     * start's level parser), last level of the frame and not */
    int64_t qwant;
    int qst = fx_parse((const char *)data, size, scale, &qwant);
    for (int last = 0; last < 2; last++) {
        n = snprintf(frame, sizeof frame, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":2,"
                     "\"b\":[[\"%.*s\",\"%.*s\"]%s],\"a\":[]}", (int)size, (const char *)data, (int)size,
                     (const char *)data, last ? "" : ",[\"1\",\"1\"]");
        CHECK(n > 0 && (size_t)n < sizeof frame);
        pst = bp_parse_depth(&msg, frame, (size_t)n, BP_EXPECT_UPDATE, scale, scale);
        CHECK((fst == FX_OK && qst == FX_OK && qwant >= 0) == (pst == BP_OK));
        if (pst == BP_OK) CHECK(msg.bids.v[0].price == want && msg.bids.v[0].qty == qwant && msg.bids.v[0].uid == 2);
    }
}

/* Differential check of the depthUpdate fast start (fixed key order, compact JSON) against
 * the generic scanner: the same frame with one space after its opening brace never takes
 * the fast start, and must give the same status and, on success, the same fields. */
static void diff_fast_start(const char *buf, size_t len, int ps, int ss) {
    static bp_depth a, b;
    static int ready;
    static char copy[65536 + 2];
    if (!ready) { bp_init(&a); bp_init(&b); ready = 1; }
    if (len == 0 || buf[0] != '{' || len + 1 > sizeof copy) return;
    copy[0] = '{';
    copy[1] = ' ';
    memcpy(copy + 2, buf + 1, len - 1);
    int sa = bp_parse_depth(&a, buf, len, BP_EXPECT_UPDATE, ps, ss);
    int sb = bp_parse_depth(&b, copy, len + 1, BP_EXPECT_UPDATE, ps, ss);
    CHECK(sa == sb);
    if (sa != BP_OK) return;
    CHECK(a.has == b.has);
    CHECK(a.event_time == b.event_time && a.tx_time == b.tx_time);
    CHECK(a.first_id == b.first_id && a.final_id == b.final_id && a.prev_final_id == b.prev_final_id);
    CHECK(a.symbol_len == b.symbol_len && (a.symbol == NULL) == (b.symbol == NULL));
    if (a.symbol) CHECK(a.symbol - buf == b.symbol - copy - 1);
    CHECK(a.stream_len == b.stream_len && (a.stream == NULL) == (b.stream == NULL));
    if (a.stream) CHECK(a.stream - buf == b.stream - copy - 1);
    CHECK(a.bids.n == b.bids.n && a.asks.n == b.asks.n);
    if (a.bids.n) CHECK(memcmp(a.bids.v, b.bids.v, a.bids.n * sizeof(bk_level)) == 0);
    if (a.asks.n) CHECK(memcmp(a.asks.v, b.asks.v, a.asks.n * sizeof(bk_level)) == 0);
}

static void fuzz_fixed(const uint8_t *data, size_t size, int scale) {
    int64_t v;
    diff_price(data, size, scale);
    if (fx_parse((const char *)data, size, scale, &v) == FX_OK) {
        char buf[48];
        int n = fx_format(v, scale, (int)(size & 1), buf, sizeof buf);
        CHECK(n > 0);
        int64_t w;
        CHECK(fx_parse(buf, (size_t)n, scale, &w) == FX_OK && w == v);
        int64_t q;
        for (int mode = 0; mode < 3; mode++) {
            int st = fx_quantize(v, 7 + scale, mode, &q);
            CHECK(st == FX_OK || st == FX_ERR_OVERFLOW);
            if (st == FX_OK) CHECK(q % (7 + scale) == 0);
        }
        int64_t r;
        int st = fx_rescale(v, scale, (scale + 3) % (FX_MAX_SCALE + 1), &r);
        CHECK(st == FX_OK || st == FX_ERR_OVERFLOW || st == FX_ERR_PRECISION);
        st = fx_mul_div(v, v, 1 + scale, FX_NEAREST, &r);
        CHECK(st == FX_OK || st == FX_ERR_OVERFLOW);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_ready) {
        bk_init(&g_book);
        bp_init(&g_msg);
        bp_seq_init(&g_seq);
        g_ready = 1;
    }
    if (size == 0) return 0;
    uint8_t ctl = data[0];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    int ps = ctl & 7 ? 8 : (ctl >> 3) % (FX_MAX_SCALE + 1);
    int ss = (ctl & 0x30) ? 8 : 3;
    int futures = (ctl >> 6) & 1;

    fuzz_fixed((const uint8_t *)buf, len < 64 ? len : 64, ps);
    diff_fast_start(buf, len, ps, ss);

    const char *sym;
    size_t sym_len;
    if (bp_peek_symbol(buf, len, &sym, &sym_len)) CHECK(sym >= buf && sym + sym_len <= buf + len);

    for (int expect = 0; expect < 2; expect++) {
        int st = bp_parse_depth(&g_msg, buf, len, expect, ps, ss);
        if (st != BP_OK) {
            CHECK(g_msg.err_offset <= len);
            CHECK(bp_strerror(st) != NULL);
            continue;
        }
        int64_t uid = expect == BP_EXPECT_UPDATE ? g_msg.final_id : g_msg.last_update_id;
        for (size_t i = 0; i < g_msg.bids.n; i++) CHECK(g_msg.bids.v[i].qty >= 0 && g_msg.bids.v[i].uid == uid);
        for (size_t i = 0; i < g_msg.asks.n; i++) CHECK(g_msg.asks.v[i].qty >= 0 && g_msg.asks.v[i].uid == uid);
        if (g_msg.symbol) CHECK(g_msg.symbol >= buf && g_msg.symbol + g_msg.symbol_len <= buf + len);
        if (expect == BP_EXPECT_SNAPSHOT) {
            CHECK(bk_snapshot(&g_book, g_msg.bids.v, g_msg.bids.n, g_msg.asks.v, g_msg.asks.n) == BK_OK);
            bp_seq_snapshot(&g_seq, g_msg.last_update_id);
            check_book(&g_book, 0);
        } else {
            CHECK(g_msg.first_id <= g_msg.final_id);
            int d = bp_seq_check(&g_seq, futures || (g_msg.has & BP_HAS_PREV), g_msg.first_id, g_msg.final_id,
                                 g_msg.prev_final_id);
            CHECK(d >= BP_SEQ_APPLY && d <= BP_SEQ_NOT_SYNCED);
            /* apply regardless of the decision: exercises the book on every input */
            CHECK(bk_apply(&g_book, g_msg.bids.v, g_msg.bids.n, g_msg.asks.v, g_msg.asks.n) == BK_OK);
            bp_seq_commit(&g_seq, d, g_msg.final_id);
            check_book(&g_book, 1);
            if (g_msg.bids.n > 0) {
                /* a batch with one bad row must leave the book untouched */
                image im;
                take(&im, &g_book);
                bk_level saved = g_msg.bids.v[g_msg.bids.n - 1];
                g_msg.bids.v[g_msg.bids.n - 1].qty = -1;
                CHECK(bk_apply(&g_book, g_msg.bids.v, g_msg.bids.n, g_msg.asks.v, g_msg.asks.n) == BK_ERR_ARG);
                CHECK(bk_snapshot(&g_book, g_msg.bids.v, g_msg.bids.n, NULL, 0) == BK_ERR_ARG);
                g_msg.bids.v[g_msg.bids.n - 1] = saved;
                same_and_drop(&im, &g_book);
            }
        }
        int64_t x = g_msg.bids.n ? g_msg.bids.v[0].price : (int64_t)len;
        queries(&g_book, x);
        /* as the binding does after a snapshot: drop oversized level buffers (small keep so that
         * fuzz inputs reach both branches), the next parse must regrow them */
        bp_shrink(&g_msg, (size_t)(len & 7));
        CHECK(g_msg.bids.cap <= (len & 7) || g_msg.bids.cap == 0);
    }
    /* keep the persistent book from growing without bound across inputs */
    if (bk_depth(&g_book, BK_BID) + bk_depth(&g_book, BK_ASK) > 20000) bk_free(&g_book);
    return 0;
}
