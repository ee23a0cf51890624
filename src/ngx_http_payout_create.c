/*
 * POST /payouts (seed 004's create; "stage": true for Prism's stage) and
 * POST /payouts/{uuid}/transfer.
 *
 *   validate -> payout_create() commits the payout as pending_created
 *   (or pending_staged) with its history and outbox -> send to the
 *   gateway -> answer with the state the payout is in.
 *
 * The idempotency key is enforced by a unique index: concurrent
 * duplicates make one payout, and only the request that created it calls
 * the provider.
 */


#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_recipients.h"
#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_metrics.h"
#include "ngx_http_payout_secrets.h"
#include "core/ngx_payout_validate.h"


/*
 * The create and, for a payout to send, its instruction: the columns
 * NGX_HTTP_PAYOUT_INSTRUCTION_* first (ngx_http_payout_gateway.h), then
 * the create's own.
 */
static const char  ngx_http_payout_create_sql[] =
    "SELECT i_payout_uuid, i_amount, i_currency, i_gateway, i_narration, "
    "i_sub_status, i_recipient_type, i_account_number_enc, i_bank_code, "
    "i_bank_account_name, i_mobile_money_number_enc, "
    "i_mobile_money_provider, i_recipient_name, i_recipient_uuid, "
    "i_gateway_recipient_code, i_account_id, i_country, i_balance_id, "
    "i_recipient_id, "
    "outcome, payout_id, payout_uuid, recipient_uuid, sub_status, "
    "gateway_payout_id, failure_reason FROM payout_create_send("
    "p_tenant => $1::bigint, p_livemode => $2::boolean, "
    "p_idempotency_key => $3, p_request_hash => $4::bytea, "
    "p_amount => $5::bigint, p_currency => $6, p_gateway => $7, "
    "p_narration => $8, p_metadata => $9::jsonb, p_webhook_urls => $10::jsonb, "
    "p_webhook_secret_enc => $11::bytea, p_stage => $12::boolean, "
    "p_recipient_uuid => $13::uuid, p_type => $14, "
    "p_fingerprint => $15::bytea, p_name => $16, p_email => $17, "
    "p_phone => $18, p_bank_code => $19, p_bank_name => $20, "
    "p_bank_account_name => $21, p_account_enc => $22::bytea, "
    "p_account_last4 => $23, p_mm_provider => $24, p_mm_enc => $25::bytea, "
    "p_mm_last4 => $26, p_account_id => $27, p_country => $28, "
    "p_balance_id => $29)";

enum {
    NGX_HTTP_PAYOUT_CREATE_OUTCOME = NGX_HTTP_PAYOUT_INSTRUCTION_NCOLS,
    NGX_HTTP_PAYOUT_CREATE_PAYOUT_ID,
    NGX_HTTP_PAYOUT_CREATE_PAYOUT_UUID,
    NGX_HTTP_PAYOUT_CREATE_RECIPIENT_UUID,
    NGX_HTTP_PAYOUT_CREATE_SUB_STATUS,
    NGX_HTTP_PAYOUT_CREATE_GATEWAY_PAYOUT_ID,
    NGX_HTTP_PAYOUT_CREATE_FAILURE_REASON
};

static const char  ngx_http_payout_transfer_sql[] =
    "SELECT t.applied, t.sub_status, p.id, r.uuid "
    "FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id, "
    "LATERAL payout_transition("
    "p_id => p.id, p_from => '{pending_staged}', p_to => 'pending_created', "
    "p_source => 'api', p_gateway_payout_id => NULL, p_failure_reason => NULL, "
    "p_detail => NULL) t "
    "WHERE p.id = $1";

enum {
    NGX_HTTP_PAYOUT_TRANSFER_APPLIED = 0,
    NGX_HTTP_PAYOUT_TRANSFER_SUB_STATUS,
    NGX_HTTP_PAYOUT_TRANSFER_PAYOUT_ID,
    NGX_HTTP_PAYOUT_TRANSFER_RECIPIENT_UUID
};


typedef struct {
    ngx_http_request_t      *request;
    ngx_pool_cleanup_t      *cleanup;
    int64_t                  payout_id;
    ngx_str_t                payout_uuid;
    ngx_str_t                recipient_uuid;
    ngx_str_t                sub_status;
    ngx_str_t                gateway_payout_id;
    ngx_str_t                failure_reason;
    ngx_str_t                next_action;
    unsigned                 created:1;
} ngx_http_payout_create_t;


static ngx_int_t ngx_http_payout_create_params(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_payout_create_t *in,
    ngx_http_payout_pg_query_t *q);
