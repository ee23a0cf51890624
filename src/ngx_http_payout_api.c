/*
 * The API location: routing, body reading, and the order every request
 * goes through: route -> method -> content type -> key's form -> body
 * read -> key looked up -> JSON parsed -> handler.  The body is read (or
 * discarded) for keep-alive whatever happens, but only an authenticated
 * request's is parsed.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_links.h"


static ngx_int_t ngx_http_payout_api_handler(ngx_http_request_t *r);
static void ngx_http_payout_api_body_handler(ngx_http_request_t *r);
static void ngx_http_payout_run_route(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_api_parse(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_int_t *rc);
static ngx_int_t ngx_http_payout_api_path(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_uint_t ngx_http_payout_route_match(const char *pattern,
    ngx_str_t *path, ngx_str_t *args);
static ngx_int_t ngx_http_payout_not_allowed(ngx_http_request_t *r,
    ngx_uint_t allowed);
static ngx_int_t ngx_http_payout_json_content_type(ngx_http_request_t *r);
static void ngx_http_payout_json_cleanup(void *data);


ngx_http_payout_route_t  ngx_http_payout_routes[] = {

    { NGX_HTTP_GET, "health", ngx_http_payout_health, 1, 0 },
    { NGX_HTTP_GET, "payouts", ngx_http_payout_payouts_list, 0, 0 },
    { NGX_HTTP_POST, "payouts", ngx_http_payout_payouts_create, 0, 1 },
    { NGX_HTTP_GET, "payouts/{uuid}", ngx_http_payout_payouts_get, 0, 0 },
    { NGX_HTTP_GET, "payouts/{uuid}/status", ngx_http_payout_payouts_status,
      0, 0 },
    { NGX_HTTP_POST, "payouts/{uuid}/transfer",
      ngx_http_payout_payouts_transfer, 0, 0 },
    { NGX_HTTP_POST, "payouts/{uuid}/cancel", ngx_http_payout_payouts_cancel,
      0, 0 },
    { NGX_HTTP_POST, "payouts/{uuid}/finalize",
      ngx_http_payout_payouts_finalize, 0, 1 },
    { NGX_HTTP_GET, "payouts/{uuid}/webhooks", ngx_http_payout_webhooks_list,
      0, 0 },
    { NGX_HTTP_GET, "payouts/{uuid}/events", ngx_http_payout_payouts_events,
      0, 0 },
    { NGX_HTTP_POST, "payouts/{uuid}/webhooks/{id}/redeliver",
      ngx_http_payout_webhooks_redeliver, 0, 0 },
    { NGX_HTTP_GET, "webhook-endpoints", ngx_http_payout_endpoints_list,
      0, 0 },
    { NGX_HTTP_POST, "webhook-endpoints", ngx_http_payout_endpoints_create,
      0, 1 },
    { NGX_HTTP_POST, "webhook-endpoints/{id}/rotate",
      ngx_http_payout_endpoints_rotate, 0, 0 },
    { NGX_HTTP_DELETE, "webhook-endpoints/{id}",
      ngx_http_payout_endpoints_disable, 0, 0 },
    { NGX_HTTP_GET, "payout-recipients", ngx_http_payout_recipients_list,
      0, 0 },
    { NGX_HTTP_POST, "payout-recipients", ngx_http_payout_recipients_create,
      0, 1 },
    { NGX_HTTP_GET, "payout-recipients/{uuid}",
      ngx_http_payout_recipients_get, 0, 0 },
    { NGX_HTTP_POST, "payout-recipients/{uuid}/accounts",
      ngx_http_payout_recipients_enroll, 0, 0 },
    { NGX_HTTP_GET, "payout-links", ngx_http_payout_links_list, 0, 0 },
    { NGX_HTTP_POST, "payout-links", ngx_http_payout_links_create, 0, 1 },
    { NGX_HTTP_GET, "payout-links/{uuid}", ngx_http_payout_links_get, 0, 0 },
    { NGX_HTTP_POST, "payout-links/{uuid}/cancel",
      ngx_http_payout_links_cancel, 0, 0 },

    { 0, NULL, NULL, 0, 0 }
};


static const struct {
    ngx_uint_t   method;
    const char  *name;
} ngx_http_payout_method_names[] = {
    { NGX_HTTP_GET, "GET" },
    { NGX_HTTP_HEAD, "HEAD" },
    { NGX_HTTP_POST, "POST" },
    { NGX_HTTP_PUT, "PUT" },
    { NGX_HTTP_PATCH, "PATCH" },
    { NGX_HTTP_DELETE, "DELETE" },
    { 0, NULL }
};


char *
ngx_http_payout_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_payout_set_location(cf, conf,
                                        ngx_http_payout_api_handler);
}


/*
 * A location served by the module: its handler, JSON errors, and routes
 * relative to the location's directory, so "location /v1/" and
 * "location = /v1/health" both route "health".
 */

