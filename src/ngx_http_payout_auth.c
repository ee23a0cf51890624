/*
 * API key authentication.  "Authorization: Bearer sk_test_..." is looked
 * up by its non-secret prefix; the SHA-256 of the whole key is then
 * compared in constant time here, so no database index ever orders by a
 * secret-derived value.
 */

#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_pg.h"


static const char  ngx_http_payout_auth_sql[] =
    "SELECT k.tenant_id, k.mode, encode(k.key_hash, 'hex'), t.name "
    "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
    "WHERE k.key_prefix = $1 AND k.revoked_at IS NULL";

enum {
    NGX_HTTP_PAYOUT_AUTH_TENANT_ID = 0,
    NGX_HTTP_PAYOUT_AUTH_MODE,
    NGX_HTTP_PAYOUT_AUTH_KEY_HASH,
    NGX_HTTP_PAYOUT_AUTH_TENANT_NAME
};


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_payout_auth_done_pt   done;
    u_char                         hash[NGX_PAYOUT_KEY_HASH_LEN];
} ngx_http_payout_auth_query_t;


static const char *ngx_http_payout_auth_key(ngx_http_request_t *r,
    ngx_str_t *key, int *mode);
static void ngx_http_payout_auth_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);


/*
 * The checks that need no database: the header is there, uses Bearer and
 * holds a well-formed key.  NULL when it does, else what is wrong.  The
 * API runs them before it reads the body.
 */

const char *
ngx_http_payout_auth_problem(ngx_http_request_t *r)
{
    int        mode;
    ngx_str_t  key;

    return ngx_http_payout_auth_key(r, &key, &mode);
}


static const char *
ngx_http_payout_auth_key(ngx_http_request_t *r, ngx_str_t *key, int *mode)
{
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL) {
        return "Missing API key: send \"Authorization: Bearer <key>\".";
    }

    *key = h->value;

    if (key->len < 7
        || ngx_strncasecmp(key->data, (u_char *) "Bearer ", 7) != 0)
    {
        return "The Authorization header must use the Bearer scheme.";
    }

    key->data += 7;
    key->len -= 7;

    while (key->len && key->data[0] == ' ') {
        key->data++;
        key->len--;
    }

    while (key->len && key->data[key->len - 1] == ' ') {
        key->len--;
    }

    if (ngx_payout_apikey_parse(key->data, key->len, mode) != NGX_PAYOUT_OK)
    {
        return "Invalid API key.";
    }

    return NULL;
}


ngx_int_t
ngx_http_payout_authenticate(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_http_payout_auth_done_pt done)
{
    int                            mode;
    ngx_str_t                      key;
    const char                    *problem;
    ngx_http_payout_pg_query_t    *q;
    ngx_http_payout_auth_query_t  *aq;

    problem = ngx_http_payout_auth_key(r, &key, &mode);

    if (problem) {
        return ngx_http_payout_unauthorized(r, problem);
    }

    aq = ngx_palloc(r->pool, sizeof(ngx_http_payout_auth_query_t));
    if (aq == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    aq->request = r;
    aq->done = done;
    ngx_payout_apikey_hash(key.data, key.len, aq->hash);

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_auth_sql);
    if (q == NULL
        || ngx_http_payout_pg_param(q, key.data, NGX_PAYOUT_KEY_PREFIX_LEN)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_auth_done;
    q->data = aq;

    ctx->auth.livemode = (mode == NGX_PAYOUT_KEY_MODE_LIVE);

    /* the prefix only, which is not secret: never the key itself */
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout auth: looking up the %s key \"%*s...\"",
                   ctx->auth.livemode ? "live" : "test",
                   (size_t) NGX_PAYOUT_KEY_PREFIX_LEN, key.data);

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_auth_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int                            i, n;
    u_char                         hash[NGX_PAYOUT_KEY_HASH_LEN];
    ngx_str_t                      hex;
    ngx_connection_t              *c;
    ngx_http_request_t            *r;
    ngx_http_payout_ctx_t         *ctx;
    ngx_http_payout_auth_query_t  *aq;

    aq = q->data;
    r = aq->request;
    ctx = ngx_http_payout_get_ctx(r);

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        ngx_http_payout_finalize(r, ngx_http_payout_pg_failure(r, q));
        return;
    }

    n = PQntuples(res);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout auth: %d keys have the prefix", n);

    for (i = 0; i < n; i++) {
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_AUTH_KEY_HASH, &hex);

        if (hex.len != 2 * NGX_PAYOUT_KEY_HASH_LEN
            || ngx_payout_hex_decode((char *) hex.data,
                                     2 * NGX_PAYOUT_KEY_HASH_LEN, hash)
               != NGX_PAYOUT_OK
            || !ngx_payout_apikey_hash_equal(hash, aq->hash))
        {
            continue;
        }

        ctx->auth.tenant_id = ngx_http_payout_pg_int(res, i,
                                              NGX_HTTP_PAYOUT_AUTH_TENANT_ID);

        if (ngx_http_payout_pg_copy(r->pool, res, i,
                                    NGX_HTTP_PAYOUT_AUTH_TENANT_NAME,
                                    &ctx->auth.tenant)
            != NGX_OK)
        {
            ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "payout auth: tenant %i \"%V\", %s mode",
                       ctx->auth.tenant_id, &ctx->auth.tenant,
                       ctx->auth.livemode ? "live" : "test");

        c = r->connection;

        aq->done(r, ctx);
        ngx_http_run_posted_requests(c);
        return;
    }

    ngx_http_payout_finalize(r,
        ngx_http_payout_unauthorized(r, "Unknown or revoked API key."));
}


ngx_int_t
ngx_http_payout_unauthorized(ngx_http_request_t *r, const char *message)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout auth: refused: %s", message);

    if (ngx_http_payout_add_header(r, "WWW-Authenticate",
                                   "Bearer realm=\"payout\"")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                      "unauthorized", message, NULL);
}


/*
 * The gateway a request names, or the payout it is about: configured,
 * and of the key's mode.  NULL when not, with *rc the 400 given.
 */

ngx_http_payout_gateway_t *
ngx_http_payout_key_gateway(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const char *name, size_t len, ngx_int_t *rc)
{
    ngx_http_payout_gateway_t    *gw;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    gw = ngx_http_payout_find_gateway(pmcf, name, len);

    if (gw == NULL) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "unknown_gateway",
                  "This gateway is not registered for payouts.", "gateway");
        return NULL;
    }

    if (gw->livemode != ctx->auth.livemode) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "gateway_mode_mismatch", ctx->auth.livemode
                  ? "This is a test mode gateway: a live key cannot use it."
                  : "This is a live mode gateway: a test key cannot use it.",
                  "gateway");
        return NULL;
    }

    ctx->gateway = gw;
    return gw;
}
