/*
 * The Mollie connector: provider answers and webhook events parsed into
 * results, X-Mollie-Signature headers checked, requests built.  Input: a
 * byte choosing the HTTP status, then a body; the body's lines also make
 * a transfer and a signature header.
 *
 * Invariants: results hold a known state or -1, and provider strings
 * that are NUL-terminated, valid UTF-8 and no longer than their buffers;
 * a state outside 2xx only for a create refused 400, 401, 403, 404 or
 * 422; 409 to a create, 429, 5xx and no answer are UNKNOWN; an event
 * never carries a state, only a payout_ id and a LOOKUP, with a
 * reference that is "" or a lower-case UUID; unsigned, only a classic
 * "id=payout_..." body without a secret passes; a signature computed
 * here with OpenSSL's HMAC() verifies, one changed body byte fails it,
 * and a header from the input never verifies for another body; a built
 * request's path and headers hold no CR, LF or NUL, and its body is JSON
 * with a balance, a decimal value and a description of at most 255
 * characters of valid UTF-8.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_payout_core.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_mollie.h"
#include "ngx_payout_state.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


#define FUZZ_SECRET  "VpQ3WukU6uSCGQ8TPTD3WPDpac3GyNEj"


typedef struct {
    void    *blocks[128];
    size_t   n;
} fuzz_mem_t;


static void *fuzz_alloc(void *data, size_t size);
static void fuzz_mem_free(fuzz_mem_t *m);
static void fuzz_check_parse(long status, const char *body, size_t len);
static void fuzz_check_event(const char *body, size_t len);
static int fuzz_verify(const char *secret, const char *sig, size_t sig_len,
    const unsigned char *body, size_t len);
static void fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len);
static void fuzz_check_build(const unsigned char *body, size_t len,
    unsigned mode);
static void fuzz_check_body(const char *body, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long    status;
    char   *body;
    size_t  len;

    static const long  statuses[] = {
        200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 502, 0
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
    ngx_payout_header_t   h;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = body;
    a.body_len = len;

    h.name = "Content-Type";
    h.name_len = 12;
    h.value = "application/hal+json";
    h.value_len = 20;

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        memset(&res, 0x5a, sizeof(res));
        a.headers = (op & 1) ? &h : NULL;
        a.nheaders = (op & 1) ? 1 : 0;
        ngx_payout_connector_mollie.parse(&acct, op, &a, &res);
        fuzz_check_result(&res);

        if (res.outcome == NGX_PAYOUT_OUTCOME_STATE) {
            FUZZ_CHECK(res.state >= 0);
        }

        if (res.state >= 0 && (status < 200 || status >= 300)) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE);
            FUZZ_CHECK(status == 400 || status == 401 || status == 403
                       || status == 404 || status == 422);
        }

        if (status < 200 || status >= 429
            || (status == 409 && op != NGX_PAYOUT_OP_CANCEL))
        {
            FUZZ_CHECK(res.outcome == NGX_PAYOUT_OUTCOME_UNKNOWN);
        }

        if (res.outcome == NGX_PAYOUT_OUTCOME_REFUSED) {
            FUZZ_CHECK(op != NGX_PAYOUT_OP_INITIATE);
        }

        FUZZ_CHECK(res.outcome != NGX_PAYOUT_OUTCOME_NOT_FOUND);
        FUZZ_CHECK(res.next_action[0] == '\0');
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
    rc = ngx_payout_connector_mollie.event(&acct, &hook, &ev);
    fuzz_check_result(&ev.result);
    FUZZ_CHECK(fuzz_terminated(ev.reference, sizeof(ev.reference)));

    /* an event never moves a payout by itself: the fetch decides */
    FUZZ_CHECK(ev.result.state == -1);
    FUZZ_CHECK(ev.result.outcome == NGX_PAYOUT_OUTCOME_UNKNOWN);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(ev.follow_up == NGX_PAYOUT_FOLLOW_LOOKUP);
        FUZZ_CHECK(strncmp(ev.result.gateway_id, "payout_", 7) == 0);
        FUZZ_CHECK(strspn(ev.result.gateway_id,
                          "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
                   == strlen(ev.result.gateway_id));
        FUZZ_CHECK(ev.reference[0] == '\0'
                   || ngx_payout_uuid_valid((unsigned char *) ev.reference,
                                            strlen(ev.reference)));
        FUZZ_CHECK(strpbrk(ev.reference, "ABCDEF") == NULL);

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_DECLINED);
        FUZZ_CHECK(ev.reference[0] == '\0');
        FUZZ_CHECK(ev.result.gateway_id[0] == '\0');
    }

    /* no secret: unsigned only what carries an id and nothing else */
    if (fuzz_verify(NULL, NULL, 0, (const unsigned char *) body, len)
        == NGX_PAYOUT_OK)
    {
        FUZZ_CHECK(len > 10 && memcmp(body, "id=payout_", 10) == 0);
        FUZZ_CHECK(rc == NGX_PAYOUT_OK);
    }
}


