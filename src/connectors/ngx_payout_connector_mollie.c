/*
 * The Mollie connector (docs/connectors/mollie.md): balance payouts.  The
 * money goes from a balance (bal_...) to the bank account configured on
 * that balance, so the only destination is a balance: the recipient's
 * balance_id, or the gateway's balance=.
 *
 *   INITIATE  POST   /v2/payouts              Idempotency-Key: uuid
 *   LOOKUP    GET    /v2/payouts/{payout_}
 *   CANCEL    DELETE /v2/payouts/{payout_}    (while "requested")
 *
 *   webhooks  next-gen (Webhook Subscriptions): X-Mollie-Signature:
 *             sha256=<hex HMAC-SHA256(body)>; classic: "id=payout_..."
 *             unsigned.  Either way the event names a payout and the
 *             module fetches it (HOOK_REFETCH): the fetch decides.
 *
 * Bodies are JSON; answers application/hal+json or any other +json type.
 * The spec states no lifetime for idempotency keys (key_ttl 0).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "ngx_payout_connector_mollie.h"
#include "../core/ngx_payout_crypto.h"
#include "../core/ngx_payout_validate.h"
#include "../core/ngx_payout_text.h"
#include "ngx_payout_connector_util.h"


#define NGX_PAYOUT_MOLLIE_ID_LEN  128       /* bal_, payout_ ids */


typedef struct {
    char    balance[NGX_PAYOUT_MOLLIE_ID_LEN];      /* "bal_...", or "" */
} ngx_payout_mollie_conf_t;


static int ngx_payout_mollie_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len);
static const char *ngx_payout_mollie_check(const ngx_payout_account_t *acct,
    int livemode);
static int ngx_payout_mollie_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static int ngx_payout_mollie_body(const ngx_payout_account_t *acct,
    const ngx_payout_transfer_t *t, const char *balance,
    ngx_payout_call_t *call);
static void ngx_payout_mollie_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res);
static int ngx_payout_mollie_json_type(const ngx_payout_header_t *headers,
    size_t n);
static int ngx_payout_mollie_object(json_t *obj, ngx_payout_result_t *res);
static int ngx_payout_mollie_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now);
static int ngx_payout_mollie_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev);
static int ngx_payout_mollie_classic(const ngx_payout_hook_t *hook,
    char *id, size_t size);
static void ngx_payout_mollie_reference(json_t *entity, char *ref);
static int ngx_payout_mollie_id_valid(const char *s, size_t len,
    const char *prefix);


/*
 * The spec's payout-status enum.  Everything before "completed" is a
 * payout Mollie has accepted: pending_promise ("requested" can still be
 * canceled).  "failed" covers bank rejections and returns after
 * submission: after "completed" it is a reversal (FAILS_AFTER_PAID).
 */

static const ngx_payout_status_map_t  ngx_payout_mollie_statuses[] = {
    { "requested", NGX_PAYOUT_PENDING_PROMISE },
    { "initiated", NGX_PAYOUT_PENDING_PROMISE },
    { "processing-at-bank", NGX_PAYOUT_PENDING_PROMISE },
    { "completed", NGX_PAYOUT_SUCCESS },
    { "failed", NGX_PAYOUT_CANCELED_FAILURE },
    { "canceled", NGX_PAYOUT_CANCELED_VOIDED },
};


/* the next-gen events of a payout (the spec's webhook-event-types) */

static const char  *ngx_payout_mollie_events[] = {
    "payout.initiated",
    "payout.processing-at-bank",
    "payout.completed",
    "payout.canceled",
    "payout.failed",
    NULL
};


const ngx_payout_connector_t  ngx_payout_connector_mollie = {
    "mollie",
    NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY | NGX_PAYOUT_CAP_CAN_CANCEL
    | NGX_PAYOUT_CAP_HOOK_REFETCH | NGX_PAYOUT_CAP_FAILS_AFTER_PAID,
    "https://api.mollie.com",
    0,                                  /* the spec states no lifetime */
    ngx_payout_mollie_configure,
    ngx_payout_mollie_check,
    ngx_payout_mollie_build,
    ngx_payout_mollie_parse,
    ngx_payout_mollie_verify,
    ngx_payout_mollie_event,
    ngx_payout_mollie_statuses,
    sizeof(ngx_payout_mollie_statuses)
    / sizeof(ngx_payout_mollie_statuses[0])
};


