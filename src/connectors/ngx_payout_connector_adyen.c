/*
 * The Adyen connector (docs/connectors/adyen.md): Balance Platform
 * Transfers API v4, a bank payout from the gateway's balance account.
 *
 *   INITIATE  POST /transfers                      Idempotency-Key: uuid
 *   LOOKUP    GET  /transfers/{id}
 *
 *   webhooks  HmacSignature: base64(HMAC-SHA256(hex-decoded key, body))
 *
 * Every call carries x-api-key; bodies are JSON.  The destination goes
 * inline (no enrollment); a transfer cannot be canceled once sent.  A
 * lost answer is settled by sending the same POST with the same key
 * again: Adyen keeps idempotency keys for at least 7 days.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ngx_payout_connector_adyen.h"
#include "../core/ngx_payout_validate.h"
#include "../core/ngx_payout_text.h"
#include "ngx_payout_connector_util.h"


#define NGX_PAYOUT_ADYEN_ID_LEN       64    /* BA..., transfer ids */
#define NGX_PAYOUT_ADYEN_KEY_LEN      128   /* the HMAC key, decoded */
#define NGX_PAYOUT_ADYEN_DESCRIPTION  140   /* description's maxLength */


typedef struct {
    char          balance_account[NGX_PAYOUT_ADYEN_ID_LEN];
    const char   *priority;
} ngx_payout_adyen_conf_t;


static int ngx_payout_adyen_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len);
static const char *ngx_payout_adyen_check(const ngx_payout_account_t *acct,
    int livemode);
static int ngx_payout_adyen_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static json_t *ngx_payout_adyen_transfer(const ngx_payout_adyen_conf_t *acf,
    const ngx_payout_transfer_t *t, const char *ref);
static json_t *ngx_payout_adyen_identification(
    const ngx_payout_transfer_t *t, int *iban);
static void ngx_payout_adyen_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res);
static void ngx_payout_adyen_error(json_t *json, ngx_payout_result_t *res);
static int ngx_payout_adyen_object(json_t *obj, ngx_payout_result_t *res);
static int ngx_payout_adyen_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now);
static int ngx_payout_adyen_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev);
static void ngx_payout_adyen_result_init(ngx_payout_result_t *res);
static int ngx_payout_adyen_id_valid(const char *s, const char *prefix);
static int ngx_payout_adyen_digits(const char *s, size_t min, size_t max);
static int ngx_payout_adyen_bic_valid(const char *s);
static int ngx_payout_adyen_aba_valid(const char *s);
static size_t ngx_payout_adyen_text(char *dst, size_t max, const char *src,
    const char *punct);


/*
 * Transfer.status, every value the spec enumerates (TransferService v4,
 * the same enum in the webhooks' TransferData).  Most describe card and
 * ledger movements a bank payout never has: -1, no word.  "returned" and
 * "failed" can follow "booked" (the bank sent the money back): with
 * NGX_PAYOUT_CAP_FAILS_AFTER_PAID a failure of a paid payout applies as
 * canceled_reversed.
 */

