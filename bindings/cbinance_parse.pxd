# Declarations of core/binance_parse.h for Cython code.
from libc.stdint cimport int64_t, uint32_t
from exconnect.native.cbook cimport bk_level

cdef extern from "binance_parse.h" nogil:
    ctypedef enum bp_status:
        BP_OK
        BP_ERR_SYNTAX
        BP_ERR_TYPE
        BP_ERR_NUMBER
        BP_ERR_MISSING
        BP_ERR_DUPLICATE
        BP_ERR_EVENT
        BP_ERR_NOMEM
        BP_ERR_DEPTH
        BP_ERR_SEQUENCE
    enum:
        BP_MAX_NESTING
        BP_KEEP_LEVELS
        BP_EXPECT_UPDATE
        BP_EXPECT_SNAPSHOT
        BP_HAS_E_TYPE
        BP_HAS_EVENT_TIME
        BP_HAS_TX_TIME
        BP_HAS_SYMBOL
        BP_HAS_FIRST
        BP_HAS_FINAL
        BP_HAS_PREV
        BP_HAS_BIDS
        BP_HAS_ASKS
        BP_HAS_LAST_ID
        BP_HAS_STREAM
        BP_HAS_DATA
        BP_SEQ_APPLY
        BP_SEQ_STALE
        BP_SEQ_GAP
        BP_SEQ_NOT_SYNCED
    ctypedef struct bp_levels:
        bk_level *v
        size_t n
        size_t cap
    ctypedef struct bp_depth:
        uint32_t has
        int64_t event_time
        int64_t tx_time
        int64_t first_id
        int64_t final_id
        int64_t prev_final_id
        int64_t last_update_id
        const char *symbol
        size_t symbol_len
        const char *stream
        size_t stream_len
        bp_levels bids
        bp_levels asks
        size_t err_offset
        int err_detail
    ctypedef struct bp_seq:
        int64_t book_id
        int synced
        int first_pending

    void bp_init(bp_depth *m)
    void bp_free(bp_depth *m)
    void bp_shrink(bp_depth *m, size_t keep)
    int bp_parse_depth(bp_depth *m, const char *buf, size_t len, int expect, int price_scale, int size_scale)
    int bp_peek_symbol(const char *buf, size_t len, const char **sym, size_t *sym_len)
    const char *bp_strerror(int status)
    void bp_seq_init(bp_seq *q)
    void bp_seq_snapshot(bp_seq *q, int64_t last_update_id)
    void bp_seq_lose(bp_seq *q)
    int bp_seq_check(const bp_seq *q, int futures, int64_t first_id, int64_t final_id, int64_t prev_final_id)
    void bp_seq_commit(bp_seq *q, int decision, int64_t final_id)
