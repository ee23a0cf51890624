/*
 * The sandbox connector's codec: provider answers and events parsed into
 * results, transfer bodies built, webhook signatures made and checked;
 * and the state names results are stored under.  Input: a byte choosing
 * the HTTP status, then the provider's body; the body's lines also make
 * a transfer.
 *
 * Invariants: results hold a known state or -1, and provider strings
 * that are NUL-terminated, valid UTF-8 (PostgreSQL refuses anything
 * else) and no longer than their buffers; an event is accepted only with
 * a UUID reference and a known state; a transfer body is JSON holding
 * every field given; a signature is the hex HMAC-SHA256 computed here
 * with OpenSSL's HMAC() under a secret derived here, it verifies, and
 * changing any single byte of body or header makes verification fail.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_payout_core.h"
#include "ngx_payout_crypto.h"
#include "ngx_payout_connector_sandbox.h"
#include "ngx_payout_state.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


#define FUZZ_TOLERANCE  300


static void fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len);
static void fuzz_check_transfer(const unsigned char *body, size_t len,
    unsigned mode);
static void fuzz_check_state(const unsigned char *s, size_t len);
static void fuzz_same(json_t *obj, const char *name, const char *want);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    long                 status;
    char                *body, reference[64];
    size_t               len;
    ngx_payout_result_t  res;

    static const long  statuses[] = {
        200, 201, 400, 422, 404, 409, 429, 500, 502, 0
    };

    if (size == 0) {
        return 0;
    }

    status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    len = size - 1;
    body = fuzz_strndup(data + 1, len);

    ngx_payout_sandbox_parse_initiate(status, body, len, &res);
    fuzz_check_result(&res);

    if (status != 200 && status != 201 && status != 400 && status != 422) {
        FUZZ_CHECK(res.state == -1);
    }

    ngx_payout_sandbox_parse_transfer(status, body, len, &res);
    fuzz_check_result(&res);

    memset(reference, 'z', sizeof(reference));
    rc = ngx_payout_sandbox_parse_event(body, len, reference, &res);
    fuzz_check_result(&res);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(res.state >= 0);
        FUZZ_CHECK(reference[36] == '\0');
        FUZZ_CHECK(ngx_payout_uuid_valid((unsigned char *) reference, 36));

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_ERROR);
    }

    fuzz_check_signature(data, size, (unsigned char *) body, len);
    fuzz_check_transfer((unsigned char *) body, len, data[0]);
    fuzz_check_state((unsigned char *) body, len);

    free(body);

    return 0;
}


static void
fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len)
{
    long                t;
    char                header[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    char                want[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    size_t              n, i;
    unsigned int        mac_len;
    unsigned char       master[NGX_PAYOUT_MASTER_KEY_LEN], secret[32];
    unsigned char      *copy;
    ngx_payout_keys_t   keys;

    static const char  label[] = "sandbox/webhook";

    memset(master, 0, sizeof(master));
    memcpy(master, data, size < sizeof(master) ? size : sizeof(master));
    ngx_payout_keys_derive(master, &keys);

    t = 1600000000 + (long) (size * 7919);

    n = ngx_payout_sandbox_sign(&keys, t, body, len, header);
    FUZZ_CHECK(n > 0 && n <= NGX_PAYOUT_SANDBOX_SIG_LEN);
    FUZZ_CHECK(strlen(header) == n);

    /* "t=<t>,v1=<hex HMAC-SHA256(secret, t.body)>", computed here */

    FUZZ_CHECK(HMAC(EVP_sha256(), keys.token, sizeof(keys.token),
                    (const unsigned char *) label, sizeof(label) - 1,
                    secret, &mac_len)
               != NULL);

    fuzz_tv1_header(secret, sizeof(secret), t, body, len, want,
                    sizeof(want));

    FUZZ_CHECK(strcmp(header, want) == 0);

    FUZZ_CHECK(ngx_payout_sandbox_verify(&keys, header, n, body, len, t,
                                         FUZZ_TOLERANCE)
               == NGX_PAYOUT_OK);

    /* stale and future timestamps fail closed */
    FUZZ_CHECK(ngx_payout_sandbox_verify(&keys, header, n, body, len,
                                         t + FUZZ_TOLERANCE + 1,
                                         FUZZ_TOLERANCE)
               == NGX_PAYOUT_ERROR);
    FUZZ_CHECK(ngx_payout_sandbox_verify(&keys, header, n, body, len,
                                         t - FUZZ_TOLERANCE - 1,
                                         FUZZ_TOLERANCE)
               == NGX_PAYOUT_ERROR);

    /* one changed byte anywhere fails */

    if (len) {
        copy = (unsigned char *) fuzz_strndup(body, len);
        i = (size_t) data[size - 1] % len;
        copy[i] ^= 1 + (data[0] % 255);
        FUZZ_CHECK(ngx_payout_sandbox_verify(&keys, header, n, copy, len, t,
                                             FUZZ_TOLERANCE)
                   == NGX_PAYOUT_ERROR);
        free(copy);
    }

    i = size % n;
    header[i] ^= 1 + (data[0] % 255);
    FUZZ_CHECK(ngx_payout_sandbox_verify(&keys, header, n, body, len, t,
                                         FUZZ_TOLERANCE)
               == NGX_PAYOUT_ERROR);

    /* a header made by the input itself never verifies */

    FUZZ_CHECK(ngx_payout_sandbox_verify(&keys, (const char *) body, len,
                                         body, len, t, FUZZ_TOLERANCE)
               == NGX_PAYOUT_ERROR);
}