char *
ngx_http_payout_set_location(ngx_conf_t *cf,
    ngx_http_payout_loc_conf_t *plcf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (plcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = handler;

    plcf->api = 1;
    plcf->api_prefix = clcf->name;

    while (plcf->api_prefix.len
           && plcf->api_prefix.data[plcf->api_prefix.len - 1] != '/')
    {
        plcf->api_prefix.len--;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_payout_api_handler(ngx_http_request_t *r)
{
    return ngx_http_payout_route(r, ngx_http_payout_routes);
}


ngx_int_t
ngx_http_payout_route(ngx_http_request_t *r, ngx_http_payout_route_t *routes)
{
    ngx_int_t                 rc;
    ngx_uint_t                allowed, method;
    const char               *problem;
    ngx_http_payout_ctx_t    *ctx;
    ngx_http_payout_route_t  *route;

    ctx = ngx_http_payout_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_payout_api_path(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    method = (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;
    allowed = 0;

    for (route = routes; route->pattern; route++) {
        if (!ngx_http_payout_route_match(route->pattern, &ctx->path,
                                         ctx->args))
        {
            continue;
        }

        if (route->method == method) {
            ctx->route = route;
            break;
        }

        allowed |= route->method;
    }

    /* the path only: the query string may hold anything */
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout api: %V \"%V\": %s", &r->method_name,
                   &ctx->path,
                   ctx->route ? ctx->route->pattern
                   : allowed ? "method not allowed" : "no route");

    if (ctx->route == NULL) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (allowed) {
            return ngx_http_payout_not_allowed(r, allowed);
        }

        return ngx_http_payout_send_error(r, NGX_HTTP_NOT_FOUND,
                                          "route_not_found",
                                          "No such API route.", NULL);
    }

    if (ctx->route->json_body && !ngx_http_payout_json_content_type(r)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "payout api: body is not application/json");

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_payout_send_error(r,
                                    NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                    "unsupported_media_type",
                                    "Send the body as application/json.",
                                    NULL);
    }

    /* a request without a well-formed key is not even read */
    problem = ctx->route->public ? NULL : ngx_http_payout_auth_problem(r);

    if (problem) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "payout api: key refused before reading the body");

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_payout_unauthorized(r, problem);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout api: reading the body");

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_payout_api_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_payout_api_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_payout_get_ctx(r);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout api: body read");

    if (ctx->route->public) {
        ngx_http_payout_run_route(r, ctx);
        return;
    }

    rc = ngx_http_payout_authenticate(r, ctx, ngx_http_payout_run_route);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* the request is authenticated (or public): parse its body, then serve */

static void
ngx_http_payout_run_route(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ngx_http_payout_api_parse(r, ctx, &rc) == NGX_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "payout api: running \"%s\"", ctx->route->pattern);

        rc = ctx->route->handler(r, ctx);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout api: handler returned %i", rc);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/* NGX_DECLINED: the body was refused, and *rc is what to finalize with */

static ngx_int_t
ngx_http_payout_api_parse(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    ngx_int_t *rc)
{
    char                 err[256];
    ngx_str_t            body;
    ngx_pool_cleanup_t  *cln;

    if (!ctx->route->json_body) {
        return NGX_OK;
    }

    *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (ngx_http_payout_read_request_body(r, &body) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->body = ngx_payout_json_parse_body(body.data, body.len,
                                           err, sizeof(err));

    /* not the parser's message: it may quote the body ("near '...'") */
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout api: JSON body of %uz bytes %s", body.len,
                   ctx->body ? "parsed" : "refused");

    if (ctx->body == NULL) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_json", err, NULL);
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(ctx->body);
        ctx->body = NULL;
        return NGX_DECLINED;
    }

    cln->handler = ngx_http_payout_json_cleanup;
    cln->data = ctx->body;

    return NGX_OK;
}


/* the URI below the location prefix, without a trailing slash */

static ngx_int_t
ngx_http_payout_api_path(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    ngx_str_t                    path, *prefix;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);
    prefix = &plcf->api_prefix;

    path = r->uri;

    if (prefix->len && path.len >= prefix->len
        && ngx_strncmp(path.data, prefix->data, prefix->len) == 0)
    {
        path.data += prefix->len;
        path.len -= prefix->len;
    }

    while (path.len && path.data[0] == '/') {
        path.data++;
        path.len--;
    }

    if (path.len && path.data[path.len - 1] == '/') {
        path.len--;
    }

    ctx->path = path;

    return NGX_OK;
}


