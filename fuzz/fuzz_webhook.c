/*
 * Standard Webhooks signing (ngx_payout_webhook_key, _sign), Retry-After
 * parsing and the retry schedule.  Input: secret, webhook-id and
 * timestamp, each ended by '\n', then the body.
 *
 * Invariants: a signature is "v1," and the base64 of an HMAC-SHA256
 * computed here with OpenSSL's HMAC() over "id.timestamp.body", under a
 * key derived here (whsec_ secrets base64-decoded strictly); it verifies
 * as a receiver verifies it, and changing any single byte of the body,
 * the id or the timestamp makes it fail; whsec_ keys decode to what was
 * encoded; Retry-After and the delays stay in their ranges.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"

#include "ngx_payout_core.h"
#include "ngx_payout_webhook.h"


static int fuzz_key(const char *secret, size_t len, unsigned char *key,
    size_t *key_len);
static void fuzz_expected(const unsigned char *key, size_t key_len,
    const char *id, long ts, const unsigned char *body, size_t len,
    char *sig);
static int fuzz_verify(const char *secret, size_t secret_len,
    const char *id, long ts, const unsigned char *body, size_t len,
    const char *sig);
static void fuzz_check_base64(const unsigned char *data, size_t size);
static void fuzz_check_retry_after(const uint8_t *s, size_t len);
static void fuzz_check_delay(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc;
    long            ts;
    char           *secret, *id, *tstext;
    char            sig[NGX_PAYOUT_WEBHOOK_SIG_LEN + 1];
    char            want[NGX_PAYOUT_WEBHOOK_SIG_LEN + 1];
    size_t          secret_len, id_len, ts_len, len, key_len, i;
    unsigned char  *body, key[NGX_PAYOUT_WEBHOOK_KEY_MAX], core[512];
    size_t          core_len;
    fuzz_input_t    in;
    const uint8_t  *p;

    in.p = data;
    in.end = data + size;

    secret_len = fuzz_piece(&in, '\n', &p);
    secret = fuzz_strndup(p, secret_len);
    id_len = fuzz_piece(&in, '\n', &p);
    id = fuzz_strndup(p, id_len);
    ts_len = fuzz_piece(&in, '\n', &p);
    tstext = fuzz_strndup(p, ts_len > 20 ? 20 : ts_len);
    ts = strtol(tstext, NULL, 10);
    len = (size_t) (in.end - in.p);
    body = (unsigned char *) fuzz_strndup(in.p, len);

    /* the id is a C string to the core: what it signs ends at a NUL */
    id_len = strlen(id);

    /* the key: the core's agrees with ours whenever it has one */

    rc = ngx_payout_webhook_key(secret, secret_len, core, &core_len);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(core_len <= NGX_PAYOUT_WEBHOOK_KEY_MAX);
        FUZZ_CHECK(fuzz_key(secret, secret_len, key, &key_len)
                   == NGX_PAYOUT_OK);
        FUZZ_CHECK(core_len == key_len);
        FUZZ_CHECK(memcmp(core, key, key_len) == 0);
    }

    memset(sig, 0, sizeof(sig));

    if (ngx_payout_webhook_sign(secret, secret_len, id, ts, body, len, sig)
        == NGX_PAYOUT_OK)
    {
        FUZZ_CHECK(rc == NGX_PAYOUT_OK);
        FUZZ_CHECK(strlen(sig) == NGX_PAYOUT_WEBHOOK_SIG_LEN);

        fuzz_expected(key, key_len, id, ts, body, len, want);
        FUZZ_CHECK(strcmp(sig, want) == 0);
        FUZZ_CHECK(fuzz_verify(secret, secret_len, id, ts, body, len, sig));

        /* any single-byte change fails verification */

        if (len) {
            i = (size_t) (data[0] + size) % len;
            body[i] ^= 1 + (data[size - 1] % 255);
            FUZZ_CHECK(!fuzz_verify(secret, secret_len, id, ts, body, len,
                                    sig));
            body[i] ^= 1 + (data[size - 1] % 255);
        }

        if (id_len) {
            i = size % id_len;
            id[i] = id[i] == 'x' ? 'y' : 'x';
            FUZZ_CHECK(!fuzz_verify(secret, secret_len, id, ts, body, len,
                                    sig));
        }

        if (ts < 0x7fffffff) {
            FUZZ_CHECK(!fuzz_verify(secret, secret_len, id, ts + 1, body,
                                    len, sig));
        }

        i = size % (NGX_PAYOUT_WEBHOOK_SIG_LEN - 3) + 3;
        sig[i] = sig[i] == 'A' ? 'B' : 'A';
        FUZZ_CHECK(!fuzz_verify(secret, secret_len, id, ts, body, len, sig));

    } else {
        FUZZ_CHECK(rc != NGX_PAYOUT_OK);
    }

    fuzz_check_base64(data, size);
    fuzz_check_retry_after((const uint8_t *) tstext, strlen(tstext));
    fuzz_check_retry_after(data, size);
    fuzz_check_delay(data, size);

    free(secret);
    free(id);
    free(tstext);
    free(body);

    return 0;
}


