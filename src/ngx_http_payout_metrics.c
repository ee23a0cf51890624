/*
 * Prometheus metrics: GET /metrics in the text exposition format 0.0.4.
 *
 * Counters and histograms live in one shared-memory zone, a flat array of
 * ngx_atomic_t laid out at configuration time from label sets that are
 * all known then (routes x methods x codes, gateways x ops x outcomes,
 * gateways x states x states, histogram buckets), so every update is one
 * atomic add, every worker adds to the same numbers, and a worker's crash
 * loses nothing until a reload with a new layout.  What lives in the
 * database (the webhook backlog, pending and stuck payouts) is read by
 * one async query at scrape time (payout_metrics(),
 * sql/functions/metrics.sql); when it does not answer within
 * payout_database_queue_timeout the scrape still answers 200 with the
 * counters and payout_database_up 0.
 */

#include "ngx_http_payout_metrics.h"
#include "ngx_http_payout_gateway.h"


/* the labels of the fixed sets */

static const char *const  ngx_http_payout_metric_methods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OTHER"
};

#define NGX_HTTP_PAYOUT_NMETHODS  7

static const ngx_uint_t  ngx_http_payout_metric_codes[] = {
    200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 406,
    408, 409, 410, 411, 413, 414, 415, 422, 429, 431, 444, 499, 500, 501,
    502, 503, 504
};

/* and one more: "other" */
#define NGX_HTTP_PAYOUT_NCODES                                                \
    (sizeof(ngx_http_payout_metric_codes) / sizeof(ngx_uint_t) + 1)

static const char *const  ngx_http_payout_metric_ops[] = {
    "initiate", "lookup", "cancel", "enroll", "finalize"
};

#define NGX_HTTP_PAYOUT_NOPS  5

/* by ngx_payout_outcome_e */
static const char *const  ngx_http_payout_metric_outcomes[] = {
    "ok", "unknown", "not_found", "refused"
};

#define NGX_HTTP_PAYOUT_NOUTCOMES  4

static const char *const  ngx_http_payout_metric_hook_results[] = {
    "accepted", "bad_signature", "ignored"
};

#define NGX_HTTP_PAYOUT_NHOOKS  3

static const char *const  ngx_http_payout_metric_deliveries[] = {
    "delivered", "failed", "dead", "disabled"
};

#define NGX_HTTP_PAYOUT_NDELIVERIES  4

static const char *const  ngx_http_payout_metric_runs[] = { "ok", "error" };

#define NGX_HTTP_PAYOUT_NRUNS  2

/* by the pool's connection states (ngx_http_payout_pg.c) */
static const char *const  ngx_http_payout_metric_pool_states[] = {
    "down", "connecting", "idle", "busy"
};

#define NGX_HTTP_PAYOUT_NPOOL  4

/* histogram buckets, in ms, and as Prometheus prints them (seconds) */
static const ngx_msec_t  ngx_http_payout_provider_buckets[] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
};

static const char *const  ngx_http_payout_provider_les[] = {
    "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30"
};

#define NGX_HTTP_PAYOUT_NPBUCKETS  9

static const ngx_msec_t  ngx_http_payout_wait_buckets[] = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
};

static const char *const  ngx_http_payout_wait_les[] = {
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
    "2.5", "5"
};

#define NGX_HTTP_PAYOUT_NWBUCKETS  11

/* a histogram series: its buckets, the overflow (+Inf), the sum in ms */
#define NGX_HTTP_PAYOUT_HIST(nbuckets)  ((nbuckets) + 2)

/* the route labels past the API's own: /hooks/{gateway}, /metrics, other */
#define NGX_HTTP_PAYOUT_EXTRA_ROUTES  3


/* where each metric starts in the zone's array, in ngx_atomic_t */
typedef struct {
    ngx_uint_t                     nroutes;     /* with the extra three */
    ngx_uint_t                     napi;        /* the API's own routes */
    ngx_str_t                     *route_labels;
    ngx_http_payout_route_t       *routes;
    ngx_uint_t                     ngateways;
    ngx_http_payout_gateway_t     *gateways;

    size_t                         http;
    size_t                         created;
    size_t                         transitions;
    size_t                         provider;
    size_t                         provider_hist;
    size_t                         hooks;
    size_t                         deliveries;
    size_t                         runs;
    size_t                         unavailable;
    size_t                         wait_hist;
    size_t                         pool;
    size_t                         stuck;
    size_t                         total;

    ngx_shm_zone_t                *zone;
    ngx_atomic_t                  *counters;    /* in the zone */
} ngx_http_payout_metrics_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_payout_metrics_t     *metrics;
    ngx_http_payout_pg_query_t    *query;
    ngx_event_t                    timer;
    ngx_chain_t                   *out;
    ngx_chain_t                  **last;
    ngx_buf_t                     *buf;
    off_t                          size;
    ngx_uint_t                     failed;
} ngx_http_payout_scrape_t;


typedef struct {
    ngx_http_payout_pg_handler_pt  handler;
    void                          *data;
} ngx_http_payout_watch_t;


static const char  ngx_http_payout_gauges_sql[] =
    "SELECT metric, gateway, sub_status, value "
    "FROM payout_metrics(p_window_s => $1)";