static int
ngx_payout_mollie_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len)
{
    ngx_payout_mollie_conf_t  *mcf;

    if (key_len != sizeof("balance") - 1
        || memcmp(key, "balance", key_len) != 0)
    {
        return NGX_PAYOUT_DECLINED;
    }

    if (!ngx_payout_mollie_id_valid(value, value_len, "bal_")) {
        return NGX_PAYOUT_ERROR;
    }

    mcf = *conf;

    if (mcf == NULL) {
        mcf = mem->alloc(mem->data, sizeof(ngx_payout_mollie_conf_t));
        if (mcf == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        *conf = mcf;
    }

    memcpy(mcf->balance, value, value_len);
    mcf->balance[value_len] = '\0';

    return NGX_PAYOUT_OK;
}


/* the key's prefix shows its mode; the messages never quote the key */

static const char *
ngx_payout_mollie_check(const ngx_payout_account_t *acct, int livemode)
{
    size_t       i;
    const char  *s;

    s = acct->secret;

    if (s == NULL || acct->secret_len == 0) {
        return "Mollie needs secret_file= (a test_ or live_ API key)";
    }

    /* it goes into a header line: nothing but Mollie's key alphabet */
    for (i = 0; i < acct->secret_len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            return "the secret holds characters no Mollie key has";
        }
    }

    if (acct->secret_len > 5 && memcmp(s, "test_", 5) == 0) {
        if (livemode) {
            return "the secret is a test key, but mode=live";
        }

    } else if (acct->secret_len > 5 && memcmp(s, "live_", 5) == 0) {
        if (!livemode) {
            return "the secret is a live key, but mode=test";
        }

    } else {
        /* access_ tokens need testmode= on every call: not supported */
        return "the secret is not a Mollie API key (test_... or live_...)";
    }

    if (acct->webhook_secret && acct->webhook_secret_len == 0) {
        return "the webhook secret is empty";
    }

    return NULL;
}


