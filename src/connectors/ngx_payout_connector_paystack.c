/*
 * The Paystack connector's codec (docs/connectors/paystack.md), against
 * Paystack's OpenAPI description of 2025-10-24:
 *
 *   ENROLL    POST /transferrecipient           gives the recipient_code
 *   INITIATE  POST /transfer                    reference: our uuid
 *   LOOKUP    GET  /transfer/verify/{uuid}      404: never received
 *   FINALIZE  POST /transfer/finalize_transfer  the OTP
 *   webhooks  x-paystack-signature: hex HMAC-SHA512(secret key, raw body)
 *
 * Every call carries "Authorization: Bearer <secret key>".  Paystack has
 * no cancel, no settings of ours and keeps a transfer reference forever.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../core/ngx_payout_connector.h"
#include "../core/ngx_payout_validate.h"
#include "../core/ngx_payout_text.h"
#include "ngx_payout_connector_util.h"


#define NGX_PAYOUT_PAYSTACK_SIG_LEN  128       /* hex of 64 bytes */


static const char *ngx_payout_paystack_check(
    const ngx_payout_account_t *acct, int livemode);
static int ngx_payout_paystack_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static json_t *ngx_payout_paystack_recipient(const ngx_payout_transfer_t *t);
static json_t *ngx_payout_paystack_transfer(const ngx_payout_transfer_t *t);
static int ngx_payout_paystack_body(const ngx_payout_account_t *acct,
    ngx_payout_call_t *call, json_t *body);
static void ngx_payout_paystack_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res);
static void ngx_payout_paystack_refusal(ngx_payout_op_e op, long status,
    json_t *json, ngx_payout_result_t *res);
static void ngx_payout_paystack_transfer_state(json_t *data,
    ngx_payout_result_t *res);
static int ngx_payout_paystack_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now);
static int ngx_payout_paystack_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev);
static int ngx_payout_paystack_find(const ngx_payout_status_map_t *map,
    size_t n, const char *name);
static int ngx_payout_paystack_duplicate(const char *s);
static int ngx_payout_paystack_secret_ok(const ngx_payout_account_t *acct);
static void ngx_payout_paystack_result_init(ngx_payout_result_t *res);


/*
 * Paystack's transfer statuses (the spec's enum on GET /transfer), mapped
 * to ours; the table in docs/connectors/paystack.md.  "otp" waits for the
 * merchant's OTP: the transfer exists but has not been authorised, so it
 * stays pending_created with next_action "otp_required".  "abandoned" is
 * a transfer whose OTP never came: nothing was paid.
 */

static const ngx_payout_status_map_t  ngx_payout_paystack_statuses[] = {
    { "pending", NGX_PAYOUT_PENDING_PROMISE },
    { "success", NGX_PAYOUT_SUCCESS },
    { "failed", NGX_PAYOUT_CANCELED_FAILURE },
    { "otp", NGX_PAYOUT_PENDING_CREATED },
    { "abandoned", NGX_PAYOUT_CANCELED_FAILURE },
    { "reversed", NGX_PAYOUT_CANCELED_REVERSED },
    { "blocked", NGX_PAYOUT_CANCELED_REJECTED },
    { "rejected", NGX_PAYOUT_CANCELED_REJECTED },
    { "received", NGX_PAYOUT_PENDING_PROMISE },
};


/* the webhook events that move a payout, by their name */

static const ngx_payout_status_map_t  ngx_payout_paystack_events[] = {
    { "transfer.success", NGX_PAYOUT_SUCCESS },
    { "transfer.failed", NGX_PAYOUT_CANCELED_FAILURE },
    { "transfer.reversed", NGX_PAYOUT_CANCELED_REVERSED },
};


/*
 * A lost answer is settled by GET /transfer/verify of our reference,
 * whose 404 means Paystack never received the transfer.
 */

const ngx_payout_connector_t  ngx_payout_connector_paystack = {
    "paystack",
    NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE | NGX_PAYOUT_CAP_NEEDS_ENROLL
    | NGX_PAYOUT_CAP_MOBILE_MONEY,
    "https://api.paystack.co",
    0,
    NULL,
    ngx_payout_paystack_check,
    ngx_payout_paystack_build,
    ngx_payout_paystack_parse,
    ngx_payout_paystack_verify,
    ngx_payout_paystack_event,
    ngx_payout_paystack_statuses,
    sizeof(ngx_payout_paystack_statuses)
    / sizeof(ngx_payout_paystack_statuses[0])
};


