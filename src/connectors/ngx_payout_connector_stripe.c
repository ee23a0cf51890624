/*
 * The Stripe connector (docs/connectors/stripe.md).  Two destinations:
 *
 *   connected account (acct_...):
 *     INITIATE  POST /v1/transfers                 Idempotency-Key: uuid
 *     LOOKUP    GET  /v1/transfers/{tr_}
 *   bank account, on the connected account named by the recipient's
 *   account_id or the gateway's account=, every call with Stripe-Account:
 *     ENROLL    POST /v1/accounts/{acct}/external_accounts
 *                                       Idempotency-Key: enroll-<uuid>
 *     INITIATE  POST /v1/payouts                   Idempotency-Key: uuid
 *     LOOKUP    GET  /v1/payouts/{po_}
 *     CANCEL    POST /v1/payouts/{po_}/cancel  Idempotency-Key: cancel-uuid
 *
 *   webhooks  Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(t.body)>
 *
 * Bodies are application/x-www-form-urlencoded, the only type Stripe
 * takes.  A lost answer is settled by sending the same POST with the same
 * key again: Stripe answers it with the first result for about 24 hours.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ngx_payout_connector_stripe.h"
#include "../core/ngx_payout_validate.h"
#include "../core/ngx_payout_text.h"
#include "ngx_payout_connector_util.h"


#define NGX_PAYOUT_STRIPE_ID_LEN      128   /* acct_, ba_, po_, tr_ ids */
#define NGX_PAYOUT_STRIPE_VERSION_LEN 48
#define NGX_PAYOUT_STRIPE_FORM        "application/x-www-form-urlencoded"


typedef struct {
    char    account[NGX_PAYOUT_STRIPE_ID_LEN];     /* "acct_...", or "" */
    char    version[NGX_PAYOUT_STRIPE_VERSION_LEN];
} ngx_payout_stripe_conf_t;


/* a form body: counted first (buf NULL), then written */
typedef struct {
    char    *buf;
    size_t   len;
} ngx_payout_stripe_form_t;


static int ngx_payout_stripe_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len);
static const char *ngx_payout_stripe_check(const ngx_payout_account_t *acct,
    int livemode);
static int ngx_payout_stripe_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static int ngx_payout_stripe_body(const ngx_payout_transfer_t *t,
    ngx_payout_op_e op, ngx_payout_stripe_form_t *f);
static void ngx_payout_stripe_form_add(ngx_payout_stripe_form_t *f,
    const char *key, const char *value);
static void ngx_payout_stripe_form_put(ngx_payout_stripe_form_t *f,
    const char *s, size_t len);
static void ngx_payout_stripe_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res);
static int ngx_payout_stripe_object(json_t *obj, ngx_payout_result_t *res);
static int ngx_payout_stripe_mac(const char *secret, size_t secret_len,
    const char *ts, size_t ts_len, const unsigned char *body, size_t len,
    unsigned char *mac);
static int ngx_payout_stripe_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now);
static int ngx_payout_stripe_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev);
static int ngx_payout_stripe_id_valid(const char *s, const char *prefix);
static int ngx_payout_stripe_version_valid(const char *s, size_t len);


/*
 * A payout's statuses (the spec lists them in the description of
 * payout.status; it has no enum).  "pending" is a payout Stripe holds and
 * has not yet sent to the bank: accepted, so pending_promise, as the
 * issue's table says; it can still be canceled.
 */

static const ngx_payout_status_map_t  ngx_payout_stripe_statuses[] = {
    { "pending", NGX_PAYOUT_PENDING_PROMISE },
    { "in_transit", NGX_PAYOUT_PENDING_PROMISE },
    { "paid", NGX_PAYOUT_SUCCESS },
    { "failed", NGX_PAYOUT_CANCELED_FAILURE },
    { "canceled", NGX_PAYOUT_CANCELED_VOIDED },
};