static int
ngx_payout_mollie_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    char                            *path;
    size_t                           len;
    const char                      *balance;
    const ngx_payout_mollie_conf_t  *mcf;

    memset(call, 0, sizeof(ngx_payout_call_t));

    mcf = acct->conf;

    /* a balance pays the bank account set on it: no other destination */
    if (op == NGX_PAYOUT_OP_ENROLL || op == NGX_PAYOUT_OP_FINALIZE
        || (t->type != NGX_PAYOUT_RECIPIENT_BALANCE
            && t->type != NGX_PAYOUT_RECIPIENT_NONE))
    {
        return NGX_PAYOUT_DECLINED;
    }

    /* no id yet: the reconciler sends INITIATE again with the same key */
    if ((op == NGX_PAYOUT_OP_LOOKUP || op == NGX_PAYOUT_OP_CANCEL)
        && (t->gateway_id == NULL || t->gateway_id[0] == '\0'))
    {
        return NGX_PAYOUT_DECLINED;
    }

    if (acct->secret == NULL || acct->secret_len == 0) {
        return NGX_PAYOUT_ERROR;
    }

    /* what goes into a path or a header is checked, not escaped */

    balance = NULL;

    if (op == NGX_PAYOUT_OP_INITIATE) {
        if (t->reference == NULL
            || !ngx_payout_uuid_valid((const unsigned char *) t->reference,
                                      strlen(t->reference)))
        {
            return NGX_PAYOUT_ERROR;
        }

        balance = (t->balance_id && t->balance_id[0]) ? t->balance_id
                  : (mcf && mcf->balance[0]) ? mcf->balance : NULL;

        if (balance == NULL
            || !ngx_payout_mollie_id_valid(balance, strlen(balance), "bal_"))
        {
            return NGX_PAYOUT_ERROR;
        }

    } else if (!ngx_payout_mollie_id_valid(t->gateway_id,
                                           strlen(t->gateway_id), ""))
    {
        return NGX_PAYOUT_ERROR;
    }

    len = sizeof("/v2/payouts/") + NGX_PAYOUT_MOLLIE_ID_LEN;

    path = acct->mem.alloc(acct->mem.data, len);
    if (path == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    call->path = path;

    switch (op) {

    case NGX_PAYOUT_OP_INITIATE:
        call->method = "POST";
        snprintf(path, len, "/v2/payouts");
        break;

    case NGX_PAYOUT_OP_LOOKUP:
        call->method = "GET";
        snprintf(path, len, "/v2/payouts/%s", t->gateway_id);
        break;

    default: /* NGX_PAYOUT_OP_CANCEL */
        call->method = "DELETE";
        snprintf(path, len, "/v2/payouts/%s", t->gateway_id);
        break;
    }

    if (ngx_payout_call_header(acct, call, "Authorization", "Bearer ",
                               acct->secret, acct->secret_len)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /*
     * A cancel sends no key: the spec makes it optional and wants a UUID,
     * and a second DELETE changes nothing (409 once canceled).
     */
    if (op != NGX_PAYOUT_OP_INITIATE) {
        return NGX_PAYOUT_OK;
    }

    if (ngx_payout_call_header(acct, call, "Content-Type", "",
                               "application/json",
                               sizeof("application/json") - 1)
        != NGX_PAYOUT_OK
        || ngx_payout_call_header(acct, call, "Idempotency-Key", "",
                                  t->reference, strlen(t->reference))
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    return ngx_payout_mollie_body(acct, t, balance, call);
}


/* {"balanceId", "amount": {"currency", "value"}, "description"} */

static int
ngx_payout_mollie_body(const ngx_payout_account_t *acct,
    const ngx_payout_transfer_t *t, const char *balance,
    ngx_payout_call_t *call)
{
    int          rc;
    char        *out, value[32], desc[NGX_PAYOUT_MOLLIE_DESCRIPTION_MAX * 4
                                      + 1];
    size_t       n, i, chars;
    json_t      *body, *amount;
    const char  *code;

    if (t->amount <= 0
        || ngx_payout_mollie_amount(t->amount, t->currency, value, &code)
           == 0)
    {
        return NGX_PAYOUT_ERROR;
    }

    body = json_object();
    amount = json_object();

    rc = NGX_PAYOUT_ERROR;

    if (body == NULL || amount == NULL
        || json_object_set_new(body, "balanceId", json_string(balance)) != 0
        || json_object_set_new(amount, "currency", json_string(code)) != 0
        || json_object_set_new(amount, "value", json_string(value)) != 0
        || json_object_set(body, "amount", amount) != 0)
    {
        goto done;
    }

    if (t->narration && t->narration[0]) {
        /* valid UTF-8 first, then at most maxLength characters */
        n = ngx_payout_utf8_cut(desc, sizeof(desc), t->narration,
                                strlen(t->narration));
        chars = 0;

        for (i = 0; i < n; i++) {
            if (((unsigned char) desc[i] & 0xc0) != 0x80
                && chars++ == NGX_PAYOUT_MOLLIE_DESCRIPTION_MAX)
            {
                break;
            }
        }

        desc[i] = '\0';

        /* a narration of nothing but a cut-short sequence: none */
        if (i > 0
            && json_object_set_new(body, "description", json_string(desc))
               != 0)
        {
            goto done;
        }
    }

    out = json_dumps(body, JSON_COMPACT);
    if (out == NULL) {
        goto done;
    }

    n = strlen(out);

    call->body = acct->mem.alloc(acct->mem.data, n + 1);

    if (call->body) {
        memcpy((char *) call->body, out, n + 1);
        call->body_len = n;
        rc = NGX_PAYOUT_OK;
    }

    free(out);

done:

    json_decref(amount);
    json_decref(body);

    return rc;
}


size_t
ngx_payout_mollie_amount(int64_t amount, const char *currency, char *out,
    const char **code)
{
    int                           i, n;
    int64_t                       scale;
    const ngx_payout_currency_t  *cur;

    if (currency == NULL || amount < 0) {
        return 0;
    }

    cur = ngx_payout_currency_find(currency, strlen(currency));
    if (cur == NULL) {
        return 0;
    }

    *code = cur->code;

    if (cur->exponent == 0) {
        n = snprintf(out, 32, "%lld", (long long) amount);
        return (n > 0 && n < 32) ? (size_t) n : 0;
    }

    scale = 1;

    for (i = 0; i < cur->exponent; i++) {
        scale *= 10;
    }

    n = snprintf(out, 32, "%lld.%0*lld", (long long) (amount / scale),
                 cur->exponent, (long long) (amount % scale));

    return (n > 0 && n < 32) ? (size_t) n : 0;
}



static void
ngx_payout_mollie_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res)
{
    json_t      *json, *status;
    const char  *title, *detail;

    (void) acct;

    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';
    res->next_action[0] = '\0';

    if (a->status == 401 || a->status == 403) {
        /* a bad or revoked key: Mollie executed nothing */
        ngx_payout_result_auth_failed(op, res);
        return;
    }

    if (a->body == NULL
        || !ngx_payout_mollie_json_type(a->headers, a->nheaders))
    {
        return;
    }

    json = json_loadb(a->body, a->body_len, 0, NULL);

    if (!json_is_object(json)) {
        json_decref(json);
        return;
    }

    if (a->status >= 200 && a->status < 300) {

        if (ngx_payout_mollie_object(json, res) != NGX_PAYOUT_OK
            || res->state < 0)
        {
            res->state = -1;
            res->gateway_id[0] = '\0';
            res->reason[0] = '\0';

        } else {
            res->outcome = NGX_PAYOUT_OUTCOME_STATE;
        }

        json_decref(json);
        return;
    }

    /*
     * 400, 404, 422 refuse the call; a 409 refuses a cancel past
     * "requested", but to a create it is a key in use: the first may
     * have executed.  429, 5xx: it may yet execute.
     */
    if (!(a->status == 400 || a->status == 404 || a->status == 422
          || (a->status == 409 && op == NGX_PAYOUT_OP_CANCEL)))
    {
        json_decref(json);
        return;
    }

    /* Mollie's error object, not a proxy's page */
    status = json_object_get(json, "status");
    title = json_string_value(json_object_get(json, "title"));
    detail = json_string_value(json_object_get(json, "detail"));

    if (!json_is_integer(status) || json_integer_value(status) != a->status
        || (title == NULL && detail == NULL))
    {
        json_decref(json);
        return;
    }

    ngx_payout_result_copy(res->reason, sizeof(res->reason),
                           (detail && detail[0]) ? detail : title);

    if (op == NGX_PAYOUT_OP_INITIATE) {
        res->state = NGX_PAYOUT_CANCELED_REJECTED;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;

    } else {
        res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
    }

    json_decref(json);
}


/* no Content-Type, application/json, or any type ending in +json */

static int
ngx_payout_mollie_json_type(const ngx_payout_header_t *headers, size_t n)
{
    size_t                      i, k, len;
    const char                 *v;
    const ngx_payout_header_t  *h;

    for (i = 0; i < n; i++) {
        h = &headers[i];

        if (h->name_len != sizeof("Content-Type") - 1
            || strncasecmp(h->name, "Content-Type", h->name_len) != 0)
        {
            continue;
        }

        v = h->value;
        len = h->value_len;

        while (len && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }

        for (k = 0; k < len && v[k] != ';' && v[k] != ' '; k++) {
            /* void */
        }

        return (k == sizeof("application/json") - 1
                && strncasecmp(v, "application/json", k) == 0)
               || (k > 5 && strncasecmp(v + k - 5, "+json", 5) == 0);
    }

    return 1;
}


/* a payout object into res: its id, state and status reason */

static int
ngx_payout_mollie_object(json_t *obj, ngx_payout_result_t *res)
{
    const char  *resource, *id, *status, *reason;

    resource = json_string_value(json_object_get(obj, "resource"));
    id = json_string_value(json_object_get(obj, "id"));
    status = json_string_value(json_object_get(obj, "status"));

    if (resource == NULL || strcmp(resource, "payout") != 0 || id == NULL
        || !ngx_payout_mollie_id_valid(id, strlen(id), ""))
    {
        return NGX_PAYOUT_ERROR;
    }

    res->state = ngx_payout_mollie_payout_state(status);

    if (res->state == NGX_PAYOUT_CANCELED_FAILURE
        || res->state == NGX_PAYOUT_CANCELED_VOIDED)
    {
        /* "insufficient_funds", "returned", ... */
        reason = json_string_value(json_object_get(
                     json_object_get(obj, "statusReason"), "code"));
        ngx_payout_result_copy(res->reason, sizeof(res->reason), reason);
    }

    ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id), id);

    return NGX_PAYOUT_OK;
}