/* the key names its mode; the message never shows the key */

static const char *
ngx_payout_paystack_check(const ngx_payout_account_t *acct, int livemode)
{
    const char  *want;

    if (acct->secret == NULL || acct->secret_len == 0) {
        return "the Paystack connector needs a secret key (secret_file=)";
    }

    if (!ngx_payout_paystack_secret_ok(acct)) {
        return "the secret key holds characters a Paystack key never has";
    }

    want = livemode ? "sk_live_" : "sk_test_";

    if (acct->secret_len > 8 && memcmp(acct->secret, want, 8) == 0) {
        return NULL;
    }

    if (livemode) {
        return (acct->secret_len > 8
                && memcmp(acct->secret, "sk_test_", 8) == 0)
               ? "the secret key is a test key (sk_test_) but mode=live"
               : "the secret key is not a live secret key (sk_live_)";
    }

    return (acct->secret_len > 8 && memcmp(acct->secret, "sk_live_", 8) == 0)
           ? "the secret key is a live key (sk_live_) but mode=test"
           : "the secret key is not a test secret key (sk_test_)";
}


static int
ngx_payout_paystack_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    int      rc;
    char    *path;
    size_t   len;
    json_t  *body;

    memset(call, 0, sizeof(ngx_payout_call_t));

    switch (op) {

    case NGX_PAYOUT_OP_ENROLL:
        body = ngx_payout_paystack_recipient(t);
        if (body == NULL) {
            /* a destination Paystack cannot take (see the docs) */
            return NGX_PAYOUT_DECLINED;
        }

        call->path = "/transferrecipient";
        break;

    case NGX_PAYOUT_OP_INITIATE:
        if (t->reference == NULL || t->currency == NULL
            || t->recipient_code == NULL || t->amount <= 0)
        {
            return NGX_PAYOUT_ERROR;
        }

        body = ngx_payout_paystack_transfer(t);
        call->path = "/transfer";
        break;

    case NGX_PAYOUT_OP_FINALIZE:
        if (t->gateway_id == NULL || t->otp == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        body = json_pack("{s:s, s:s}", "transfer_code", t->gateway_id,
                         "otp", t->otp);
        call->path = "/transfer/finalize_transfer";
        break;

    case NGX_PAYOUT_OP_LOOKUP:
        body = NULL;
        break;

    default:
        /* Paystack cannot cancel a transfer */
        return NGX_PAYOUT_DECLINED;
    }

    if (op != NGX_PAYOUT_OP_LOOKUP && body == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    rc = NGX_PAYOUT_ERROR;

    if (!ngx_payout_paystack_secret_ok(acct)) {
        goto done;
    }

    if (ngx_payout_call_header(acct, call, "Authorization", "Bearer ",
                               acct->secret, acct->secret_len)
        != NGX_PAYOUT_OK
        || ngx_payout_call_header(acct, call, "Content-Type", "",
                                  "application/json",
                                  sizeof("application/json") - 1)
           != NGX_PAYOUT_OK)
    {
        goto done;
    }

    if (op == NGX_PAYOUT_OP_LOOKUP) {
        /* our uuid only: nothing in it needs escaping in a path */
        if (t->reference == NULL
            || !ngx_payout_uuid_valid((const unsigned char *) t->reference,
                                      strlen(t->reference)))
        {
            goto done;
        }

        len = sizeof("/transfer/verify/") + 36;

        path = acct->mem.alloc(acct->mem.data, len);
        if (path == NULL) {
            goto done;
        }

        snprintf(path, len, "/transfer/verify/%s", t->reference);

        for (len = sizeof("/transfer/verify/") - 1; path[len]; len++) {
            path[len] = (path[len] >= 'A' && path[len] <= 'F')
                        ? (char) (path[len] | 0x20) : path[len];
        }

        call->method = "GET";
        call->path = path;
        return NGX_PAYOUT_OK;
    }

    call->method = "POST";
    rc = ngx_payout_paystack_body(acct, call, body);

done:

    json_decref(body);

    return rc;
}


/*
 * POST /transferrecipient: the recipient type follows the destination
 * and the currency (the spec's enum: nuban, ghipss, mobile_money, basa,
 * authorization).  A duplicate account number gives the existing
 * recipient, so enrolling twice is harmless.
 */

static json_t *
ngx_payout_paystack_recipient(const ngx_payout_transfer_t *t)
{
    const char  *type, *number, *code;

    if (t->currency == NULL || t->account_name == NULL) {
        return NULL;
    }

    if (t->type == NGX_PAYOUT_RECIPIENT_MOBILE) {
        if (strcmp(t->currency, "GHS") != 0
            && strcmp(t->currency, "KES") != 0)
        {
            return NULL;
        }

        type = "mobile_money";
        number = t->mobile_number;
        code = t->provider;

    } else if (t->type == NGX_PAYOUT_RECIPIENT_BANK) {
        if (strcmp(t->currency, "NGN") == 0) {
            type = "nuban";

        } else if (strcmp(t->currency, "ZAR") == 0) {
            type = "basa";

        } else if (strcmp(t->currency, "GHS") == 0) {
            type = "ghipss";

        } else {
            return NULL;
        }

        number = t->account_number;
        code = t->bank_code;

    } else {
        return NULL;
    }

    if (number == NULL || code == NULL) {
        return NULL;
    }

    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type,
                     "name", t->account_name, "account_number", number,
                     "bank_code", code, "currency", t->currency);
}


