/*
 * The sandbox connector: the client side of the built-in fake provider
 * (src/ngx_http_payout_sandbox.c), and its codec.
 *
 *   INITIATE  POST /transfers               Idempotency-Key: our uuid
 *   LOOKUP    GET  /transfers/{uuid}        404: never received
 *   CANCEL    POST /transfers/{uuid}/cancel
 *   ENROLL    POST /recipients              Idempotency-Key: our recipient
 *                                           uuid; bank and mobile money
 *   webhooks  Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256(t.body)>
 *
 * It needs no API secret and has no settings of its own.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "ngx_payout_connector_sandbox.h"
#include "../core/ngx_payout_validate.h"
#include "../core/ngx_payout_text.h"
#include "ngx_payout_connector_util.h"


static int ngx_payout_sandbox_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static int ngx_payout_sandbox_build_enroll(const ngx_payout_account_t *acct,
    const ngx_payout_transfer_t *t, ngx_payout_call_t *call);
static int ngx_payout_sandbox_body(const ngx_payout_account_t *acct,
    ngx_payout_call_t *call, const char *key, char *body, size_t len);
static void ngx_payout_sandbox_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res);
static int ngx_payout_sandbox_hook_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now);
static int ngx_payout_sandbox_hook_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev);
static char *ngx_payout_sandbox_dump(const ngx_payout_transfer_t *t,
    const char *reference, json_t *body, size_t *len);
static void ngx_payout_sandbox_destination(const ngx_payout_transfer_t *t,
    json_t *dest);
static int ngx_payout_sandbox_state(const char *status);


/* the sandbox's statuses, mapped to ours (docs/sandbox.md) */

static const ngx_payout_status_map_t  ngx_payout_sandbox_statuses[] = {
    { "pending", NGX_PAYOUT_PENDING_PROMISE },
    { "succeeded", NGX_PAYOUT_SUCCESS },
    { "failed", NGX_PAYOUT_CANCELED_FAILURE },
    { "reversed", NGX_PAYOUT_CANCELED_REVERSED },
    { "canceled", NGX_PAYOUT_CANCELED_VOIDED },
    { "rejected", NGX_PAYOUT_CANCELED_REJECTED },
};


/*
 * A lost answer is settled by a lookup of our reference, whose 404 means
 * the sandbox never received the transfer (NGX_PAYOUT_OUTCOME_NOT_FOUND).
 */

const ngx_payout_connector_t  ngx_payout_connector_sandbox = {
    "sandbox",
    NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE | NGX_PAYOUT_CAP_CAN_CANCEL
    | NGX_PAYOUT_CAP_TEST_ONLY
    | NGX_PAYOUT_CAP_MOBILE_MONEY,
    NULL,
    0,
    NULL,
    NULL,
    ngx_payout_sandbox_build,
    ngx_payout_sandbox_parse,
    ngx_payout_sandbox_hook_verify,
    ngx_payout_sandbox_hook_event,
    ngx_payout_sandbox_statuses,
    sizeof(ngx_payout_sandbox_statuses)
    / sizeof(ngx_payout_sandbox_statuses[0])
};