int
ngx_payout_mollie_payout_state(const char *status)
{
    size_t  i;

    if (status == NULL) {
        return -1;
    }

    for (i = 0; i < ngx_payout_connector_mollie.nstatuses; i++) {
        if (strcmp(ngx_payout_mollie_statuses[i].status, status) == 0) {
            return ngx_payout_mollie_statuses[i].state;
        }
    }

    return -1;
}


size_t
ngx_payout_mollie_sign(const char *secret, size_t secret_len,
    const unsigned char *body, size_t len, char *out)
{
    unsigned char  mac[32];

    ngx_payout_hmac_sha256((const unsigned char *) secret, secret_len, body,
                           len, mac);

    memcpy(out, "sha256=", 7);
    ngx_payout_hex_encode(mac, sizeof(mac), out + 7);
    out[NGX_PAYOUT_MOLLIE_SIG_LEN] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return NGX_PAYOUT_MOLLIE_SIG_LEN;
}


/*
 * X-Mollie-Signature: "sha256=<hex>" (Mollie's SDKs), or the bare hex
 * (the docs' examples); several, comma-separated or repeated, while a
 * secret is rolled.  Every one is compared, each in constant time.  The
 * scheme signs no timestamp: a replay is possible, and harmless, for an
 * event only makes the module fetch the payout.
 *
 * Unsigned, only without webhook_secret_file and only a classic body
 * ("id=payout_..."): it carries no state either.
 */

