/*
 * Hosted payout links, the API half (see ngx_http_payout_links.h).
 *
 *   POST /payout-links: validate (the payouts' checks and the link's
 *   own, ngx_payout_validate_link.c) -> a fresh token, stored only as
 *   its SHA-256 -> payout_link_create() -> 201 with the link's url, the
 *   one time the token is shown.  A replay of the same idempotency key
 *   and body answers 200 with the same link and no url.
 *
 * Reads go through payout_links_v, where an open link past expires_at
 * is already expired; the expiry job (on the job skeleton) marks such
 * links and queues payout_link.expired to the link's webhook_urls.
 */


#include "ngx_http_payout_links.h"
#include "ngx_http_payout_list.h"
#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_provider.h"
#include "ngx_http_payout_secrets.h"
#include "ngx_http_payout_job.h"
#include "core/ngx_payout_validate.h"


/* open links the expiry job marks per run, at most */
#define NGX_HTTP_PAYOUT_LINKS_EXPIRE_BATCH  100


static const char  ngx_http_payout_link_create_sql[] =
    "SELECT outcome, body FROM payout_link_create("
    "p_tenant => $1::bigint, p_livemode => $2::boolean, "
    "p_idempotency_key => $3, p_request_hash => $4::bytea, "
    "p_token_hash => $5::bytea, p_amount => $6::bigint, p_currency => $7, "
    "p_gateway => $8, p_expires_at => to_timestamp($9::double precision), "
    "p_name => $10, p_email => $11, p_phone => $12, "
    "p_methods => $13::text[], p_narration => $14, p_metadata => $15::jsonb, "
    "p_webhook_urls => $16::jsonb, p_webhook_secret_enc => $17::bytea)";

/* the columns of the create and of the cancel */
enum {
    NGX_HTTP_PAYOUT_LINK_OUTCOME = 0,
    NGX_HTTP_PAYOUT_LINK_BODY
};

static const char  ngx_http_payout_link_get_sql[] =
    "SELECT j FROM payout_link_get_json("
    "p_tenant => $1, p_livemode => $2, p_uuid => $3::uuid) j "
    "WHERE j IS NOT NULL";

static const char  ngx_http_payout_link_cancel_sql[] =
    "SELECT outcome, body FROM payout_link_cancel("
    "p_tenant => $1, p_livemode => $2, p_uuid => $3::uuid)";

static const char  ngx_http_payout_link_expire_sql[] =
    "SELECT payout_link_expire_due(p_limit => $1) AS n";

enum {
    NGX_HTTP_PAYOUT_LINK_EXPIRE_N = 0
};


typedef struct {
    ngx_http_request_t            *request;
    ngx_str_t                      url;        /* with the token */
} ngx_http_payout_link_create_t;


typedef struct {
    ngx_http_payout_main_conf_t   *pmcf;
    ngx_http_payout_job_t          job;
} ngx_http_payout_link_expirer_t;


static ngx_int_t ngx_http_payout_link_create_params(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_payout_link_input_t *in,
    u_char *token_hash, ngx_http_payout_pg_query_t *q);
static ngx_int_t ngx_http_payout_link_methods(ngx_http_request_t *r,
    ngx_payout_link_input_t *in, ngx_http_payout_gateway_t *gw,
    ngx_int_t *rc);
