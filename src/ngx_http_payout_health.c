/*
 * GET /v1/health: unauthenticated, for load balancers.  200 when a
 * database round trip succeeds, 503 (with Retry-After) when it does not.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"


static void ngx_http_payout_health_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_health_send(ngx_http_request_t *r,
    ngx_uint_t up);


ngx_int_t
ngx_http_payout_health(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        "SELECT 1");
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_health_done;
    q->data = r;

    rc = ngx_http_payout_pg_run_for_request(r, q);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_health_send(r, 0);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


static void
ngx_http_payout_health_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_request_t  *r;

    r = q->data;

    ngx_http_payout_finalize(r, ngx_http_payout_health_send(r,
                                 q->status == NGX_HTTP_PAYOUT_PG_OK));
}


static ngx_int_t
ngx_http_payout_health_send(ngx_http_request_t *r, ngx_uint_t up)
{
    static u_char  ok[] = "{\"status\":\"ok\",\"database\":\"up\"}";
    static u_char  down[] = "{\"status\":\"unavailable\","
                            "\"database\":\"down\"}";

    if (up) {
        return ngx_http_payout_send_json(r, NGX_HTTP_OK, ok, sizeof(ok) - 1);
    }

    if (ngx_http_payout_set_retry_after(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     down, sizeof(down) - 1);
}