/* SPEC §7: whsec_ and base64, strictly; otherwise the secret's bytes */

static int
fuzz_key(const char *secret, size_t len, unsigned char *key,
    size_t *key_len)
{
    long  n;

    if (len > 6 && memcmp(secret, "whsec_", 6) == 0) {
        if ((len - 6) / 4 * 3 > NGX_PAYOUT_WEBHOOK_KEY_MAX) {
            return NGX_PAYOUT_ERROR;
        }

        n = fuzz_base64_decode(secret + 6, len - 6, key);

        if (n <= 0) {
            return NGX_PAYOUT_ERROR;
        }

        *key_len = (size_t) n;

        return NGX_PAYOUT_OK;
    }

    if (len == 0 || len > NGX_PAYOUT_WEBHOOK_KEY_MAX) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(key, secret, len);
    *key_len = len;

    return NGX_PAYOUT_OK;
}


static void
fuzz_expected(const unsigned char *key, size_t key_len, const char *id,
    long ts, const unsigned char *body, size_t len, char *sig)
{
    int             n;
    char            head[64];
    unsigned int    mac_len;
    unsigned char  *msg, mac[EVP_MAX_MD_SIZE];
    size_t          id_len;

    id_len = strlen(id);
    n = snprintf(head, sizeof(head), ".%ld.", ts);

    msg = malloc(id_len + (size_t) n + len + 1);
    FUZZ_CHECK(msg != NULL);
    memcpy(msg, id, id_len);
    memcpy(msg + id_len, head, (size_t) n);
    memcpy(msg + id_len + n, body, len);

    FUZZ_CHECK(HMAC(EVP_sha256(), key, (int) key_len, msg,
                    id_len + (size_t) n + len, mac, &mac_len)
               != NULL);
    FUZZ_CHECK(mac_len == 32);
    free(msg);

    memcpy(sig, "v1,", 3);
    FUZZ_CHECK(fuzz_base64_encode(mac, 32, sig + 3) == 44);
}


/* what a receiver does: recompute, compare */

static int
fuzz_verify(const char *secret, size_t secret_len, const char *id,
    long ts, const unsigned char *body, size_t len, const char *sig)
{
    char           want[NGX_PAYOUT_WEBHOOK_SIG_LEN + 1];
    size_t         key_len;
    unsigned char  key[NGX_PAYOUT_WEBHOOK_KEY_MAX];

    if (fuzz_key(secret, secret_len, key, &key_len) != NGX_PAYOUT_OK) {
        return 0;
    }

    fuzz_expected(key, key_len, id, ts, body, len, want);

    return strcmp(want, sig) == 0;
}


/* parse(format(x)) == x for whsec_ secrets of 24 to 64 bytes */

static void
fuzz_check_base64(const unsigned char *data, size_t size)
{
    char           secret[6 + 4 * 22 + 1];
    size_t         n, len, key_len;
    unsigned char  key[NGX_PAYOUT_WEBHOOK_KEY_MAX];

    n = size > 64 ? 64 : size;

    if (n < 24) {
        return;
    }

    memcpy(secret, "whsec_", 6);
    len = 6 + fuzz_base64_encode(data, n, secret + 6);

    FUZZ_CHECK(ngx_payout_webhook_key(secret, len, key, &key_len)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(key_len == n);
    FUZZ_CHECK(memcmp(key, data, n) == 0);
}


static void
fuzz_check_retry_after(const uint8_t *s, size_t len)
{
    long    v, want;
    size_t  i;

    v = ngx_payout_retry_after((const char *) s, len);

    want = (len >= 1 && len <= 9) ? 0 : -1;

    for (i = 0; want >= 0 && i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            want = -1;
            break;
        }

        want = want * 10 + (s[i] - '0');
    }

    FUZZ_CHECK(v == want);
}


static void
fuzz_check_delay(const uint8_t *data, size_t size)
{
    int       n, attempt, i;
    long      schedule[8], d;
    unsigned  rnd;

    if (size < 4) {
        return;
    }

    n = data[0] % 9;
    attempt = (signed char) data[1];
    rnd = (unsigned) data[2] << 8 | data[3];

    for (i = 0; i < 8; i++) {
        schedule[i] = (long) (i < (int) size ? data[i] : 0) * 3600;
    }

    d = ngx_payout_webhook_delay(schedule, n, attempt, rnd);

    if (attempt < 1 || attempt >= n) {
        FUZZ_CHECK(d == -1);
        return;
    }

    FUZZ_CHECK(d >= schedule[attempt]);
    FUZZ_CHECK(d <= schedule[attempt] + schedule[attempt] / 10);
}