static int
ngx_payout_mollie_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now)
{
    int                         matched, seen;
    char                        id[NGX_PAYOUT_MOLLIE_ID_LEN];
    size_t                      i, n;
    const char                 *p, *end, *item;
    unsigned char               mac[32], sig[32];
    const ngx_payout_header_t  *h;

    static const char  name[] = "X-Mollie-Signature";

    (void) now;

    seen = 0;
    matched = 0;

    for (i = 0; i < hook->nheaders; i++) {
        h = &hook->headers[i];

        if (h->name_len == sizeof(name) - 1
            && strncasecmp(h->name, name, sizeof(name) - 1) == 0)
        {
            seen = 1;
        }
    }

    if (acct->webhook_secret == NULL || acct->webhook_secret_len == 0) {
        return (!seen && ngx_payout_mollie_classic(hook, id, sizeof(id))
                         == NGX_PAYOUT_OK)
               ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
    }

    if (!seen) {
        return NGX_PAYOUT_ERROR;
    }

    ngx_payout_hmac_sha256((const unsigned char *) acct->webhook_secret,
                           acct->webhook_secret_len, hook->body,
                           hook->body_len, mac);

    seen = 0;

    for (i = 0; i < hook->nheaders; i++) {
        h = &hook->headers[i];

        if (h->name_len != sizeof(name) - 1
            || strncasecmp(h->name, name, sizeof(name) - 1) != 0
            || h->value_len > 4096)
        {
            continue;
        }

        p = h->value;
        end = p + h->value_len;

        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }

            item = p;

            while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
                p++;
            }

            n = p - item;

            if (n == 7 + 64 && strncasecmp(item, "sha256=", 7) == 0) {
                item += 7;
                n = 64;
            }

            if (n == 64
                && ngx_payout_hex_decode(item, 64, sig) == NGX_PAYOUT_OK)
            {
                seen = 1;
                matched |= (CRYPTO_memcmp(sig, mac, sizeof(mac)) == 0);
            }

            while (p < end && *p != ',') {
                p++;
            }

            p = (p < end) ? p + 1 : p;
        }
    }

    OPENSSL_cleanse(mac, sizeof(mac));

    return (seen && matched) ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
}


/*
 * A next-gen event of a payout ({"resource":"event","type":"payout.*",
 * "entityId":"payout_..."}, with or without the _embedded snapshot), or
 * a classic "id=payout_..." body: the payout's id, and a LOOKUP, always.
 * A snapshot's status is not taken: the fetch decides what moves.
 */