/*
 * POST /transfer: the reference is Paystack's idempotency key, "lowercase
 * alphanumeric with only - and _": our uuid, lower-cased.
 */

static json_t *
ngx_payout_paystack_transfer(const ngx_payout_transfer_t *t)
{
    char     ref[37];
    size_t   i;
    json_t  *body;

    if (!ngx_payout_uuid_valid((const unsigned char *) t->reference,
                               strlen(t->reference)))
    {
        return NULL;
    }

    for (i = 0; i < 36; i++) {
        ref[i] = (t->reference[i] >= 'A' && t->reference[i] <= 'F')
                 ? (char) (t->reference[i] | 0x20) : t->reference[i];
    }

    ref[36] = '\0';

    body = json_pack("{s:s, s:I, s:s, s:s, s:s}", "source", "balance",
                     "amount", (json_int_t) t->amount,
                     "recipient", t->recipient_code,
                     "currency", t->currency, "reference", ref);

    if (body && t->narration && t->narration[0]
        && json_object_set_new(body, "reason", json_string(t->narration))
           != 0)
    {
        json_decref(body);
        return NULL;
    }

    return body;
}



static int
ngx_payout_paystack_body(const ngx_payout_account_t *acct,
    ngx_payout_call_t *call, json_t *body)
{
    char    *out;
    size_t   len;

    out = json_dumps(body, JSON_COMPACT);
    if (out == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    len = strlen(out);

    call->body = acct->mem.alloc(acct->mem.data, len + 1);

    if (call->body) {
        memcpy((char *) call->body, out, len + 1);
        call->body_len = len;
    }

    free(out);

    return call->body ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
}


/*
 * Answers: 2xx with a readable body is the provider's word; 401/403 is
 * a bad key; another 4xx with Paystack's {"status":false,"message":...}
 * is a refusal; 5xx, no answer and anything unreadable leave the payout
 * to the reconciler, since the money may have moved.
 */

static void
ngx_payout_paystack_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res)
{
    json_t      *json, *data;
    const char  *code;

    (void) acct;

    ngx_payout_paystack_result_init(res);

    if (a->status == 401 || a->status == 403) {
        ngx_payout_result_auth_failed(op, res);
        return;
    }

    if (a->status < 200 || a->status >= 500 || a->body == NULL) {
        return;
    }

    json = json_loadb(a->body, a->body_len, 0, NULL);

    if (!json_is_object(json)) {
        json_decref(json);
        return;
    }

    if (a->status >= 300) {
        ngx_payout_paystack_refusal(op, a->status, json, res);
        json_decref(json);
        return;
    }

    data = json_object_get(json, "data");

    if (op == NGX_PAYOUT_OP_ENROLL) {
        code = json_string_value(json_object_get(data, "recipient_code"));

        if (code && code[0]) {
            /* an enrollment says nothing about a payout: no state */
            ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id),
                                   code);
            res->outcome = NGX_PAYOUT_OUTCOME_STATE;
        }

        json_decref(json);
        return;
    }

    ngx_payout_paystack_transfer_state(data, res);

    if (res->state < 0 && op == NGX_PAYOUT_OP_FINALIZE
        && json_is_true(json_object_get(json, "status")))
    {
        /* the OTP was taken; the answer shows no transfer: in flight */
        res->state = NGX_PAYOUT_PENDING_PROMISE;
    }

    if (res->state >= 0) {
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;
    }

    json_decref(json);
}