static const ngx_payout_status_map_t  ngx_payout_adyen_statuses[] = {
    { "received", NGX_PAYOUT_PENDING_PROMISE },
    { "authorised", NGX_PAYOUT_PENDING_PROMISE },
    { "pending", NGX_PAYOUT_PENDING_PROMISE },
    { "pendingApproval", NGX_PAYOUT_PENDING_PROMISE },
    { "approvalPending", NGX_PAYOUT_PENDING_PROMISE },
    { "pendingExecution", NGX_PAYOUT_PENDING_PROMISE },
    { "bookingPending", NGX_PAYOUT_PENDING_PROMISE },
    { "bankTransferPending", NGX_PAYOUT_PENDING_PROMISE },
    { "booked", NGX_PAYOUT_SUCCESS },
    { "credited", NGX_PAYOUT_SUCCESS },
    { "failed", NGX_PAYOUT_CANCELED_FAILURE },
    { "error", NGX_PAYOUT_CANCELED_FAILURE },
    { "expired", NGX_PAYOUT_CANCELED_FAILURE },
    { "returned", NGX_PAYOUT_CANCELED_FAILURE },
    { "reversed", NGX_PAYOUT_CANCELED_FAILURE },
    { "refused", NGX_PAYOUT_CANCELED_REJECTED },
    { "rejected", NGX_PAYOUT_CANCELED_REJECTED },
    { "cancelled", NGX_PAYOUT_CANCELED_VOIDED },

    { "adviceAuthorised", -1 },
    { "adviceRefused", -1 },
    { "atmWithdrawal", -1 },
    { "atmWithdrawalReversalPending", -1 },
    { "atmWithdrawalReversed", -1 },
    { "authAdjustmentAuthorised", -1 },
    { "authAdjustmentError", -1 },
    { "authAdjustmentRefused", -1 },
    { "bankTransfer", -1 },
    { "capturePending", -1 },
    { "captureReversalPending", -1 },
    { "captureReversed", -1 },
    { "captured", -1 },
    { "capturedExternally", -1 },
    { "chargeback", -1 },
    { "chargebackExternally", -1 },
    { "chargebackPending", -1 },
    { "chargebackReversalPending", -1 },
    { "chargebackReversed", -1 },
    { "depositCorrection", -1 },
    { "depositCorrectionPending", -1 },
    { "dispute", -1 },
    { "disputeClosed", -1 },
    { "disputeExpired", -1 },
    { "disputeNeedsReview", -1 },
    { "fee", -1 },
    { "feePending", -1 },
    { "interchangeAdjusted", -1 },
    { "internalTransfer", -1 },
    { "internalTransferPending", -1 },
    { "invoiceDeduction", -1 },
    { "invoiceDeductionPending", -1 },
    { "manualCorrectionPending", -1 },
    { "manuallyCorrected", -1 },
    { "matchedStatement", -1 },
    { "matchedStatementPending", -1 },
    { "merchantPayin", -1 },
    { "merchantPayinPending", -1 },
    { "merchantPayinReversed", -1 },
    { "merchantPayinReversedPending", -1 },
    { "miscCost", -1 },
    { "miscCostPending", -1 },
    { "paymentCost", -1 },
    { "paymentCostPending", -1 },
    { "refundPending", -1 },
    { "refundReversalPending", -1 },
    { "refundReversed", -1 },
    { "refunded", -1 },
    { "refundedExternally", -1 },
    { "reserveAdjustment", -1 },
    { "reserveAdjustmentPending", -1 },
    { "secondChargeback", -1 },
    { "secondChargebackPending", -1 },
    { "undefined", -1 },
};


/* TransferInfo.priority's enum */
static const char  *ngx_payout_adyen_priorities[] = {
    "regular", "fast", "instant", "wire", "crossBorder", "internal", NULL
};


const ngx_payout_connector_t  ngx_payout_connector_adyen = {
    "adyen",
    NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY | NGX_PAYOUT_CAP_FAILS_AFTER_PAID,
    NULL,                               /* test and live differ: url= */
    7 * 86400,                          /* idempotency keys: >= 7 days */
    ngx_payout_adyen_configure,
    ngx_payout_adyen_check,
    ngx_payout_adyen_build,
    ngx_payout_adyen_parse,
    ngx_payout_adyen_verify,
    ngx_payout_adyen_event,
    ngx_payout_adyen_statuses,
    sizeof(ngx_payout_adyen_statuses) / sizeof(ngx_payout_adyen_statuses[0])
};