static int
ngx_payout_sandbox_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    char    *path, *body;
    size_t   len;

    memset(call, 0, sizeof(ngx_payout_call_t));

    if (op == NGX_PAYOUT_OP_ENROLL) {
        return ngx_payout_sandbox_build_enroll(acct, t, call);
    }

    if (op != NGX_PAYOUT_OP_INITIATE && op != NGX_PAYOUT_OP_LOOKUP
        && op != NGX_PAYOUT_OP_CANCEL)
    {
        return NGX_PAYOUT_DECLINED;
    }

    len = sizeof("/transfers/") + strlen(t->reference) + sizeof("/cancel");

    path = acct->mem.alloc(acct->mem.data, len);
    if (path == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    call->path = path;

    if (op == NGX_PAYOUT_OP_LOOKUP) {
        call->method = "GET";
        snprintf(path, len, "/transfers/%s", t->reference);
        return NGX_PAYOUT_OK;
    }

    call->method = "POST";

    if (ngx_payout_call_header(acct, call, "Content-Type", "",
                               "application/json",
                               sizeof("application/json") - 1)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (op == NGX_PAYOUT_OP_CANCEL) {
        snprintf(path, len, "/transfers/%s/cancel", t->reference);
        call->body = "{}";
        call->body_len = 2;
        return NGX_PAYOUT_OK;
    }

    snprintf(path, len, "/transfers");

    body = ngx_payout_sandbox_transfer_body(t, &len);

    return ngx_payout_sandbox_body(acct, call, t->reference, body, len);
}


/* a bank account or a wallet; the sandbox has no connected accounts */

static int
ngx_payout_sandbox_build_enroll(const ngx_payout_account_t *acct,
    const ngx_payout_transfer_t *t, ngx_payout_call_t *call)
{
    char    *body;
    size_t   len;

    if (t->type != NGX_PAYOUT_RECIPIENT_BANK
        && t->type != NGX_PAYOUT_RECIPIENT_MOBILE)
    {
        return NGX_PAYOUT_DECLINED;
    }

    if (t->recipient_reference == NULL
        || !ngx_payout_uuid_valid((const unsigned char *)
                                      t->recipient_reference,
                                  strlen(t->recipient_reference)))
    {
        return NGX_PAYOUT_ERROR;
    }

    call->method = "POST";
    call->path = "/recipients";

    if (ngx_payout_call_header(acct, call, "Content-Type", "",
                               "application/json",
                               sizeof("application/json") - 1)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    body = ngx_payout_sandbox_recipient_body(t, &len);

    return ngx_payout_sandbox_body(acct, call, t->recipient_reference, body,
                                   len);
}


/*
 * A POST's Idempotency-Key and its body, malloc'd (or NULL), copied to
 * the account's memory and freed
 */

static int
ngx_payout_sandbox_body(const ngx_payout_account_t *acct,
    ngx_payout_call_t *call, const char *key, char *body, size_t len)
{
    if (body == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_call_header(acct, call, "Idempotency-Key", "", key,
                               strlen(key))
        != NGX_PAYOUT_OK)
    {
        free(body);
        return NGX_PAYOUT_ERROR;
    }

    call->body = acct->mem.alloc(acct->mem.data, len);

    if (call->body) {
        memcpy((char *) call->body, body, len);
        call->body_len = len;
    }

    free(body);

    return call->body ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
}



static void
ngx_payout_sandbox_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res)
{
    (void) acct;

    if (op == NGX_PAYOUT_OP_ENROLL) {
        ngx_payout_sandbox_parse_enroll(a->status, a->body, a->body_len,
                                        res);
        return;
    }

    if (op == NGX_PAYOUT_OP_INITIATE) {
        ngx_payout_sandbox_parse_initiate(a->status, a->body, a->body_len,
                                          res);

    } else {
        ngx_payout_sandbox_parse_transfer(a->status, a->body, a->body_len,
                                          res);
    }

    if (res->state >= 0) {
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;

    } else if (op != NGX_PAYOUT_OP_INITIATE && a->status == 404) {
        res->outcome = NGX_PAYOUT_OUTCOME_NOT_FOUND;

    } else if (op == NGX_PAYOUT_OP_CANCEL && a->status >= 300
               && a->status < 500)
    {
        /* e.g. 409: the transfer is past canceling */
        res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;

    } else {
        res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    }
}


static int
ngx_payout_sandbox_hook_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now)
{
    size_t                      i;
    const ngx_payout_header_t  *h, *sig;

    static const char  name[] = "Sandbox-Signature";

    sig = NULL;

    for (i = 0; i < hook->nheaders; i++) {
        h = &hook->headers[i];

        if (h->name_len == sizeof(name) - 1
            && strncasecmp(h->name, name, sizeof(name) - 1) == 0)
        {
            sig = h;
        }
    }

    if (sig == NULL || acct->keys == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    return ngx_payout_sandbox_verify(acct->keys, sig->value, sig->value_len,
                                     hook->body, hook->body_len, now,
                                     NGX_PAYOUT_SANDBOX_TOLERANCE);
}


static int
ngx_payout_sandbox_hook_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev)
{
    (void) acct;

    ev->follow_up = NGX_PAYOUT_FOLLOW_NONE;
    ev->reference[0] = '\0';

    if (ngx_payout_sandbox_parse_event((const char *) hook->body,
                                       hook->body_len, ev->reference,
                                       &ev->result)
        != NGX_PAYOUT_OK)
    {
        ev->reference[0] = '\0';
        return NGX_PAYOUT_DECLINED;
    }

    ev->result.outcome = NGX_PAYOUT_OUTCOME_STATE;

    return NGX_PAYOUT_OK;
}


ngx_payout_sandbox_outcome_e
ngx_payout_sandbox_outcome(const char *number, size_t len)
{
    const char  *last4;

    if (len < 4) {
        return NGX_PAYOUT_SANDBOX_SUCCEED;
    }

    last4 = number + len - 4;

    if (memcmp(last4, "000", 3) != 0) {
        return NGX_PAYOUT_SANDBOX_SUCCEED;
    }

    switch (last4[3]) {
    case '2': return NGX_PAYOUT_SANDBOX_INVALID_ACCOUNT;
    case '3': return NGX_PAYOUT_SANDBOX_NO_FUNDS;
    case '4': return NGX_PAYOUT_SANDBOX_FAIL_LATER;
    case '5': return NGX_PAYOUT_SANDBOX_REVERSE;
    case '6': return NGX_PAYOUT_SANDBOX_NO_ANSWER;
    case '7': return NGX_PAYOUT_SANDBOX_STAY_PENDING;
    default:  return NGX_PAYOUT_SANDBOX_SUCCEED;
    }
}


