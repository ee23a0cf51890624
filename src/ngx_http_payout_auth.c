/*
 * API key authentication.  "Authorization: Bearer sk_test_..." is looked
 * up by its non-secret prefix; the SHA-256 of the whole key is then
 * compared in constant time here, so no database index ever orders by a
 * secret-derived value.
 *
 * A key the database accepted is remembered by this worker for
 * payout_api_key_cache (5s): a fixed table indexed by the key's hash,
 * holding the hash, the tenant and the expiry, never the key.  Refusals
 * are not remembered, so a new key works at once.  A revocation NOTIFYs
 * "payout_api_keys" (sql/schema/015), which empties every worker's
 * table; the TTL bounds the window when that notification is lost.
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


#define NGX_HTTP_PAYOUT_AUTH_CACHE_SIZE  1024     /* a power of two */


typedef struct {
    u_char                         hash[NGX_PAYOUT_KEY_HASH_LEN];
    ngx_msec_t                     expires;
    ngx_int_t                      tenant_id;
    size_t                         tenant_len;
    u_char                         tenant[64];       /* tenants.name */
    unsigned                       used:1;
} ngx_http_payout_auth_entry_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_payout_auth_done_pt   done;
    u_char                         hash[NGX_PAYOUT_KEY_HASH_LEN];
} ngx_http_payout_auth_query_t;


static const char *ngx_http_payout_auth_key(ngx_http_request_t *r,
    ngx_str_t *key, int *mode);
static void ngx_http_payout_auth_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_http_payout_auth_entry_t *ngx_http_payout_auth_slot(
    const u_char *hash);
static ngx_int_t ngx_http_payout_auth_cached(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const u_char *hash);
static void ngx_http_payout_auth_remember(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const u_char *hash);
static void ngx_http_payout_auth_flush(void *data);


/* this worker's table; NULL when payout_api_key_cache is 0 */
static ngx_http_payout_auth_entry_t  *ngx_http_payout_auth_cache;
static ngx_msec_t                     ngx_http_payout_auth_ttl;


ngx_int_t
ngx_http_payout_auth_init_process(ngx_cycle_t *cycle,
    ngx_http_payout_main_conf_t *pmcf)
{
    ngx_http_payout_auth_cache = NULL;
    ngx_http_payout_auth_ttl = pmcf->api_key_cache;

    if (ngx_http_payout_auth_ttl == 0) {
        return NGX_OK;
    }

    ngx_http_payout_auth_cache = ngx_pcalloc(cycle->pool,
                                     NGX_HTTP_PAYOUT_AUTH_CACHE_SIZE
                                     * sizeof(ngx_http_payout_auth_entry_t));
    if (ngx_http_payout_auth_cache == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_payout_pg_listen(pmcf->pg, "payout_api_keys",
                                     ngx_http_payout_auth_flush, NULL);
}


/* a key changed, or notifications may have been missed: forget them all */

static void
ngx_http_payout_auth_flush(void *data)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "payout auth: key cache emptied");

    ngx_memzero(ngx_http_payout_auth_cache,
                NGX_HTTP_PAYOUT_AUTH_CACHE_SIZE
                * sizeof(ngx_http_payout_auth_entry_t));
}


static ngx_http_payout_auth_entry_t *
ngx_http_payout_auth_slot(const u_char *hash)
{
    ngx_uint_t  i;

    /* the hash is SHA-256: any of its bits is as good an index as any */
    i = ((ngx_uint_t) hash[0] << 8 | hash[1])
        & (NGX_HTTP_PAYOUT_AUTH_CACHE_SIZE - 1);

    return &ngx_http_payout_auth_cache[i];
}


/* NGX_OK: the key is known and ctx->auth is filled in */

static ngx_int_t
ngx_http_payout_auth_cached(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const u_char *hash)
{
    ngx_http_payout_auth_entry_t  *e;

    if (ngx_http_payout_auth_cache == NULL) {
        return NGX_DECLINED;
    }

    e = ngx_http_payout_auth_slot(hash);

    if (!e->used
        || (ngx_msec_int_t) (e->expires - ngx_current_msec) <= 0
        || !ngx_payout_apikey_hash_equal(e->hash, hash))
    {
        return NGX_DECLINED;
    }

    /* a copy: the entry may be replaced while the request runs */
    ctx->auth.tenant.data = ngx_pnalloc(r->pool, e->tenant_len);
    if (ctx->auth.tenant.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->auth.tenant.data, e->tenant, e->tenant_len);
    ctx->auth.tenant.len = e->tenant_len;
    ctx->auth.tenant_id = e->tenant_id;

    return NGX_OK;
}


static void
ngx_http_payout_auth_remember(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const u_char *hash)
{
    ngx_http_payout_auth_entry_t  *e;

    if (ngx_http_payout_auth_cache == NULL
        || ctx->auth.tenant.len > sizeof(e->tenant))
    {
        return;
    }

    e = ngx_http_payout_auth_slot(hash);

    ngx_memcpy(e->hash, hash, NGX_PAYOUT_KEY_HASH_LEN);
    ngx_memcpy(e->tenant, ctx->auth.tenant.data, ctx->auth.tenant.len);
    e->tenant_len = ctx->auth.tenant.len;
    e->tenant_id = ctx->auth.tenant_id;
    e->expires = ngx_current_msec + ngx_http_payout_auth_ttl;
    e->used = 1;
}


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

    ctx->auth.livemode = (mode == NGX_PAYOUT_KEY_MODE_LIVE);

    switch (ngx_http_payout_auth_cached(r, ctx, aq->hash)) {

    case NGX_OK:
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "payout auth: tenant %i \"%V\", %s mode, cached",
                       ctx->auth.tenant_id, &ctx->auth.tenant,
                       ctx->auth.livemode ? "live" : "test");

        done(r, ctx);
        return NGX_DONE;

    case NGX_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    default: /* NGX_DECLINED */
        break;
    }

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

        ngx_http_payout_auth_remember(r, ctx, aq->hash);

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