/* a 3xx or 4xx answer (not 401/403) holding a JSON object */

static void
ngx_payout_paystack_refusal(ngx_payout_op_e op, long status, json_t *json,
    ngx_payout_result_t *res)
{
    const char  *message, *code;

    message = json_string_value(json_object_get(json, "message"));
    code = json_string_value(json_object_get(json, "code"));

    /* only Paystack's own error shape is its word; a proxy's is not */
    if (status < 400 || status == 408 || status == 409 || status == 429
        || !json_is_false(json_object_get(json, "status"))
        || message == NULL || message[0] == '\0')
    {
        return;
    }

    if (op == NGX_PAYOUT_OP_LOOKUP) {
        if (status == 404
            || (status == 400 && strcasecmp(message, "Transfer not found")
                                 == 0))
        {
            res->outcome = NGX_PAYOUT_OUTCOME_NOT_FOUND;
        }

        return;
    }

    /*
     * A reused reference means an earlier send of this payout arrived:
     * never a rejection, the reconciler looks the transfer up.
     */
    if (ngx_payout_paystack_duplicate(message)
        || (code && ngx_payout_paystack_duplicate(code)))
    {
        return;
    }

    ngx_payout_result_copy(res->reason, sizeof(res->reason), message);

    if (op == NGX_PAYOUT_OP_INITIATE) {
        res->state = NGX_PAYOUT_CANCELED_REJECTED;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;

    } else {
        /* a refused recipient or a wrong OTP: the payout is unchanged */
        res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
    }
}


/* a transfer object (answer's or event's "data"): state, code, reason */

static void
ngx_payout_paystack_transfer_state(json_t *data, ngx_payout_result_t *res)
{
    const char  *status, *why;

    status = json_string_value(json_object_get(data, "status"));

    res->state = ngx_payout_paystack_find(ngx_payout_paystack_statuses,
                                          ngx_payout_connector_paystack
                                          .nstatuses, status);

    if (res->state < 0) {
        return;
    }

    ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id),
                           json_string_value(json_object_get(data,
                                                "transfer_code")));

    if (strcmp(status, "otp") == 0) {
        ngx_payout_result_copy(res->next_action, sizeof(res->next_action),
                               "otp_required");
    }

    if (ngx_payout_state_pending(res->state)
        || res->state == NGX_PAYOUT_SUCCESS)
    {
        return;
    }

    /* "reason" is our narration; gateway_response is Paystack's word */
    why = json_string_value(json_object_get(data, "gateway_response"));

    ngx_payout_result_copy(res->reason, sizeof(res->reason),
                           (why && why[0]) ? why : status);
}