/* webhook_result()'s one column (ngx_http_payout_deliver.c) */
enum {
    NGX_HTTP_PAYOUT_DELIVERY_STATE = 0
};

enum {
    NGX_HTTP_PAYOUT_GAUGES_METRIC = 0,
    NGX_HTTP_PAYOUT_GAUGES_GATEWAY,
    NGX_HTTP_PAYOUT_GAUGES_SUB_STATUS,
    NGX_HTTP_PAYOUT_GAUGES_VALUE
};


static ngx_http_payout_metrics_t *ngx_http_payout_metrics_get(void);
static ngx_int_t ngx_http_payout_metrics_zone_init(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_payout_metrics_log(ngx_http_request_t *r);
static ngx_int_t ngx_http_payout_metrics_handler(ngx_http_request_t *r);
static void ngx_http_payout_metrics_gauges(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_metrics_timeout(ngx_event_t *ev);
static void ngx_http_payout_metrics_cleanup(void *data);
static ngx_int_t ngx_http_payout_metrics_send(ngx_http_payout_scrape_t *sc,
    PGresult *res);
static void ngx_http_payout_metrics_counters(ngx_http_payout_scrape_t *sc);
static void ngx_http_payout_metrics_histogram(ngx_http_payout_scrape_t *sc,
    const char *name, const char *labels, ngx_atomic_t *h,
    const char *const *les, ngx_uint_t nbuckets);
static void ngx_http_payout_metrics_db(ngx_http_payout_scrape_t *sc,
    PGresult *res);
static void ngx_http_payout_metrics_head(ngx_http_payout_scrape_t *sc,
    const char *name, const char *type, const char *help);
static void ngx_http_payout_prom(ngx_http_payout_scrape_t *sc,
    const char *fmt, ...);
static ngx_int_t ngx_http_payout_metric_gateway(ngx_http_payout_metrics_t *m,
    u_char *name, size_t len);
static void ngx_http_payout_metric_observe(ngx_atomic_t *h,
    const ngx_msec_t *buckets, ngx_uint_t nbuckets, ngx_msec_t ms);
static void ngx_http_payout_metric_watched(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_metric_moved(ngx_http_payout_metrics_t *m,
    ngx_int_t g, int from, int to);


ngx_int_t
ngx_http_payout_metrics_init(ngx_conf_t *cf)
{
    size_t                        n, ng, ns;
    uint32_t                      sig;
    ngx_str_t                     name;
    ngx_uint_t                    i;
    ngx_http_handler_pt          *h;
    ngx_http_payout_metrics_t    *m;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);

    if (pmcf->database.len == 0) {
        return NGX_OK;
    }

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_payout_metrics_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->routes = ngx_http_payout_routes;

    for (n = 0; m->routes[n].pattern; n++) { /* void */ }

    m->napi = n;
    m->nroutes = n + NGX_HTTP_PAYOUT_EXTRA_ROUTES;

    m->route_labels = ngx_palloc(cf->pool, m->nroutes * sizeof(ngx_str_t));
    if (m->route_labels == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        name.len = ngx_strlen(m->routes[i].pattern) + 1;
        name.data = ngx_pnalloc(cf->pool, name.len);
        if (name.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(name.data, "/%s", m->routes[i].pattern);
        m->route_labels[i] = name;
    }

    ngx_str_set(&m->route_labels[n], "/hooks/{gateway}");
    ngx_str_set(&m->route_labels[n + 1], "/metrics");
    ngx_str_set(&m->route_labels[n + 2], "other");

    if (pmcf->gateways) {
        m->ngateways = pmcf->gateways->nelts;
        m->gateways = pmcf->gateways->elts;
    }

    ng = m->ngateways;
    ns = NGX_PAYOUT_NSTATES;

    m->http = 0;
    m->created = m->http
                 + m->nroutes * NGX_HTTP_PAYOUT_NMETHODS
                   * NGX_HTTP_PAYOUT_NCODES;
    m->transitions = m->created + ng;
    m->provider = m->transitions + ng * ns * ns;
    m->provider_hist = m->provider
                       + ng * NGX_HTTP_PAYOUT_NOPS * NGX_HTTP_PAYOUT_NOUTCOMES;
    m->hooks = m->provider_hist
               + ng * NGX_HTTP_PAYOUT_NOPS
                 * NGX_HTTP_PAYOUT_HIST(NGX_HTTP_PAYOUT_NPBUCKETS);
    m->deliveries = m->hooks + ng * NGX_HTTP_PAYOUT_NHOOKS;
    m->runs = m->deliveries + NGX_HTTP_PAYOUT_NDELIVERIES;
    m->unavailable = m->runs + NGX_HTTP_PAYOUT_NRUNS;
    m->wait_hist = m->unavailable + 1;
    m->pool = m->wait_hist + NGX_HTTP_PAYOUT_HIST(NGX_HTTP_PAYOUT_NWBUCKETS);
    m->stuck = m->pool + NGX_HTTP_PAYOUT_NPOOL;
    m->total = m->stuck + ng;

    /* one zone per layout: its name carries the layout's signature */
    ngx_crc32_init(sig);

    for (i = 0; i < m->nroutes; i++) {
        ngx_crc32_update(&sig, m->route_labels[i].data,
                         m->route_labels[i].len);
    }

    for (i = 0; i < m->ngateways; i++) {
        ngx_crc32_update(&sig, (u_char *) "/", 1);
        ngx_crc32_update(&sig, m->gateways[i].name.data,
                         m->gateways[i].name.len);
    }

    ngx_crc32_final(sig);

    name.data = ngx_pnalloc(cf->pool, sizeof("payout_metrics_") + 8);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    name.len = ngx_sprintf(name.data, "payout_metrics_%08xD", sig)
               - name.data;

    m->zone = ngx_shared_memory_add(cf, &name,
                                    ngx_align(sizeof(ngx_atomic_t)
                                              * m->total
                                              + 8 * ngx_pagesize,
                                              ngx_pagesize),
                                    &ngx_http_payout_module);
    if (m->zone == NULL) {
        return NGX_ERROR;
    }

    m->zone->init = ngx_http_payout_metrics_zone_init;
    m->zone->data = m;

    pmcf->metrics = m;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_payout_metrics_log;

    return NGX_OK;
}


/*
 * A reload that keeps the layout (the same routes and gateways) finds the
 * zone of the same name and keeps its counters; a new layout is a zone of
 * another name, so the old workers still finishing keep writing into the
 * old one, which nginx unmaps once they are gone.
 */

static ngx_int_t
ngx_http_payout_metrics_zone_init(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t            *shpool;
    ngx_http_payout_metrics_t  *m, *old;

    m = zone->data;
    old = data;

    if (old) {
        m->counters = old->counters;
        return NGX_OK;
    }

    if (zone->shm.exists) {
        /* Windows only: the zone is already there */
        return NGX_ERROR;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    m->counters = ngx_slab_calloc(shpool, sizeof(ngx_atomic_t) * m->total);
    if (m->counters == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_http_payout_metrics_t *
ngx_http_payout_metrics_get(void)
{
    ngx_http_payout_metrics_t    *m;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_payout_module);
    if (pmcf == NULL) {
        return NULL;
    }

    m = pmcf->metrics;

    if (m == NULL || m->counters == NULL) {
        return NULL;
    }

    return m;
}


static ngx_int_t
ngx_http_payout_metric_gateway(ngx_http_payout_metrics_t *m, u_char *name,
    size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < m->ngateways; i++) {
        if (m->gateways[i].name.len == len
            && ngx_strncmp(m->gateways[i].name.data, name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


/* the log phase: every request a payout location served */

static ngx_int_t
ngx_http_payout_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                   route, method, code, status, i;
    ngx_http_payout_ctx_t       *ctx;
    ngx_http_payout_metrics_t   *m;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    if (plcf->api != 1) {
        return NGX_OK;
    }

    m = ngx_http_payout_metrics_get();
    if (m == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    route = m->napi + 2;

    if (ctx && ctx->route
        && (uintptr_t) ctx->route >= (uintptr_t) m->routes
        && (uintptr_t) ctx->route < (uintptr_t) (m->routes + m->napi))
    {
        route = ctx->route - m->routes;

    } else if (ctx && ctx->route_label) {
        route = m->napi + ctx->route_label - 1;
    }

    switch (r->method) {
    case NGX_HTTP_GET:    method = 0; break;
    case NGX_HTTP_HEAD:   method = 1; break;
    case NGX_HTTP_POST:   method = 2; break;
    case NGX_HTTP_PUT:    method = 3; break;
    case NGX_HTTP_PATCH:  method = 4; break;
    case NGX_HTTP_DELETE: method = 5; break;
    default:              method = 6; break;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;
    code = NGX_HTTP_PAYOUT_NCODES - 1;

    for (i = 0; i < NGX_HTTP_PAYOUT_NCODES - 1; i++) {
        if (ngx_http_payout_metric_codes[i] == status) {
            code = i;
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&m->counters[m->http
                                    + (route * NGX_HTTP_PAYOUT_NMETHODS
                                       + method) * NGX_HTTP_PAYOUT_NCODES
                                    + code], 1);

    return NGX_OK;
}


void
ngx_http_payout_metric_created(ngx_http_request_t *r, ngx_uint_t created)
{
    ngx_http_payout_ctx_t      *ctx;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();
    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (!created || m == NULL || ctx == NULL || ctx->gateway == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&m->counters[m->created
                                             + (ctx->gateway - m->gateways)],
                                1);
}


void
ngx_http_payout_metric_provider(ngx_http_payout_gateway_t *gw, ngx_uint_t op,
    ngx_uint_t outcome, ngx_msec_t elapsed)
{
    size_t                      g;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m == NULL || op >= NGX_HTTP_PAYOUT_NOPS
        || outcome >= NGX_HTTP_PAYOUT_NOUTCOMES)
    {
        return;
    }

    g = gw - m->gateways;

    if (g >= m->ngateways) {
        return;
    }

    (void) ngx_atomic_fetch_add(&m->counters[m->provider
                                    + (g * NGX_HTTP_PAYOUT_NOPS + op)
                                      * NGX_HTTP_PAYOUT_NOUTCOMES
                                    + outcome], 1);

    ngx_http_payout_metric_observe(&m->counters[m->provider_hist
                                       + (g * NGX_HTTP_PAYOUT_NOPS + op)
                                         * NGX_HTTP_PAYOUT_HIST(
                                               NGX_HTTP_PAYOUT_NPBUCKETS)],
                                   ngx_http_payout_provider_buckets,
                                   NGX_HTTP_PAYOUT_NPBUCKETS, elapsed);
}


void
ngx_http_payout_metric_hook(ngx_http_request_t *r,
    ngx_http_payout_gateway_t *gw, const char *result)
{
    size_t                      g, i;
    ngx_http_payout_ctx_t      *ctx;
    ngx_http_payout_metrics_t  *m;

    ctx = ngx_http_payout_get_ctx(r);
    if (ctx == NULL) {
        return;
    }

    ctx->route_label = NGX_HTTP_PAYOUT_ROUTE_HOOKS;

    if (gw) {
        ctx->gateway = gw;
    }

    m = ngx_http_payout_metrics_get();

    if (result == NULL || m == NULL || ctx->gateway == NULL) {
        return;
    }

    /* applied: accepted; a duplicate, or a payout we do not know: ignored */
    if (ngx_strcmp(result, "applied") == 0) {
        i = 0;

    } else if (ngx_strcmp(result, "bad_signature") == 0) {
        i = 1;

    } else {
        i = 2;
    }

    g = ctx->gateway - m->gateways;

    if (g < m->ngateways) {
        (void) ngx_atomic_fetch_add(&m->counters[m->hooks
                                        + g * NGX_HTTP_PAYOUT_NHOOKS + i],
                                    1);
    }
}


void
ngx_http_payout_metric_delivery(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_str_t                   state;
    ngx_uint_t                  i;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m == NULL || q->status != NGX_HTTP_PAYOUT_PG_OK
        || PQntuples(res) != 1
        || ngx_http_payout_pg_isnull(res, 0, NGX_HTTP_PAYOUT_DELIVERY_STATE))
    {
        return;
    }

    /* the delivery's state after this attempt */
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_DELIVERY_STATE, &state);

    /* pending again: this attempt failed, another is scheduled */
    i = 1;

    if (state.len == 9 && ngx_strncmp(state.data, "delivered", 9) == 0) {
        i = 0;

    } else if (state.len == 4 && ngx_strncmp(state.data, "dead", 4) == 0) {
        i = 2;

    } else if (state.len == 8
               && ngx_strncmp(state.data, "disabled", 8) == 0)
    {
        i = 3;
    }

    (void) ngx_atomic_fetch_add(&m->counters[m->deliveries + i], 1);
}


void
ngx_http_payout_metric_reconcile(ngx_uint_t ok)
{
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m) {
        (void) ngx_atomic_fetch_add(&m->counters[m->runs + (ok ? 0 : 1)], 1);
    }
}


void
ngx_http_payout_metric_pg_wait(ngx_msec_t waited)
{
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m) {
        ngx_http_payout_metric_observe(&m->counters[m->wait_hist],
                                       ngx_http_payout_wait_buckets,
                                       NGX_HTTP_PAYOUT_NWBUCKETS, waited);
    }
}


void
ngx_http_payout_metric_pg_unavailable(void)
{
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m) {
        (void) ngx_atomic_fetch_add(&m->counters[m->unavailable], 1);
    }
}


/* gauges kept as a sum of every worker's moves; -1 is "no state" */

void
ngx_http_payout_metric_pg_state(ngx_int_t from, ngx_int_t to)
{
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m == NULL || from == to) {
        return;
    }

    if (from >= 0 && from < NGX_HTTP_PAYOUT_NPOOL) {
        (void) ngx_atomic_fetch_add(&m->counters[m->pool + from],
                                    (ngx_atomic_int_t) -1);
    }

    if (to >= 0 && to < NGX_HTTP_PAYOUT_NPOOL) {
        (void) ngx_atomic_fetch_add(&m->counters[m->pool + to], 1);
    }
}


void
ngx_http_payout_metric_stuck(ngx_str_t *gateway)
{
    ngx_int_t                   g;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();
    if (m == NULL) {
        return;
    }

    g = ngx_http_payout_metric_gateway(m, gateway->data, gateway->len);

    if (g >= 0) {
        (void) ngx_atomic_fetch_add(&m->counters[m->stuck + g], 1);
    }
}


static void
ngx_http_payout_metric_observe(ngx_atomic_t *h, const ngx_msec_t *buckets,
    ngx_uint_t nbuckets, ngx_msec_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < nbuckets; i++) {
        if (ms <= buckets[i]) {
            break;
        }
    }

    /* i == nbuckets: the overflow, +Inf only */
    (void) ngx_atomic_fetch_add(&h[i], 1);
    (void) ngx_atomic_fetch_add(&h[nbuckets + 1], ms);
}


/* transitions: q's handler runs after the row is counted */

void
ngx_http_payout_metric_watch(ngx_http_payout_pg_query_t *q)
{
    ngx_http_payout_watch_t  *w;

    /* without memory the transition is not counted, only that */
    w = ngx_palloc(q->mem, sizeof(ngx_http_payout_watch_t));
    if (w == NULL) {
        return;
    }

    w->handler = q->handler;
    w->data = q->data;

    q->handler = ngx_http_payout_metric_watched;
    q->data = w;

}


static void
ngx_http_payout_metric_watched(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int                         from, to;
    ngx_int_t                   g;
    ngx_str_t                   gw;
    ngx_http_payout_watch_t    *w;
    ngx_http_payout_metrics_t  *m;

    w = q->data;
    q->handler = w->handler;
    q->data = w->data;

    m = ngx_http_payout_metrics_get();

    if (m && q->status == NGX_HTTP_PAYOUT_PG_OK && PQntuples(res) == 1
        && ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_RESULT_APPLIED))
    {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_RESULT_GATEWAY, &gw);
        g = ngx_http_payout_metric_gateway(m, gw.data, gw.len);

        from = ngx_http_payout_row_state(res, 0,
                   NGX_HTTP_PAYOUT_RESULT_FROM_SUB_STATUS);
        to = ngx_http_payout_row_state(res, 0,
                                       NGX_HTTP_PAYOUT_RESULT_SUB_STATUS);

        ngx_http_payout_metric_moved(m, g, from, to);
    }

    q->handler(q, res);
}


