/*
 * The $payout_* variables, for log_format and limit_req_zone:
 *
 *   $payout_tenant      the key's tenant name
 *   $payout_uuid        the payout (or resource) uuid: the answer's "uuid"
 *                       or "payout_uuid", else the route's {uuid}
 *   $payout_status      the answer's "status"
 *   $payout_gateway     the gateway named by the request, or the answer's
 *   $payout_route       the route pattern, e.g. /payouts/{uuid}
 *   $payout_error       the error code answered, e.g. invalid_parameter
 *   $payout_key_prefix  the API key's 16-character public prefix, from the
 *                       Authorization header alone (no database), so it
 *                       can key limit_req_zone; never the secret part
 *
 * Each is empty (not found) when the request has none.  The answer's
 * fields come from the JSON the module sent, parsed once, at the first
 * variable that asks (in the log phase).
 */

#include "ngx_http_payout_metrics.h"


static ngx_int_t ngx_http_payout_var_tenant(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_payout_var_field(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_payout_var_gateway(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_payout_var_route(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_payout_var_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_payout_var_key_prefix(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_payout_ctx_t *ngx_http_payout_var_ctx(ngx_http_request_t *r,
    ngx_http_variable_value_t *v);
static json_t *ngx_http_payout_var_json(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static void ngx_http_payout_var_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len);
static void ngx_http_payout_var_string(ngx_http_variable_value_t *v,
    json_t *s);
static void ngx_http_payout_var_cleanup(void *data);


/* an answer larger than this is a list: it names no one payout */
#define NGX_HTTP_PAYOUT_VAR_MAX_JSON  65536


static ngx_http_variable_t  ngx_http_payout_vars[] = {

    { ngx_string("payout_tenant"), NULL, ngx_http_payout_var_tenant, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("payout_uuid"), NULL, ngx_http_payout_var_field,
      (uintptr_t) "uuid", NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("payout_status"), NULL, ngx_http_payout_var_field,
      (uintptr_t) "status", NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("payout_gateway"), NULL, ngx_http_payout_var_gateway, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("payout_route"), NULL, ngx_http_payout_var_route, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("payout_error"), NULL, ngx_http_payout_var_error, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("payout_key_prefix"), NULL, ngx_http_payout_var_key_prefix,
      0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_payout_variables_add(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_payout_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_var_tenant(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (ctx == NULL || ctx->auth.tenant.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_payout_var_set(v, ctx->auth.tenant.data, ctx->auth.tenant.len);

    return NGX_OK;
}


/* "uuid" or "status" of the answer; the route's {uuid} for "uuid" */

static ngx_int_t
ngx_http_payout_var_field(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *json, *field;
    const char             *name;
    ngx_http_payout_ctx_t  *ctx;

    name = (const char *) data;

    ctx = ngx_http_payout_var_ctx(r, v);
    if (ctx == NULL) {
        return NGX_OK;
    }

    json = ngx_http_payout_var_json(r, ctx);
    field = json ? json_object_get(json, name) : NULL;

    /* POST /payouts answers "payout_uuid" */
    if (field == NULL && json && name[0] == 'u') {
        field = json_object_get(json, "payout_uuid");
    }

    if (json_is_string(field)) {
        ngx_http_payout_var_string(v, field);
        return NGX_OK;
    }

    if (name[0] == 'u' && ctx->route
        && ngx_strncmp(ctx->route->pattern, "payouts/{uuid}", 14) == 0
        && ngx_payout_uuid_valid(ctx->args[0].data, ctx->args[0].len))
    {
        ngx_http_payout_var_set(v, ctx->args[0].data, ctx->args[0].len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_var_gateway(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *json;
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_payout_var_ctx(r, v);
    if (ctx == NULL) {
        return NGX_OK;
    }

    if (ctx->gateway) {
        ngx_http_payout_var_set(v, ctx->gateway->name.data,
                                ctx->gateway->name.len);
        return NGX_OK;
    }

    json = ngx_http_payout_var_json(r, ctx);

    if (json) {
        ngx_http_payout_var_string(v, json_object_get(json, "gateway"));
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_var_route(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    size_t                  len;
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_payout_var_ctx(r, v);
    if (ctx == NULL) {
        return NGX_OK;
    }

    if (ctx->route) {
        len = ngx_strlen(ctx->route->pattern) + 1;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(p, "/%s", ctx->route->pattern);
        ngx_http_payout_var_set(v, p, len);

    } else if (ctx->route_label == NGX_HTTP_PAYOUT_ROUTE_HOOKS) {
        ngx_http_payout_var_set(v, (u_char *) "/hooks/{gateway}",
                                sizeof("/hooks/{gateway}") - 1);

    } else if (ctx->route_label == NGX_HTTP_PAYOUT_ROUTE_METRICS) {
        ngx_http_payout_var_set(v, (u_char *) "/metrics",
                                sizeof("/metrics") - 1);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_var_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    json_t                 *json, *error;
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_payout_var_ctx(r, v);
    if (ctx == NULL) {
        return NGX_OK;
    }

    json = ngx_http_payout_var_json(r, ctx);
    error = json ? json_object_get(json, "error") : NULL;

    if (json_is_object(error)) {
        ngx_http_payout_var_string(v, json_object_get(error, "code"));
    }

    return NGX_OK;
}


/*
 * "Bearer sk_test_0123456789ab..." -> "sk_test_01234567": only a key of
 * the right form, so that garbage never becomes a rate-limit bucket of
 * its own; the rest of the key, the secret, never leaves the header.
 */

static ngx_int_t
ngx_http_payout_var_key_prefix(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    int               mode;
    u_char           *p, *end;
    ngx_table_elt_t  *h;

    v->not_found = 1;

    h = r->headers_in.authorization;

    if (h == NULL || h->value.len < 7
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) != 0)
    {
        return NGX_OK;
    }

    p = h->value.data + 7;
    end = h->value.data + h->value.len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    if (ngx_payout_apikey_parse(p, end - p, &mode) != NGX_PAYOUT_OK) {
        return NGX_OK;
    }

    ngx_http_payout_var_set(v, p, NGX_PAYOUT_KEY_PREFIX_LEN);

    return NGX_OK;
}


/* the request's context, the value not found until a variable finds it */

static ngx_http_payout_ctx_t *
ngx_http_payout_var_ctx(ngx_http_request_t *r, ngx_http_variable_value_t *v)
{
    v->not_found = 1;

    return ngx_http_get_module_ctx(r, ngx_http_payout_module);
}


static json_t *
ngx_http_payout_var_json(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    if (ctx->response_json) {
        return json_is_object(ctx->response_json) ? ctx->response_json
                                                  : NULL;
    }

    if (ctx->response.len == 0
        || ctx->response.len > NGX_HTTP_PAYOUT_VAR_MAX_JSON)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ctx->response_json = json_loadb((char *) ctx->response.data,
                                    ctx->response.len, 0, NULL);

    /* unreadable: remembered as such, not parsed again */
    if (ctx->response_json == NULL) {
        ctx->response_json = json_null();
    }

    cln->handler = ngx_http_payout_var_cleanup;
    cln->data = ctx->response_json;

    return json_is_object(ctx->response_json) ? ctx->response_json : NULL;
}


static void
ngx_http_payout_var_string(ngx_http_variable_value_t *v, json_t *s)
{
    if (json_is_string(s) && json_string_length(s)) {
        ngx_http_payout_var_set(v, (u_char *) json_string_value(s),
                                json_string_length(s));
    }
}


static void
ngx_http_payout_var_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}


static void
ngx_http_payout_var_cleanup(void *data)
{
    json_decref(data);
}
