/*
 * The payouts resource: GET /payouts (through the list engine,
 * ngx_http_payout_list.c, over the payouts' whitelists) and
 * GET /payouts/{uuid}, plus the helpers every {uuid} route shares.
 */

#include "ngx_http_payout_list.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_render.h"


static void ngx_http_payout_get_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_payouts_get_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_uuid_start(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const char *sql,
    ngx_http_payout_pg_handler_pt handler);


/* the payout's plain columns, rendered in C (ngx_http_payout_render.c) */
static const char  ngx_http_payout_get_sql[] =
    NGX_HTTP_PAYOUT_RENDER_SQL
    "WHERE p.tenant_id = $1 AND p.livemode = $2 AND p.uuid = $3::uuid";

/* the one column of every ngx_http_payout_get_json() SQL */
enum {
    NGX_HTTP_PAYOUT_GET_JSON = 0
};


static const ngx_payout_filter_column_t  ngx_http_payout_payout_filters[] = {
    { "status", "p.status", NGX_PAYOUT_FILTER_TEXT },
    { "sub_status", "p.sub_status", NGX_PAYOUT_FILTER_TEXT },
    { "currency", "p.currency::text", NGX_PAYOUT_FILTER_TEXT },
    { "amount", "p.amount", NGX_PAYOUT_FILTER_INT },
    { "gateway", "p.gateway", NGX_PAYOUT_FILTER_TEXT },
    { "recipient_uuid",
      "(SELECT r.uuid FROM recipients r WHERE r.id = p.recipient_id)",
      NGX_PAYOUT_FILTER_UUID },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "updated_at", "p.updated_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "gateway_payout_id", "p.gateway_payout_id", NGX_PAYOUT_FILTER_TEXT },
    { "uuid", "p.uuid", NGX_PAYOUT_FILTER_UUID },
    { NULL, NULL, 0 }
};


static const ngx_payout_filter_column_t  ngx_http_payout_payout_search[] = {
    { "narration", "p.narration", NGX_PAYOUT_FILTER_TEXT },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "gateway_payout_id", "p.gateway_payout_id", NGX_PAYOUT_FILTER_TEXT },
    { NULL, NULL, 0 }
};


/* the keys of payout_json(), in its order */

static const char *const  ngx_http_payout_payout_select[] = {
    "id", "uuid", "tenant_id", "amount", "currency", "gateway", "status",
    "sub_status", "narration", "metadata", "idempotency_key",
    "gateway_payout_id", "failure_reason", "webhook_urls", "livemode",
    "recipient_uuid", "recipient", "created_at", "updated_at", NULL
};


static const ngx_http_payout_list_def_t  ngx_http_payout_payouts_def = {
    "payouts", "payout_json", ngx_http_payout_payout_filters,
    ngx_http_payout_payout_search, ngx_http_payout_payout_select,
    "select takes comma-separated fields of a payout, such as id, uuid, "
    "amount, status or created_at; recipient is the whole, masked, "
    "recipient, whose own fields cannot be picked.", 1
};


ngx_int_t
ngx_http_payout_payouts_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_list(r, ctx, &ngx_http_payout_payouts_def);
}


ngx_int_t
ngx_http_payout_payouts_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_uuid_start(r, ctx, ngx_http_payout_get_sql,
                                      ngx_http_payout_payouts_get_done);
}


static void
ngx_http_payout_payouts_get_done(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_str_t            json;
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res, "No such resource.") != NGX_OK) {
        return;
    }

    if (ngx_http_payout_render_payouts(r->pool, res, 0, 0, &json) != NGX_OK) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_send_json(r, NGX_HTTP_OK,
                                                          json.data,
                                                          json.len));
}


ngx_int_t
ngx_http_payout_pg_param_scope(ngx_http_payout_pg_query_t *q,
    ngx_http_payout_ctx_t *ctx)
{
    if (ngx_http_payout_pg_param_int(q, ctx->auth.tenant_id) != NGX_OK
        || ngx_http_payout_pg_param_bool(q, ctx->auth.livemode) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A query about the resource named by the {uuid} in the path: $1 is the
 * tenant, $2 the key's livemode, $3 the uuid.  NULL when there is none,
 * with *rc the response already given or to give (400 for a malformed
 * uuid).
 */

ngx_http_payout_pg_query_t *
ngx_http_payout_uuid_query(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const char *sql, ngx_int_t *rc)
{
    ngx_http_payout_pg_query_t  *q;

    if (!ngx_payout_uuid_valid(ctx->args[0].data, ctx->args[0].len)) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_parameter", "Not a valid UUID.", "uuid");
        return NULL;
    }

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log, sql);
    if (q == NULL
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_pg_param(q, ctx->args[0].data, ctx->args[0].len)
           != NGX_OK)
    {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    return q;
}


/*
 * GET of one resource: $1 tenant, $2 livemode, $3 uuid; the SQL returns
 * its JSON.  Another tenant's or mode's resource answers exactly like an
 * unknown one.
 */

ngx_int_t
ngx_http_payout_get_json(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const char *sql)
{
    return ngx_http_payout_uuid_start(r, ctx, sql, ngx_http_payout_get_done);
}


/* the {uuid} query started, its handler called with the request as data */

static ngx_int_t
ngx_http_payout_uuid_start(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const char *sql, ngx_http_payout_pg_handler_pt handler)
{
    ngx_int_t                    rc;
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_uuid_query(r, ctx, sql, &rc);
    if (q == NULL) {
        return rc;
    }

    q->handler = handler;
    q->data = r;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_get_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    u_char              *body;
    ngx_str_t            json;
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res, "No such resource.") != NGX_OK) {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_GET_JSON, &json);

    body = ngx_pnalloc(r->pool, json.len);
    if (body == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(body, json.data, json.len);

    ngx_http_payout_finalize(r, ngx_http_payout_send_json(r, NGX_HTTP_OK,
                                                          body, json.len));
}
