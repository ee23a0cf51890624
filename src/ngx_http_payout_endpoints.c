/*
 * A tenant's default webhook endpoints, which get every payout event of
 * the tenant, signed with the endpoint's own "whsec_" secret:
 *
 *   POST   /webhook-endpoints              {"url"}; the secret, once
 *   GET    /webhook-endpoints
 *   POST   /webhook-endpoints/{id}/rotate  a new secret; the old one
 *                                          signs beside it for 24 hours
 *   DELETE /webhook-endpoints/{id}         stop sending to it
 */


#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_secrets.h"


#define NGX_HTTP_PAYOUT_ROTATE_OVERLAP  86400


static const char  ngx_http_payout_ep_create_sql[] =
    "SELECT webhook_endpoint_create("
    "p_tenant => $1, p_livemode => $2, p_url => $3, "
    "p_secret_enc => $4::bytea)";

static const char  ngx_http_payout_ep_list_sql[] =
    "SELECT webhook_endpoints_json(p_tenant => $1, p_livemode => $2)";

static const char  ngx_http_payout_ep_rotate_sql[] =
    "SELECT j FROM webhook_endpoint_rotate("
    "p_tenant => $1, p_livemode => $2, p_id => $3::bigint, "
    "p_secret_enc => $4::bytea, p_overlap => $5) j "
    "WHERE j IS NOT NULL";

static const char  ngx_http_payout_ep_disable_sql[] =
    "SELECT j FROM webhook_endpoint_disable("
    "p_tenant => $1, p_livemode => $2, p_id => $3::bigint) j "
    "WHERE j IS NOT NULL";

/* the one column of each: the endpoint (or the list) as JSON */
enum {
    NGX_HTTP_PAYOUT_EP_JSON = 0
};


typedef struct {
    ngx_http_request_t  *request;
    ngx_uint_t           status;
    ngx_str_t            secret;       /* shown once, or empty */
} ngx_http_payout_ep_t;


static ngx_int_t ngx_http_payout_ep_id(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, long *id);
static ngx_int_t ngx_http_payout_ep_run(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q, ngx_http_payout_ep_t *ep);
static void ngx_http_payout_ep_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);


ngx_int_t
ngx_http_payout_endpoints_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_str_t                     sealed;
    ngx_payout_error_t            err;
    ngx_http_payout_ep_t         *ep;
    ngx_http_payout_pg_query_t   *q;
    ngx_payout_endpoint_input_t   in;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    if (ngx_payout_validate_endpoint(ctx->body,
                                     ngx_http_payout_url_flags(pmcf), &in,
                                     &err)
        != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST, err.code,
                                          err.message, err.field);
    }

    ep = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_ep_t));
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_ep_create_sql);
    if (ep == NULL || q == NULL
        || ngx_http_payout_secret_generate(r, ctx->auth.tenant_id,
                                           "endpoint_secret", &ep->secret,
                                           &sealed) != NGX_OK
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_param_str(q, in.url) != NGX_OK
        || ngx_http_payout_pg_param(q, sealed.data, sealed.len) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ep->status = NGX_HTTP_CREATED;

    return ngx_http_payout_ep_run(r, q, ep);
}


ngx_int_t
ngx_http_payout_endpoints_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_http_payout_ep_t        *ep;
    ngx_http_payout_pg_query_t  *q;

    ep = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_ep_t));
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_ep_list_sql);
    if (ep == NULL || q == NULL
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ep->status = NGX_HTTP_OK;

    return ngx_http_payout_ep_run(r, q, ep);
}


ngx_int_t
ngx_http_payout_endpoints_rotate(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    long                         id;
    ngx_str_t                    sealed;
    ngx_http_payout_ep_t        *ep;
    ngx_http_payout_pg_query_t  *q;

    if (ngx_http_payout_ep_id(r, ctx, &id) != NGX_OK) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_parameter", "Not a valid endpoint id.", "id");
    }

    ep = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_ep_t));
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_ep_rotate_sql);
    if (ep == NULL || q == NULL
        || ngx_http_payout_secret_generate(r, ctx->auth.tenant_id,
                                           "endpoint_secret", &ep->secret,
                                           &sealed) != NGX_OK
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_pg_param_int(q, id) != NGX_OK
        || ngx_http_payout_pg_param(q, sealed.data, sealed.len) != NGX_OK
        || ngx_http_payout_pg_param_int(q, NGX_HTTP_PAYOUT_ROTATE_OVERLAP)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ep->status = NGX_HTTP_OK;

    return ngx_http_payout_ep_run(r, q, ep);
}


ngx_int_t
ngx_http_payout_endpoints_disable(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    long                         id;
    ngx_http_payout_ep_t        *ep;
    ngx_http_payout_pg_query_t  *q;

    if (ngx_http_payout_ep_id(r, ctx, &id) != NGX_OK) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_parameter", "Not a valid endpoint id.", "id");
    }

    ep = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_ep_t));
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_ep_disable_sql);
    if (ep == NULL || q == NULL
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_pg_param_int(q, id) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ep->status = NGX_HTTP_OK;

    return ngx_http_payout_ep_run(r, q, ep);
}


static ngx_int_t
ngx_http_payout_ep_id(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    long *id)
{
    return ngx_payout_parse_long(ctx->args[0].data, ctx->args[0].len, 1,
                                 999999999999999999L, id) == NGX_PAYOUT_OK
           ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_payout_ep_run(ngx_http_request_t *r, ngx_http_payout_pg_query_t *q,
    ngx_http_payout_ep_t *ep)
{

    ep->request = r;
    q->handler = ngx_http_payout_ep_done;
    q->data = ep;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_ep_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    json_t                *json;
    ngx_int_t              rc;
    ngx_str_t              text;
    ngx_http_request_t    *r;
    ngx_http_payout_ep_t  *ep;

    ep = q->data;
    r = ep->request;

    if (ngx_http_payout_query_row(r, q, res, "No such endpoint.") != NGX_OK) {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_EP_JSON, &text);

    json = json_loadb((char *) text.data, text.len, 0, NULL);
    if (json == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the only time the secret is ever shown */
    if (ep->secret.len) {
        json_object_set_new(json, "secret",
                            json_stringn((char *) ep->secret.data,
                                         ep->secret.len));
    }

    rc = ngx_http_payout_send_json_t(r, ep->status, json);
    json_decref(json);

    ngx_http_payout_finalize(r, rc);
}
