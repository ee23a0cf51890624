/*
 * The metrics' store (ngx_http_payout_metrics.c): counters and histograms
 * in one shared-memory zone whose layout is fixed at configuration time
 * from bounded label sets (the API's routes, the payout_gateway names,
 * the state machine's states), so every worker adds to the same numbers.
 * Each place that counts makes one call below, with plain values; a call
 * before the zone exists (nginx -t, no payout_* configuration) does
 * nothing.  GET /metrics prints them: ngx_http_payout_prometheus.c.
 */

#ifndef NGX_HTTP_PAYOUT_METRICS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_METRICS_H_INCLUDED_


#include "ngx_http_payout.h"


/* the sizes of the fixed label sets (their names: _prometheus.c) */
#define NGX_HTTP_PAYOUT_NMETHODS     7   /* GET HEAD POST PUT PATCH DELETE
                                          * OTHER */
#define NGX_HTTP_PAYOUT_NCODES       32  /* the codes below, and "other" */
#define NGX_HTTP_PAYOUT_NOPS         5   /* by ngx_http_payout_provider.c */
#define NGX_HTTP_PAYOUT_NOUTCOMES    4   /* by ngx_payout_outcome_e */
#define NGX_HTTP_PAYOUT_NHOOKS       3   /* accepted bad_signature ignored */
#define NGX_HTTP_PAYOUT_NDELIVERIES  4   /* delivered failed dead disabled */
#define NGX_HTTP_PAYOUT_NRUNS        2   /* ok error */
#define NGX_HTTP_PAYOUT_NPOOL        4   /* the pool's connection states */
#define NGX_HTTP_PAYOUT_NPBUCKETS    9   /* provider call time */
#define NGX_HTTP_PAYOUT_NWBUCKETS    11  /* pool queue wait */

/* a histogram series: its buckets, the overflow (+Inf), the sum in ms */
#define NGX_HTTP_PAYOUT_HIST(nbuckets)  ((nbuckets) + 2)

/* the status codes counted by their own label */
extern const ngx_uint_t  ngx_http_payout_metric_codes[];


/* where each metric starts in the zone's array, in ngx_atomic_t */
typedef struct {
    ngx_uint_t                     nroutes;
    ngx_str_t                     *route_labels;
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


/*
 * The zone (postconfiguration, pmcf->metrics), laid out for these route
 * labels and the payout_gateway names; NULL: no memory
 */
ngx_http_payout_metrics_t *ngx_http_payout_metrics_add(ngx_conf_t *cf,
    ngx_str_t *route_labels, ngx_uint_t nroutes);

/* the zone of this cycle, or NULL when there is none yet */
ngx_http_payout_metrics_t *ngx_http_payout_metrics_get(void);

/* the gateway's index in m's layout, or -1 */
ngx_int_t ngx_http_payout_metric_gateway(ngx_http_payout_metrics_t *m,
    u_char *name, size_t len);

/* the $payout_* variables (preconfiguration, ngx_http_payout_variables.c) */
ngx_int_t ngx_http_payout_variables_add(ngx_conf_t *cf);

/* a route label of a request the API did not route (ctx->route_label) */
#define NGX_HTTP_PAYOUT_ROUTE_HOOKS    1
#define NGX_HTTP_PAYOUT_ROUTE_METRICS  2

/* a request answered: route label, method (NGX_HTTP_PAYOUT_NMETHODS) */
void ngx_http_payout_metric_request(ngx_uint_t route, ngx_uint_t method,
    ngx_uint_t status);

/* POST /payouts committed a new payout (ctx->gateway is its gateway) */
void ngx_http_payout_metric_created(ngx_http_request_t *r,
    ngx_uint_t created);

/* a provider call answered (or not), by the bridge */
void ngx_http_payout_metric_provider(ngx_http_payout_gateway_t *gw,
    ngx_uint_t op, ngx_uint_t outcome, ngx_msec_t elapsed);

/*
 * A provider webhook of gateway gw answered: "applied", "ignored",
 * "unknown", "duplicate", "bad_signature"
 */
void ngx_http_payout_metric_hook(ngx_http_payout_gateway_t *gw,
    const char *result);

/* a webhook attempt recorded: the delivery's state after it */
void ngx_http_payout_metric_delivery(ngx_str_t *state);

/* a reconciler batch claimed (ok) or not */
void ngx_http_payout_metric_reconcile(ngx_uint_t ok);

/* the pool: a query got its connection after waiting, or none at all */
void ngx_http_payout_metric_pg_wait(ngx_msec_t waited);
void ngx_http_payout_metric_pg_unavailable(void);
/* a connection moved from state "from" (-1: new, or gone) to "to" */
void ngx_http_payout_metric_pg_state(ngx_int_t from, ngx_int_t to);

/* a payout of the named gateway moved between ngx_payout_state_e states */
void ngx_http_payout_metric_moved(ngx_str_t *gateway, ngx_int_t from,
    ngx_int_t to);

/* the API moved a payout of ctx->gateway (a staged one's transfer, void) */
void ngx_http_payout_metric_transition(ngx_http_request_t *r,
    ngx_uint_t from, ngx_uint_t to);

/* a payout pending past payout_reconcile_window, logged once */
void ngx_http_payout_metric_stuck(ngx_str_t *gateway);

/* the job that logs them (ngx_http_payout_stuck.c) */
ngx_int_t ngx_http_payout_stuck_init_process(ngx_cycle_t *cycle);
void ngx_http_payout_stuck_exit_process(ngx_cycle_t *cycle);


#endif /* NGX_HTTP_PAYOUT_METRICS_H_INCLUDED_ */
