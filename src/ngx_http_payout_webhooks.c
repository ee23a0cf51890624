/*
 * The deliveries of a payout's webhooks, for merchants:
 *
 *   GET  /payouts/{uuid}/webhooks                  every delivery, with
 *                                                  its attempts
 *   POST /payouts/{uuid}/webhooks/{id}/redeliver   the same event (same
 *                                                  webhook-id) once more
 */

#include "ngx_http_payout_gateway.h"


static const char  ngx_http_payout_webhooks_sql[] =
    "SELECT j FROM webhook_deliveries_json("
    "p_tenant => $1, p_livemode => $2, p_uuid => $3::uuid) j "
    "WHERE j IS NOT NULL";

static const char  ngx_http_payout_redeliver_sql[] =
    "SELECT id FROM webhook_redeliver("
    "p_tenant => $1, p_livemode => $2, p_uuid => $3::uuid, "
    "p_delivery => $4::bigint) id "
    "WHERE id IS NOT NULL";

enum {
    NGX_HTTP_PAYOUT_REDELIVER_ID = 0
};


static void ngx_http_payout_redelivered(ngx_http_payout_pg_query_t *q,
    PGresult *res);


ngx_int_t
ngx_http_payout_webhooks_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_get_json(r, ctx, ngx_http_payout_webhooks_sql);
}


ngx_int_t
ngx_http_payout_webhooks_redeliver(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    long                         id;
    ngx_http_payout_pg_query_t  *q;

    if (!ngx_payout_uuid_valid(ctx->args[0].data, ctx->args[0].len)) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_parameter", "Not a valid payout UUID.", "uuid");
    }

    if (ngx_payout_parse_long(ctx->args[1].data, ctx->args[1].len, 1,
                              999999999999999999L, &id) != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_parameter", "Not a valid delivery id.", "id");
    }

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_redeliver_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_pg_param(q, ctx->args[0].data, ctx->args[0].len)
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, id) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_redelivered;
    q->data = r;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_redelivered(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    u_char              *body, *last;
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res, "No such delivery.") != NGX_OK) {
        return;
    }

    body = ngx_pnalloc(r->pool, 64);
    if (body == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    last = ngx_sprintf(body, "{\"id\":%L,\"state\":\"pending\"}",
                       ngx_http_payout_pg_int(res, 0,
                                              NGX_HTTP_PAYOUT_REDELIVER_ID));

    ngx_http_payout_finalize(r, ngx_http_payout_send_json(r,
                                    NGX_HTTP_ACCEPTED, body, last - body));
}
