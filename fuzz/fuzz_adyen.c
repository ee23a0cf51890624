/*
 * The Adyen connector: provider answers and webhook events parsed into
 * results, HmacSignature headers checked, requests built.  Input: a byte
 * choosing the HTTP status, then a body; the body's lines also make a
 * transfer and an HmacSignature header.
 *
 * Invariants: results hold a known state or -1, and provider strings
 * that are NUL-terminated, valid UTF-8 and no longer than their buffers;
 * an answer outside 2xx, 400, 404, 422 never carries a state, and only
 * INITIATE's does outside 2xx; an event is accepted only with a known
 * state, an id and a reference that is "" or a lower-case UUID; a
 * signature computed here with OpenSSL's HMAC() and EVP_EncodeBlock()
 * verifies, one changed body byte fails it, and a header from the input
 * never verifies for another body; a built request's headers hold no CR,
 * LF or NUL, its path no query, dot or escape, and its body is JSON that
 * names our reference and the balance account.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_payout_core.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_adyen.h"
#include "ngx_payout_state.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


/* vectors/README.md's banking-webhook key */
#define FUZZ_KEY                                                             \
    "11223344D785FBAE710E7F943F307971BB61B21281C98C9129B3D4018A57B2EB"
#define FUZZ_REF  "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7"
#define FUZZ_BA   "BAB8B2C3D4E5F6G7H8D9J6GD4"


typedef struct {
    void    *blocks[128];
    size_t   n;
} fuzz_mem_t;


static void *fuzz_alloc(void *data, size_t size);
static void fuzz_mem_free(fuzz_mem_t *m);
static void fuzz_check_parse(long status, const char *body, size_t len);
static void fuzz_check_event(const char *body, size_t len);
static int fuzz_verify(const char *sig, size_t sig_len,
    const unsigned char *body, size_t len);
static void fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len);
static void fuzz_check_build(const unsigned char *body, size_t len,
    unsigned mode);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long    status;
    char   *body;
    size_t  len;

    static const long  statuses[] = {
        200, 202, 400, 401, 403, 404, 409, 422, 429, 500, 502, 0
    };

    if (size == 0) {
        return 0;
    }

    status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    len = size - 1;
    body = fuzz_strndup(data + 1, len);

    fuzz_check_parse(status, body, len);
    fuzz_check_event(body, len);
    fuzz_check_signature(data, size, (unsigned char *) body, len);
    fuzz_check_build((unsigned char *) body, len, data[0]);

    free(body);

    return 0;
}


static void *
fuzz_alloc(void *data, size_t size)
{
    fuzz_mem_t  *m = data;

    FUZZ_CHECK(m->n < sizeof(m->blocks) / sizeof(m->blocks[0]));
    m->blocks[m->n] = calloc(1, size);
    FUZZ_CHECK(m->blocks[m->n] != NULL);

    return m->blocks[m->n++];
}


static void
fuzz_mem_free(fuzz_mem_t *m)
{
    while (m->n) {
        free(m->blocks[--m->n]);
    }
}


static void
fuzz_check_parse(long status, const char *body, size_t len)
{
    int                   op;
    ngx_payout_answer_t   a;
    ngx_payout_result_t   res;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = body;
    a.body_len = len;

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        memset(&res, 0x5a, sizeof(res));
        ngx_payout_connector_adyen.parse(&acct, op, &a, &res);
        fuzz_check_result(&res);
        FUZZ_CHECK(res.next_action[0] == '\0');

        if (res.outcome == NGX_PAYOUT_OUTCOME_STATE) {
            FUZZ_CHECK(res.state >= 0);
            FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE
                       || op == NGX_PAYOUT_OP_LOOKUP);
        }

        if (res.state >= 0 && (status < 200 || status >= 300)) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE);
            FUZZ_CHECK(status == 400 || status == 401 || status == 403
                       || status == 422);
        }

        if (status < 200 || status == 409 || status == 429
            || status >= 500)
        {
            FUZZ_CHECK(res.outcome == NGX_PAYOUT_OUTCOME_UNKNOWN);
        }

        FUZZ_CHECK(res.outcome != NGX_PAYOUT_OUTCOME_NOT_FOUND);
    }
}


static void
fuzz_check_event(const char *body, size_t len)
{
    int                   rc;
    ngx_payout_hook_t     hook;
    ngx_payout_event_t    ev;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = len;

    memset(&ev, 0x5a, sizeof(ev));
    rc = ngx_payout_connector_adyen.event(&acct, &hook, &ev);
    fuzz_check_result(&ev.result);
    FUZZ_CHECK(fuzz_terminated(ev.reference, sizeof(ev.reference)));
    FUZZ_CHECK(ev.follow_up == NGX_PAYOUT_FOLLOW_NONE);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(ev.result.state >= 0);
        FUZZ_CHECK(ev.result.outcome == NGX_PAYOUT_OUTCOME_STATE);
        FUZZ_CHECK(ev.result.gateway_id[0] != '\0');
        FUZZ_CHECK(ev.reference[0] == '\0'
                   || ngx_payout_uuid_valid((unsigned char *) ev.reference,
                                            strlen(ev.reference)));
        FUZZ_CHECK(strpbrk(ev.reference, "ABCDEF") == NULL);

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_DECLINED);
        FUZZ_CHECK(ev.reference[0] == '\0');
        FUZZ_CHECK(ev.result.state == -1);
    }
}


static int
fuzz_verify(const char *sig, size_t sig_len, const unsigned char *body,
    size_t len)
{
    ngx_payout_hook_t     hook;
    ngx_payout_header_t   h;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    acct.webhook_secret = FUZZ_KEY;
    acct.webhook_secret_len = sizeof(FUZZ_KEY) - 1;

    h.name = "HmacSignature";
    h.name_len = 13;
    h.value = sig;
    h.value_len = sig_len;

    hook.headers = &h;
    hook.nheaders = 1;
    hook.body = body;
    hook.body_len = len;

    return ngx_payout_connector_adyen.verify(&acct, &hook, 0);
}