static void ngx_http_payout_link_created(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_link_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body, ngx_str_t *url);
static void ngx_http_payout_link_canceled(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_link_expire_claim(
    ngx_http_payout_job_t *job, ngx_uint_t room);
static void ngx_http_payout_link_expired(ngx_http_payout_pg_query_t *q,
    PGresult *res);


static const ngx_payout_filter_column_t  ngx_http_payout_link_filters[] = {
    { "status", "p.status", NGX_PAYOUT_FILTER_TEXT },
    { "currency", "p.currency::text", NGX_PAYOUT_FILTER_TEXT },
    { "amount", "p.amount", NGX_PAYOUT_FILTER_INT },
    { "gateway", "p.gateway", NGX_PAYOUT_FILTER_TEXT },
    { "link_uuid", "p.uuid", NGX_PAYOUT_FILTER_UUID },
    { "payout_uuid",
      "(SELECT o.uuid FROM payouts o WHERE o.id = p.payout_id)",
      NGX_PAYOUT_FILTER_UUID },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "email", "p.email", NGX_PAYOUT_FILTER_TEXT },
    { "expires_at", "p.expires_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "updated_at", "p.updated_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { NULL, NULL, 0 }
};


static const ngx_payout_filter_column_t  ngx_http_payout_link_search[] = {
    { "narration", "p.narration", NGX_PAYOUT_FILTER_TEXT },
    { "name", "p.name", NGX_PAYOUT_FILTER_TEXT },
    { "email", "p.email", NGX_PAYOUT_FILTER_TEXT },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { NULL, NULL, 0 }
};


/* the keys of payout_link_json(), in its order */

static const char *const  ngx_http_payout_link_select[] = {
    "id", "link_uuid", "tenant_id", "status", "amount", "currency",
    "gateway", "expires_at", "narration", "name", "email", "phone",
    "methods", "metadata", "webhook_urls", "idempotency_key", "livemode",
    "payout_uuid", "payout_status", "created_at", "updated_at",
    "claimed_at", "canceled_at", "expired_at", NULL
};


static const ngx_http_payout_list_def_t  ngx_http_payout_links_def = {
    "payout_links_v", "payout_link_list_json", ngx_http_payout_link_filters,
    ngx_http_payout_link_search, ngx_http_payout_link_select,
    "select takes comma-separated fields of a payout link, such as "
    "link_uuid, status, amount, expires_at or payout_uuid.", 1
};


static ngx_http_payout_link_expirer_t  *ngx_http_payout_link_expirer;


ngx_int_t
ngx_http_payout_links_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    u_char                          *p;
    u_char                           hash[32];
    char                             token[NGX_PAYOUT_LINK_TOKEN_LEN + 1];
    ngx_int_t                        rc;
    ngx_payout_error_t               err;
    ngx_payout_link_input_t          in;
    ngx_http_payout_gateway_t       *gw;
    ngx_http_payout_pg_query_t      *q;
    ngx_http_payout_main_conf_t     *pmcf;
    ngx_http_payout_link_create_t   *lc;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    if (ngx_payout_validate_link(ctx->body, ngx_http_payout_url_flags(pmcf),
                                 (long) ngx_time(), &in, &err)
        != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST, err.code,
                                          err.message, err.field);
    }

    gw = ngx_http_payout_key_gateway(r, ctx, in.payout.gateway,
                                     ngx_strlen(in.payout.gateway), &rc);
    if (gw == NULL) {
        return rc;
    }

    if (ngx_http_payout_link_methods(r, &in, gw, &rc) != NGX_OK) {
        return rc;
    }

    /* without a public address there is no page to send anyone to */
    if (pmcf->public_url.len == 0) {
        return ngx_http_payout_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "public_url_not_configured",
                   "Payout links need the gateway's public address: "
                   "payout_public_url is not set in its configuration.",
                   NULL);
    }

    lc = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_link_create_t));
    if (lc == NULL || ngx_payout_link_token(token) != NGX_PAYOUT_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lc->request = r;
    lc->url.len = pmcf->public_url.len
                  + sizeof(NGX_HTTP_PAYOUT_LINK_PAGE_PATH) - 1
                  + NGX_PAYOUT_LINK_TOKEN_LEN;
    lc->url.data = ngx_pnalloc(r->pool, lc->url.len);
    if (lc->url.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(lc->url.data, pmcf->public_url.data, pmcf->public_url.len);
    p = ngx_cpymem(p, NGX_HTTP_PAYOUT_LINK_PAGE_PATH,
                   sizeof(NGX_HTTP_PAYOUT_LINK_PAGE_PATH) - 1);
    ngx_memcpy(p, token, NGX_PAYOUT_LINK_TOKEN_LEN);

    ngx_payout_sha256((u_char *) token, NGX_PAYOUT_LINK_TOKEN_LEN, hash);
    ngx_explicit_memzero(token, sizeof(token));

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_link_create_sql);
    if (q == NULL
        || ngx_http_payout_link_create_params(r, ctx, &in, hash, q)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_link_created;
    q->data = lc;

    return ngx_http_payout_pg_start(r, q);
}


/*
 * methods: those asked for, each one the gateway's connector pays, or
 * by default all it pays.  NGX_DECLINED: a 400, its send's code in *rc.
 */

static ngx_int_t
ngx_http_payout_link_methods(ngx_http_request_t *r,
    ngx_payout_link_input_t *in, ngx_http_payout_gateway_t *gw,
    ngx_int_t *rc)
{
    unsigned  pays;

    pays = NGX_PAYOUT_LINK_BANK;

    if (ngx_http_payout_provider_can(gw, MOBILE_MONEY)) {
        pays |= NGX_PAYOUT_LINK_MOBILE;
    }

    if (in->methods == 0) {
        in->methods = pays;
        return NGX_OK;
    }

    if (in->methods & ~pays) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "unsupported_method",
                   "This gateway does not pay mobile_money: methods may "
                   "only be [\"bank_account\"].", "methods");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_link_create_params(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_payout_link_input_t *in,
    u_char *token_hash, ngx_http_payout_pg_query_t *q)
{
    u_char                        hex[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN];
    u_char                        th[2 + 64], *p;
    char                          methods[64];
    ngx_payout_create_t          *c;

    c = &in->payout;

    p = ngx_cpymem(th, "\\x", 2);
    ngx_hex_dump(p, token_hash, 32);

    if (ngx_payout_link_methods_text(in->methods, methods, sizeof(methods))
        == NULL)
    {
        return NGX_ERROR;
    }

    /* the request's fingerprint for idempotency: key order ignored */
    if (ngx_http_payout_request_hash(ctx->body, hex) != NGX_OK
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_param_str(q, c->idempotency_key) != NGX_OK
        || ngx_http_payout_pg_param(q, hex, sizeof(hex)) != NGX_OK
        || ngx_http_payout_pg_param(q, th, sizeof(th)) != NGX_OK
        || ngx_http_payout_pg_param_int(q, c->amount) != NGX_OK
        || ngx_http_payout_param_str(q, c->currency->code) != NGX_OK
        || ngx_http_payout_param_str(q, c->gateway) != NGX_OK
        || ngx_http_payout_pg_param_int(q, in->expires) != NGX_OK
        || ngx_http_payout_param_str(q, c->recipient.name) != NGX_OK
        || ngx_http_payout_param_str(q, c->recipient.email) != NGX_OK
        || ngx_http_payout_param_str(q, c->recipient.phone) != NGX_OK
        || ngx_http_payout_param_str(q, methods) != NGX_OK
        || ngx_http_payout_param_str(q, c->narration) != NGX_OK
        || ngx_http_payout_param_json(q, c->metadata) != NGX_OK
        || ngx_http_payout_param_json(q, c->webhook_urls) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_payout_param_webhook_secret(r, ctx->auth.tenant_id,
                                                c->webhook_secret, q);
}


static void
ngx_http_payout_link_created(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_str_t                       outcome, body;
    ngx_http_request_t             *r;
    ngx_http_payout_link_create_t  *lc;

    lc = q->data;
    r = lc->request;

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LINK_OUTCOME, &outcome);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LINK_BODY, &body);

    if (ngx_strcmp(outcome.data, "conflict") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_CONFLICT, "idempotency_conflict",
            "This idempotency_key was already used with a different "
            "request body.", "idempotency_key"));
        return;
    }

    /* a replay: the same link, but its token was shown once only */
    if (ngx_strcmp(outcome.data, "created") != 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_link_send(r, NGX_HTTP_OK,
                                                              &body, NULL));
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_link_send(r,
                                 NGX_HTTP_CREATED, &body, &lc->url));
}