void
ngx_payout_sandbox_secret(const ngx_payout_keys_t *keys,
    unsigned char *secret)
{
    static const char  label[] = "sandbox/webhook";

    ngx_payout_hmac_sha256(keys->token, sizeof(keys->token),
                           (const unsigned char *) label, sizeof(label) - 1,
                           secret);
}


size_t
ngx_payout_sandbox_sign(const ngx_payout_keys_t *keys, long t,
    const unsigned char *body, size_t len, char *out)
{
    int             n;
    char            ts[24];
    unsigned char   secret[32], mac[32], *msg;

    n = snprintf(ts, sizeof(ts), "%ld", t);

    msg = malloc(n + 1 + len);
    if (msg == NULL) {
        return 0;
    }

    memcpy(msg, ts, n);
    msg[n] = '.';
    memcpy(msg + n + 1, body, len);

    ngx_payout_sandbox_secret(keys, secret);
    ngx_payout_hmac_sha256(secret, sizeof(secret), msg, n + 1 + len, mac);
    free(msg);
    OPENSSL_cleanse(secret, sizeof(secret));

    n = snprintf(out, NGX_PAYOUT_SANDBOX_SIG_LEN + 1, "t=%s,v1=", ts);
    ngx_payout_hex_encode(mac, sizeof(mac), out + n);
    out[n + 64] = '\0';

    return n + 64;
}