static void ngx_http_payout_create_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_transfer_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_create_send(ngx_http_payout_create_t *cr,
    PGresult *res);
static void ngx_http_payout_create_sent(ngx_http_payout_send_t *s);
static void ngx_http_payout_create_cleanup(void *data);
static ngx_int_t ngx_http_payout_create_respond(ngx_http_payout_create_t *cr);
static ngx_int_t ngx_http_payout_create_rejected(
    ngx_http_payout_create_t *cr);
static json_t *ngx_http_payout_str_json(ngx_str_t *s);


ngx_int_t
ngx_http_payout_payouts_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_payout_error_t            err;
    ngx_payout_create_t           in;
    ngx_http_payout_create_t     *cr;
    ngx_http_payout_pg_query_t   *q;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    if (ngx_payout_validate_create_flags(ctx->body,
                                         ngx_http_payout_url_flags(pmcf),
                                         &in, &err)
        != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST, err.code,
                                          err.message, err.field);
    }

    if (ngx_http_payout_key_gateway(r, ctx, in.gateway,
                                    ngx_strlen(in.gateway), &rc)
        == NULL)
    {
        return rc;
    }

    if (in.tenant
        && (ngx_strlen(in.tenant) != ctx->auth.tenant.len
            || ngx_strncmp(in.tenant, ctx->auth.tenant.data,
                           ctx->auth.tenant.len) != 0))
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "tenant_mismatch",
                   "tenant does not match the tenant of the API key.",
                   "tenant");
    }

    cr = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_create_t));
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_create_sql);
    if (cr == NULL || q == NULL
        || ngx_http_payout_create_params(r, ctx, &in, q) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cr->request = r;
    q->handler = ngx_http_payout_create_done;
    q->data = cr;

    return ngx_http_payout_pg_start(r, q);
}


/*
 * POST /payouts/{uuid}/transfer, once the payout is found and its gateway
 * checked (ngx_http_payout_status.c): move it from staged to created, then
 * send it.  NGX_OK: the handler runs later.
 */

ngx_int_t
ngx_http_payout_transfer_staged(ngx_http_request_t *r, ngx_str_t *uuid,
    int64_t payout_id)
{
    ngx_http_payout_create_t    *cr;
    ngx_http_payout_pg_query_t  *q;

    cr = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_create_t));
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_transfer_sql);
    if (cr == NULL || q == NULL
        || ngx_http_payout_pg_param_int(q, payout_id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cr->request = r;
    cr->payout_uuid = *uuid;
    q->handler = ngx_http_payout_transfer_done;
    q->data = cr;

    return ngx_http_payout_pg_run_for_request(r, q);
}


static ngx_int_t
ngx_http_payout_create_params(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_payout_create_t *in,
    ngx_http_payout_pg_query_t *q)
{
    u_char  hex[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN];

    /* the request's fingerprint for idempotency: key order ignored */
    if (ngx_http_payout_request_hash(ctx->body, hex) != NGX_OK
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_param_str(q, in->idempotency_key) != NGX_OK
        || ngx_http_payout_pg_param(q, hex, sizeof(hex)) != NGX_OK
        || ngx_http_payout_pg_param_int(q, in->amount) != NGX_OK
        || ngx_http_payout_param_str(q, in->currency->code) != NGX_OK
        || ngx_http_payout_param_str(q, in->gateway) != NGX_OK
        || ngx_http_payout_param_str(q, in->narration) != NGX_OK
        || ngx_http_payout_param_json(q, in->metadata) != NGX_OK
        || ngx_http_payout_param_json(q, in->webhook_urls) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_payout_param_webhook_secret(r, ctx->auth.tenant_id,
                                             in->webhook_secret, q)
        != NGX_OK
        || ngx_http_payout_param_str(q, in->stage ? "t" : "f") != NGX_OK
        || ngx_http_payout_param_str(q, in->recipient.recipient_uuid)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_payout_recipient_params(r, ctx, &in->recipient,
                                            in->gateway, q);
}


static void
ngx_http_payout_create_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_str_t                  outcome;
    ngx_pool_t                *pool;
    ngx_http_request_t        *r;
    ngx_http_payout_create_t  *cr;

    cr = q->data;
    r = cr->request;

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_CREATE_OUTCOME, &outcome);

    if (ngx_strcmp(outcome.data, "conflict") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_CONFLICT, "idempotency_conflict",
            "This idempotency_key was already used with a different "
            "request body.", "idempotency_key"));
        return;
    }

    if (ngx_strcmp(outcome.data, "recipient_not_found") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_BAD_REQUEST, "recipient_not_found",
            "No such recipient.", "recipient_uuid"));
        return;
    }

    if (ngx_strcmp(outcome.data, "recipient_gateway_mismatch") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_BAD_REQUEST, "recipient_gateway_mismatch",
            "The recipient belongs to another gateway.", "gateway"));
        return;
    }

    cr->created = (ngx_strcmp(outcome.data, "created") == 0);
    ngx_http_payout_metric_created(r, cr->created);
    cr->payout_id = ngx_http_payout_pg_int(res, 0,
                                           NGX_HTTP_PAYOUT_CREATE_PAYOUT_ID);
    pool = r->pool;

    if (ngx_http_payout_pg_copy(pool, res, 0,
                                NGX_HTTP_PAYOUT_CREATE_PAYOUT_UUID,
                                &cr->payout_uuid) != NGX_OK
        || ngx_http_payout_pg_copy(pool, res, 0,
                                   NGX_HTTP_PAYOUT_CREATE_RECIPIENT_UUID,
                                   &cr->recipient_uuid) != NGX_OK
        || ngx_http_payout_pg_copy(pool, res, 0,
                                   NGX_HTTP_PAYOUT_CREATE_SUB_STATUS,
                                   &cr->sub_status) != NGX_OK
        || ngx_http_payout_pg_copy(pool, res, 0,
                                   NGX_HTTP_PAYOUT_CREATE_GATEWAY_PAYOUT_ID,
                                   &cr->gateway_payout_id) != NGX_OK
        || ngx_http_payout_pg_copy(pool, res, 0,
                                   NGX_HTTP_PAYOUT_CREATE_FAILURE_REASON,
                                   &cr->failure_reason) != NGX_OK)
    {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!cr->created
        || ngx_payout_state_parse((char *) cr->sub_status.data,
                                  cr->sub_status.len)
           != NGX_PAYOUT_PENDING_CREATED)
    {
        ngx_http_payout_finalize(r, ngx_http_payout_create_respond(cr));
        return;
    }

    ngx_http_payout_create_send(cr, res);
}