void
ngx_http_payout_metric_transition(ngx_http_request_t *r, ngx_uint_t from,
    ngx_uint_t to)
{
    ngx_http_payout_ctx_t      *ctx;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();
    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (m && ctx && ctx->gateway) {
        ngx_http_payout_metric_moved(m, ctx->gateway - m->gateways,
                                     (int) from, (int) to);
    }
}


static void
ngx_http_payout_metric_moved(ngx_http_payout_metrics_t *m, ngx_int_t g,
    int from, int to)
{
    if (g < 0 || (ngx_uint_t) g >= m->ngateways || from < 0 || to < 0
        || from >= NGX_PAYOUT_NSTATES || to >= NGX_PAYOUT_NSTATES)
    {
        return;
    }

    (void) ngx_atomic_fetch_add(&m->counters[m->transitions
                                    + (g * NGX_PAYOUT_NSTATES + from)
                                      * NGX_PAYOUT_NSTATES + to], 1);
}


/* the scrape */

char *
ngx_http_payout_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_payout_set_location(cf, conf,
                                        ngx_http_payout_metrics_handler);
}


static ngx_int_t
ngx_http_payout_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_pool_cleanup_t           *cln;
    ngx_http_payout_ctx_t        *ctx;
    ngx_http_payout_scrape_t     *sc;
    ngx_http_payout_pg_query_t   *q;
    ngx_http_payout_main_conf_t  *pmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    ctx = ngx_http_payout_get_ctx(r);
    sc = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_scrape_t));

    if (ctx == NULL || sc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->route_label = NGX_HTTP_PAYOUT_ROUTE_METRICS;
    ctx->own_response = 1;

    sc->request = r;
    sc->metrics = pmcf->metrics;
    sc->last = &sc->out;

    if (sc->metrics == NULL || sc->metrics->counters == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_gauges_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, pmcf->reconcile_window) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_metrics_gauges;
    q->data = sc;

    rc = ngx_http_payout_pg_run_for_request(r, q);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_metrics_send(sc, NULL);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sc->query = q;

    /* a database that takes the connection but never answers */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_payout_metrics_cleanup;
    cln->data = sc;

    sc->timer.handler = ngx_http_payout_metrics_timeout;
    sc->timer.data = sc;
    sc->timer.log = r->connection->log;
    ngx_add_timer(&sc->timer, pmcf->queue_timeout);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_payout_metrics_gauges(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_payout_scrape_t  *sc;

    sc = q->data;
    sc->query = NULL;

    if (sc->timer.timer_set) {
        ngx_del_timer(&sc->timer);
    }

    ngx_http_payout_finalize(sc->request,
        ngx_http_payout_metrics_send(sc,
                                     q->status == NGX_HTTP_PAYOUT_PG_OK
                                     ? res : NULL));
}


static void
ngx_http_payout_metrics_timeout(ngx_event_t *ev)
{
    ngx_http_payout_scrape_t  *sc;

    sc = ev->data;

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "payout: metrics: the database did not answer in time, "
                  "scraped without its gauges");

    if (sc->query) {
        ngx_http_payout_pg_cancel(sc->query);
        sc->query = NULL;
    }

    ngx_http_payout_finalize(sc->request,
                             ngx_http_payout_metrics_send(sc, NULL));
}