/* the lines of the body as a transfer, when the API would accept them */

static void
fuzz_check_transfer(const unsigned char *body, size_t len, unsigned mode)
{
    int                    i;
    char                  *field[8], *out;
    size_t                 n, out_len;
    json_t                *json, *dest;
    fuzz_input_t           in;
    const uint8_t         *p;
    ngx_payout_transfer_t  t;

    in.p = body;
    in.end = body + len;

    for (i = 0; i < 8; i++) {
        n = fuzz_piece(&in, '\n', &p);
        field[i] = fuzz_strndup(p, n);

        /* validated input is valid UTF-8 without NUL */
        if (strlen(field[i]) != n || !fuzz_utf8_valid(p, n)) {
            goto done;
        }
    }

    memset(&t, 0, sizeof(t));
    t.reference = field[0];
    t.currency = field[1];
    t.amount = (int64_t) len * 1000003 % NGX_PAYOUT_MAX_AMOUNT + 1;
    t.type = (mode & 1) ? NGX_PAYOUT_RECIPIENT_MOBILE
                        : NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = field[2];
    t.bank_code = field[3];
    t.account_name = (mode & 2) ? field[4] : NULL;
    t.mobile_number = field[5];
    t.provider = (mode & 2) ? field[6] : NULL;
    t.narration = (mode & 4) ? field[7] : NULL;

    out = ngx_payout_sandbox_transfer_body(&t, &out_len);
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(strlen(out) == out_len);

    json = json_loadb(out, out_len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json != NULL);

    fuzz_same(json, "reference", t.reference);
    fuzz_same(json, "currency", t.currency);
    fuzz_same(json, "narration", t.narration);
    FUZZ_CHECK(json_integer_value(json_object_get(json, "amount"))
               == t.amount);

    dest = json_object_get(json, "destination");
    FUZZ_CHECK(json_is_object(dest));

    if (t.type == NGX_PAYOUT_RECIPIENT_MOBILE) {
        fuzz_same(dest, "type", "mobile_money");
        fuzz_same(dest, "mobile_number", t.mobile_number);
        fuzz_same(dest, "provider", t.provider);

    } else {
        fuzz_same(dest, "type", "bank_account");
        fuzz_same(dest, "account_number", t.account_number);
        fuzz_same(dest, "bank_code", t.bank_code);
        fuzz_same(dest, "account_name", t.account_name);
    }

    json_decref(json);
    free(out);

done:

    while (i >= 0) {
        if (i < 8) {
            free(field[i]);
        }

        i--;
    }
}


/* state names: parse(name(s)) == s, and names parse only to themselves */

static void
fuzz_check_state(const unsigned char *s, size_t len)
{
    int          st, i;
    const char  *name, *status;

    st = ngx_payout_state_parse((const char *) s, len);

    if (st >= 0) {
        FUZZ_CHECK(st < NGX_PAYOUT_NSTATES);
        name = ngx_payout_state_name(st);
        FUZZ_CHECK(strlen(name) == len && memcmp(name, s, len) == 0);
    }

    for (i = 0; i < NGX_PAYOUT_NSTATES; i++) {
        name = ngx_payout_state_name(i);
        FUZZ_CHECK(ngx_payout_state_parse(name, strlen(name)) == i);

        status = ngx_payout_state_status(i);
        FUZZ_CHECK(strcmp(status, "pending") == 0
                   || strcmp(status, "success") == 0
                   || strcmp(status, "canceled") == 0);
    }
}


static void
fuzz_same(json_t *obj, const char *name, const char *want)
{
    const char  *got;

    got = json_string_value(json_object_get(obj, name));

    if (want == NULL) {
        FUZZ_CHECK(json_object_get(obj, name) == NULL);
        return;
    }

    FUZZ_CHECK(got != NULL);
    FUZZ_CHECK(strcmp(got, want) == 0);
}