static int
fuzz_verify(const char *secret, const char *sig, size_t sig_len,
    const unsigned char *body, size_t len)
{
    ngx_payout_hook_t     hook;
    ngx_payout_header_t   h;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    acct.webhook_secret = secret;
    acct.webhook_secret_len = secret ? strlen(secret) : 0;

    h.name = "X-Mollie-Signature";
    h.name_len = 18;
    h.value = sig;
    h.value_len = sig_len;

    hook.headers = &h;
    hook.nheaders = sig ? 1 : 0;
    hook.body = body;
    hook.body_len = len;

    return ngx_payout_connector_mollie.verify(&acct, &hook, 1700000000);
}


static void
fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len)
{
    char            header[NGX_PAYOUT_MOLLIE_SIG_LEN + 1];
    char            want[NGX_PAYOUT_MOLLIE_SIG_LEN + 1];
    size_t          n, i;
    unsigned int    mac_len;
    unsigned char   mac[EVP_MAX_MD_SIZE];
    unsigned char  *copy;

    n = ngx_payout_mollie_sign(FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1, body,
                               len, header);
    FUZZ_CHECK(n == NGX_PAYOUT_MOLLIE_SIG_LEN);
    FUZZ_CHECK(strlen(header) == n);

    /* "sha256=<hex HMAC-SHA256(secret, body)>", computed here */
    FUZZ_CHECK(HMAC(EVP_sha256(), FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1,
                    body, len, mac, &mac_len)
               != NULL);
    FUZZ_CHECK(mac_len == 32);
    memcpy(want, "sha256=", 7);

    for (i = 0; i < 32; i++) {
        snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    }

    FUZZ_CHECK(strcmp(header, want) == 0);
    FUZZ_CHECK(fuzz_verify(FUZZ_SECRET, header, n, body, len)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(fuzz_verify(FUZZ_SECRET, header + 7, n - 7, body, len)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(fuzz_verify("another", header, n, body, len)
               == NGX_PAYOUT_ERROR);

    if (len) {
        copy = (unsigned char *) fuzz_strndup(body, len);
        i = (size_t) data[size - 1] % len;
        copy[i] ^= 1 + (data[0] % 255);
        FUZZ_CHECK(fuzz_verify(FUZZ_SECRET, header, n, copy, len)
                   == NGX_PAYOUT_ERROR);
        free(copy);
    }

    /* the input as a header, over a body it cannot have signed */
    FUZZ_CHECK(fuzz_verify(FUZZ_SECRET, (const char *) body, len,
                           (const unsigned char *) "x", 1)
               == NGX_PAYOUT_ERROR);
}


/* the lines of the body as a transfer, for each destination and op */

static void
fuzz_check_build(const unsigned char *body, size_t len, unsigned mode)
{
    int                    op, rc;
    char                  *field[6];
    size_t                 i, k;
    void                  *conf;
    fuzz_mem_t             m;
    fuzz_input_t           in;
    const uint8_t         *piece;
    ngx_payout_call_t      call;
    ngx_payout_account_t   acct;
    ngx_payout_transfer_t  t;

    in.p = body;
    in.end = body + len;

    for (i = 0; i < 6; i++) {
        k = fuzz_piece(&in, '\n', &piece);
        field[i] = fuzz_strndup(piece, k);
    }

    memset(&m, 0, sizeof(m));
    memset(&acct, 0, sizeof(acct));
    acct.mem.alloc = fuzz_alloc;
    acct.mem.data = &m;
    acct.secret = "test_x";
    acct.secret_len = 6;

    conf = NULL;

    if (mode & 1) {
        rc = ngx_payout_connector_mollie.configure(&acct.mem, &conf,
                 "balance", 7, field[4], strlen(field[4]));
        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR);
    }

    acct.conf = conf;

    memset(&t, 0, sizeof(t));
    t.reference = "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7";
    t.amount = (int64_t) len * 1000003 % NGX_PAYOUT_MAX_AMOUNT + 1;
    t.currency = field[0];
    t.type = (mode & 2) ? NGX_PAYOUT_RECIPIENT_BALANCE
             : (mode & 4) ? NGX_PAYOUT_RECIPIENT_NONE
                          : NGX_PAYOUT_RECIPIENT_BANK;
    t.balance_id = (mode & 8) ? field[1] : NULL;
    t.narration = field[2];
    t.gateway_id = (mode & 16) ? field[3] : NULL;
    t.account_number = field[5];

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        rc = ngx_payout_connector_mollie.build(&acct, op, &t, &call);

        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR
                   || rc == NGX_PAYOUT_DECLINED);

        if (t.type == NGX_PAYOUT_RECIPIENT_BANK
            || op == NGX_PAYOUT_OP_ENROLL || op == NGX_PAYOUT_OP_FINALIZE)
        {
            FUZZ_CHECK(rc == NGX_PAYOUT_DECLINED);
        }

        if (rc != NGX_PAYOUT_OK) {
            continue;
        }

        FUZZ_CHECK(strncmp(call.path, "/v2/payouts", 11) == 0);
        FUZZ_CHECK(strpbrk(call.path, "?#%\r\n .") == NULL);
        FUZZ_CHECK(call.nheaders >= 1);
        FUZZ_CHECK(strcmp(call.headers[0], "Authorization: Bearer test_x")
                   == 0);

        for (i = 0; i < call.nheaders; i++) {
            FUZZ_CHECK(strpbrk(call.headers[i], "\r\n") == NULL);
        }

        if (op != NGX_PAYOUT_OP_INITIATE) {
            FUZZ_CHECK(call.body == NULL);
            FUZZ_CHECK(strcmp(call.method, "GET") == 0
                       || strcmp(call.method, "DELETE") == 0);
            continue;
        }

        FUZZ_CHECK(strcmp(call.method, "POST") == 0);
        fuzz_check_body(call.body, call.body_len);
    }

    fuzz_mem_free(&m);

    for (i = 0; i < 6; i++) {
        free(field[i]);
    }
}