int
ngx_payout_sandbox_verify(const ngx_payout_keys_t *keys,
    const char *header, size_t header_len, const unsigned char *body,
    size_t len, long now, long tolerance)
{
    long          t;
    char          expected[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    char          buf[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    char         *end;
    size_t        n;

    if (header_len < 3 || header_len > NGX_PAYOUT_SANDBOX_SIG_LEN
        || memcmp(header, "t=", 2) != 0)
    {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(buf, header, header_len);
    buf[header_len] = '\0';

    t = strtol(buf + 2, &end, 10);

    if (end == buf + 2 || *end != ',' || t <= 0) {
        return NGX_PAYOUT_ERROR;
    }

    /* fail closed: a stale or future timestamp is a replay */
    if (t < now - tolerance || t > now + tolerance) {
        return NGX_PAYOUT_ERROR;
    }

    n = ngx_payout_sandbox_sign(keys, t, body, len, expected);

    if (n == 0 || n != header_len
        || CRYPTO_memcmp(expected, buf, n) != 0)
    {
        return NGX_PAYOUT_ERROR;
    }

    return NGX_PAYOUT_OK;
}


char *
ngx_payout_sandbox_transfer_body(const ngx_payout_transfer_t *t,
    size_t *len)
{
    json_t  *body;

    body = json_pack("{s:I}", "amount", (json_int_t) t->amount);

    if (body && t->narration) {
        json_object_set_new(body, "narration", json_string(t->narration));
    }

    return ngx_payout_sandbox_dump(t, t->reference, body, len);
}


/* POST /recipients: {reference, currency, destination} */

char *
ngx_payout_sandbox_recipient_body(const ngx_payout_transfer_t *t,
    size_t *len)
{
    return ngx_payout_sandbox_dump(t, t->recipient_reference, json_object(),
                                   len);
}


/*
 * body (consumed; NULL: out of memory) with the reference, the currency
 * and the destination, as compact JSON (malloc'd), or NULL
 */

static char *
ngx_payout_sandbox_dump(const ngx_payout_transfer_t *t,
    const char *reference, json_t *body, size_t *len)
{
    char    *out;
    json_t  *dest;

    dest = json_object();

    if (dest == NULL || body == NULL) {
        json_decref(dest);
        json_decref(body);
        return NULL;
    }

    ngx_payout_sandbox_destination(t, dest);

    json_object_set_new(body, "reference", json_string(reference));

    if (t->currency) {
        json_object_set_new(body, "currency", json_string(t->currency));
    }

    json_object_set_new(body, "destination", dest);

    out = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    if (out) {
        *len = strlen(out);
    }

    return out;
}


/* a transfer's or a recipient's destination object */

static void
ngx_payout_sandbox_destination(const ngx_payout_transfer_t *t,
    json_t *dest)
{
    if (t->type == NGX_PAYOUT_RECIPIENT_MOBILE) {
        json_object_set_new(dest, "type", json_string("mobile_money"));
        json_object_set_new(dest, "mobile_number",
                            json_string(t->mobile_number));

        if (t->provider) {
            json_object_set_new(dest, "provider", json_string(t->provider));
        }

        return;
    }

    json_object_set_new(dest, "type", json_string("bank_account"));
    json_object_set_new(dest, "account_number",
                        json_string(t->account_number));
    json_object_set_new(dest, "bank_code", json_string(t->bank_code));

    if (t->account_name) {
        json_object_set_new(dest, "account_name",
                            json_string(t->account_name));
    }
}


/*
 * The answer to POST /recipients: 200 or 201 with a recipient_code is
 * the code; 400 or 422 with the sandbox's error is a refusal, its code
 * the reason; anything else is no answer.  An enrollment has no state.
 */

void
ngx_payout_sandbox_parse_enroll(long status, const char *body, size_t len,
    ngx_payout_result_t *res)
{
    json_t      *json;
    const char  *code;

    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';
    res->next_action[0] = '\0';

    json = (body && len) ? json_loadb(body, len, 0, NULL) : NULL;

    if (status == 200 || status == 201) {
        code = json_string_value(json_object_get(json, "recipient_code"));

        if (code && code[0] && strlen(code) < sizeof(res->gateway_id)) {
            ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id),
                                   code);
            res->outcome = NGX_PAYOUT_OUTCOME_STATE;
        }

    } else if (status == 400 || status == 422) {
        code = json_string_value(json_object_get(json_object_get(json,
                                                                 "error"),
                                                 "code"));

        if (code && code[0]) {
            ngx_payout_result_copy(res->reason, sizeof(res->reason), code);
            res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
        }
    }

    json_decref(json);
}


void
ngx_payout_sandbox_parse_initiate(long status, const char *body, size_t len,
    ngx_payout_result_t *res)
{
    json_t  *json, *err;

    if (status == 200 || status == 201) {
        ngx_payout_sandbox_parse_transfer(status, body, len, res);
        return;
    }

    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';

    /* a definite refusal: nothing was executed */
    if (status == 400 || status == 422) {
        res->state = NGX_PAYOUT_CANCELED_REJECTED;

        json = json_loadb(body, len, 0, NULL);
        err = json_object_get(json, "error");

        ngx_payout_result_copy(res->reason, sizeof(res->reason),
                               json_string_value(json_object_get(err, "code")));
        if (res->reason[0] == '\0') {
            ngx_payout_result_copy(res->reason, sizeof(res->reason),
                                   "rejected_by_gateway");
        }

        json_decref(json);
    }

    /* anything else (5xx, 409, 429, no answer): it may have executed */
}


void
ngx_payout_sandbox_parse_transfer(long status, const char *body, size_t len,
    ngx_payout_result_t *res)
{
    json_t  *json;

    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';

    if (status != 200 && status != 201) {
        return;
    }

    json = json_loadb(body, len, 0, NULL);

    if (json_is_object(json)) {
        res->state = ngx_payout_sandbox_state(json_string_value(
                         json_object_get(json, "status")));
        ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id),
                               json_string_value(json_object_get(json, "id")));
        ngx_payout_result_copy(res->reason, sizeof(res->reason),
                               json_string_value(json_object_get(json,
                                                    "failure_reason")));
    }

    json_decref(json);
}


int
ngx_payout_sandbox_parse_event(const char *body, size_t len,
    char *reference, ngx_payout_result_t *res)
{
    int          rc;
    json_t      *json, *data;
    const char  *ref;

    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';

    json = json_loadb(body, len, 0, NULL);
    data = json_object_get(json, "data");
    ref = json_string_value(json_object_get(data, "reference"));

    rc = NGX_PAYOUT_ERROR;

    if (ref && ngx_payout_uuid_valid((const unsigned char *) ref,
                                     strlen(ref)))
    {
        memcpy(reference, ref, 37);
        res->state = ngx_payout_sandbox_state(json_string_value(
                         json_object_get(data, "status")));
        ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id),
                               json_string_value(json_object_get(data, "id")));
        ngx_payout_result_copy(res->reason, sizeof(res->reason),
                               json_string_value(json_object_get(data,
                                                    "failure_reason")));
        rc = (res->state >= 0) ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
    }

    json_decref(json);

    return rc;
}


static int
ngx_payout_sandbox_state(const char *status)
{
    size_t  i;

    if (status == NULL) {
        return -1;
    }

    for (i = 0; i < ngx_payout_connector_sandbox.nstatuses; i++) {
        if (strcmp(ngx_payout_sandbox_statuses[i].status, status) == 0) {
            return ngx_payout_sandbox_statuses[i].state;
        }
    }

    return -1;
}