static void
ngx_http_payout_metrics_cleanup(void *data)
{
    ngx_http_payout_scrape_t  *sc = data;

    if (sc->timer.timer_set) {
        ngx_del_timer(&sc->timer);
    }
}


static ngx_int_t
ngx_http_payout_metrics_send(ngx_http_payout_scrape_t *sc, PGresult *res)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = sc->request;

    ngx_http_payout_metrics_counters(sc);
    ngx_http_payout_metrics_db(sc, res);

    if (sc->failed || sc->buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sc->buf->last_buf = (r == r->main) ? 1 : 0;
    sc->buf->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = sc->size;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, sc->out);
}


static void
ngx_http_payout_metrics_counters(ngx_http_payout_scrape_t *sc)
{
    u_char                      labels[256];
    ngx_uint_t                  i, j, k, c, g, v;
    ngx_http_payout_gateway_t  *gw;
    ngx_http_payout_metrics_t  *m;

    m = sc->metrics;
    gw = m->gateways;

    ngx_http_payout_metrics_head(sc, "payout_http_requests_total", "counter",
        "API requests answered, by route pattern, method and status code.");

    for (i = 0; i < m->nroutes; i++) {
        for (j = 0; j < NGX_HTTP_PAYOUT_NMETHODS; j++) {
            for (c = 0; c < NGX_HTTP_PAYOUT_NCODES; c++) {
                v = m->counters[m->http
                                + (i * NGX_HTTP_PAYOUT_NMETHODS + j)
                                  * NGX_HTTP_PAYOUT_NCODES + c];
                if (v == 0) {
                    continue;
                }

                if (c == NGX_HTTP_PAYOUT_NCODES - 1) {
                    ngx_http_payout_prom(sc, "payout_http_requests_total"
                        "{route=\"%V\",method=\"%s\",code=\"other\"} %ui\n",
                        &m->route_labels[i],
                        ngx_http_payout_metric_methods[j], v);
                    continue;
                }

                ngx_http_payout_prom(sc, "payout_http_requests_total"
                    "{route=\"%V\",method=\"%s\",code=\"%ui\"} %ui\n",
                    &m->route_labels[i], ngx_http_payout_metric_methods[j],
                    ngx_http_payout_metric_codes[c], v);
            }
        }
    }

    ngx_http_payout_metrics_head(sc, "payout_payouts_created_total",
        "counter", "Payouts committed by POST /payouts, by gateway and mode.");

    for (g = 0; g < m->ngateways; g++) {
        ngx_http_payout_prom(sc, "payout_payouts_created_total"
                             "{gateway=\"%V\",mode=\"%s\"} %ui\n",
                             &gw[g].name, gw[g].livemode ? "live" : "test",
                             m->counters[m->created + g]);
    }

    ngx_http_payout_metrics_head(sc, "payout_transitions_total", "counter",
        "State transitions applied by a provider's word (the send, live "
        "status, cancel, webhooks, the reconciler) or the API (a staged "
        "payout's transfer or void), by gateway, from and to sub-status.");

    for (g = 0; g < m->ngateways; g++) {
        for (i = 0; i < NGX_PAYOUT_NSTATES; i++) {
            for (j = 0; j < NGX_PAYOUT_NSTATES; j++) {
                v = m->counters[m->transitions
                                + (g * NGX_PAYOUT_NSTATES + i)
                                  * NGX_PAYOUT_NSTATES + j];
                if (v == 0) {
                    continue;
                }

                ngx_http_payout_prom(sc, "payout_transitions_total"
                                     "{gateway=\"%V\",from=\"%s\","
                                     "to=\"%s\"} %ui\n", &gw[g].name,
                                     ngx_payout_state_name(i),
                                     ngx_payout_state_name(j), v);
            }
        }
    }

    ngx_http_payout_metrics_head(sc, "payout_provider_requests_total",
        "counter", "Calls to providers, by gateway, operation and outcome "
        "(ok: a definite answer; unknown: none, a timeout or a 5xx).");

    for (g = 0; g < m->ngateways; g++) {
        for (i = 0; i < NGX_HTTP_PAYOUT_NOPS; i++) {
            for (k = 0; k < NGX_HTTP_PAYOUT_NOUTCOMES; k++) {
                ngx_http_payout_prom(sc, "payout_provider_requests_total"
                    "{gateway=\"%V\",op=\"%s\",outcome=\"%s\"} %ui\n",
                    &gw[g].name, ngx_http_payout_metric_ops[i],
                    ngx_http_payout_metric_outcomes[k],
                    m->counters[m->provider
                                + (g * NGX_HTTP_PAYOUT_NOPS + i)
                                  * NGX_HTTP_PAYOUT_NOUTCOMES + k]);
            }
        }
    }

    ngx_http_payout_metrics_head(sc,
        "payout_provider_request_duration_seconds", "histogram",
        "Time of provider calls, by gateway and operation.");

    for (g = 0; g < m->ngateways; g++) {
        for (i = 0; i < NGX_HTTP_PAYOUT_NOPS; i++) {
            ngx_sprintf(labels, "gateway=\"%V\",op=\"%s\"%Z", &gw[g].name,
                        ngx_http_payout_metric_ops[i]);

            ngx_http_payout_metrics_histogram(sc,
                "payout_provider_request_duration_seconds", (char *) labels,
                &m->counters[m->provider_hist
                             + (g * NGX_HTTP_PAYOUT_NOPS + i)
                               * NGX_HTTP_PAYOUT_HIST(
                                     NGX_HTTP_PAYOUT_NPBUCKETS)],
                ngx_http_payout_provider_les, NGX_HTTP_PAYOUT_NPBUCKETS);
        }
    }

    ngx_http_payout_metrics_head(sc, "payout_provider_webhooks_total",
        "counter", "Provider webhooks received, by gateway and result.");

    for (g = 0; g < m->ngateways; g++) {
        for (k = 0; k < NGX_HTTP_PAYOUT_NHOOKS; k++) {
            ngx_http_payout_prom(sc, "payout_provider_webhooks_total"
                                 "{gateway=\"%V\",result=\"%s\"} %ui\n",
                                 &gw[g].name,
                                 ngx_http_payout_metric_hook_results[k],
                                 m->counters[m->hooks
                                             + g * NGX_HTTP_PAYOUT_NHOOKS
                                             + k]);
        }
    }

    ngx_http_payout_metrics_head(sc, "payout_webhook_deliveries_total",
        "counter", "Webhook delivery attempts to merchants, by result "
        "(failed: another attempt is scheduled; dead: the last one failed).");

    for (k = 0; k < NGX_HTTP_PAYOUT_NDELIVERIES; k++) {
        ngx_http_payout_prom(sc, "payout_webhook_deliveries_total"
                             "{result=\"%s\"} %ui\n",
                             ngx_http_payout_metric_deliveries[k],
                             m->counters[m->deliveries + k]);
    }

    ngx_http_payout_metrics_head(sc, "payout_reconciler_runs_total",
        "counter", "Reconciler batches claimed (ok) or not (error).");

    for (k = 0; k < NGX_HTTP_PAYOUT_NRUNS; k++) {
        ngx_http_payout_prom(sc, "payout_reconciler_runs_total"
                             "{result=\"%s\"} %ui\n",
                             ngx_http_payout_metric_runs[k],
                             m->counters[m->runs + k]);
    }

    ngx_http_payout_metrics_head(sc, "payout_db_unavailable_total",
        "counter", "Queries that found no database (no connection, or "
        "none free within payout_database_queue_timeout).");

    ngx_http_payout_prom(sc, "payout_db_unavailable_total %ui\n",
                         m->counters[m->unavailable]);

    ngx_http_payout_metrics_head(sc, "payout_db_queue_wait_seconds",
        "histogram", "Time queries waited for a free connection.");

    ngx_http_payout_metrics_histogram(sc, "payout_db_queue_wait_seconds",
                                      NULL, &m->counters[m->wait_hist],
                                      ngx_http_payout_wait_les,
                                      NGX_HTTP_PAYOUT_NWBUCKETS);

    ngx_http_payout_metrics_head(sc, "payout_db_pool_connections", "gauge",
        "Database connections of all workers, by state.");

    for (k = 0; k < NGX_HTTP_PAYOUT_NPOOL; k++) {
        ngx_http_payout_prom(sc, "payout_db_pool_connections"
                             "{state=\"%s\"} %i\n",
                             ngx_http_payout_metric_pool_states[k],
                             (ngx_atomic_int_t) m->counters[m->pool + k]);
    }

    ngx_http_payout_metrics_head(sc, "payout_stuck_logged_total", "counter",
        "Payouts logged as pending past payout_reconcile_window, once "
        "each, by gateway.");

    for (g = 0; g < m->ngateways; g++) {
        ngx_http_payout_prom(sc, "payout_stuck_logged_total"
                             "{gateway=\"%V\"} %ui\n", &gw[g].name,
                             m->counters[m->stuck + g]);
    }
}