static int
ngx_payout_adyen_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len)
{
    size_t                    i;
    char                      buf[NGX_PAYOUT_ADYEN_ID_LEN];
    ngx_payout_adyen_conf_t  *acf;

#define KEY_IS(s)  (key_len == sizeof(s) - 1 && memcmp(key, s, key_len) == 0)

    if (!KEY_IS("balance_account") && !KEY_IS("priority")) {
        return NGX_PAYOUT_DECLINED;
    }

    acf = *conf;

    if (acf == NULL) {
        acf = mem->alloc(mem->data, sizeof(ngx_payout_adyen_conf_t));
        if (acf == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        acf->balance_account[0] = '\0';
        acf->priority = "regular";
        *conf = acf;
    }

    if (value_len >= sizeof(buf)) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(buf, value, value_len);
    buf[value_len] = '\0';

    if (strlen(buf) != value_len) {
        return NGX_PAYOUT_ERROR;
    }

    if (KEY_IS("balance_account")) {
        if (!ngx_payout_adyen_id_valid(buf, "BA")) {
            return NGX_PAYOUT_ERROR;
        }

        memcpy(acf->balance_account, buf, value_len + 1);
        return NGX_PAYOUT_OK;
    }

#undef KEY_IS

    for (i = 0; ngx_payout_adyen_priorities[i]; i++) {
        if (strcmp(ngx_payout_adyen_priorities[i], buf) == 0) {
            acf->priority = ngx_payout_adyen_priorities[i];
            return NGX_PAYOUT_OK;
        }
    }

    return NGX_PAYOUT_ERROR;
}


/* the key shows no mode: only what a header line can carry is checked */

static const char *
ngx_payout_adyen_check(const ngx_payout_account_t *acct, int livemode)
{
    size_t                          i;
    const char                     *s;
    const ngx_payout_adyen_conf_t  *acf;

    (void) livemode;

    s = acct->secret;

    if (s == NULL || acct->secret_len == 0) {
        return "Adyen needs secret_file= (an API key)";
    }

    for (i = 0; i < acct->secret_len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return "the secret holds characters no Adyen API key has";
        }
    }

    acf = acct->conf;

    if (acf == NULL || acf->balance_account[0] == '\0') {
        return "Adyen needs balance_account= (BA...)";
    }

    if (acct->webhook_secret) {
        s = acct->webhook_secret;

        if (acct->webhook_secret_len == 0
            || acct->webhook_secret_len % 2
            || acct->webhook_secret_len > 2 * NGX_PAYOUT_ADYEN_KEY_LEN)
        {
            return "the webhook secret is not an Adyen HMAC key (hex)";
        }

        for (i = 0; i < acct->webhook_secret_len; i++) {
            if (ngx_payout_hex_value((unsigned char) s[i]) < 0) {
                return "the webhook secret is not an Adyen HMAC key (hex)";
            }
        }
    }

    return NULL;
}


