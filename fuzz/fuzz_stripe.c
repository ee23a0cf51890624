/*
 * The Stripe connector: provider answers and webhook events parsed into
 * results, Stripe-Signature headers checked, requests built.  Input: a
 * byte choosing the HTTP status, then a body; the body's lines also make
 * a transfer and a Stripe-Signature header.
 *
 * Invariants: results hold a known state or -1, and provider strings
 * that are NUL-terminated, valid UTF-8 and no longer than their buffers;
 * an answer outside 2xx, 400-404 never carries a state; an event is
 * accepted only with a known state and a reference that is "" or a
 * lower-case UUID; a signature computed here with OpenSSL's HMAC()
 * verifies, one changed body byte or a stale time fails it, and a header
 * from the input never verifies for another body; a built request's
 * headers hold no CR, LF or NUL, and its form body only percent-encoded
 * values.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_payout_core.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_stripe.h"
#include "ngx_payout_state.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


#define FUZZ_SECRET  "whsec_test_secret"


typedef struct {
    void    *blocks[128];
    size_t   n;
} fuzz_mem_t;


static void *fuzz_alloc(void *data, size_t size);
static void fuzz_mem_free(fuzz_mem_t *m);
static void fuzz_check_parse(long status, const char *body, size_t len);
static void fuzz_check_event(const char *body, size_t len);
static int fuzz_verify(const char *sig, size_t sig_len,
    const unsigned char *body, size_t len, long now);
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
        200, 201, 400, 401, 402, 403, 404, 409, 429, 500, 502, 0
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
        ngx_payout_connector_stripe.parse(&acct, op, &a, &res);
        fuzz_check_result(&res);

        if (res.outcome == NGX_PAYOUT_OUTCOME_STATE
            && op != NGX_PAYOUT_OP_ENROLL)
        {
            FUZZ_CHECK(res.state >= 0);
        }

        if (res.state >= 0 && (status < 200 || status >= 300)) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE);
            FUZZ_CHECK(status >= 400 && status <= 404);
        }

        if (status < 200 || status == 409 || status >= 429) {
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
    rc = ngx_payout_connector_stripe.event(&acct, &hook, &ev);
    fuzz_check_result(&ev.result);
    FUZZ_CHECK(fuzz_terminated(ev.reference, sizeof(ev.reference)));

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
    }
}


static int
fuzz_verify(const char *sig, size_t sig_len, const unsigned char *body,
    size_t len, long now)
{
    ngx_payout_hook_t     hook;
    ngx_payout_header_t   h;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    acct.webhook_secret = FUZZ_SECRET;
    acct.webhook_secret_len = sizeof(FUZZ_SECRET) - 1;

    h.name = "Stripe-Signature";
    h.name_len = 16;
    h.value = sig;
    h.value_len = sig_len;

    hook.headers = &h;
    hook.nheaders = 1;
    hook.body = body;
    hook.body_len = len;

    return ngx_payout_connector_stripe.verify(&acct, &hook, now);
}


static void
fuzz_check_signature(const uint8_t *data, size_t size,
    const unsigned char *body, size_t len)
{
    long            t;
    char            header[NGX_PAYOUT_STRIPE_SIG_LEN + 1];
    char            want[NGX_PAYOUT_STRIPE_SIG_LEN + 1];
    size_t          n, i;
    unsigned char  *copy;

    t = 1600000000 + (long) (size * 7919);

    n = ngx_payout_stripe_sign(FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1, t,
                               body, len, header);
    FUZZ_CHECK(n > 0 && n <= NGX_PAYOUT_STRIPE_SIG_LEN);
    FUZZ_CHECK(strlen(header) == n);

    /* "t=<t>,v1=<hex HMAC-SHA256(whsec_..., t.body)>", computed here */
    fuzz_tv1_header(FUZZ_SECRET, sizeof(FUZZ_SECRET) - 1, t, body, len, want,
                    sizeof(want));

    FUZZ_CHECK(strcmp(header, want) == 0);
    FUZZ_CHECK(fuzz_verify(header, n, body, len, t) == NGX_PAYOUT_OK);
    FUZZ_CHECK(fuzz_verify(header, n, body, len,
                           t + NGX_PAYOUT_STRIPE_TOLERANCE + 1)
               == NGX_PAYOUT_ERROR);
    FUZZ_CHECK(fuzz_verify(header, n, body, len,
                           t - NGX_PAYOUT_STRIPE_TOLERANCE - 1)
               == NGX_PAYOUT_ERROR);

    if (len) {
        copy = (unsigned char *) fuzz_strndup(body, len);
        i = (size_t) data[size - 1] % len;
        copy[i] ^= 1 + (data[0] % 255);
        FUZZ_CHECK(fuzz_verify(header, n, copy, len, t) == NGX_PAYOUT_ERROR);
        free(copy);
    }

    /* the input as a header, over a body it cannot have signed */
    FUZZ_CHECK(fuzz_verify((const char *) body, len,
                           (const unsigned char *) "x", 1, t)
               == NGX_PAYOUT_ERROR);
}


/* the lines of the body as a transfer, for each destination and op */

static void
fuzz_check_build(const unsigned char *body, size_t len, unsigned mode)
{
    int                    op, rc;
    char                  *field[8];
    size_t                 i, k;
    void                  *conf;
    fuzz_mem_t             m;
    fuzz_input_t           in;
    const char            *p, *h;
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
    acct.secret = "sk_test_x";
    acct.secret_len = 9;

    conf = NULL;

    if (mode & 1) {
        rc = ngx_payout_connector_stripe.configure(&acct.mem, &conf,
                 "account", 7, field[6], strlen(field[6]));
        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR);
    }

    acct.conf = conf;

    memset(&t, 0, sizeof(t));
    t.reference = "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7";
    t.recipient_reference = "0b7e1d8a-2f0c-4a55-9c1e-6d3f7a9b2c41";
    t.amount = (int64_t) len * 1000003 % NGX_PAYOUT_MAX_AMOUNT + 1;
    t.currency = field[0];
    t.type = (mode & 2) ? NGX_PAYOUT_RECIPIENT_CONNECTED
                        : NGX_PAYOUT_RECIPIENT_BANK;
    t.account_id = (mode & 4) ? field[1] : NULL;
    t.account_number = field[2];
    t.bank_code = field[3];
    t.account_name = field[4];
    t.narration = field[5];
    t.recipient_code = field[7];
    t.gateway_id = (mode & 8) ? field[7] : NULL;
    t.country = "US";

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        rc = ngx_payout_connector_stripe.build(&acct, op, &t, &call);

        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR
                   || rc == NGX_PAYOUT_DECLINED);

        if (rc != NGX_PAYOUT_OK) {
            continue;
        }

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

        for (p = call.body; *p; p++) {
            FUZZ_CHECK(strchr("&=[]%-._~", *p)
                       || (*p >= 'a' && *p <= 'z')
                       || (*p >= 'A' && *p <= 'Z')
                       || (*p >= '0' && *p <= '9'));
        }
    }

    fuzz_mem_free(&m);

    for (i = 0; i < 8; i++) {
        free(field[i]);
    }
}