static int
ngx_payout_mollie_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev)
{
    int          rc;
    char         id[NGX_PAYOUT_MOLLIE_ID_LEN];
    size_t       i;
    json_t      *json, *entity;
    const char  *type, *resource, *eid;

    (void) acct;

    ev->reference[0] = '\0';
    ev->follow_up = NGX_PAYOUT_FOLLOW_NONE;
    ev->result.state = -1;
    ev->result.outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    ev->result.gateway_id[0] = '\0';
    ev->result.reason[0] = '\0';
    ev->result.next_action[0] = '\0';

    if (ngx_payout_mollie_classic(hook, id, sizeof(id)) == NGX_PAYOUT_OK) {
        ngx_payout_result_copy(ev->result.gateway_id,
                               sizeof(ev->result.gateway_id), id);
        ev->follow_up = NGX_PAYOUT_FOLLOW_LOOKUP;
        return NGX_PAYOUT_OK;
    }

    json = json_loadb((const char *) hook->body, hook->body_len, 0, NULL);
    type = json_string_value(json_object_get(json, "type"));
    resource = json_string_value(json_object_get(json, "resource"));
    eid = json_string_value(json_object_get(json, "entityId"));
    entity = json_object_get(json_object_get(json, "_embedded"), "entity");

    rc = NGX_PAYOUT_DECLINED;

    if (type == NULL || (resource && strcmp(resource, "event") != 0)) {
        goto done;
    }

    for (i = 0; ngx_payout_mollie_events[i]; i++) {
        if (strcmp(type, ngx_payout_mollie_events[i]) == 0) {
            break;
        }
    }

    if (ngx_payout_mollie_events[i] == NULL) {
        goto done;
    }

    if (eid == NULL) {
        eid = json_string_value(json_object_get(entity, "id"));
    }

    if (eid == NULL
        || !ngx_payout_mollie_id_valid(eid, strlen(eid), "payout_"))
    {
        goto done;
    }

    ngx_payout_result_copy(ev->result.gateway_id,
                           sizeof(ev->result.gateway_id), eid);
    ngx_payout_mollie_reference(entity, ev->reference);
    ev->follow_up = NGX_PAYOUT_FOLLOW_LOOKUP;
    rc = NGX_PAYOUT_OK;

done:

    json_decref(json);

    return rc;
}


/* the whole body is "id=payout_..." (a trailing newline allowed) */

static int
ngx_payout_mollie_classic(const ngx_payout_hook_t *hook, char *id,
    size_t size)
{
    size_t       len;
    const char  *p;

    p = (const char *) hook->body;
    len = hook->body_len;

    if (p == NULL || len < 3 || memcmp(p, "id=", 3) != 0) {
        return NGX_PAYOUT_ERROR;
    }

    p += 3;
    len -= 3;

    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r')) {
        len--;
    }

    if (len >= size || !ngx_payout_mollie_id_valid(p, len, "payout_")) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(id, p, len);
    id[len] = '\0';

    return NGX_PAYOUT_OK;
}


/*
 * The spec's payout has no metadata and the module sends none; a
 * snapshot that carries metadata.payout_uuid still names the payout.
 */

static void
ngx_payout_mollie_reference(json_t *entity, char *ref)
{
    size_t       i;
    const char  *s;

    s = json_string_value(json_object_get(json_object_get(entity,
                                                          "metadata"),
                                          "payout_uuid"));

    if (s == NULL
        || !ngx_payout_uuid_valid((const unsigned char *) s, strlen(s)))
    {
        return;
    }

    for (i = 0; i < 36; i++) {
        ref[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char) (s[i] | 0x20) : s[i];
    }

    ref[36] = '\0';
}


/* prefix then 1.. letters, digits and "_": safe in a path and a header */

static int
ngx_payout_mollie_id_valid(const char *s, size_t len, const char *prefix)
{
    size_t  i, n;

    if (s == NULL) {
        return 0;
    }

    n = strlen(prefix);

    if (len <= n || len >= NGX_PAYOUT_MOLLIE_ID_LEN
        || memcmp(s, prefix, n) != 0)
    {
        return 0;
    }

    for (i = n; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}