static void
fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len)
{
    int             n;
    char            sig[NGX_PAYOUT_ADYEN_SIG_LEN + 1], want[64];
    const char     *hex;
    size_t          i;
    unsigned int    mac_len;
    unsigned char   key[32], mac[32], *copy;

    FUZZ_CHECK(ngx_payout_adyen_sign(FUZZ_KEY, sizeof(FUZZ_KEY) - 1, body,
                                     len, sig)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(strlen(sig) == NGX_PAYOUT_ADYEN_SIG_LEN);

    /* base64(HMAC-SHA256(hex-decoded key, body)), computed here */
    hex = FUZZ_KEY;

    for (i = 0; i < sizeof(key); i++) {
        FUZZ_CHECK(sscanf(&hex[2 * i], "%2hhx", &key[i]) == 1);
    }

    HMAC(EVP_sha256(), key, sizeof(key), body, len, mac, &mac_len);
    FUZZ_CHECK(mac_len == sizeof(mac));
    n = EVP_EncodeBlock((unsigned char *) want, mac, sizeof(mac));
    FUZZ_CHECK(n == NGX_PAYOUT_ADYEN_SIG_LEN);

    FUZZ_CHECK(strcmp(sig, want) == 0);
    FUZZ_CHECK(fuzz_verify(sig, NGX_PAYOUT_ADYEN_SIG_LEN, body, len)
               == NGX_PAYOUT_OK);

    if (len) {
        copy = (unsigned char *) fuzz_strndup(body, len);
        i = (size_t) data[size - 1] % len;
        copy[i] ^= 1 + (data[0] % 255);
        FUZZ_CHECK(fuzz_verify(sig, NGX_PAYOUT_ADYEN_SIG_LEN, copy, len)
                   == NGX_PAYOUT_ERROR);
        free(copy);
    }

    /* the input as a header, over a body it cannot have signed */
    FUZZ_CHECK(fuzz_verify((const char *) body, len,
                           (const unsigned char *) "x", 1)
               == NGX_PAYOUT_ERROR);
}


/* the lines of the body as a transfer, for each op */

static void
fuzz_check_build(const unsigned char *body, size_t len, unsigned mode)
{
    int                    op, rc;
    char                  *field[8];
    size_t                 i, k;
    void                  *conf;
    json_t                *json;
    fuzz_mem_t             m;
    fuzz_input_t           in;
    const char            *h;
    const uint8_t         *piece;
    ngx_payout_call_t      call;
    ngx_payout_account_t   acct;
    ngx_payout_transfer_t  t;

    in.p = body;
    in.end = body + len;

    for (i = 0; i < 8; i++) {
        k = fuzz_piece(&in, '\n', &piece);
        field[i] = fuzz_strndup(piece, k);
    }

    memset(&m, 0, sizeof(m));
    memset(&acct, 0, sizeof(acct));
    acct.mem.alloc = fuzz_alloc;
    acct.mem.data = &m;
    acct.secret = "AQEyhmfxK4_test";
    acct.secret_len = 15;

    conf = NULL;

    rc = ngx_payout_connector_adyen.configure(&acct.mem, &conf,
             "balance_account", 15, FUZZ_BA, sizeof(FUZZ_BA) - 1);
    FUZZ_CHECK(rc == NGX_PAYOUT_OK);

    if (mode & 1) {
        rc = ngx_payout_connector_adyen.configure(&acct.mem, &conf,
                 "priority", 8, field[6], strlen(field[6]));
        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR);
    }

    acct.conf = conf;

    memset(&t, 0, sizeof(t));
    t.reference = FUZZ_REF;
    t.amount = (int64_t) len * 1000003 % NGX_PAYOUT_MAX_AMOUNT + 1;
    t.currency = (mode & 2) ? field[0] : "GBP";
    t.type = NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = field[2];
    t.bank_code = field[3];
    t.account_name = field[4];
    t.narration = field[5];
    t.gateway_id = (mode & 8) ? field[7] : NULL;

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        rc = ngx_payout_connector_adyen.build(&acct, op, &t, &call);

        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR
                   || rc == NGX_PAYOUT_DECLINED);

        if (rc != NGX_PAYOUT_OK) {
            continue;
        }

        FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE
                   || op == NGX_PAYOUT_OP_LOOKUP);
        FUZZ_CHECK(call.path[0] == '/');
        FUZZ_CHECK(strpbrk(call.path, "?#%\r\n .") == NULL);

        for (i = 0; i < call.nheaders; i++) {
            h = call.headers[i];
            FUZZ_CHECK(strpbrk(h, "\r\n") == NULL);
        }

        if (call.body == NULL) {
            FUZZ_CHECK(strcmp(call.method, "GET") == 0);
            continue;
        }

        FUZZ_CHECK(strlen(call.body) == call.body_len);
        FUZZ_CHECK(fuzz_cstr_utf8(call.body));

        json = json_loadb(call.body, call.body_len, 0, NULL);
        FUZZ_CHECK(json_is_object(json));
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(json,
                              "reference")), FUZZ_REF) == 0);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(json,
                              "balanceAccountId")), FUZZ_BA) == 0);
        FUZZ_CHECK(json_integer_value(json_object_get(json_object_get(json,
                       "amount"), "value")) == t.amount);
        json_decref(json);
    }

    fuzz_mem_free(&m);

    for (i = 0; i < 8; i++) {
        free(field[i]);
    }
}