/* the link's JSON, with "url" first when the token is shown */

static ngx_int_t
ngx_http_payout_link_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body, ngx_str_t *url)
{
    u_char      *out, *p;
    size_t       len;
    uintptr_t    esc;

    if (body->len < 2 || body->data[0] != '{') {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    esc = url ? ngx_escape_json(NULL, url->data, url->len) : 0;
    len = body->len + (url ? sizeof("\"url\":\"\",") - 1 + url->len + esc
                           : 0);

    out = ngx_pnalloc(r->pool, len);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = out;
    *p++ = '{';

    if (url) {
        p = ngx_cpymem(p, "\"url\":\"", sizeof("\"url\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, url->data, url->len);
        p = ngx_cpymem(p, "\",", 2);
    }

    p = ngx_cpymem(p, body->data + 1, body->len - 1);

    return ngx_http_payout_send_json(r, status, out, p - out);
}


ngx_int_t
ngx_http_payout_links_list(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_list(r, ctx, &ngx_http_payout_links_def);
}


ngx_int_t
ngx_http_payout_links_get(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_get_json(r, ctx, ngx_http_payout_link_get_sql);
}


ngx_int_t
ngx_http_payout_links_cancel(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_uuid_query(r, ctx, ngx_http_payout_link_cancel_sql,
                                   &rc);
    if (q == NULL) {
        return rc;
    }

    q->handler = ngx_http_payout_link_canceled;
    q->data = r;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_link_canceled(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_str_t            outcome, body;
    const char          *code, *message;
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LINK_OUTCOME, &outcome);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LINK_BODY, &body);

    if (ngx_strcmp(outcome.data, "canceled") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_link_send(r, NGX_HTTP_OK,
                                                              &body, NULL));
        return;
    }

    if (ngx_strcmp(outcome.data, "not_found") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_NOT_FOUND, "not_found", "No such resource.", NULL));
        return;
    }

    if (ngx_strcmp(outcome.data, "claimed") == 0) {
        code = "link_claimed";
        message = "The link was claimed: its payout exists, and only an "
                  "open link can be canceled.";

    } else if (ngx_strcmp(outcome.data, "expired") == 0) {
        code = "link_expired";
        message = "The link has expired; only an open link can be "
                  "canceled.";

    } else {
        code = "link_canceled";
        message = "The link is already canceled.";
    }

    ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
                                    NGX_HTTP_CONFLICT, code, message, NULL));
}


