/*
 * Enrollment: ENROLL through the bridge, then the gateway's code on the
 * recipient (payout_recipient_enrolled(), sql/functions/enroll.sql), then
 * the caller's handler.  The first code recorded stays: concurrent
 * enrollments of one recipient agree on it, and the providers key
 * enrollment on our recipient uuid.
 *
 * POST /payout-recipients/{uuid}/accounts runs it for a stored
 * recipient: nothing is asked of the gateway once a code is recorded.
 */

#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_enroll.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_secrets.h"


static const char  ngx_http_payout_enrolled_sql[] =
    "SELECT gateway_recipient_code, body FROM payout_recipient_enrolled("
    "p_tenant => $1::bigint, p_id => $2::bigint, p_uuid => $3::uuid, "
    "p_code => $4)";

enum {
    NGX_HTTP_PAYOUT_ENROLLED_CODE = 0,
    NGX_HTTP_PAYOUT_ENROLLED_BODY
};

static const char  ngx_http_payout_enrollment_sql[] =
    "SELECT id, uuid, gateway, recipient_type, account_number_enc, "
    "bank_code, bank_account_name, name, mobile_money_number_enc, "
    "mobile_money_provider, account_id, country, gateway_recipient_code, "
    "body FROM payout_recipient_enrollment("
    "p_tenant => $1::bigint, p_livemode => $2::boolean, p_uuid => $3::uuid)";

enum {
    NGX_HTTP_PAYOUT_ENROLLMENT_ID = 0,
    NGX_HTTP_PAYOUT_ENROLLMENT_UUID,
    NGX_HTTP_PAYOUT_ENROLLMENT_GATEWAY,
    NGX_HTTP_PAYOUT_ENROLLMENT_RECIPIENT_TYPE,
    NGX_HTTP_PAYOUT_ENROLLMENT_ACCOUNT_NUMBER_ENC,
    NGX_HTTP_PAYOUT_ENROLLMENT_BANK_CODE,
    NGX_HTTP_PAYOUT_ENROLLMENT_BANK_ACCOUNT_NAME,
    NGX_HTTP_PAYOUT_ENROLLMENT_NAME,
    NGX_HTTP_PAYOUT_ENROLLMENT_MOBILE_MONEY_NUMBER_ENC,
    NGX_HTTP_PAYOUT_ENROLLMENT_MOBILE_MONEY_PROVIDER,
    NGX_HTTP_PAYOUT_ENROLLMENT_ACCOUNT_ID,
    NGX_HTTP_PAYOUT_ENROLLMENT_COUNTRY,
    NGX_HTTP_PAYOUT_ENROLLMENT_GATEWAY_RECIPIENT_CODE,
    NGX_HTTP_PAYOUT_ENROLLMENT_BODY
};


/* the endpoint's request */
typedef struct {
    ngx_http_request_t           *request;
    ngx_http_payout_ctx_t        *ctx;
    const char                   *currency;     /* the body's, or NULL */
    char                          reference[37];
    ngx_payout_transfer_t         transfer;
    ngx_http_payout_enroll_t      enroll;
} ngx_http_payout_enroll_req_t;


static void ngx_http_payout_enroll_answer(
    ngx_http_payout_provider_call_t *pc);
static ngx_int_t ngx_http_payout_enroll_recipient(
    ngx_http_payout_enroll_t *e, ngx_http_payout_pg_query_t *q);
static void ngx_http_payout_enroll_stored(ngx_http_payout_pg_query_t *q,
    PGresult *res);

static ngx_int_t ngx_http_payout_enroll_body(ngx_http_request_t *r,
    ngx_http_payout_enroll_req_t *er, ngx_int_t *rc);
static void ngx_http_payout_enroll_loaded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_enroll_transfer(
    ngx_http_payout_enroll_req_t *er, PGresult *res);
static char *ngx_http_payout_enroll_value(ngx_pool_t *pool, PGresult *res,
    int col);
static ngx_int_t ngx_http_payout_enroll_declined(
    ngx_http_payout_enroll_req_t *er, ngx_uint_t incomplete);
static void ngx_http_payout_enroll_done(ngx_http_payout_enroll_t *e);
static ngx_int_t ngx_http_payout_enroll_show(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *json);


