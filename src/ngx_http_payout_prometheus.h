/*
 * GET /metrics (ngx_http_payout_prometheus.c): the counters of
 * ngx_http_payout_metrics.c's zone and the database's gauges in the
 * Prometheus text format, and the log-phase counter of API requests.
 */

#ifndef NGX_HTTP_PAYOUT_PROMETHEUS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_PROMETHEUS_H_INCLUDED_


#include "ngx_http_payout.h"


/* the zone and the log-phase counter (postconfiguration) */
ngx_int_t ngx_http_payout_prometheus_init(ngx_conf_t *cf);

/* the payout_metrics location */
char *ngx_http_payout_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* NGX_HTTP_PAYOUT_PROMETHEUS_H_INCLUDED_ */
