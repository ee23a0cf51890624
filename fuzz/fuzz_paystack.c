/*
 * The Paystack connector through its table: provider answers parsed for
 * every operation, webhook events, signatures, and the calls built from
 * the input's lines.  Input: a byte choosing the HTTP status, then the
 * body (also the webhook's body and the transfer's lines).
 *
 * Invariants: results hold a known state or -1, NUL-terminated valid
 * UTF-8 strings within their buffers; a state only with outcome STATE;
 * no state and no NOT_FOUND from 5xx or no answer; an event is accepted
 * only with a lower-case UUID reference and a state; the signature is
 * the hex HMAC-SHA512 computed here with OpenSSL's HMAC(), it verifies
 * and any changed byte of body or signature fails; a built body is JSON
 * carrying the given fields.
 */

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"

#include "ngx_payout_core.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_state.h"
#include "ngx_payout_validate.h"


#define FUZZ_BLOCKS  16


typedef struct {
    void    *blocks[FUZZ_BLOCKS];
    size_t   n;
} fuzz_mem_t;


static void *fuzz_alloc(void *data, size_t size);
static void fuzz_mem_free(fuzz_mem_t *m);
static void fuzz_check_result(const ngx_payout_result_t *res, long status);
static void fuzz_check_event(const ngx_payout_connector_t *c,
    const char *body, size_t len);
static void fuzz_check_signature(const ngx_payout_connector_t *c,
    const uint8_t *data, size_t size, const unsigned char *body,
    size_t len);
static void fuzz_check_build(const ngx_payout_connector_t *c,
    const unsigned char *body, size_t len, unsigned mode);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                             op;
    long                            status;
    char                           *body;
    size_t                          len;
    ngx_payout_answer_t             a;
    ngx_payout_result_t             res;
    const ngx_payout_connector_t   *c;

    static const long  statuses[] = {
        200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 502, 302, 0
    };

    if (size == 0) {
        return 0;
    }

    c = ngx_payout_connector_find("paystack", 8);
    FUZZ_CHECK(c != NULL);

    status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    len = size - 1;
    body = fuzz_strndup(data + 1, len);

    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = body;
    a.body_len = len;

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        memset(&res, 0x5a, sizeof(res));
        c->parse(NULL, (ngx_payout_op_e) op, &a, &res);
        fuzz_check_result(&res, status);

        if (op == NGX_PAYOUT_OP_ENROLL) {
            FUZZ_CHECK(res.state == -1);
        }

        if (res.outcome == NGX_PAYOUT_OUTCOME_NOT_FOUND) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_LOOKUP);
        }
    }

    fuzz_check_event(c, body, len);
    fuzz_check_signature(c, data, size, (unsigned char *) body, len);
    fuzz_check_build(c, (unsigned char *) body, len, data[0]);

    free(body);

    return 0;
}


static void *
fuzz_alloc(void *data, size_t size)
{
    fuzz_mem_t  *m = data;

    if (m->n == FUZZ_BLOCKS) {
        return NULL;
    }

    m->blocks[m->n] = calloc(1, size);

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
fuzz_check_result(const ngx_payout_result_t *res, long status)
{
    FUZZ_CHECK(res->state >= -1 && res->state < NGX_PAYOUT_NSTATES);
    FUZZ_CHECK(fuzz_terminated(res->gateway_id, sizeof(res->gateway_id)));
    FUZZ_CHECK(fuzz_terminated(res->reason, sizeof(res->reason)));
    FUZZ_CHECK(fuzz_terminated(res->next_action, sizeof(res->next_action)));
    FUZZ_CHECK(fuzz_cstr_utf8(res->gateway_id));
    FUZZ_CHECK(fuzz_cstr_utf8(res->reason));

    if (res->state >= 0) {
        FUZZ_CHECK(res->outcome == NGX_PAYOUT_OUTCOME_STATE);
    }

    /* the money may have moved: never a word on it */
    if (status == 0 || status >= 500 || (status >= 300 && status < 400)) {
        FUZZ_CHECK(res->state == -1);
        FUZZ_CHECK(res->outcome == NGX_PAYOUT_OUTCOME_UNKNOWN);
    }
}


static void
fuzz_check_event(const ngx_payout_connector_t *c, const char *body,
    size_t len)
{
    int                 rc;
    ngx_payout_hook_t   hook;
    ngx_payout_event_t  ev;

    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = len;

    memset(&ev, 'z', sizeof(ev));
    rc = c->event(NULL, &hook, &ev);
    fuzz_check_result(&ev.result, 200);
    FUZZ_CHECK(ev.follow_up == NGX_PAYOUT_FOLLOW_NONE);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(ev.result.state >= 0);
        FUZZ_CHECK(ev.reference[36] == '\0');
        FUZZ_CHECK(ngx_payout_uuid_valid((unsigned char *) ev.reference,
                                         36));
        FUZZ_CHECK(strspn(ev.reference, "0123456789abcdef-") == 36);

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_DECLINED);
        FUZZ_CHECK(ev.reference[0] == '\0');
    }
}