ngx_int_t
ngx_http_payout_enroll_start(ngx_http_payout_enroll_t *e)
{
    ngx_http_payout_provider_call_t  *pc;

    e->stored = 0;
    ngx_str_null(&e->recipient);
    ngx_memzero(&e->result, sizeof(ngx_payout_result_t));
    e->result.state = -1;
    e->result.outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;

    pc = &e->call;
    ngx_memzero(pc, sizeof(ngx_http_payout_provider_call_t));

    pc->gateway = e->gateway;
    pc->op = NGX_PAYOUT_OP_ENROLL;
    pc->pool = e->pool;
    pc->log = e->log;
    pc->request = e->request;
    pc->handler = ngx_http_payout_enroll_answer;
    pc->data = e;

    return ngx_http_payout_provider_call(pc, e->transfer);
}


static void
ngx_http_payout_enroll_answer(ngx_http_payout_provider_call_t *pc)
{
    ngx_int_t                     rc;
    ngx_http_payout_enroll_t     *e;
    ngx_http_payout_pg_query_t   *q;
    ngx_http_payout_main_conf_t  *pmcf;

    e = pc->data;
    e->result = pc->result;

    if (e->result.outcome != NGX_PAYOUT_OUTCOME_STATE) {
        ngx_log_error(NGX_LOG_WARN, e->log, 0,
                      "payout: gateway \"%V\" %s the enrollment of "
                      "recipient %s (HTTP %l%s%s)", &e->gateway->name,
                      e->result.outcome == NGX_PAYOUT_OUTCOME_REFUSED
                      ? "refused" : "gave no definite answer to",
                      e->transfer->recipient_reference, pc->http.status,
                      pc->http.error_text ? ": " : "",
                      pc->http.error_text ? pc->http.error_text : "");
        e->handler(e);
        return;
    }

    /* a definite answer without a code is no answer */
    if (e->result.gateway_id[0] == '\0') {
        e->result.outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
        e->handler(e);
        return;
    }

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_payout_module);

    q = ngx_http_payout_pg_query_create(e->pool, e->log,
                                        ngx_http_payout_enrolled_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, e->tenant_id) != NGX_OK
        || ngx_http_payout_enroll_recipient(e, q) != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) e->result.gateway_id,
                                    ngx_strlen(e->result.gateway_id))
           != NGX_OK)
    {
        e->handler(e);
        return;
    }

    q->handler = ngx_http_payout_enroll_stored;
    q->data = e;

    rc = e->request ? ngx_http_payout_pg_run_for_request(e->request, q)
                    : ngx_http_payout_pg_run(pmcf->pg, q);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, e->log, 0,
                      "payout: the gateway's code for recipient %s could "
                      "not be recorded: database unavailable",
                      e->transfer->recipient_reference);
        e->handler(e);
    }
}


/* the recipient by id, or by its uuid when the caller has no id */

static ngx_int_t
ngx_http_payout_enroll_recipient(ngx_http_payout_enroll_t *e,
    ngx_http_payout_pg_query_t *q)
{
    const char  *uuid;

    if (e->recipient_id > 0) {
        if (ngx_http_payout_pg_param_int(q, e->recipient_id) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_payout_pg_param_null(q);

        return NGX_OK;
    }

    uuid = e->transfer->recipient_reference;

    if (uuid == NULL) {
        return NGX_ERROR;
    }

    ngx_http_payout_pg_param_null(q);

    return ngx_http_payout_pg_param(q, (u_char *) uuid, ngx_strlen(uuid));
}


static void
ngx_http_payout_enroll_stored(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_str_t                  code;
    ngx_http_payout_enroll_t  *e;

    e = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1
        || ngx_http_payout_pg_isnull(res, 0, NGX_HTTP_PAYOUT_ENROLLED_CODE))
    {
        ngx_log_error(NGX_LOG_ERR, e->log, 0,
                      "payout: the gateway's code for recipient %s could "
                      "not be recorded", e->transfer->recipient_reference);
        e->handler(e);
        return;
    }

    /* the code recorded: an earlier enrollment's, if there was one */
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_ENROLLED_CODE, &code);

    if (code.len < sizeof(e->result.gateway_id)) {
        ngx_memcpy(e->result.gateway_id, code.data, code.len);
        e->result.gateway_id[code.len] = '\0';
    }

    if (ngx_http_payout_pg_copy(e->pool, res, 0,
                                NGX_HTTP_PAYOUT_ENROLLED_BODY,
                                &e->recipient) != NGX_OK)
    {
        ngx_str_null(&e->recipient);
    }

    e->stored = 1;
    e->handler(e);
}