static void
ngx_http_payout_transfer_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_request_t        *r;
    ngx_http_payout_create_t  *cr;

    cr = q->data;
    r = cr->request;

    if (ngx_http_payout_query_row(r, q, res, "No such payout.") != NGX_OK) {
        return;
    }

    if (!ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_TRANSFER_APPLIED)) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_CONFLICT, "invalid_state",
            "Only a staged payout can be transferred.", NULL));
        return;
    }

    cr->created = 1;
    ngx_http_payout_metric_transition(r, NGX_PAYOUT_PENDING_STAGED,
                                      NGX_PAYOUT_PENDING_CREATED);
    cr->payout_id = ngx_http_payout_pg_int(res, 0,
                                           NGX_HTTP_PAYOUT_TRANSFER_PAYOUT_ID);

    if (ngx_http_payout_pg_copy(r->pool, res, 0,
                                NGX_HTTP_PAYOUT_TRANSFER_SUB_STATUS,
                                &cr->sub_status) != NGX_OK
        || ngx_http_payout_pg_copy(r->pool, res, 0,
                                   NGX_HTTP_PAYOUT_TRANSFER_RECIPIENT_UUID,
                                   &cr->recipient_uuid) != NGX_OK)
    {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_payout_create_send(cr, NULL);
}


/* res: the instruction read with the create, or NULL to read it first */

static void
ngx_http_payout_create_send(ngx_http_payout_create_t *cr, PGresult *res)
{
    ngx_int_t                     rc;
    ngx_http_request_t           *r;
    ngx_http_payout_ctx_t        *ctx;
    ngx_http_payout_send_t       *s;
    ngx_http_payout_main_conf_t  *pmcf;

    r = cr->request;
    ctx = ngx_http_payout_get_ctx(r);
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    s = ngx_http_payout_send_create(pmcf, r->connection->log);
    cr->cleanup = ngx_pool_cleanup_add(r->pool, 0);

    if (s == NULL || cr->cleanup == NULL) {
        /* committed as pending_created: the reconciler sends it */
        ngx_http_payout_finalize(r, ngx_http_payout_create_respond(cr));
        return;
    }

    s->tenant_id = ctx->auth.tenant_id;
    s->payout_id = cr->payout_id;
    s->handler = ngx_http_payout_create_sent;
    s->data = cr;

    cr->cleanup->handler = ngx_http_payout_create_cleanup;
    cr->cleanup->data = s;

    if (res) {
        ngx_http_payout_send_start_row(s, res);
        return;
    }

    rc = ngx_http_payout_send_start(s);

    if (rc != NGX_OK) {
        cr->cleanup->handler = NULL;
        ngx_http_payout_finalize(r, ngx_http_payout_create_respond(cr));
    }
}