static int
ngx_payout_paystack_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now)
{
    size_t                      i;
    unsigned int                mac_len;
    unsigned char               mac[EVP_MAX_MD_SIZE], sig[64];
    const ngx_payout_header_t  *h, *found;

    static const char  name[] = "x-paystack-signature";

    (void) now;                 /* the scheme has no timestamp */

    found = NULL;

    for (i = 0; i < hook->nheaders; i++) {
        h = &hook->headers[i];

        if (h->name_len == sizeof(name) - 1
            && strncasecmp(h->name, name, sizeof(name) - 1) == 0)
        {
            if (found) {
                return NGX_PAYOUT_ERROR;
            }

            found = h;
        }
    }

    if (found == NULL || found->value_len != NGX_PAYOUT_PAYSTACK_SIG_LEN
        || acct->secret == NULL || acct->secret_len == 0
        || ngx_payout_hex_decode(found->value, found->value_len, sig)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (HMAC(EVP_sha512(), acct->secret, (int) acct->secret_len,
             hook->body, hook->body_len, mac, &mac_len)
        == NULL
        || mac_len != sizeof(sig))
    {
        return NGX_PAYOUT_ERROR;
    }

    return CRYPTO_memcmp(mac, sig, sizeof(sig)) == 0 ? NGX_PAYOUT_OK
                                                     : NGX_PAYOUT_ERROR;
}


/*
 * transfer.success, transfer.failed and transfer.reversed, with our uuid
 * as data.reference; a transfer someone else made (another reference)
 * and every other event are not ours.
 */

static int
ngx_payout_paystack_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev)
{
    int          rc, state;
    size_t       i;
    json_t      *json, *data;
    const char  *name, *ref, *why;

    (void) acct;

    ev->follow_up = NGX_PAYOUT_FOLLOW_NONE;
    ev->reference[0] = '\0';
    ngx_payout_paystack_result_init(&ev->result);

    json = json_loadb((const char *) hook->body, hook->body_len, 0, NULL);
    name = json_string_value(json_object_get(json, "event"));
    data = json_object_get(json, "data");
    ref = json_string_value(json_object_get(data, "reference"));

    rc = NGX_PAYOUT_DECLINED;
    state = ngx_payout_paystack_find(ngx_payout_paystack_events,
                                     sizeof(ngx_payout_paystack_events)
                                     / sizeof(ngx_payout_paystack_events[0]),
                                     name);

    if (state < 0 || !json_is_object(data) || ref == NULL
        || !ngx_payout_uuid_valid((const unsigned char *) ref, strlen(ref)))
    {
        goto done;
    }

    for (i = 0; i < 36; i++) {
        ev->reference[i] = (ref[i] >= 'A' && ref[i] <= 'F')
                           ? (char) (ref[i] | 0x20) : ref[i];
    }

    ev->reference[36] = '\0';

    /* the event's name is its word, whatever data.status says */
    ev->result.state = state;
    ev->result.outcome = NGX_PAYOUT_OUTCOME_STATE;
    ngx_payout_result_copy(ev->result.gateway_id,
                           sizeof(ev->result.gateway_id),
                           json_string_value(json_object_get(data,
                                                "transfer_code")));

    if (state != NGX_PAYOUT_SUCCESS) {
        why = json_string_value(json_object_get(data, "gateway_response"));
        ngx_payout_result_copy(ev->result.reason, sizeof(ev->result.reason),
                               (why && why[0]) ? why
                                               : name + sizeof("transfer.")
                                                 - 1);
    }

    rc = NGX_PAYOUT_OK;

done:

    json_decref(json);

    return rc;
}


/* a name in a table (statuses or events): our state, or -1 */

static int
ngx_payout_paystack_find(const ngx_payout_status_map_t *map, size_t n,
    const char *name)
{
    size_t  i;

    for (i = 0; name && i < n; i++) {
        if (strcmp(map[i].status, name) == 0) {
            return map[i].state;
        }
    }

    return -1;
}


/* does s hold the word "duplicate", in any case? */

static int
ngx_payout_paystack_duplicate(const char *s)
{
    size_t  n;

    for (n = strlen(s); n >= 9; n--, s++) {
        if (strncasecmp(s, "duplicate", 9) == 0) {
            return 1;
        }
    }

    return 0;
}


/* printable ASCII only: the key goes into a header line */

static int
ngx_payout_paystack_secret_ok(const ngx_payout_account_t *acct)
{
    size_t  i;

    if (acct->secret == NULL || acct->secret_len == 0) {
        return 0;
    }

    for (i = 0; i < acct->secret_len; i++) {
        if ((unsigned char) acct->secret[i] <= ' '
            || (unsigned char) acct->secret[i] >= 0x7f)
        {
            return 0;
        }
    }

    return 1;
}


static void
ngx_payout_paystack_result_init(ngx_payout_result_t *res)
{
    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';
    res->next_action[0] = '\0';
}

