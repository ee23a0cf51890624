/*
 * Recipients: POST /payout-recipients (create-or-reuse by fingerprint,
 * with the same one-of rules as payouts), GET /payout-recipients (through
 * the list engine, over the recipients' whitelists) and
 * GET /payout-recipients/{uuid}.
 */

#include "ngx_http_payout_recipients.h"
#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_secrets.h"
#include "ngx_http_payout_list.h"


static const char  ngx_http_payout_recipient_create_sql[] =
    "SELECT outcome, body FROM payout_recipient_create("
    "p_tenant => $1::bigint, p_livemode => $2::boolean, p_gateway => $3, "
    "p_type => $4, p_fingerprint => $5::bytea, p_name => $6, p_email => $7, "
    "p_phone => $8, p_bank_code => $9, p_bank_name => $10, "
    "p_bank_account_name => $11, p_account_enc => $12::bytea, "
    "p_account_last4 => $13, p_mm_provider => $14, p_mm_enc => $15::bytea, "
    "p_mm_last4 => $16, p_account_id => $17, p_country => $18, "
    "p_balance_id => $19, p_idempotency_key => $20, "
    "p_metadata => $21::jsonb)";

enum {
    NGX_HTTP_PAYOUT_RECIPIENT_CREATE_OUTCOME = 0,
    NGX_HTTP_PAYOUT_RECIPIENT_CREATE_BODY
};

static const char  ngx_http_payout_recipient_get_sql[] =
    "SELECT payout_recipient_json(p) FROM recipients p "
    "WHERE p.tenant_id = $1 AND p.livemode = $2 AND p.uuid = $3::uuid";


static void ngx_http_payout_recipient_created(ngx_http_payout_pg_query_t *q,
    PGresult *res);


static const ngx_payout_filter_column_t  ngx_http_payout_recipient_filters[] =
{
    { "recipient_type", "p.recipient_type", NGX_PAYOUT_FILTER_TEXT },
    { "gateway", "p.gateway", NGX_PAYOUT_FILTER_TEXT },
    { "name", "p.name", NGX_PAYOUT_FILTER_TEXT },
    { "email", "p.email", NGX_PAYOUT_FILTER_TEXT },
    { "bank_code", "p.bank_code", NGX_PAYOUT_FILTER_TEXT },
    { "account_id", "p.account_id", NGX_PAYOUT_FILTER_TEXT },
    { "balance_id", "p.balance_id", NGX_PAYOUT_FILTER_TEXT },
    { "country", "p.country", NGX_PAYOUT_FILTER_TEXT },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "uuid", "p.uuid", NGX_PAYOUT_FILTER_UUID },
    { NULL, NULL, 0 }
};


/* plain-text columns only: account and wallet numbers are encrypted */

static const ngx_payout_filter_column_t  ngx_http_payout_recipient_search[] =
{
    { "name", "p.name", NGX_PAYOUT_FILTER_TEXT },
    { "email", "p.email", NGX_PAYOUT_FILTER_TEXT },
    { "bank_name", "p.bank_name", NGX_PAYOUT_FILTER_TEXT },
    { "bank_account_name", "p.bank_account_name", NGX_PAYOUT_FILTER_TEXT },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { NULL, NULL, 0 }
};


/* the keys of payout_recipient_json(), in its order */

static const char *const  ngx_http_payout_recipient_select[] = {
    "uuid", "tenant_id", "gateway", "recipient_type", "name", "email",
    "phone", "bank_code", "bank_name", "bank_account_name",
    "bank_account_number", "mobile_money_provider", "mobile_money_number",
    "account_id", "balance_id", "country", "gateway_recipient_code",
    "idempotency_key", "metadata", "livemode", "created_at", "updated_at",
    NULL
};


static const ngx_http_payout_list_def_t  ngx_http_payout_recipients_def = {
    "recipients", "payout_recipient_json",
    ngx_http_payout_recipient_filters, ngx_http_payout_recipient_search,
    ngx_http_payout_recipient_select,
    "select takes comma-separated fields of a recipient, such as uuid, "
    "name, recipient_type or bank_account_number (masked).", 0
};


ngx_int_t
ngx_http_payout_recipients_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_list(r, ctx, &ngx_http_payout_recipients_def);
}


ngx_int_t
ngx_http_payout_recipients_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_payout_error_t             err;
    ngx_http_payout_pg_query_t    *q;
    ngx_payout_recipient_input_t   in;

    if (ngx_payout_validate_recipient(ctx->body, &in, &err)
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

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                   ngx_http_payout_recipient_create_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_param_str(q, in.gateway) != NGX_OK
        || ngx_http_payout_recipient_params(r, ctx, &in, in.gateway, q)
           != NGX_OK
        || ngx_http_payout_param_str(q, in.idempotency_key) != NGX_OK
        || ngx_http_payout_param_json(q, in.metadata) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_recipient_created;
    q->data = r;

    return ngx_http_payout_pg_start(r, q);
}


