/*
 * JSON written as text (ngx_payout_jw_string, ngx_payout_jw_compact),
 * each on the whole input.
 *
 * Invariants: for every call the counting pass (p NULL) gives the length
 * the writing pass writes, and nothing is written past it.  A string of
 * any bytes is one JSON string jansson parses; its value is the input
 * with each byte that does not start a well-formed UTF-8 sequence
 * replaced by U+FFFD (so the input itself when that was valid UTF-8,
 * NUL included), and when the input was valid UTF-8 the text is what
 * json_dumpb() writes.  Compacting JSON text jansson accepts gives text
 * that parses to an equal value, is no longer, has no tab, newline or
 * carriage return and no space at either end, and compacts to itself.
 */

#include "fuzz.h"

#include <jansson.h>

#include "ngx_payout_json_writer.h"


#define FUZZ_CANARY  0xa5

typedef void (*fuzz_jw_pt)(ngx_payout_json_writer_t *w, const char *s,
    size_t len);


static unsigned char *fuzz_jw_run(fuzz_jw_pt write, const uint8_t *data,
    size_t size, size_t *len);
static size_t fuzz_jw_model(const uint8_t *data, size_t size,
    unsigned char *out);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *dump;
    size_t          n, m, want_len, dump_len;
    json_t         *a, *b;
    unsigned char  *out, *again, *want;

    /* a string: always one JSON string, invalid bytes as U+FFFD */

    out = fuzz_jw_run(ngx_payout_jw_string, data, size, &n);
    FUZZ_CHECK(n >= 2 && out[0] == '"' && out[n - 1] == '"');

    a = json_loadb((const char *) out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                   NULL);
    FUZZ_CHECK(a != NULL);
    FUZZ_CHECK(json_is_string(a));

    want = malloc(3 * size + 1);
    FUZZ_CHECK(want != NULL);
    want_len = fuzz_jw_model(data, size, want);

    FUZZ_CHECK(json_string_length(a) == want_len);
    FUZZ_CHECK(want_len == 0
               || memcmp(json_string_value(a), want, want_len) == 0);

    if (fuzz_utf8_valid(data, size)) {
        FUZZ_CHECK(json_string_length(a) == size);
        FUZZ_CHECK(size == 0 || memcmp(json_string_value(a), data, size) == 0);

        /* escaped as jansson escapes */
        dump_len = json_dumpb(a, NULL, 0, JSON_ENCODE_ANY);
        dump = malloc(dump_len + 1);
        FUZZ_CHECK(dump != NULL);
        FUZZ_CHECK(json_dumpb(a, dump, dump_len, JSON_ENCODE_ANY)
                   == dump_len);
        FUZZ_CHECK(dump_len == n && memcmp(dump, out, n) == 0);
        free(dump);
    }

    json_decref(a);
    free(want);
    free(out);

    /* compact: JSON text jansson accepts stays the same value */

    a = json_loadb((const char *) data, size,
                   JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

    if (a == NULL) {
        return 0;
    }

    out = fuzz_jw_run(ngx_payout_jw_compact, data, size, &n);
    FUZZ_CHECK(n <= size);
    FUZZ_CHECK(memchr(out, '\t', n) == NULL);
    FUZZ_CHECK(memchr(out, '\n', n) == NULL);
    FUZZ_CHECK(memchr(out, '\r', n) == NULL);
    FUZZ_CHECK(n > 0 && out[0] != ' ' && out[n - 1] != ' ');

    b = json_loadb((const char *) out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                   NULL);
    FUZZ_CHECK(b != NULL);
    FUZZ_CHECK(json_equal(a, b));

    again = fuzz_jw_run(ngx_payout_jw_compact, out, n, &m);
    FUZZ_CHECK(m == n && memcmp(again, out, n) == 0);

    json_decref(a);
    json_decref(b);
    free(again);
    free(out);

    return 0;
}


/*
 * Runs write on the input twice, counting then into a malloc'd buffer
 * of exactly the length counted and a canary byte; returns the buffer.
 */

static unsigned char *
fuzz_jw_run(fuzz_jw_pt write, const uint8_t *data, size_t size, size_t *len)
{
    unsigned char             *buf;
    ngx_payout_json_writer_t   w = { 0 };

    w.p = NULL;
    w.len = 0;
    write(&w, (const char *) data, size);

    *len = w.len;

    buf = malloc(*len + 1);
    FUZZ_CHECK(buf != NULL);
    buf[*len] = FUZZ_CANARY;

    w.p = buf;
    w.len = 0;
    write(&w, (const char *) data, size);

    FUZZ_CHECK(w.len == *len);
    FUZZ_CHECK(buf[*len] == FUZZ_CANARY);

    return buf;
}


/*
 * The value the string should decode to: each character fuzz.h's own
 * UTF-8 check accepts on its own kept, every other byte U+FFFD; out has
 * room for 3 * size bytes.
 */

static size_t
fuzz_jw_model(const uint8_t *data, size_t size, unsigned char *out)
{
    size_t  i, k, n;

    n = 0;

    for (i = 0; i < size; /* void */ ) {
        k = data[i] < 0x80 ? 1
            : data[i] < 0xc2 ? 0
            : data[i] < 0xe0 ? 2
            : data[i] < 0xf0 ? 3
            : data[i] < 0xf5 ? 4 : 0;

        if (k && k <= size - i && fuzz_utf8_valid(data + i, k)) {
            memcpy(out + n, data + i, k);
            n += k;
            i += k;
            continue;
        }

        memcpy(out + n, "\xef\xbf\xbd", 3);
        n += 3;
        i++;
    }

    return n;
}