static void
ngx_http_payout_create_sent(ngx_http_payout_send_t *s)
{
    ngx_http_payout_create_t  *cr;

    cr = s->data;

    /* s goes away after this: the request must not detach it later */
    cr->cleanup->handler = NULL;

    if (s->sub_status.len) {
        cr->sub_status.data = ngx_pstrdup(cr->request->pool, &s->sub_status);
        cr->sub_status.len = s->sub_status.len;
    }

    if (s->gateway_payout_id.len) {
        cr->gateway_payout_id.data = ngx_pstrdup(cr->request->pool,
                                                 &s->gateway_payout_id);
        cr->gateway_payout_id.len = s->gateway_payout_id.len;
    }

    if (s->failure_reason.len) {
        cr->failure_reason.data = ngx_pstrdup(cr->request->pool,
                                              &s->failure_reason);
        cr->failure_reason.len = s->failure_reason.len;
    }

    if (s->next_action.len) {
        cr->next_action.data = ngx_pstrdup(cr->request->pool,
                                           &s->next_action);
        cr->next_action.len = s->next_action.len;
    }

    ngx_http_payout_finalize(cr->request,
                             ngx_http_payout_create_respond(cr));
}


static void
ngx_http_payout_create_cleanup(void *data)
{
    ngx_http_payout_send_detach(data);
}


static ngx_int_t
ngx_http_payout_create_respond(ngx_http_payout_create_t *cr)
{
    json_t              *json;
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = cr->request;

    if (ngx_payout_state_parse((char *) cr->sub_status.data,
                               cr->sub_status.len)
        == NGX_PAYOUT_CANCELED_REJECTED)
    {
        return ngx_http_payout_create_rejected(cr);
    }

    json = json_object();
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(json, "payout_uuid",
        json_stringn((char *) cr->payout_uuid.data, cr->payout_uuid.len));
    json_object_set_new(json, "recipient_uuid", cr->recipient_uuid.data
        ? json_stringn((char *) cr->recipient_uuid.data,
                       cr->recipient_uuid.len)
        : json_null());
    json_object_set_new(json, "status",
        json_stringn((char *) cr->sub_status.data, cr->sub_status.len));
    json_object_set_new(json, "gateway_payout_id", cr->gateway_payout_id.data
        ? json_stringn((char *) cr->gateway_payout_id.data,
                       cr->gateway_payout_id.len)
        : json_null());
    json_object_set_new(json, "resource_created",
                        json_boolean(cr->created));

    if (cr->failure_reason.data) {
        json_object_set_new(json, "failure_reason",
            json_stringn((char *) cr->failure_reason.data,
                         cr->failure_reason.len));
    }

    /* payout_next_action_json()'s object, as get shows it */
    if (cr->next_action.data) {
        json_object_set_new(json, "next_action",
            json_loadb((char *) cr->next_action.data, cr->next_action.len,
                       0, NULL));
    }

    rc = ngx_http_payout_send_json_t(r, NGX_HTTP_CREATED, json);
    json_decref(json);

    return rc;
}


/*
 * Seed 004: a gateway initiation error is a 400.  The payout exists (it
 * ended canceled_rejected), so the error names it; a replay of the create
 * answers the same.
 */

static ngx_int_t
ngx_http_payout_create_rejected(ngx_http_payout_create_t *cr)
{
    json_t  *detail;

    detail = json_object();

    if (detail == NULL
        || json_object_set_new(detail, "payout_uuid",
                               ngx_http_payout_str_json(&cr->payout_uuid))
           != 0
        || json_object_set_new(detail, "sub_status",
                               ngx_http_payout_str_json(&cr->sub_status))
           != 0
        || json_object_set_new(detail, "failure_reason",
                               ngx_http_payout_str_json(&cr->failure_reason))
           != 0
        || json_object_set_new(detail, "resource_created",
                               json_boolean(cr->created))
           != 0)
    {
        json_decref(detail);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_error_detail(cr->request,
               NGX_HTTP_BAD_REQUEST, "gateway_rejected",
               "The gateway rejected the payout; see failure_reason.",
               detail);
}


/* a column copy as JSON: null for a NULL column */

static json_t *
ngx_http_payout_str_json(ngx_str_t *s)
{
    return s->data ? json_stringn((char *) s->data, s->len) : json_null();
}