static int
ngx_payout_adyen_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    int                             rc;
    char                           *path, *out, ref[37];
    size_t                          i, len;
    json_t                         *body;
    const ngx_payout_adyen_conf_t  *acf;

    memset(call, 0, sizeof(ngx_payout_call_t));

    acf = acct->conf;

    if (t->type != NGX_PAYOUT_RECIPIENT_BANK
        || (op != NGX_PAYOUT_OP_INITIATE && op != NGX_PAYOUT_OP_LOOKUP))
    {
        return NGX_PAYOUT_DECLINED;
    }

    /* no id yet: the reconciler sends INITIATE again with the same key */
    if (op == NGX_PAYOUT_OP_LOOKUP
        && (t->gateway_id == NULL || t->gateway_id[0] == '\0'))
    {
        return NGX_PAYOUT_DECLINED;
    }

    if (acct->secret == NULL || acct->secret_len == 0) {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < acct->secret_len; i++) {
        if (acct->secret[i] < 0x21 || acct->secret[i] > 0x7e) {
            return NGX_PAYOUT_ERROR;
        }
    }

    if (op == NGX_PAYOUT_OP_LOOKUP) {
        /* what goes into a path is checked, not escaped */
        if (!ngx_payout_adyen_id_valid(t->gateway_id, "")) {
            return NGX_PAYOUT_ERROR;
        }

        len = sizeof("/transfers/") + strlen(t->gateway_id);

        path = acct->mem.alloc(acct->mem.data, len);
        if (path == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        snprintf(path, len, "/transfers/%s", t->gateway_id);

        call->method = "GET";
        call->path = path;

        return ngx_payout_call_header(acct, call, "x-api-key", "",
                                      acct->secret, acct->secret_len);
    }

    if (t->reference == NULL
        || !ngx_payout_uuid_valid((const unsigned char *) t->reference,
                                  strlen(t->reference))
        || acf == NULL || acf->balance_account[0] == '\0')
    {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < 36; i++) {
        ref[i] = (t->reference[i] >= 'A' && t->reference[i] <= 'F')
                 ? (char) (t->reference[i] | 0x20) : t->reference[i];
    }

    ref[36] = '\0';

    body = ngx_payout_adyen_transfer(acf, t, ref);
    if (body == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    out = json_dumps(body, JSON_COMPACT);
    json_decref(body);

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

    if (call->body == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    call->method = "POST";
    call->path = "/transfers";

    rc = ngx_payout_call_header(acct, call, "x-api-key", "", acct->secret,
                                acct->secret_len);

    if (rc == NGX_PAYOUT_OK) {
        rc = ngx_payout_call_header(acct, call, "Content-Type", "",
                                    "application/json",
                                    sizeof("application/json") - 1);
    }

    if (rc == NGX_PAYOUT_OK) {
        rc = ngx_payout_call_header(acct, call, "Idempotency-Key", "", ref, 36);
    }

    return rc;
}


/*
 * TransferInfo in the order of the spec's examples; referenceForBeneficiary
 * is letters and digits only, 35 to an IBAN, 15 otherwise; description
 * the spec's supported characters, up to 140.
 */

static json_t *
ngx_payout_adyen_transfer(const ngx_payout_adyen_conf_t *acf,
    const ngx_payout_transfer_t *t, const char *ref)
{
    int      i, iban;
    char     currency[4], beneficiary[36],
             description[NGX_PAYOUT_ADYEN_DESCRIPTION + 1];
    json_t  *body, *id;

    if (t->amount <= 0 || t->amount > NGX_PAYOUT_MAX_AMOUNT
        || t->currency == NULL || t->account_name == NULL
        || t->account_name[0] == '\0'
        || !ngx_payout_utf8_valid(t->account_name, strlen(t->account_name)))
    {
        return NULL;
    }

    for (i = 0; i < 3; i++) {
        if (t->currency[i] < 'A' || t->currency[i] > 'Z') {
            return NULL;
        }

        currency[i] = t->currency[i];
    }

    if (t->currency[3] != '\0') {
        return NULL;
    }

    currency[3] = '\0';

    id = ngx_payout_adyen_identification(t, &iban);
    if (id == NULL) {
        return NULL;
    }

    body = json_pack("{s:{s:I, s:s}, s:s, s:s, s:{s:{s:{s:s}, s:o}}, s:s, "
                     "s:s}",
                     "amount", "value", (json_int_t) t->amount,
                     "currency", currency,
                     "balanceAccountId", acf->balance_account,
                     "category", "bank",
                     "counterparty", "bankAccount", "accountHolder",
                     "fullName", t->account_name,
                     "accountIdentification", id,
                     "priority", acf->priority,
                     "reference", ref);
    if (body == NULL) {
        return NULL;
    }

    if (t->narration == NULL) {
        return body;
    }

    if (ngx_payout_adyen_text(beneficiary, iban ? 35 : 15, t->narration,
                              NULL)
        && json_object_set_new(body, "referenceForBeneficiary",
                               json_string(beneficiary))
           != 0)
    {
        json_decref(body);
        return NULL;
    }

    if (ngx_payout_adyen_text(description, NGX_PAYOUT_ADYEN_DESCRIPTION,
                              t->narration, "/-?:().,'+ ")
        && json_object_set_new(body, "description", json_string(description))
           != 0)
    {
        json_decref(body);
        return NULL;
    }

    return body;
}


/*
 * The account identification: an IBAN when the account number is one
 * (with bank_code as its BIC when it is one); else the local scheme of
 * the currency (GBP ukLocal, USD usLocal, AUD auLocal) when the numbers
 * fit it; else the account number with bank_code as the BIC.
 */

static json_t *
ngx_payout_adyen_identification(const ngx_payout_transfer_t *t, int *iban)
{
    char         bic[12];
    size_t       i;
    const char  *n, *code;

    n = t->account_number;
    code = t->bank_code;
    *iban = 0;

    if (n == NULL || n[0] == '\0') {
        return NULL;
    }

    /* a BIC is upper case; "abnanl2a" is the same bank */
    for (i = 0; code && code[i] && i < sizeof(bic) - 1; i++) {
        bic[i] = (code[i] >= 'a' && code[i] <= 'z')
                 ? (char) (code[i] & ~0x20) : code[i];
    }

    if (code && code[i] == '\0') {
        bic[i] = '\0';

    } else {
        bic[0] = '\0';
    }

    if (ngx_payout_adyen_iban_valid(n)) {
        *iban = 1;

        if (ngx_payout_adyen_bic_valid(bic)) {
            return json_pack("{s:s, s:s, s:s}", "type", "iban", "iban", n,
                             "bic", bic);
        }

        return json_pack("{s:s, s:s}", "type", "iban", "iban", n);
    }

    if (code == NULL || code[0] == '\0') {
        return NULL;
    }

    if (strcmp(t->currency, "GBP") == 0
        && ngx_payout_adyen_digits(n, 8, 8)
        && ngx_payout_adyen_digits(code, 6, 6))
    {
        return json_pack("{s:s, s:s, s:s}", "type", "ukLocal",
                         "accountNumber", n, "sortCode", code);
    }

    if (strcmp(t->currency, "USD") == 0
        && ngx_payout_adyen_digits(n, 2, 18)
        && ngx_payout_adyen_aba_valid(code))
    {
        return json_pack("{s:s, s:s, s:s}", "type", "usLocal",
                         "accountNumber", n, "routingNumber", code);
    }

    if (strcmp(t->currency, "AUD") == 0
        && ngx_payout_adyen_digits(n, 5, 9)
        && ngx_payout_adyen_digits(code, 6, 6))
    {
        return json_pack("{s:s, s:s, s:s}", "type", "auLocal",
                         "accountNumber", n, "bsbCode", code);
    }

    if (ngx_payout_adyen_bic_valid(bic)
        && ngx_payout_adyen_id_valid(n, "") && strlen(n) <= 34)
    {
        return json_pack("{s:s, s:s, s:s}", "type", "numberAndBic",
                         "accountNumber", n, "bic", bic);
    }

    return NULL;
}



/*
 * Answers: 2xx with a transfer is its state; 401/403 a bad key or role;
 * 400/422 with Adyen's error object a definite no, except errorCode 704
 * (the same key still in progress); 404 to a lookup a definite no; 409,
 * 429, 5xx, none or unreadable leave the payout to the reconciler.
 */

static void
ngx_payout_adyen_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res)
{
    json_t      *json;
    const char  *code;

    (void) acct;

    ngx_payout_adyen_result_init(res);

    if (a->status == 401 || a->status == 403) {
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
        if (op == NGX_PAYOUT_OP_INITIATE || op == NGX_PAYOUT_OP_LOOKUP) {
            if (ngx_payout_adyen_object(json, res) == NGX_PAYOUT_OK
                && res->state >= 0)
            {
                res->outcome = NGX_PAYOUT_OUTCOME_STATE;

            } else {
                ngx_payout_adyen_result_init(res);
            }
        }

        json_decref(json);
        return;
    }

    if (a->status != 400 && a->status != 422
        && !(a->status == 404 && op == NGX_PAYOUT_OP_LOOKUP))
    {
        json_decref(json);
        return;
    }

    code = json_string_value(json_object_get(json, "errorCode"));

    /* not Adyen's error object, or the first request still running */
    if (code == NULL || code[0] == '\0' || strcmp(code, "704") == 0
        || (json_string_value(json_object_get(json, "detail")) == NULL
            && json_string_value(json_object_get(json, "title")) == NULL
            && json_string_value(json_object_get(json, "message")) == NULL))
    {
        json_decref(json);
        return;
    }

    ngx_payout_adyen_error(json, res);

    if (op == NGX_PAYOUT_OP_INITIATE) {
        res->state = NGX_PAYOUT_CANCELED_REJECTED;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;

    } else {
        res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
    }

    json_decref(json);
}


/* "<errorCode>: <detail|title|message> (<the first invalid field>)" */

static void
ngx_payout_adyen_error(json_t *json, ngx_payout_result_t *res)
{
    char         buf[512];
    const char  *code, *text, *field;

    code = json_string_value(json_object_get(json, "errorCode"));
    text = json_string_value(json_object_get(json, "detail"));

    if (text == NULL) {
        text = json_string_value(json_object_get(json, "title"));
    }

    if (text == NULL) {
        text = json_string_value(json_object_get(json, "message"));
    }

    field = json_string_value(json_object_get(
                json_array_get(json_object_get(json, "invalidFields"), 0),
                "name"));

    if (field) {
        snprintf(buf, sizeof(buf), "%.64s: %.300s (%.100s)", code, text,
                 field);

    } else {
        snprintf(buf, sizeof(buf), "%.64s: %.400s", code, text);
    }

    ngx_payout_result_copy(res->reason, sizeof(res->reason), buf);
}


/* a transfer into res: its id and state, why when it did not go */

static int
ngx_payout_adyen_object(json_t *obj, ngx_payout_result_t *res)
{
    const char  *id, *status, *reason;

    id = json_string_value(json_object_get(obj, "id"));
    status = json_string_value(json_object_get(obj, "status"));

    if (id == NULL || status == NULL
        || !ngx_payout_adyen_id_valid(id, ""))
    {
        return NGX_PAYOUT_ERROR;
    }

    res->state = ngx_payout_adyen_transfer_state(status);

    if (res->state > NGX_PAYOUT_SUCCESS) {
        reason = json_string_value(json_object_get(obj, "reason"));
        ngx_payout_result_copy(res->reason, sizeof(res->reason),
                               reason ? reason : status);
    }

    ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id), id);

    return NGX_PAYOUT_OK;
}