static void
fuzz_check_signature(const ngx_payout_connector_t *c, const uint8_t *data,
    size_t size, const unsigned char *body, size_t len)
{
    char                   key[64], sig[129];
    size_t                 i, klen;
    unsigned int           mac_len;
    unsigned char          mac[EVP_MAX_MD_SIZE], *copy;
    ngx_payout_hook_t      hook;
    ngx_payout_header_t    h;
    ngx_payout_account_t   acct;

    /* a key of printable bytes from the input */
    klen = 8 + size % 40;
    memcpy(key, "sk_test_", 8);

    for (i = 8; i < klen; i++) {
        key[i] = (char) ('!' + data[i % size] % 94);
    }

    FUZZ_CHECK(HMAC(EVP_sha512(), key, (int) klen, body, len, mac, &mac_len)
               != NULL);
    FUZZ_CHECK(mac_len == 64);

    for (i = 0; i < 64; i++) {
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    }

    memset(&acct, 0, sizeof(acct));
    acct.secret = key;
    acct.secret_len = klen;

    h.name = "x-paystack-signature";
    h.name_len = 20;
    h.value = sig;
    h.value_len = 128;

    hook.headers = &h;
    hook.nheaders = 1;
    hook.body = body;
    hook.body_len = len;

    FUZZ_CHECK(c->verify(&acct, &hook, 0) == NGX_PAYOUT_OK);

    if (len) {
        copy = (unsigned char *) fuzz_strndup(body, len);
        i = (size_t) data[size - 1] % len;
        copy[i] ^= 1 + (data[0] % 255);
        hook.body = copy;
        FUZZ_CHECK(c->verify(&acct, &hook, 0) == NGX_PAYOUT_ERROR);
        hook.body = body;
        free(copy);
    }

    i = size % 128;
    sig[i] = (sig[i] == '0') ? '1' : '0';
    FUZZ_CHECK(c->verify(&acct, &hook, 0) == NGX_PAYOUT_ERROR);

}


/* the lines of the body as a transfer: each built call is sound JSON */

static void
fuzz_check_build(const ngx_payout_connector_t *c, const unsigned char *body,
    size_t len, unsigned mode)
{
    int                    i, op, rc;
    char                  *field[6];
    size_t                 n;
    json_t                *json;
    fuzz_mem_t             m;
    fuzz_input_t           in;
    const uint8_t         *p;
    ngx_payout_call_t      call;
    ngx_payout_account_t   acct;
    ngx_payout_transfer_t  t;

    static const char  *currencies[] = { "NGN", "GHS", "ZAR", "KES", "USD" };

    in.p = body;
    in.end = body + len;

    for (i = 0; i < 6; i++) {
        n = fuzz_piece(&in, '\n', &p);
        field[i] = fuzz_strndup(p, n);

        /* validated input is valid UTF-8 without NUL */
        if (strlen(field[i]) != n || !fuzz_utf8_valid(p, n)) {
            goto done;
        }
    }

    memset(&m, 0, sizeof(m));
    memset(&acct, 0, sizeof(acct));
    acct.secret = "sk_test_0000000000000000000000000000000000000000";
    acct.secret_len = strlen(acct.secret);
    acct.mem.alloc = fuzz_alloc;
    acct.mem.data = &m;

    memset(&t, 0, sizeof(t));
    t.reference = "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7";
    t.currency = currencies[mode % 5];
    t.amount = (int64_t) len * 1000003 % NGX_PAYOUT_MAX_AMOUNT + 1;
    t.type = (mode & 8) ? NGX_PAYOUT_RECIPIENT_MOBILE
                        : NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = field[0];
    t.bank_code = field[1];
    t.account_name = field[2];
    t.mobile_number = field[0];
    t.provider = field[1];
    t.narration = (mode & 16) ? field[3] : NULL;
    t.recipient_code = field[4];
    t.gateway_id = field[4];
    t.otp = field[5];

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        rc = c->build(&acct, (ngx_payout_op_e) op, &t, &call);

        if (op == NGX_PAYOUT_OP_CANCEL) {
            FUZZ_CHECK(rc == NGX_PAYOUT_DECLINED);
            continue;
        }

        if (rc != NGX_PAYOUT_OK) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_ENROLL
                       && rc == NGX_PAYOUT_DECLINED);
            continue;
        }

        FUZZ_CHECK(call.nheaders == 2);

        if (op == NGX_PAYOUT_OP_LOOKUP) {
            FUZZ_CHECK(call.body == NULL);
            continue;
        }

        FUZZ_CHECK(strlen(call.body) == call.body_len);
        json = json_loadb(call.body, call.body_len, JSON_REJECT_DUPLICATES,
                          NULL);
        FUZZ_CHECK(json_is_object(json));

        if (op == NGX_PAYOUT_OP_INITIATE) {
            FUZZ_CHECK(json_integer_value(json_object_get(json, "amount"))
                       == t.amount);
            FUZZ_CHECK(strcmp(json_string_value(json_object_get(json,
                                  "recipient")), t.recipient_code) == 0);
        }

        if (op == NGX_PAYOUT_OP_FINALIZE) {
            FUZZ_CHECK(strcmp(json_string_value(json_object_get(json,
                                  "otp")), t.otp) == 0);
        }

        json_decref(json);
    }

    fuzz_mem_free(&m);

done:

    while (i >= 0) {
        if (i < 6) {
            free(field[i]);
        }

        i--;
    }
}