/* POST /payout-recipients/{uuid}/accounts */

ngx_int_t
ngx_http_payout_recipients_enroll(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_http_payout_pg_query_t    *q;
    ngx_http_payout_enroll_req_t  *er;

    er = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_enroll_req_t));
    if (er == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    er->request = r;
    er->ctx = ctx;

    if (ngx_http_payout_enroll_body(r, er, &rc) != NGX_OK) {
        return rc;
    }

    q = ngx_http_payout_uuid_query(r, ctx, ngx_http_payout_enrollment_sql,
                                   &rc);
    if (q == NULL) {
        return rc;
    }

    q->handler = ngx_http_payout_enroll_loaded;
    q->data = er;

    return ngx_http_payout_pg_start(r, q);
}


/*
 * No body, or a JSON object with at most "currency" (ISO 4217), which
 * some gateways enroll a destination for.  NGX_DECLINED: answered, *rc
 * is what the handler returns.
 */

static ngx_int_t
ngx_http_payout_enroll_body(ngx_http_request_t *r,
    ngx_http_payout_enroll_req_t *er, ngx_int_t *rc)
{
    char                          err[256];
    json_t                       *json, *v;
    ngx_str_t                     body, name;
    const char                   *key, *s;
    ngx_int_t                     ok;
    const ngx_payout_currency_t  *cur;

    *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (ngx_http_payout_read_request_body(r, &body) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (body.len == 0) {
        return NGX_OK;
    }

    json = ngx_payout_json_parse_body(body.data, body.len, err,
                                      sizeof(err));
    if (json == NULL) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_json", err, NULL);
        return NGX_DECLINED;
    }

    ok = NGX_OK;

    json_object_foreach(json, key, v) {

        if (ngx_strcmp(key, "currency") != 0) {
            /* the field names a key of the body, freed below */
            name.len = ngx_strlen(key) + 1;
            name.data = (u_char *) key;
            s = (char *) ngx_pstrdup(r->pool, &name);

            if (s) {
                *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                          "unknown_parameter",
                          "This route takes no body, or "
                          "{\"currency\": ...}.", s);
            }

            ok = NGX_DECLINED;
            break;
        }

        s = json_string_value(v);
        cur = s ? ngx_payout_currency_find(s, ngx_strlen(s)) : NULL;

        if (cur == NULL) {
            *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                      "invalid_parameter",
                      "currency must be an ISO 4217 code, such as \"NGN\".",
                      "currency");
            ok = NGX_DECLINED;
            break;
        }

        er->currency = cur->code;
    }

    json_decref(json);

    return ok;
}


static void
ngx_http_payout_enroll_loaded(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_int_t                      rc;
    ngx_str_t                      gateway, json;
    ngx_http_request_t            *r;
    ngx_http_payout_enroll_t      *e;
    ngx_http_payout_gateway_t     *gw;
    ngx_http_payout_enroll_req_t  *er;

    er = q->data;
    r = er->request;

    if (ngx_http_payout_query_row(r, q, res, "No such recipient.")
        != NGX_OK)
    {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_ENROLLMENT_GATEWAY,
                            &gateway);

    gw = ngx_http_payout_key_gateway(r, er->ctx, (char *) gateway.data,
                                     gateway.len, &rc);
    if (gw == NULL) {
        ngx_http_payout_finalize(r, rc);
        return;
    }

    /* enrolled already: the recorded code, and no call */
    if (!ngx_http_payout_pg_isnull(res, 0,
                          NGX_HTTP_PAYOUT_ENROLLMENT_GATEWAY_RECIPIENT_CODE))
    {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_ENROLLMENT_BODY,
                                &json);
        ngx_http_payout_finalize(r, ngx_http_payout_enroll_show(r,
                                                   NGX_HTTP_OK, &json));
        return;
    }

    if (ngx_http_payout_enroll_transfer(er, res) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "payout: cannot decrypt the destination of recipient "
                      "%s (wrong payout_master_key_file?)", er->reference);
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    e = &er->enroll;
    e->gateway = gw;
    e->pool = r->pool;
    e->log = r->connection->log;
    e->request = r;
    e->tenant_id = er->ctx->auth.tenant_id;
    e->recipient_id = ngx_http_payout_pg_int(res, 0,
                                             NGX_HTTP_PAYOUT_ENROLLMENT_ID);
    e->transfer = &er->transfer;
    e->handler = ngx_http_payout_enroll_done;
    e->data = er;

    rc = ngx_http_payout_enroll_start(e);

    if (rc == NGX_OK) {
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_enroll_declined(er,
                                                    rc != NGX_DECLINED));
}


