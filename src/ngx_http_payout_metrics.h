/*
 * Prometheus metrics (ngx_http_payout_metrics.c): counters and histograms
 * in one shared-memory zone whose layout is fixed at configuration time
 * from bounded label sets (the API's routes, the payout_gateway names,
 * the state machine's states), so every worker adds to the same numbers.
 * Each place that counts makes one call below; a call before the zone
 * exists (nginx -t, no payout_* configuration) does nothing.
 */

#ifndef NGX_HTTP_PAYOUT_METRICS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_METRICS_H_INCLUDED_


#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"


/* the shared zone and the log-phase counter (postconfiguration) */
ngx_int_t ngx_http_payout_metrics_init(ngx_conf_t *cf);

/* the $payout_* variables (preconfiguration, ngx_http_payout_variables.c) */
ngx_int_t ngx_http_payout_variables_add(ngx_conf_t *cf);

/* the payout_metrics location */
char *ngx_http_payout_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* a route label of a request the API did not route (ctx->route_label) */
#define NGX_HTTP_PAYOUT_ROUTE_HOOKS    1
#define NGX_HTTP_PAYOUT_ROUTE_METRICS  2

/* the request's route as a label ("/payouts/{uuid}"), or NULL */
const char *ngx_http_payout_route_label(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

/* POST /payouts committed a new payout (ctx->gateway is its gateway) */
void ngx_http_payout_metric_created(ngx_http_request_t *r,
    ngx_uint_t created);

/* a provider call answered (or not), by the bridge */
void ngx_http_payout_metric_provider(ngx_http_payout_gateway_t *gw,
    ngx_uint_t op, ngx_uint_t outcome, ngx_msec_t elapsed);

/*
 * A provider webhook: gw names the request's gateway (result NULL:
 * nothing counted yet); result is the hook's answer: "applied",
 * "ignored", "unknown", "bad_signature"
 */
void ngx_http_payout_metric_hook(ngx_http_request_t *r,
    ngx_http_payout_gateway_t *gw, const char *result);

/* a webhook attempt recorded: webhook_result()'s row */
void ngx_http_payout_metric_delivery(ngx_http_payout_pg_query_t *q,
    PGresult *res);

/* a reconciler batch claimed (ok) or not */
void ngx_http_payout_metric_reconcile(ngx_uint_t ok);

/* the pool: a query got its connection after waiting, or none at all */
void ngx_http_payout_metric_pg_wait(ngx_msec_t waited);
void ngx_http_payout_metric_pg_unavailable(void);
/* a connection moved from state "from" (-1: new, or gone) to "to" */
void ngx_http_payout_metric_pg_state(ngx_int_t from, ngx_int_t to);

/*
 * q applies a provider's result (payout_apply_result()): its row's
 * transition is counted when the query is done, before q's own handler
 */
void ngx_http_payout_metric_watch(ngx_http_payout_pg_query_t *q);

/* the API moved a payout of ctx->gateway (a staged one's transfer, void) */
void ngx_http_payout_metric_transition(ngx_http_request_t *r,
    ngx_uint_t from, ngx_uint_t to);

/* a payout pending past payout_reconcile_window, logged once */
void ngx_http_payout_metric_stuck(ngx_str_t *gateway);

/* the job that logs them (ngx_http_payout_stuck.c) */
ngx_int_t ngx_http_payout_stuck_init_process(ngx_cycle_t *cycle);
void ngx_http_payout_stuck_exit_process(ngx_cycle_t *cycle);


#endif /* NGX_HTTP_PAYOUT_METRICS_H_INCLUDED_ */
