/* driver.c — standalone fuzz driver for toolchains without libFuzzer (gcc).
 *
 *   ./fuzz_gcc <seconds> <corpus_dir> [seed]
 *
 * Runs every corpus file once, then mutates random corpus entries (bit flips,
 * byte edits, inserts/deletes, truncation, splicing, JSON tokens) until the
 * time is up.  Under ASan/UBSan a finding aborts the process; a death callback
 * first writes the current input to crash-<pid>.bin so it can be replayed with
 * `./fuzz_gcc 0 <dir-with-that-file>`.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __sanitizer_set_death_callback(void (*callback)(void));

#define MAX_INPUT 65536
#define MAX_SEEDS 4096

static uint8_t *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static size_t nseeds;
static uint8_t cur[MAX_INPUT];
static size_t cur_len;
static uint64_t rng_state;

static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void save_current(void) {
    char name[64];
    snprintf(name, sizeof name, "crash-%d.bin", (int)getpid());
    FILE *f = fopen(name, "wb");
    if (f) {
        fwrite(cur, 1, cur_len, f);
        fclose(f);
        fprintf(stderr, "driver: input written to %s (%zu bytes)\n", name, cur_len);
    }
}

static void on_signal(int sig) {
    save_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void load_corpus(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) { perror(dir); exit(2); }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nseeds < MAX_SEEDS) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t *buf = malloc(MAX_INPUT);
        size_t n = fread(buf, 1, MAX_INPUT, f);
        fclose(f);
        seeds[nseeds] = buf;
        seed_len[nseeds++] = n;
    }
    closedir(d);
}

static const char *tokens[] = {"\"", "[", "]", "{", "}", ",", ":", "\\", "\\u00", "0", "-", ".", "e", "E+9",
    "\"depthUpdate\"", "\"U\":", "\"u\":", "\"pu\":", "\"b\":", "\"a\":", "\"bids\":", "\"asks\":",
    "\"lastUpdateId\":", "\"data\":", "\"stream\":", "9223372036854775807", "-9223372036854775808",
    "99999999999999999999", "0.000000000000000000001", "[[\"1\",\"1\"]]", "null", "true", " \n\t"};

static void mutate(void) {
    size_t s = (size_t)(rnd() % nseeds);
    memcpy(cur, seeds[s], seed_len[s]);
    cur_len = seed_len[s];
    int rounds = 1 + (int)(rnd() % 6);
    for (int r = 0; r < rounds; r++) {
        switch (rnd() % 8) {
        case 0: if (cur_len) cur[rnd() % cur_len] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: if (cur_len) cur[rnd() % cur_len] = (uint8_t)rnd(); break;
        case 2: if (cur_len) cur_len = rnd() % cur_len; break;                 /* truncate */
        case 3: if (cur_len) {                                                /* delete a span */
                size_t at = rnd() % cur_len, n = 1 + rnd() % 8;
                if (at + n > cur_len) n = cur_len - at;
                memmove(cur + at, cur + at + n, cur_len - at - n);
                cur_len -= n;
            } break;
        case 4: case 5: {                                                     /* insert a token */
                const char *t = tokens[rnd() % (sizeof tokens / sizeof *tokens)];
                size_t n = strlen(t), at = cur_len ? rnd() % (cur_len + 1) : 0;
                if (cur_len + n > MAX_INPUT) break;
                memmove(cur + at + n, cur + at, cur_len - at);
                memcpy(cur + at, t, n);
                cur_len += n;
            } break;
        case 6: {                                                             /* splice another seed */
                size_t o = (size_t)(rnd() % nseeds), at = cur_len ? rnd() % cur_len : 0;
                size_t from = seed_len[o] ? rnd() % seed_len[o] : 0, n = seed_len[o] - from;
                if (at + n > MAX_INPUT) n = MAX_INPUT - at;
                memcpy(cur + at, seeds[o] + from, n);
                cur_len = at + n;
            } break;
        default: {                                                            /* duplicate a span */
                if (!cur_len) break;
                size_t at = rnd() % cur_len, n = 1 + rnd() % 32;
                if (at + n > cur_len) n = cur_len - at;
                if (cur_len + n > MAX_INPUT) break;
                memmove(cur + at + n, cur + at, cur_len - at);
                cur_len += n;
            } break;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <seconds> <corpus_dir> [seed]\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[1]);
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : (uint64_t)time(NULL);
    if (rng_state == 0) rng_state = 88172645463325252ULL;
    __sanitizer_set_death_callback(save_current);
    signal(SIGSEGV, on_signal);
    signal(SIGABRT, on_signal);
    load_corpus(argv[2]);
    if (nseeds == 0) { fprintf(stderr, "empty corpus\n"); return 2; }
    unsigned long long execs = 0;
    for (size_t i = 0; i < nseeds; i++) {
        memcpy(cur, seeds[i], seed_len[i]);
        cur_len = seed_len[i];
        LLVMFuzzerTestOneInput(cur, cur_len);
        execs++;
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        for (int k = 0; k < 256; k++) {
            mutate();
            LLVMFuzzerTestOneInput(cur, cur_len);
            execs++;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (el >= seconds) {
            printf("driver: %llu inputs in %.1f s (%.0f/s), %zu seeds, rng seed %llu, no findings\n", execs, el,
                   execs / (el > 0 ? el : 1), nseeds, (unsigned long long)(argc > 3 ? strtoull(argv[3], NULL, 10) : 0));
            return 0;
        }
    }
}