/* the stored destination, its number opened, as a connector reads it */

static ngx_int_t
ngx_http_payout_enroll_transfer(ngx_http_payout_enroll_req_t *er,
    PGresult *res)
{
    ngx_str_t                     uuid, type, number;
    ngx_pool_t                   *pool;
    ngx_payout_transfer_t        *t;
    ngx_http_payout_main_conf_t  *pmcf;

    pool = er->request->pool;
    t = &er->transfer;

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_ENROLLMENT_UUID, &uuid);
    ngx_memcpy(er->reference, uuid.data, ngx_min(uuid.len, 36));
    er->reference[ngx_min(uuid.len, 36)] = '\0';

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_ENROLLMENT_RECIPIENT_TYPE,
                            &type);

    t->recipient_reference = er->reference;
    t->currency = er->currency;
    t->type = ngx_strcmp(type.data, "mobile_money") == 0
              ? NGX_PAYOUT_RECIPIENT_MOBILE
              : ngx_strcmp(type.data, "connected_account") == 0
              ? NGX_PAYOUT_RECIPIENT_CONNECTED
              : ngx_strcmp(type.data, "balance") == 0
              ? NGX_PAYOUT_RECIPIENT_BALANCE : NGX_PAYOUT_RECIPIENT_BANK;
    t->bank_code = ngx_http_payout_enroll_value(pool, res,
                                   NGX_HTTP_PAYOUT_ENROLLMENT_BANK_CODE);
    t->provider = ngx_http_payout_enroll_value(pool, res,
                          NGX_HTTP_PAYOUT_ENROLLMENT_MOBILE_MONEY_PROVIDER);
    t->account_id = ngx_http_payout_enroll_value(pool, res,
                                   NGX_HTTP_PAYOUT_ENROLLMENT_ACCOUNT_ID);
    t->country = ngx_http_payout_enroll_value(pool, res,
                                   NGX_HTTP_PAYOUT_ENROLLMENT_COUNTRY);

    /* the holder's name: the bank's, else the recipient's own */
    t->account_name = ngx_http_payout_enroll_value(pool, res,
                              NGX_HTTP_PAYOUT_ENROLLMENT_BANK_ACCOUNT_NAME);
    if (t->account_name == NULL) {
        t->account_name = ngx_http_payout_enroll_value(pool, res,
                                          NGX_HTTP_PAYOUT_ENROLLMENT_NAME);
    }

    /* neither has a number to open */
    if (t->type == NGX_PAYOUT_RECIPIENT_CONNECTED
        || t->type == NGX_PAYOUT_RECIPIENT_BALANCE)
    {
        return NGX_OK;
    }

    pmcf = ngx_http_get_module_main_conf(er->request, ngx_http_payout_module);

    if (ngx_http_payout_open_destination(pmcf, pool, er->ctx->auth.tenant_id,
                             res, t->type == NGX_PAYOUT_RECIPIENT_MOBILE,
                             NGX_HTTP_PAYOUT_ENROLLMENT_ACCOUNT_NUMBER_ENC,
                             NGX_HTTP_PAYOUT_ENROLLMENT_MOBILE_MONEY_NUMBER_ENC,
                             &number)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    t->account_number = (char *) number.data;
    t->mobile_number = (char *) number.data;

    return NGX_OK;
}


/* a text column as a C string, or NULL */

static char *
ngx_http_payout_enroll_value(ngx_pool_t *pool, PGresult *res, int col)
{
    ngx_str_t  v;

    if (ngx_http_payout_pg_copy(pool, res, 0, col, &v) != NGX_OK) {
        return NULL;
    }

    return (char *) v.data;
}