/* buckets are kept apart; Prometheus wants them cumulative */

static void
ngx_http_payout_metrics_histogram(ngx_http_payout_scrape_t *sc,
    const char *name, const char *labels, ngx_atomic_t *h,
    const char *const *les, ngx_uint_t nbuckets)
{
    ngx_uint_t  i, total;
    const char  *sep;

    sep = labels ? "," : "";
    labels = labels ? labels : "";
    total = 0;

    for (i = 0; i < nbuckets; i++) {
        total += h[i];
        ngx_http_payout_prom(sc, "%s_bucket{%s%sle=\"%s\"} %ui\n", name,
                             labels, sep, les[i], total);
    }

    total += h[nbuckets];

    ngx_http_payout_prom(sc, "%s_bucket{%s%sle=\"+Inf\"} %ui\n", name,
                         labels, sep, total);

    if (labels[0]) {
        ngx_http_payout_prom(sc, "%s_sum{%s} %ui.%03ui\n%s_count{%s} %ui\n",
                             name, labels, h[nbuckets + 1] / 1000,
                             h[nbuckets + 1] % 1000, name, labels, total);
        return;
    }

    ngx_http_payout_prom(sc, "%s_sum %ui.%03ui\n%s_count %ui\n", name,
                         h[nbuckets + 1] / 1000, h[nbuckets + 1] % 1000,
                         name, total);
}