const ngx_payout_connector_t  ngx_payout_connector_stripe = {
    "stripe",
    NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY | NGX_PAYOUT_CAP_CAN_CANCEL
    | NGX_PAYOUT_CAP_NEEDS_ENROLL | NGX_PAYOUT_CAP_FAILS_AFTER_PAID,
    "https://api.stripe.com",
    86400,                              /* idempotency keys: ~24 hours */
    ngx_payout_stripe_configure,
    ngx_payout_stripe_check,
    ngx_payout_stripe_build,
    ngx_payout_stripe_parse,
    ngx_payout_stripe_verify,
    ngx_payout_stripe_event,
    ngx_payout_stripe_statuses,
    sizeof(ngx_payout_stripe_statuses)
    / sizeof(ngx_payout_stripe_statuses[0])
};


static int
ngx_payout_stripe_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len)
{
    char                      buf[NGX_PAYOUT_STRIPE_ID_LEN];
    ngx_payout_stripe_conf_t  *scf;

#define KEY_IS(s)  (key_len == sizeof(s) - 1 && memcmp(key, s, key_len) == 0)

    if (!KEY_IS("account") && !KEY_IS("stripe_version")) {
        return NGX_PAYOUT_DECLINED;
    }

    scf = *conf;

    if (scf == NULL) {
        scf = mem->alloc(mem->data, sizeof(ngx_payout_stripe_conf_t));
        if (scf == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        scf->account[0] = '\0';
        memcpy(scf->version, NGX_PAYOUT_STRIPE_VERSION,
               sizeof(NGX_PAYOUT_STRIPE_VERSION));
        *conf = scf;
    }

    if (value_len >= sizeof(buf)) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(buf, value, value_len);
    buf[value_len] = '\0';

    if (KEY_IS("account")) {
        if (strlen(buf) != value_len
            || !ngx_payout_stripe_id_valid(buf, "acct_"))
        {
            return NGX_PAYOUT_ERROR;
        }

        memcpy(scf->account, buf, value_len + 1);
        return NGX_PAYOUT_OK;
    }

#undef KEY_IS

    if (!ngx_payout_stripe_version_valid(value, value_len)) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(scf->version, buf, value_len + 1);

    return NGX_PAYOUT_OK;
}


/* the key's prefix shows its mode; the messages never quote the key */

static const char *
ngx_payout_stripe_check(const ngx_payout_account_t *acct, int livemode)
{
    size_t       i;
    const char  *s, *mode;

    s = acct->secret;

    if (s == NULL || acct->secret_len == 0) {
        return "Stripe needs secret_file= (an sk_ or rk_ key)";
    }

    if (acct->secret_len < 8
        || (memcmp(s, "sk_", 3) != 0 && memcmp(s, "rk_", 3) != 0))
    {
        return "the secret is not a Stripe secret or restricted key "
               "(sk_... or rk_...)";
    }

    /* it goes into a header line: nothing but Stripe's key alphabet */
    for (i = 0; i < acct->secret_len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        {
            return "the secret holds characters no Stripe key has";
        }
    }

    mode = s + 3;

    if (memcmp(mode, "test_", 5) == 0) {
        if (livemode) {
            return "the secret is a test key, but mode=live";
        }

    } else if (memcmp(mode, "live_", 5) == 0) {
        if (!livemode) {
            return "the secret is a live key, but mode=test";
        }

    } else {
        return "the secret shows no mode (sk_test_, sk_live_, rk_test_ or "
               "rk_live_)";
    }

    if (acct->webhook_secret
        && (acct->webhook_secret_len <= 6
            || memcmp(acct->webhook_secret, "whsec_", 6) != 0))
    {
        return "the webhook secret is not a Stripe signing secret "
               "(whsec_...)";
    }

    return NULL;
}


static int
ngx_payout_stripe_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    int                              rc;
    char                            *path;
    size_t                           len;
    const char                      *account, *key, *prefix, *version;
    ngx_payout_stripe_form_t         form;
    const ngx_payout_stripe_conf_t  *scf;

    memset(call, 0, sizeof(ngx_payout_call_t));

    scf = acct->conf;

    if (t->type != NGX_PAYOUT_RECIPIENT_CONNECTED
        && t->type != NGX_PAYOUT_RECIPIENT_BANK)
    {
        return NGX_PAYOUT_DECLINED;
    }

    /* transfers can be reversed, never canceled; there is nothing to add */
    if (op == NGX_PAYOUT_OP_FINALIZE
        || (t->type == NGX_PAYOUT_RECIPIENT_CONNECTED
            && (op == NGX_PAYOUT_OP_CANCEL || op == NGX_PAYOUT_OP_ENROLL)))
    {
        return NGX_PAYOUT_DECLINED;
    }

    /* no id yet: the reconciler sends INITIATE again with the same key */
    if ((op == NGX_PAYOUT_OP_LOOKUP || op == NGX_PAYOUT_OP_CANCEL)
        && (t->gateway_id == NULL || t->gateway_id[0] == '\0'))
    {
        return NGX_PAYOUT_DECLINED;
    }

    if (acct->secret == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    /* what goes into a path or a header is checked, not escaped */

    account = NULL;

    if (t->type == NGX_PAYOUT_RECIPIENT_CONNECTED) {
        if (!ngx_payout_stripe_id_valid(t->account_id, "acct_")) {
            return NGX_PAYOUT_ERROR;
        }

    } else {
        account = (t->account_id && t->account_id[0]) ? t->account_id
                  : (scf && scf->account[0]) ? scf->account : NULL;

        if (!ngx_payout_stripe_id_valid(account, "acct_")) {
            return NGX_PAYOUT_ERROR;
        }
    }

    if (op == NGX_PAYOUT_OP_LOOKUP || op == NGX_PAYOUT_OP_CANCEL) {
        if (!ngx_payout_stripe_id_valid(t->gateway_id, "")) {
            return NGX_PAYOUT_ERROR;
        }

    } else if (op == NGX_PAYOUT_OP_ENROLL) {
        if (t->recipient_reference == NULL
            || !ngx_payout_uuid_valid((const unsigned char *)
                                          t->recipient_reference,
                                      strlen(t->recipient_reference)))
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    if (op != NGX_PAYOUT_OP_ENROLL && op != NGX_PAYOUT_OP_LOOKUP
        && (t->reference == NULL
            || !ngx_payout_uuid_valid((const unsigned char *) t->reference,
                                      strlen(t->reference))))
    {
        return NGX_PAYOUT_ERROR;
    }

    len = sizeof("/v1/accounts//external_accounts")
          + NGX_PAYOUT_STRIPE_ID_LEN + sizeof("/cancel")
          + NGX_PAYOUT_STRIPE_ID_LEN;

    path = acct->mem.alloc(acct->mem.data, len);
    if (path == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    call->path = path;
    call->method = (op == NGX_PAYOUT_OP_LOOKUP) ? "GET" : "POST";

    key = t->reference;
    prefix = "";

    switch (op) {

    case NGX_PAYOUT_OP_INITIATE:
        snprintf(path, len, "%s",
                 t->type == NGX_PAYOUT_RECIPIENT_CONNECTED ? "/v1/transfers"
                                                           : "/v1/payouts");
        break;

    case NGX_PAYOUT_OP_LOOKUP:
        snprintf(path, len, "%s%s",
                 t->type == NGX_PAYOUT_RECIPIENT_CONNECTED ? "/v1/transfers/"
                                                           : "/v1/payouts/",
                 t->gateway_id);
        break;

    case NGX_PAYOUT_OP_CANCEL:
        snprintf(path, len, "/v1/payouts/%s/cancel", t->gateway_id);
        prefix = "cancel-";
        break;

    default: /* NGX_PAYOUT_OP_ENROLL */
        snprintf(path, len, "/v1/accounts/%s/external_accounts", account);
        key = t->recipient_reference;
        prefix = "enroll-";
        break;
    }

    if (ngx_payout_call_header(acct, call, "Authorization", "Bearer ",
                               acct->secret, acct->secret_len)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (op != NGX_PAYOUT_OP_LOOKUP) {
        /* Stripe wants it on a body-less POST too */
        if (ngx_payout_call_header(acct, call, "Content-Type", "",
                                   NGX_PAYOUT_STRIPE_FORM,
                                   sizeof(NGX_PAYOUT_STRIPE_FORM) - 1)
            != NGX_PAYOUT_OK
            || ngx_payout_call_header(acct, call, "Idempotency-Key", prefix,
                                      key, strlen(key))
               != NGX_PAYOUT_OK)
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    version = scf ? scf->version : NGX_PAYOUT_STRIPE_VERSION;

    if (ngx_payout_call_header(acct, call, "Stripe-Version", "", version,
                               strlen(version))
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* a transfer moves money from the platform: no Stripe-Account */
    if (account
        && ngx_payout_call_header(acct, call, "Stripe-Account", "", account,
                                  strlen(account))
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (op == NGX_PAYOUT_OP_LOOKUP) {
        return NGX_PAYOUT_OK;
    }

    if (op == NGX_PAYOUT_OP_CANCEL) {
        call->body = "";
        return NGX_PAYOUT_OK;
    }

    form.buf = NULL;
    form.len = 0;

    rc = ngx_payout_stripe_body(t, op, &form);
    if (rc != NGX_PAYOUT_OK) {
        return rc;
    }

    form.buf = acct->mem.alloc(acct->mem.data, form.len + 1);
    if (form.buf == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    form.len = 0;
    (void) ngx_payout_stripe_body(t, op, &form);
    form.buf[form.len] = '\0';

    call->body = form.buf;
    call->body_len = form.len;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_stripe_body(const ngx_payout_transfer_t *t, ngx_payout_op_e op,
    ngx_payout_stripe_form_t *f)
{
    int     i;
    char    amount[24], currency[4];

    currency[0] = '\0';

    if (t->currency) {
        for (i = 0; i < 3 && t->currency[i]; i++) {
            currency[i] = (char) (t->currency[i] | 0x20);

            if (currency[i] < 'a' || currency[i] > 'z') {
                return NGX_PAYOUT_ERROR;
            }
        }

        if (i != 3 || t->currency[3] != '\0') {
            return NGX_PAYOUT_ERROR;
        }

        currency[3] = '\0';
    }

    if (op == NGX_PAYOUT_OP_ENROLL) {
        if (t->account_number == NULL || t->account_number[0] == '\0'
            || t->country == NULL || t->country[0] == '\0')
        {
            return NGX_PAYOUT_ERROR;
        }

        /*
         * Stripe's documented form; the spec types external_account as a
         * token string and lists the dictionary under the older alias
         * bank_account[...], and a spec mock (prism 5.14.2) takes either.
         */
        ngx_payout_stripe_form_add(f, "external_account[object]",
                                   "bank_account");
        ngx_payout_stripe_form_add(f, "external_account[country]",
                                   t->country);
        ngx_payout_stripe_form_add(f, "external_account[currency]",
                                   currency[0] ? currency : NULL);
        ngx_payout_stripe_form_add(f, "external_account[account_number]",
                                   t->account_number);
        ngx_payout_stripe_form_add(f, "external_account[routing_number]",
                                   t->bank_code);
        ngx_payout_stripe_form_add(f, "external_account[account_holder_name]",
                                   t->account_name);
        ngx_payout_stripe_form_add(f, "metadata[recipient_uuid]",
                                   t->recipient_reference);
        return NGX_PAYOUT_OK;
    }

    /* INITIATE: money moves, so every figure is checked */

    if (t->amount <= 0 || currency[0] == '\0') {
        return NGX_PAYOUT_ERROR;
    }

    if (t->type == NGX_PAYOUT_RECIPIENT_BANK
        && !ngx_payout_stripe_id_valid(t->recipient_code, ""))
    {
        /* without a destination Stripe would pick the default account */
        return NGX_PAYOUT_ERROR;
    }

    snprintf(amount, sizeof(amount), "%lld", (long long) t->amount);

    ngx_payout_stripe_form_add(f, "amount", amount);
    ngx_payout_stripe_form_add(f, "currency", currency);
    ngx_payout_stripe_form_add(f, "destination",
                               t->type == NGX_PAYOUT_RECIPIENT_CONNECTED
                               ? t->account_id : t->recipient_code);
    ngx_payout_stripe_form_add(f, "description",
                               (t->narration && t->narration[0])
                               ? t->narration : NULL);
    ngx_payout_stripe_form_add(f, "metadata[payout_uuid]", t->reference);

    if (t->type == NGX_PAYOUT_RECIPIENT_CONNECTED) {
        ngx_payout_stripe_form_add(f, "transfer_group", t->reference);
    }

    return NGX_PAYOUT_OK;
}


/* key=value, the value percent-encoded (RFC 3986 unreserved kept) */

static void
ngx_payout_stripe_form_add(ngx_payout_stripe_form_t *f, const char *key,
    const char *value)
{
    char                  esc[3];
    const unsigned char  *p;

    static const char  hex[] = "0123456789ABCDEF";

    if (value == NULL) {
        return;
    }

    if (f->len) {
        ngx_payout_stripe_form_put(f, "&", 1);
    }

    ngx_payout_stripe_form_put(f, key, strlen(key));
    ngx_payout_stripe_form_put(f, "=", 1);

    for (p = (const unsigned char *) value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
            || *p == '_' || *p == '~')
        {
            ngx_payout_stripe_form_put(f, (const char *) p, 1);
            continue;
        }

        esc[0] = '%';
        esc[1] = hex[*p >> 4];
        esc[2] = hex[*p & 0x0f];
        ngx_payout_stripe_form_put(f, esc, 3);
    }
}


static void
ngx_payout_stripe_form_put(ngx_payout_stripe_form_t *f, const char *s,
    size_t len)
{
    if (f->buf) {
        memcpy(f->buf + f->len, s, len);
    }

    f->len += len;
}



static void
ngx_payout_stripe_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res)
{
    json_t      *json, *err;
    const char  *code, *message, *type;

    (void) acct;

    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';
    res->next_action[0] = '\0';

    if (a->status == 401 || a->status == 403) {
        /* a bad or revoked key: Stripe executed nothing */
        ngx_payout_result_auth_failed(op, res);
        return;
    }

    if (a->body == NULL) {
        return;
    }

    json = json_loadb(a->body, a->body_len, 0, NULL);

    if (!json_is_object(json)) {
        json_decref(json);
        return;
    }

    if (a->status >= 200 && a->status < 300) {

        type = json_string_value(json_object_get(json, "object"));

        /* enrollment answers a bank account, the others a payout's state */
        if (type == NULL
            || (strcmp(type, "bank_account") == 0)
               != (op == NGX_PAYOUT_OP_ENROLL)
            || ngx_payout_stripe_object(json, res) != NGX_PAYOUT_OK)
        {
            res->state = -1;
            res->gateway_id[0] = '\0';
            res->reason[0] = '\0';

        } else if (op == NGX_PAYOUT_OP_ENROLL) {
            /* the ba_ id is the recipient's code */
            res->outcome = NGX_PAYOUT_OUTCOME_STATE;

        } else if (res->state >= 0) {
            res->outcome = NGX_PAYOUT_OUTCOME_STATE;
        }

        json_decref(json);
        return;
    }

    if (a->status != 400 && a->status != 402 && a->status != 404) {
        /* 409 (a key in use), 429, 5xx: it may yet execute */
        json_decref(json);
        return;
    }

    err = json_object_get(json, "error");
    code = json_string_value(json_object_get(err, "code"));
    message = json_string_value(json_object_get(err, "message"));
    type = json_string_value(json_object_get(err, "type"));

    /*
     * Not Stripe's error object (a proxy's page), or a key reused with
     * other parameters: the first request may have executed.
     */
    if (message == NULL
        || (type && strcmp(type, "idempotency_error") == 0))
    {
        json_decref(json);
        return;
    }

    ngx_payout_result_copy(res->reason, sizeof(res->reason),
                           (code && code[0]) ? code : message);

    if (op == NGX_PAYOUT_OP_INITIATE) {
        res->state = NGX_PAYOUT_CANCELED_REJECTED;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;

    } else {
        res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
    }

    json_decref(json);
}


/*
 * A payout, transfer or bank account object into res: its id, and for
 * the first two the state.  NGX_PAYOUT_ERROR: none of these.
 */

static int
ngx_payout_stripe_object(json_t *obj, ngx_payout_result_t *res)
{
    json_t      *reversed_by;
    const char  *object, *id, *status, *reason;

    object = json_string_value(json_object_get(obj, "object"));
    id = json_string_value(json_object_get(obj, "id"));

    if (object == NULL || id == NULL
        || !ngx_payout_stripe_id_valid(id, ""))
    {
        return NGX_PAYOUT_ERROR;
    }

    if (strcmp(object, "payout") == 0) {
        status = json_string_value(json_object_get(obj, "status"));
        res->state = ngx_payout_stripe_payout_state(status);

        /* a paid payout to a US account can be reversed by another one */
        reversed_by = json_object_get(obj, "reversed_by");

        if (res->state == NGX_PAYOUT_SUCCESS
            && json_is_string(reversed_by))
        {
            res->state = NGX_PAYOUT_CANCELED_REVERSED;
        }

        reason = json_string_value(json_object_get(obj, "failure_code"));

        if (reason == NULL) {
            reason = json_string_value(json_object_get(obj,
                                                       "failure_message"));
        }

        ngx_payout_result_copy(res->reason, sizeof(res->reason), reason);

    } else if (strcmp(object, "transfer") == 0) {
        /* a transfer exists once made; it can only be reversed after */
        res->state = json_is_true(json_object_get(obj, "reversed"))
                     ? NGX_PAYOUT_CANCELED_REVERSED : NGX_PAYOUT_SUCCESS;

    } else if (strcmp(object, "bank_account") == 0) {
        res->state = -1;

    } else {
        return NGX_PAYOUT_ERROR;
    }

    ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id), id);

    return NGX_PAYOUT_OK;
}


int
ngx_payout_stripe_payout_state(const char *status)
{
    size_t  i;

    if (status == NULL) {
        return -1;
    }

    for (i = 0; i < ngx_payout_connector_stripe.nstatuses; i++) {
        if (strcmp(ngx_payout_stripe_statuses[i].status, status) == 0) {
            return ngx_payout_stripe_statuses[i].state;
        }
    }

    return -1;
}


size_t
ngx_payout_stripe_sign(const char *secret, size_t secret_len, long t,
    const unsigned char *body, size_t len, char *out)
{
    int            n;
    char           ts[24];
    unsigned char  mac[32];

    n = snprintf(ts, sizeof(ts), "%ld", t);

    if (n <= 0 || (size_t) n >= sizeof(ts)
        || ngx_payout_stripe_mac(secret, secret_len, ts, n, body, len, mac)
           != NGX_PAYOUT_OK)
    {
        return 0;
    }

    n = snprintf(out, NGX_PAYOUT_STRIPE_SIG_LEN + 1, "t=%s,v1=", ts);
    ngx_payout_hex_encode(mac, sizeof(mac), out + n);
    out[n + 64] = '\0';

    return n + 64;
}


/* HMAC-SHA256(secret, ts "." body), without copying the body */

static int
ngx_payout_stripe_mac(const char *secret, size_t secret_len, const char *ts,
    size_t ts_len, const unsigned char *body, size_t len, unsigned char *mac)
{
    int          rc;
    size_t       mac_len;
    EVP_MAC     *hmac;
    OSSL_PARAM   params[2];
    EVP_MAC_CTX *ctx;

    static char  digest[] = "SHA256";

    rc = NGX_PAYOUT_ERROR;
    ctx = NULL;

    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (hmac == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    ctx = EVP_MAC_CTX_new(hmac);

    params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (ctx
        && EVP_MAC_init(ctx, (const unsigned char *) secret, secret_len,
                        params)
        && EVP_MAC_update(ctx, (const unsigned char *) ts, ts_len)
        && EVP_MAC_update(ctx, (const unsigned char *) ".", 1)
        && EVP_MAC_update(ctx, body, len)
        && EVP_MAC_final(ctx, mac, &mac_len, 32)
        && mac_len == 32)
    {
        rc = NGX_PAYOUT_OK;
    }

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);

    return rc;
}


/*
 * "t=1700000000,v1=<hex>,v1=<hex>,v0=...": one t, fresh; any v1 may
 * match (Stripe sends two while a secret is rolled).  Every v1 is
 * compared, each in constant time.
 */

static int
ngx_payout_stripe_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now)
{
    int                         matched, seen;
    long                        t;
    size_t                      i, n, ts_len;
    const char                 *p, *end, *item, *ts;
    unsigned char               mac[32], sig[32];
    const ngx_payout_header_t  *h, *header;

    static const char  name[] = "Stripe-Signature";

    header = NULL;

    for (i = 0; i < hook->nheaders; i++) {
        h = &hook->headers[i];

        if (h->name_len == sizeof(name) - 1
            && strncasecmp(h->name, name, sizeof(name) - 1) == 0)
        {
            if (header) {
                return NGX_PAYOUT_ERROR;      /* two: which one? */
            }

            header = h;
        }
    }

    if (header == NULL || header->value_len > 4096
        || acct->webhook_secret == NULL || acct->webhook_secret_len == 0)
    {
        return NGX_PAYOUT_ERROR;
    }

    ts = NULL;
    ts_len = 0;
    seen = 0;
    matched = 0;

    /* the timestamp first: what is signed depends on it */

    p = header->value;
    end = p + header->value_len;

    while (p < end) {
        item = p;

        while (p < end && *p != ',') {
            p++;
        }

        n = p - item;

        if (n > 2 && item[0] == 't' && item[1] == '=') {
            if (ts) {
                return NGX_PAYOUT_ERROR;
            }

            ts = item + 2;
            ts_len = n - 2;
        }

        p = (p < end) ? p + 1 : p;
    }

    if (ts == NULL || ts_len > 18) {
        return NGX_PAYOUT_ERROR;
    }

    t = 0;

    for (i = 0; i < ts_len; i++) {
        if (ts[i] < '0' || ts[i] > '9') {
            return NGX_PAYOUT_ERROR;
        }

        t = t * 10 + (ts[i] - '0');
    }

    /* fail closed: a stale or future timestamp is a replay */
    if (t < now - NGX_PAYOUT_STRIPE_TOLERANCE
        || t > now + NGX_PAYOUT_STRIPE_TOLERANCE)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_stripe_mac(acct->webhook_secret, acct->webhook_secret_len,
                              ts, ts_len, hook->body, hook->body_len, mac)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    p = header->value;

    while (p < end) {
        item = p;

        while (p < end && *p != ',') {
            p++;
        }

        n = p - item;

        if (n == 3 + 64 && memcmp(item, "v1=", 3) == 0
            && ngx_payout_hex_decode(item + 3, 64, sig) == NGX_PAYOUT_OK)
        {
            seen = 1;
            matched |= (CRYPTO_memcmp(sig, mac, sizeof(mac)) == 0);
        }

        p = (p < end) ? p + 1 : p;
    }

    OPENSSL_cleanse(mac, sizeof(mac));

    return (seen && matched) ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
}


/*
 * payout.paid, .failed, .canceled, .updated: the payout's status says;
 * transfer.reversed, and transfer.updated once reversed: reversed.  Our
 * uuid is in metadata.payout_uuid when we made the object; else ""
 * and the glue finds the payout by the provider's id.
 */

static int
ngx_payout_stripe_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev)
{
    int          rc;
    size_t       i;
    json_t      *json, *obj;
    const char  *type, *object, *ref;

    (void) acct;

    ev->reference[0] = '\0';
    ev->follow_up = NGX_PAYOUT_FOLLOW_NONE;
    ev->result.state = -1;
    ev->result.outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    ev->result.gateway_id[0] = '\0';
    ev->result.reason[0] = '\0';
    ev->result.next_action[0] = '\0';

    json = json_loadb((const char *) hook->body, hook->body_len, 0, NULL);
    type = json_string_value(json_object_get(json, "type"));
    obj = json_object_get(json_object_get(json, "data"), "object");
    object = json_string_value(json_object_get(obj, "object"));

    rc = NGX_PAYOUT_DECLINED;

    if (type == NULL || object == NULL) {
        goto done;
    }

    if (strcmp(object, "payout") == 0
        && (strcmp(type, "payout.paid") == 0
            || strcmp(type, "payout.failed") == 0
            || strcmp(type, "payout.canceled") == 0
            || strcmp(type, "payout.updated") == 0))
    {
        /* the object's status, as of the event */

    } else if (strcmp(object, "transfer") == 0
               && (strcmp(type, "transfer.reversed") == 0
                   || (strcmp(type, "transfer.updated") == 0
                       && json_is_true(json_object_get(obj, "reversed")))))
    {
        /* a partial reversal too: the payout did not arrive whole */

    } else {
        goto done;
    }

    if (ngx_payout_stripe_object(obj, &ev->result) != NGX_PAYOUT_OK
        || ev->result.state < 0)
    {
        ev->result.state = -1;
        ev->result.gateway_id[0] = '\0';
        ev->result.reason[0] = '\0';
        goto done;
    }

    if (strcmp(type, "transfer.reversed") == 0) {
        ev->result.state = NGX_PAYOUT_CANCELED_REVERSED;
    }

    ref = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                            "payout_uuid"));

    if (ref && ngx_payout_uuid_valid((const unsigned char *) ref,
                                     strlen(ref)))
    {
        for (i = 0; i < 36; i++) {
            ev->reference[i] = (ref[i] >= 'A' && ref[i] <= 'F')
                               ? (char) (ref[i] | 0x20) : ref[i];
        }

        ev->reference[36] = '\0';
    }

    ev->result.outcome = NGX_PAYOUT_OUTCOME_STATE;
    rc = NGX_PAYOUT_OK;

done:

    json_decref(json);

    return rc;
}


/* prefix then 1.. letters, digits and "_": safe in a path and a header */

static int
ngx_payout_stripe_id_valid(const char *s, const char *prefix)
{
    size_t  i, n, len;

    if (s == NULL) {
        return 0;
    }

    n = strlen(prefix);
    len = strlen(s);

    if (len <= n || len >= NGX_PAYOUT_STRIPE_ID_LEN
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


/* "2023-09-12", or with a release name: "2024-09-30.acacia" */

static int
ngx_payout_stripe_version_valid(const char *s, size_t len)
{
    size_t  i;

    if (len < 10 || len >= NGX_PAYOUT_STRIPE_VERSION_LEN) {
        return 0;
    }

    for (i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-') {
                return 0;
            }

        } else if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    if (len == 10) {
        return 1;
    }

    if (s[10] != '.' || len == 11) {
        return 0;
    }

    for (i = 11; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}