int
ngx_payout_adyen_transfer_state(const char *status)
{
    size_t  i;

    if (status == NULL) {
        return -1;
    }

    for (i = 0; i < ngx_payout_connector_adyen.nstatuses; i++) {
        if (strcmp(ngx_payout_adyen_statuses[i].status, status) == 0) {
            return ngx_payout_adyen_statuses[i].state;
        }
    }

    return -1;
}


int
ngx_payout_adyen_sign(const char *hexkey, size_t hexkey_len,
    const unsigned char *body, size_t len, char *out)
{
    unsigned char  key[NGX_PAYOUT_ADYEN_KEY_LEN], mac[32];

    if (hexkey == NULL || hexkey_len == 0 || hexkey_len % 2
        || hexkey_len > 2 * sizeof(key)
        || ngx_payout_hex_decode(hexkey, hexkey_len, key) != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    ngx_payout_hmac_sha256(key, hexkey_len / 2, body, len, mac);
    OPENSSL_cleanse(key, sizeof(key));

    (void) EVP_EncodeBlock((unsigned char *) out, mac, sizeof(mac));
    OPENSSL_cleanse(mac, sizeof(mac));

    return NGX_PAYOUT_OK;
}


/*
 * One HmacSignature header, over the raw body.  The scheme has no
 * timestamp, so there is no freshness to check: a replayed event finds
 * no transition to make.
 */

static int
ngx_payout_adyen_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now)
{
    int                         rc;
    size_t                      i;
    char                        want[NGX_PAYOUT_ADYEN_SIG_LEN + 1];
    const ngx_payout_header_t  *h, *header;

    static const char  name[] = "HmacSignature";

    (void) now;

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

    if (header == NULL || header->value_len != NGX_PAYOUT_ADYEN_SIG_LEN
        || ngx_payout_adyen_sign(acct->webhook_secret,
                                 acct->webhook_secret_len, hook->body,
                                 hook->body_len, want)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    rc = CRYPTO_memcmp(want, header->value, NGX_PAYOUT_ADYEN_SIG_LEN) == 0
         ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;

    OPENSSL_cleanse(want, sizeof(want));

    return rc;
}


/*
 * balancePlatform.transfer.created and .updated carry the whole transfer
 * in data: its id, our reference, its status.  Incoming transfers and
 * other categories are not our payouts.
 */

static int
ngx_payout_adyen_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev)
{
    int          rc;
    size_t       i;
    json_t      *json, *data;
    const char  *type, *ref, *s;

    (void) acct;

    ev->reference[0] = '\0';
    ev->follow_up = NGX_PAYOUT_FOLLOW_NONE;
    ngx_payout_adyen_result_init(&ev->result);

    json = json_loadb((const char *) hook->body, hook->body_len, 0, NULL);
    type = json_string_value(json_object_get(json, "type"));
    data = json_object_get(json, "data");

    rc = NGX_PAYOUT_DECLINED;

    if (type == NULL || !json_is_object(data)
        || (strcmp(type, "balancePlatform.transfer.created") != 0
            && strcmp(type, "balancePlatform.transfer.updated") != 0))
    {
        goto done;
    }

    s = json_string_value(json_object_get(data, "category"));

    if (s && strcmp(s, "bank") != 0) {
        goto done;
    }

    s = json_string_value(json_object_get(data, "direction"));

    if (s && strcmp(s, "incoming") == 0) {
        goto done;
    }

    if (ngx_payout_adyen_object(data, &ev->result) != NGX_PAYOUT_OK
        || ev->result.state < 0)
    {
        ngx_payout_adyen_result_init(&ev->result);
        goto done;
    }

    ref = json_string_value(json_object_get(data, "reference"));

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


static void
ngx_payout_adyen_result_init(ngx_payout_result_t *res)
{
    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';
    res->next_action[0] = '\0';
}


/* prefix then 1.. letters and digits: safe in a path and a JSON string */

static int
ngx_payout_adyen_id_valid(const char *s, const char *prefix)
{
    size_t  i, n, len;

    if (s == NULL) {
        return 0;
    }

    n = strlen(prefix);
    len = strlen(s);

    if (len <= n || len >= NGX_PAYOUT_ADYEN_ID_LEN
        || memcmp(s, prefix, n) != 0)
    {
        return 0;
    }

    for (i = n; i < len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= '0' && s[i] <= '9')))
        {
            return 0;
        }
    }

    return 1;
}