/* the gauges of the database, from payout_metrics()'s rows */

static void
ngx_http_payout_metrics_db(ngx_http_payout_scrape_t *sc, PGresult *res)
{
    int                         i, n, s;
    int64_t                    *pending, *stuck, backlog, oldest, v;
    ngx_int_t                   g;
    ngx_str_t                   metric, gateway, sub;
    ngx_uint_t                  j, k;
    ngx_http_payout_gateway_t  *gw;
    ngx_http_payout_metrics_t  *m;

    m = sc->metrics;
    gw = m->gateways;
    backlog = 0;
    oldest = 0;

    pending = ngx_pcalloc(sc->request->pool, (m->ngateways + 1)
                          * (NGX_PAYOUT_NSTATES + 1) * sizeof(int64_t));
    if (pending == NULL) {
        sc->failed = 1;
        return;
    }

    stuck = pending + m->ngateways * NGX_PAYOUT_NSTATES;
    n = res ? PQntuples(res) : 0;

    for (i = 0; i < n; i++) {
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_GAUGES_METRIC,
                                &metric);
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_GAUGES_GATEWAY,
                                &gateway);
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_GAUGES_SUB_STATUS,
                                &sub);
        v = ngx_http_payout_pg_int(res, i, NGX_HTTP_PAYOUT_GAUGES_VALUE);

        g = ngx_http_payout_metric_gateway(m, gateway.data, gateway.len);
        s = ngx_payout_state_parse((char *) sub.data, sub.len);

        if (metric.len == 7 && ngx_strncmp(metric.data, "backlog", 7) == 0) {
            backlog = v;

        } else if (metric.len == 6
                   && ngx_strncmp(metric.data, "oldest", 6) == 0)
        {
            oldest = v;

        } else if (metric.len == 7
                   && ngx_strncmp(metric.data, "pending", 7) == 0)
        {
            /* a gateway no longer configured is not a label */
            if (g >= 0 && s >= 0) {
                pending[g * NGX_PAYOUT_NSTATES + s] = v;
            }

        } else if (metric.len == 5
                   && ngx_strncmp(metric.data, "stuck", 5) == 0)
        {
            if (g >= 0) {
                stuck[g] = v;
            }
        }
    }

    ngx_http_payout_metrics_head(sc, "payout_database_up", "gauge",
        "1 when the database answered this scrape's query, else 0.");

    ngx_http_payout_prom(sc, "payout_database_up %d\n", res ? 1 : 0);

    ngx_http_payout_metrics_head(sc, "payout_webhook_backlog", "gauge",
        "Webhook deliveries to merchants still pending.");

    if (res) {
        ngx_http_payout_prom(sc, "payout_webhook_backlog %L\n", backlog);
    }

    ngx_http_payout_metrics_head(sc, "payout_webhook_oldest_pending_seconds",
        "gauge", "Age of the oldest pending webhook delivery (0: none).");

    if (res) {
        ngx_http_payout_prom(sc, "payout_webhook_oldest_pending_seconds %L\n",
                             oldest);
    }

    ngx_http_payout_metrics_head(sc, "payout_pending_payouts", "gauge",
        "Payouts not yet final, by gateway and sub-status.");

    for (j = 0; res && j < m->ngateways; j++) {
        for (k = 0; k < NGX_PAYOUT_NSTATES; k++) {
            if (!ngx_payout_state_pending(k)) {
                continue;
            }

            ngx_http_payout_prom(sc, "payout_pending_payouts"
                                 "{gateway=\"%V\",sub_status=\"%s\"} %L\n",
                                 &gw[j].name, ngx_payout_state_name(k),
                                 pending[j * NGX_PAYOUT_NSTATES + k]);
        }
    }

    ngx_http_payout_metrics_head(sc, "payout_stuck_payouts", "gauge",
        "Payouts pending past payout_reconcile_window, by gateway.");

    for (j = 0; res && j < m->ngateways; j++) {
        ngx_http_payout_prom(sc, "payout_stuck_payouts{gateway=\"%V\"} %L\n",
                             &gw[j].name, stuck[j]);
    }
}