/*
 * The expiry job, in every worker on the reconciler's cadence: one
 * statement marks a batch of due links (SKIP LOCKED, so workers and
 * nodes share the work) with their events; readers see such links
 * expired already, so a late run changes only when the event goes out.
 */

ngx_int_t
ngx_http_payout_links_init_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_link_expirer_t  *ex;

    ex = ngx_pcalloc(cycle->pool, sizeof(ngx_http_payout_link_expirer_t));
    if (ex == NULL) {
        return NGX_ERROR;
    }

    ex->pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                                   ngx_http_payout_module);

    ex->job.name = "expiring payout links";
    ex->job.interval = ex->pmcf->reconcile_interval;
    ex->job.jitter = ex->pmcf->reconcile_interval / 5;
    ex->job.max_inflight = NGX_HTTP_PAYOUT_LINKS_EXPIRE_BATCH;
    ex->job.batch = 1;
    ex->job.claim = ngx_http_payout_link_expire_claim;
    ex->job.data = ex;

    ngx_http_payout_link_expirer = ex;

    return ngx_http_payout_job_start(cycle, &ex->job);
}


void
ngx_http_payout_links_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_payout_link_expirer) {
        ngx_http_payout_job_stop(&ngx_http_payout_link_expirer->job);
    }

    ngx_http_payout_link_expirer = NULL;
}


static ngx_int_t
ngx_http_payout_link_expire_claim(ngx_http_payout_job_t *job,
    ngx_uint_t room)
{
    ngx_pool_t                      *pool;
    ngx_http_payout_pg_query_t      *q;
    ngx_http_payout_link_expirer_t  *ex;

    ex = job->data;

    pool = ngx_create_pool(1024, &job->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    q = ngx_http_payout_pg_query_create(pool, &job->log,
                                        ngx_http_payout_link_expire_sql);
    if (q == NULL || ngx_http_payout_pg_param_int(q, room) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_link_expired;
    q->data = ex;

    /* NGX_DECLINED: no database now; the next tick tries again */
    if (ngx_http_payout_pg_run(ex->pmcf->pg, q) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_link_expired(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int64_t                          n;
    ngx_pool_t                      *pool;
    ngx_http_payout_link_expirer_t  *ex;

    ex = q->data;
    pool = q->mem;
    n = 0;

    if (q->status == NGX_HTTP_PAYOUT_PG_OK && PQntuples(res) == 1) {
        n = ngx_http_payout_pg_int(res, 0, NGX_HTTP_PAYOUT_LINK_EXPIRE_N);
    }

    if (n > 0) {
        ngx_log_error(NGX_LOG_INFO, &ex->job.log, 0,
                      "payout: %L payout links expired", n);
    }

    /* the pool is done with q: it ends here, and so does q */
    ngx_destroy_pool(pool);

    /* a batch job: nothing stays in flight */
    ngx_http_payout_job_claimed(&ex->job, 0);
}