/*
 * 422: the gateway's connector has no enrollment for this destination,
 * or (incomplete) cannot build one from what the recipient holds.
 */

static ngx_int_t
ngx_http_payout_enroll_declined(ngx_http_payout_enroll_req_t *er,
    ngx_uint_t incomplete)
{
    u_char                     *msg, *last;
    const char                 *type;
    ngx_http_request_t         *r;
    ngx_http_payout_gateway_t  *gw;

    r = er->request;
    gw = er->enroll.gateway;
    type = ngx_payout_recipient_type_name(er->transfer.type);

    msg = ngx_pnalloc(r->pool, 512);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!incomplete && !ngx_http_payout_provider_can(gw, NEEDS_ENROLL)
        && !ngx_http_payout_provider_can(gw, TEST_ONLY))
    {
        /*
         * Mollie, Adyen: the destination travels with each payout (the
         * sandbox enrolls some destinations by choice, and says the old
         * words for the others)
         */
        last = ngx_snprintf(msg, 511, "The %V gateway (connector %V) has no "
                            "enrollment: it pays destinations inline, with "
                            "each payout, so this %s recipient needs none",
                            &gw->name, &gw->connector, type);
    } else if (!incomplete) {
        last = ngx_snprintf(msg, 511, "The %V gateway (connector %V) has no "
                            "enrollment for this %s recipient",
                            &gw->name, &gw->connector, type);
    } else {
        last = ngx_snprintf(msg, 511, "The %V gateway (connector %V) cannot "
                            "enroll this %s recipient: a detail it needs is "
                            "missing or invalid (see its documentation)",
                            &gw->name, &gw->connector, type);
    }

    if (er->currency == NULL
        && er->transfer.type != NGX_PAYOUT_RECIPIENT_CONNECTED
        && er->transfer.type != NGX_PAYOUT_RECIPIENT_BALANCE)
    {
        last = ngx_snprintf(last, msg + 511 - last, " without a currency; "
                            "some gateways need one: send {\"currency\": "
                            "\"...\"}");
    }

    *last++ = '.';
    *last = '\0';

    return ngx_http_payout_send_error(r, NGX_HTTP_PAYOUT_422,
                                      "not_supported", (char *) msg, NULL);
}


static void
ngx_http_payout_enroll_done(ngx_http_payout_enroll_t *e)
{
    u_char                        *msg;
    ngx_int_t                      rc;
    ngx_http_request_t            *r;
    ngx_http_payout_enroll_req_t  *er;

    er = e->data;
    r = er->request;

    if (e->stored) {
        rc = ngx_http_payout_enroll_show(r, NGX_HTTP_CREATED, &e->recipient);

    } else if (e->result.outcome == NGX_PAYOUT_OUTCOME_STATE) {
        /* enrolled, but not recorded: the database is away */
        rc = ngx_http_payout_send_unavailable(r);

    } else if (e->result.outcome == NGX_PAYOUT_OUTCOME_REFUSED
               && ngx_strcmp(e->result.reason, "gateway_auth_failed") == 0)
    {
        rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_GATEWAY,
                 "gateway_auth_failed",
                 "The gateway refused this server's credentials; nothing "
                 "was enrolled.", NULL);

    } else if (e->result.outcome == NGX_PAYOUT_OUTCOME_REFUSED) {
        msg = ngx_pnalloc(r->pool, sizeof(e->result.reason) + 64);
        if (msg == NULL) {
            ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_sprintf(msg, "The gateway refused the recipient: %s%Z",
                    e->result.reason[0] ? e->result.reason
                                        : "no reason given");

        rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "gateway_rejected", (char *) msg,
                                        NULL);

    } else {
        rc = ngx_http_payout_set_retry_after(r) != NGX_OK
             ? NGX_HTTP_INTERNAL_SERVER_ERROR
             : ngx_http_payout_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "gateway_unavailable",
                   "The gateway gave no definite answer; nothing was "
                   "recorded: retry.", NULL);
    }

    ngx_http_payout_finalize(r, rc);
}


/* the recipient's JSON as the database made it */

static ngx_int_t
ngx_http_payout_enroll_show(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    u_char  *body;

    if (json->len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body = ngx_pnalloc(r->pool, json->len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body, json->data, json->len);

    return ngx_http_payout_send_json(r, status, body, json->len);
}
