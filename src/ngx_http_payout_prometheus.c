/*
 * Prometheus metrics: GET /metrics in the text exposition format 0.0.4,
 * printed from the counters of ngx_http_payout_metrics.c's zone, and the
 * log-phase counter of every request a payout location served.
 *
 * What lives in the database (the webhook backlog, pending and stuck
 * payouts) is read by one async query at scrape time (payout_metrics(),
 * sql/functions/metrics.sql); when it does not answer within
 * payout_database_queue_timeout the scrape still answers 200 with the
 * counters and payout_database_up 0.
 */

#include "ngx_http_payout_prometheus.h"
#include "ngx_http_payout_metrics.h"
#include "ngx_http_payout_pg.h"
#include "core/ngx_payout_state.h"


/* the labels of the fixed sets, in the order of the zone's layout */

static const char *const  ngx_http_payout_metric_methods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OTHER"
};

static const char *const  ngx_http_payout_metric_ops[] = {
    "initiate", "lookup", "cancel", "enroll", "finalize"
};

/* by ngx_payout_outcome_e */
static const char *const  ngx_http_payout_metric_outcomes[] = {
    "ok", "unknown", "not_found", "refused"
};

static const char *const  ngx_http_payout_metric_hook_results[] = {
    "accepted", "bad_signature", "ignored"
};

static const char *const  ngx_http_payout_metric_deliveries[] = {
    "delivered", "failed", "dead", "disabled"
};

static const char *const  ngx_http_payout_metric_runs[] = { "ok", "error" };

/* by the pool's connection states (ngx_http_payout_pg.c) */
static const char *const  ngx_http_payout_metric_pool_states[] = {
    "down", "connecting", "idle", "busy"
};

/* the histograms' buckets as Prometheus prints them (seconds) */
static const char *const  ngx_http_payout_provider_les[] = {
    "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30"
};

static const char *const  ngx_http_payout_wait_les[] = {
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
    "2.5", "5"
};

/* the route labels past the API's own: /hooks/{gateway}, /metrics, other */
#define NGX_HTTP_PAYOUT_EXTRA_ROUTES  3


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


static const char  ngx_http_payout_gauges_sql[] =
    "SELECT metric, gateway, sub_status, value "
    "FROM payout_metrics(p_window_s => $1)";

enum {
    NGX_HTTP_PAYOUT_GAUGES_METRIC = 0,
    NGX_HTTP_PAYOUT_GAUGES_GATEWAY,
    NGX_HTTP_PAYOUT_GAUGES_SUB_STATUS,
    NGX_HTTP_PAYOUT_GAUGES_VALUE
};


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


/* the zone, laid out with a route label for each of the API's routes */

ngx_int_t
ngx_http_payout_prometheus_init(ngx_conf_t *cf)
{
    size_t                        n;
    ngx_str_t                    *labels, name;
    ngx_uint_t                    i;
    ngx_http_handler_pt          *h;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);

    if (pmcf->database.len == 0) {
        return NGX_OK;
    }

    for (n = 0; ngx_http_payout_routes[n].pattern; n++) { /* void */ }

    labels = ngx_palloc(cf->pool,
                        (n + NGX_HTTP_PAYOUT_EXTRA_ROUTES) * sizeof(ngx_str_t));
    if (labels == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        name.len = ngx_strlen(ngx_http_payout_routes[i].pattern) + 1;
        name.data = ngx_pnalloc(cf->pool, name.len);
        if (name.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(name.data, "/%s", ngx_http_payout_routes[i].pattern);
        labels[i] = name;
    }

    /* by NGX_HTTP_PAYOUT_ROUTE_*, then the rest */
    ngx_str_set(&labels[n], "/hooks/{gateway}");
    ngx_str_set(&labels[n + 1], "/metrics");
    ngx_str_set(&labels[n + 2], "other");

    if (ngx_http_payout_metrics_add(cf, labels,
                                    n + NGX_HTTP_PAYOUT_EXTRA_ROUTES)
        == NULL)
    {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_payout_metrics_log;

    return NGX_OK;
}


/* the log phase: every request a payout location served */

static ngx_int_t
ngx_http_payout_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                   route, napi, method;
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

    napi = m->nroutes - NGX_HTTP_PAYOUT_EXTRA_ROUTES;
    route = napi + 2;

    if (ctx && ctx->route
        && (uintptr_t) ctx->route >= (uintptr_t) ngx_http_payout_routes
        && (uintptr_t) ctx->route
           < (uintptr_t) (ngx_http_payout_routes + napi))
    {
        route = ctx->route - ngx_http_payout_routes;

    } else if (ctx && ctx->route_label) {
        route = napi + ctx->route_label - 1;
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

    ngx_http_payout_metric_request(route, method,
                                   r->err_status ? r->err_status
                                                 : r->headers_out.status);

    return NGX_OK;
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
