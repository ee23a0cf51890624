/*
 * The metrics' store: counters and histograms in one shared-memory zone,
 * a flat array of ngx_atomic_t laid out at configuration time from label
 * sets that are all known then (routes x methods x codes, gateways x ops
 * x outcomes, gateways x states x states, histogram buckets), so every
 * update is one atomic add, every worker adds to the same numbers, and a
 * worker's crash loses nothing until a reload with a new layout.  GET
 * /metrics prints them (ngx_http_payout_prometheus.c).
 */

#include "ngx_http_payout_metrics.h"
#include "core/ngx_payout_state.h"


const ngx_uint_t  ngx_http_payout_metric_codes[NGX_HTTP_PAYOUT_NCODES - 1] = {
    200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 406,
    408, 409, 410, 411, 413, 414, 415, 422, 429, 431, 444, 499, 500, 501,
    502, 503, 504
};

/* histogram buckets, in ms */
static const ngx_msec_t  ngx_http_payout_provider_buckets[] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
};

static const ngx_msec_t  ngx_http_payout_wait_buckets[] = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
};


static ngx_int_t ngx_http_payout_metrics_zone_init(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_payout_metric_observe(ngx_atomic_t *h,
    const ngx_msec_t *buckets, ngx_uint_t nbuckets, ngx_msec_t ms);
static void ngx_http_payout_metric_move(ngx_http_payout_metrics_t *m,
    ngx_int_t g, ngx_int_t from, ngx_int_t to);


ngx_http_payout_metrics_t *
ngx_http_payout_metrics_add(ngx_conf_t *cf, ngx_str_t *route_labels,
    ngx_uint_t nroutes)
{
    size_t                        ng, ns;
    uint32_t                      sig;
    ngx_str_t                     name;
    ngx_uint_t                    i;
    ngx_http_payout_metrics_t    *m;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_payout_metrics_t));
    if (m == NULL) {
        return NULL;
    }

    m->route_labels = route_labels;
    m->nroutes = nroutes;

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
        return NULL;
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
        return NULL;
    }

    m->zone->init = ngx_http_payout_metrics_zone_init;
    m->zone->data = m;

    pmcf->metrics = m;

    return m;
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


ngx_http_payout_metrics_t *
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


ngx_int_t
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


void
ngx_http_payout_metric_request(ngx_uint_t route, ngx_uint_t method,
    ngx_uint_t status)
{
    ngx_uint_t                  code, i;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m == NULL || route >= m->nroutes
        || method >= NGX_HTTP_PAYOUT_NMETHODS)
    {
        return;
    }

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
ngx_http_payout_metric_hook(ngx_http_payout_gateway_t *gw,
    const char *result)
{
    size_t                      g, i;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (gw == NULL || result == NULL || m == NULL) {
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

    g = gw - m->gateways;

    if (g < m->ngateways) {
        (void) ngx_atomic_fetch_add(&m->counters[m->hooks
                                        + g * NGX_HTTP_PAYOUT_NHOOKS + i],
                                    1);
    }
}


void
ngx_http_payout_metric_delivery(ngx_str_t *state)
{
    ngx_uint_t                  i;
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m == NULL) {
        return;
    }

    /* pending again: this attempt failed, another is scheduled */
    i = 1;

    if (state->len == 9 && ngx_strncmp(state->data, "delivered", 9) == 0) {
        i = 0;

    } else if (state->len == 4 && ngx_strncmp(state->data, "dead", 4) == 0) {
        i = 2;

    } else if (state->len == 8
               && ngx_strncmp(state->data, "disabled", 8) == 0)
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


void
ngx_http_payout_metric_moved(ngx_str_t *gateway, ngx_int_t from,
    ngx_int_t to)
{
    ngx_http_payout_metrics_t  *m;

    m = ngx_http_payout_metrics_get();

    if (m) {
        ngx_http_payout_metric_move(m,
            ngx_http_payout_metric_gateway(m, gateway->data, gateway->len),
            from, to);
    }
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
        ngx_http_payout_metric_move(m, ctx->gateway - m->gateways,
                                    (ngx_int_t) from, (ngx_int_t) to);
    }
}


static void
ngx_http_payout_metric_move(ngx_http_payout_metrics_t *m, ngx_int_t g,
    ngx_int_t from, ngx_int_t to)
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