/*
 * "payouts/{uuid}/status" matches "payouts/<any segment>/status"; the
 * segments in braces land in args, for the handler to validate.
 */

static ngx_uint_t
ngx_http_payout_route_match(const char *pattern, ngx_str_t *path,
    ngx_str_t *args)
{
    u_char      *p, *end, *seg;
    size_t       len;
    ngx_uint_t   nargs;
    const char  *pat, *pend;

    p = path->data;
    end = path->data + path->len;
    pat = pattern;
    nargs = 0;

    for ( ;; ) {
        pend = pat;
        while (*pend && *pend != '/') {
            pend++;
        }

        seg = p;
        while (p < end && *p != '/') {
            p++;
        }

        len = p - seg;

        if (*pat == '{') {
            if (len == 0 || nargs == 2) {
                return 0;
            }

            args[nargs].data = seg;
            args[nargs].len = len;
            nargs++;

        } else if ((size_t) (pend - pat) != len
                   || ngx_strncmp(seg, pat, len) != 0)
        {
            return 0;
        }

        if (*pend == '\0' || p == end) {
            return *pend == '\0' && p == end;
        }

        pat = pend + 1;
        p++;
    }
}


static ngx_int_t
ngx_http_payout_not_allowed(ngx_http_request_t *r, ngx_uint_t allowed)
{
    u_char      *p, *start;
    ngx_uint_t   i;

    if (allowed & NGX_HTTP_GET) {
        allowed |= NGX_HTTP_HEAD;
    }

    start = ngx_pnalloc(r->pool, 64);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = start;

    for (i = 0; ngx_http_payout_method_names[i].name; i++) {
        if (!(allowed & ngx_http_payout_method_names[i].method)) {
            continue;
        }

        if (p != start) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, ngx_http_payout_method_names[i].name,
                       ngx_strlen(ngx_http_payout_method_names[i].name));
    }

    *p = '\0';

    if (ngx_http_payout_add_header(r, "Allow", (char *) start) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                      "method_not_allowed",
                                      "This method is not allowed on this "
                                      "route; see the Allow header.", NULL);
}


static ngx_int_t
ngx_http_payout_json_content_type(ngx_http_request_t *r)
{
    u_char           c;
    ngx_table_elt_t  *ct;

    static const char  json[] = "application/json";

    ct = r->headers_in.content_type;

    if (ct == NULL || ct->value.len < sizeof(json) - 1
        || ngx_strncasecmp(ct->value.data, (u_char *) json,
                           sizeof(json) - 1) != 0)
    {
        return 0;
    }

    if (ct->value.len == sizeof(json) - 1) {
        return 1;
    }

    c = ct->value.data[sizeof(json) - 1];

    return c == ';' || c == ' ' || c == '\t';
}


static void
ngx_http_payout_json_cleanup(void *data)
{
    json_decref(data);
}
