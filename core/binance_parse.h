/* binance_parse.h — Binance depth messages: raw JSON bytes -> fields + levels,
 * and the sequence rules that decide whether a diff may be applied.
 *
 * Parsed shapes (any key order, any JSON whitespace, unknown keys skipped):
 *   depthUpdate (spot)    {"e":"depthUpdate","E":..,"s":"..","U":..,"u":..,"b":[["p","q"],..],"a":[..]}
 *   depthUpdate (futures) the same plus "T" and "pu"
 *   REST depth            {"lastUpdateId":..,["E":..,"T":..,]"bids":[..],"asks":[..]}
 *   either one wrapped in the combined-stream envelope {"stream":"..","data":{..}}
 *
 * The scanner never reads outside [buf, buf+len), needs no NUL terminator and
 * allocates nothing per level: levels go into two growable arrays owned by the
 * bp_depth and reused across calls.  Prices/quantities (JSON strings or numbers)
 * become int64 at the caller's scales through fixed.h rules: digits beyond the
 * scale or out-of-range values are errors, never rounded.
 */
#ifndef EXCONNECT_BINANCE_PARSE_H
#define EXCONNECT_BINANCE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "book.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BP_OK = 0,
    BP_ERR_SYNTAX = 1,    /* not well-formed JSON (or trailing garbage) */
    BP_ERR_TYPE = 2,      /* a known key holds the wrong JSON type */
    BP_ERR_NUMBER = 3,    /* price/qty/id not representable (see fx_status in err_detail) */
    BP_ERR_MISSING = 4,   /* a required key is absent */
    BP_ERR_DUPLICATE = 5, /* a known key appears twice */
    BP_ERR_EVENT = 6,     /* "e" is not "depthUpdate" */
    BP_ERR_NOMEM = 7,     /* growing the level arrays failed */
    BP_ERR_DEPTH = 8,     /* nesting deeper than BP_MAX_NESTING */
    BP_ERR_SEQUENCE = 9   /* U > u */
} bp_status;

#define BP_MAX_NESTING 64

enum { BP_EXPECT_UPDATE = 0, BP_EXPECT_SNAPSHOT = 1 };

/* Bits of bp_depth.has */
enum {
    BP_HAS_E_TYPE = 1 << 0,   /* "e" */
    BP_HAS_EVENT_TIME = 1 << 1, /* "E" */
    BP_HAS_TX_TIME = 1 << 2,  /* "T" */
    BP_HAS_SYMBOL = 1 << 3,   /* "s" */
    BP_HAS_FIRST = 1 << 4,    /* "U" */
    BP_HAS_FINAL = 1 << 5,    /* "u" */
    BP_HAS_PREV = 1 << 6,     /* "pu" */
    BP_HAS_BIDS = 1 << 7,     /* "b" / "bids" */
    BP_HAS_ASKS = 1 << 8,     /* "a" / "asks" */
    BP_HAS_LAST_ID = 1 << 9,  /* "lastUpdateId" */
    BP_HAS_STREAM = 1 << 10,  /* envelope "stream" */
    BP_HAS_DATA = 1 << 11     /* envelope "data" */
};

typedef struct {
    bk_level *v;
    size_t n, cap;
} bp_levels;

typedef struct {
    uint32_t has;
    int64_t event_time, tx_time;     /* E, T */
    int64_t first_id, final_id;      /* U, u */
    int64_t prev_final_id;           /* pu */
    int64_t last_update_id;          /* REST lastUpdateId */
    const char *symbol;              /* raw bytes inside the frame (not NUL-terminated) */
    size_t symbol_len;
    const char *stream;
    size_t stream_len;
    bp_levels bids, asks;            /* every level's uid = u (diff) or lastUpdateId (snapshot) */
    size_t err_offset;               /* byte offset of the first problem */
    int err_detail;                  /* fx_status for BP_ERR_NUMBER */
} bp_depth;

void bp_init(bp_depth *m);
void bp_free(bp_depth *m);
/* Level arrays grow to the largest message parsed (a REST snapshot: thousands of
 * levels) and are reused for the next one.  Release any side whose capacity is
 * above `keep` levels (the levels it holds are dropped, n = 0) so that a book
 * does not keep a snapshot-sized buffer for ~10-level diff frames. */
#define BP_KEEP_LEVELS 256
void bp_shrink(bp_depth *m, size_t keep);

/* Parse one message.  expect = BP_EXPECT_UPDATE requires e="depthUpdate", U, u,
 * b, a; BP_EXPECT_SNAPSHOT requires lastUpdateId, bids, asks.  On error the
 * fields of *m are unspecified (but its arrays stay valid for reuse). */
int bp_parse_depth(bp_depth *m, const char *buf, size_t len, int expect, int price_scale, int size_scale);

/* Find the symbol of a frame cheaply: "s" of the payload, else the stream name
 * up to '@'.  Returns 1 and sets (*sym, *sym_len) into buf, 0 if none/malformed. */
int bp_peek_symbol(const char *buf, size_t len, const char **sym, size_t *sym_len);

const char *bp_strerror(int status);

/* ---- sequence rules (binance-protocol.md §1.8 spot, §2.8 futures) ---- */

enum { BP_SEQ_APPLY = 0, BP_SEQ_STALE = 1, BP_SEQ_GAP = 2, BP_SEQ_NOT_SYNCED = 3 };

typedef struct {
    int64_t book_id;    /* snapshot lastUpdateId, then the last applied u */
    int synced;         /* a snapshot was applied and no gap seen since */
    int first_pending;  /* next applied diff is the first after the snapshot */
} bp_seq;

void bp_seq_init(bp_seq *q);                        /* not synced */
void bp_seq_snapshot(bp_seq *q, int64_t last_update_id);
void bp_seq_lose(bp_seq *q);                        /* mark out of sync */

/* Decide what to do with a diff (U, u, pu; futures selects the pu chain).
 *  spot:    u <= id -> STALE; U <= id+1 (<= u) -> APPLY; else GAP
 *  futures: first diff: u < id -> STALE; U <= id <= u -> APPLY; else GAP
 *           later:      u <= id -> STALE; pu == id -> APPLY; else GAP */
int bp_seq_check(const bp_seq *q, int futures, int64_t first_id, int64_t final_id, int64_t prev_final_id);

/* Record the decision: APPLY advances to u, GAP loses sync, others change nothing. */
void bp_seq_commit(bp_seq *q, int decision, int64_t final_id);

#ifdef __cplusplus
}
#endif
#endif