ngx_int_t
ngx_http_payout_recipients_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_get_json(r, ctx,
                                    ngx_http_payout_recipient_get_sql);
}


static void
ngx_http_payout_recipient_created(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    json_t              *json;
    ngx_int_t            rc;
    ngx_str_t            outcome, body;
    ngx_uint_t           created;
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_RECIPIENT_CREATE_OUTCOME,
                            &outcome);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_RECIPIENT_CREATE_BODY,
                            &body);

    if (ngx_strcmp(outcome.data, "conflict") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_CONFLICT, "idempotency_conflict",
            "This idempotency_key was already used for another recipient.",
            "idempotency_key"));
        return;
    }

    created = (ngx_strcmp(outcome.data, "created") == 0);

    json = json_loadb((char *) body.data, body.len, 0, NULL);
    if (json == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json_object_set_new(json, "resource_created", json_boolean(created));

    rc = ngx_http_payout_send_json_t(r, created ? NGX_HTTP_CREATED
                                                : NGX_HTTP_OK, json);
    json_decref(json);

    ngx_http_payout_finalize(r, rc);
}


/*
 * The inline recipient's parameters (a payout's $14..$29): type,
 * fingerprint, contact and bank details, the sealed number and its last
 * four, account_id, country and balance_id.  All NULL when the payout
 * names an existing recipient; a connected account or a balance has no
 * number.
 */

ngx_int_t
ngx_http_payout_recipient_params(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_payout_recipient_input_t *rc,
    const char *gateway, ngx_http_payout_pg_query_t *q)
{
    u_char                        fp_hex[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN];
    ngx_str_t                     sealed;
    ngx_uint_t                    i, bank;
    const char                   *number;
    ngx_http_payout_main_conf_t  *pmcf;

    if (rc->type == NGX_PAYOUT_RECIPIENT_NONE) {
        for (i = 14; i <= 29; i++) {
            ngx_http_payout_pg_param_null(q);
        }

        return NGX_OK;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);
    bank = (rc->type == NGX_PAYOUT_RECIPIENT_BANK);
    number = bank ? rc->account_number : rc->mobile_number;

    /* the same destination at the same gateway is the same recipient */
    if (ngx_http_payout_recipient_fingerprint(r, ctx->auth.tenant_id,
                                              gateway, rc, fp_hex)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_payout_param_str(q, ngx_payout_recipient_type_name(
                                         rc->type)) != NGX_OK
        || ngx_http_payout_pg_param(q, fp_hex, sizeof(fp_hex)) != NGX_OK
        || ngx_http_payout_param_str(q, rc->name) != NGX_OK
        || ngx_http_payout_param_str(q, rc->email) != NGX_OK
        || ngx_http_payout_param_str(q, rc->phone) != NGX_OK
        || ngx_http_payout_param_str(q, rc->bank_code) != NGX_OK
        || ngx_http_payout_param_str(q, rc->bank_name) != NGX_OK
        || ngx_http_payout_param_str(q, rc->bank_account_name) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rc->type == NGX_PAYOUT_RECIPIENT_CONNECTED
        || rc->type == NGX_PAYOUT_RECIPIENT_BALANCE)
    {
        for (i = 22; i <= 26; i++) {
            ngx_http_payout_pg_param_null(q);
        }

    } else if (ngx_http_payout_seal_number(pmcf, r->pool,
                   ctx->auth.tenant_id,
                   bank ? "account_number" : "mobile_money_number",
                   (u_char *) number, ngx_strlen(number), &sealed)
               != NGX_OK)
    {
        return NGX_ERROR;

    } else if (bank) {
        if (ngx_http_payout_pg_param(q, sealed.data, sealed.len) != NGX_OK
            || ngx_http_payout_param_str(q, ngx_payout_last4(number))
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_payout_pg_param_null(q);
        ngx_http_payout_pg_param_null(q);
        ngx_http_payout_pg_param_null(q);

    } else {
        ngx_http_payout_pg_param_null(q);
        ngx_http_payout_pg_param_null(q);

        if (ngx_http_payout_param_str(q, rc->mobile_money_provider)
            != NGX_OK
            || ngx_http_payout_pg_param(q, sealed.data, sealed.len)
               != NGX_OK
            || ngx_http_payout_param_str(q, ngx_payout_last4(number))
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_payout_param_str(q, rc->account_id) != NGX_OK
        || ngx_http_payout_param_str(q, rc->country) != NGX_OK
        || ngx_http_payout_param_str(q, rc->balance_id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