static int
ngx_payout_adyen_digits(const char *s, size_t min, size_t max)
{
    size_t  i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i == max) {
            return 0;
        }
    }

    return i >= min;
}


int
ngx_payout_adyen_iban_valid(const char *s)
{
    size_t    i, j, len;
    unsigned  r;

    len = strlen(s);

    if (len < 15 || len > 34
        || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z'
        || s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9')
    {
        return 0;
    }

    /* the first four moved to the end, letters as 10..35, mod 97 */

    r = 0;

    for (j = 0; j < len; j++) {
        i = (j + 4) % len;

        if (s[i] >= '0' && s[i] <= '9') {
            r = (r * 10 + (unsigned) (s[i] - '0')) % 97;

        } else if (s[i] >= 'A' && s[i] <= 'Z') {
            r = (r * 100 + (unsigned) (s[i] - 'A' + 10)) % 97;

        } else {
            return 0;
        }
    }

    return r == 1;
}


/* ISO 9362: bank (4 letters), country (2 letters), location, branch */

static int
ngx_payout_adyen_bic_valid(const char *s)
{
    size_t  i, len;

    len = strlen(s);

    if (len != 8 && len != 11) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z') {
            continue;
        }

        if (i < 6 || s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* an ABA routing number: 9 digits, weights 3 7 1, a multiple of 10 */

static int
ngx_payout_adyen_aba_valid(const char *s)
{
    int  i, sum;

    static const int  w[] = { 3, 7, 1 };

    if (!ngx_payout_adyen_digits(s, 9, 9)) {
        return 0;
    }

    sum = 0;

    for (i = 0; i < 9; i++) {
        sum += (s[i] - '0') * w[i % 3];
    }

    return sum % 10 == 0;
}


/*
 * Letters and digits, and the punctuation given (NULL: none), of at most
 * max characters; any other character becomes a space, spaces collapse
 * and are trimmed.  The result is ASCII.  Returns its length.
 */

static size_t
ngx_payout_adyen_text(char *dst, size_t max, const char *src,
    const char *punct)
{
    size_t                n;
    unsigned char         c;
    const unsigned char  *p;

    n = 0;

    for (p = (const unsigned char *) src; *p && n < max; p++) {
        c = *p;

        if ((c & 0xc0) == 0x80) {
            continue;                   /* inside a character */
        }

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')))
        {
            if (punct == NULL) {
                continue;
            }

            if (c >= 0x80 || c == '\0' || strchr(punct, c) == NULL) {
                c = ' ';
            }

            if (c == ' ' && (n == 0 || dst[n - 1] == ' ')) {
                continue;
            }
        }

        dst[n++] = (char) c;
    }

    while (n && dst[n - 1] == ' ') {
        n--;
    }

    dst[n] = '\0';

    return n;
}