static void
ngx_http_payout_metrics_head(ngx_http_payout_scrape_t *sc, const char *name,
    const char *type, const char *help)
{
    ngx_http_payout_prom(sc, "# HELP %s %s\n# TYPE %s %s\n", name, help,
                         name, type);
}


/* one line of output; a line is always shorter than the margin kept */

#define NGX_HTTP_PAYOUT_PROM_BUF     32768
#define NGX_HTTP_PAYOUT_PROM_MARGIN  1024

static void
ngx_http_payout_prom(ngx_http_payout_scrape_t *sc, const char *fmt, ...)
{
    u_char       *p;
    va_list       args;
    ngx_chain_t  *cl;

    if (sc->failed) {
        return;
    }

    if (sc->buf == NULL
        || sc->buf->end - sc->buf->last < NGX_HTTP_PAYOUT_PROM_MARGIN)
    {
        cl = ngx_alloc_chain_link(sc->request->pool);
        if (cl == NULL) {
            sc->failed = 1;
            return;
        }

        cl->buf = ngx_create_temp_buf(sc->request->pool,
                                      NGX_HTTP_PAYOUT_PROM_BUF);
        if (cl->buf == NULL) {
            sc->failed = 1;
            return;
        }

        cl->next = NULL;
        *sc->last = cl;
        sc->last = &cl->next;
        sc->buf = cl->buf;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(sc->buf->last, sc->buf->end, fmt, args);
    va_end(args);

    sc->size += p - sc->buf->last;
    sc->buf->last = p;
}