static void
fuzz_check_body(const char *body, size_t len)
{
    size_t       i, chars;
    json_t      *json, *amount;
    const char  *balance, *value, *currency, *desc;

    FUZZ_CHECK(body != NULL && strlen(body) == len);

    json = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(json));

    balance = json_string_value(json_object_get(json, "balanceId"));
    amount = json_object_get(json, "amount");
    value = json_string_value(json_object_get(amount, "value"));
    currency = json_string_value(json_object_get(amount, "currency"));
    desc = json_string_value(json_object_get(json, "description"));

    FUZZ_CHECK(balance && strncmp(balance, "bal_", 4) == 0);
    FUZZ_CHECK(currency && ngx_payout_currency_find(currency, 3) != NULL);
    FUZZ_CHECK(strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3);
    FUZZ_CHECK(value && value[0] >= '0' && value[0] <= '9');
    FUZZ_CHECK(strspn(value, "0123456789.") == strlen(value));

    if (desc) {
        chars = 0;

        for (i = 0; desc[i]; i++) {
            chars += ((unsigned char) desc[i] & 0xc0) != 0x80;
        }

        FUZZ_CHECK(chars >= 1
                   && chars <= NGX_PAYOUT_MOLLIE_DESCRIPTION_MAX);
        FUZZ_CHECK(fuzz_cstr_utf8(desc));
    }

    json_decref(json);
}
