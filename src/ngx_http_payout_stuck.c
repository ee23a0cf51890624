/*
 * Stuck money: a payout sent and still pending past
 * payout_reconcile_window is logged once at [warn], with its uuid and
 * gateway, and counted (payout_stuck_logged_total; the gauge
 * payout_stuck_payouts counts those still stuck at each scrape).  A batch
 * job on the job skeleton; payout_stuck_claim() marks what it returns,
 * so no payout is logged twice by any worker or node.
 */

#include "ngx_http_payout_metrics.h"
#include "ngx_http_payout_job.h"
#include "ngx_http_payout_pg.h"


static const char  ngx_http_payout_stuck_sql[] =
    "SELECT payout_uuid, gateway, sub_status, age_s "
    "FROM payout_stuck_claim(p_window_s => $1, p_limit => $2)";

enum {
    NGX_HTTP_PAYOUT_STUCK_PAYOUT_UUID = 0,
    NGX_HTTP_PAYOUT_STUCK_GATEWAY,
    NGX_HTTP_PAYOUT_STUCK_SUB_STATUS,
    NGX_HTTP_PAYOUT_STUCK_AGE_S
};

/* at most this many lines per tick: a backlog is logged over a few */
#define NGX_HTTP_PAYOUT_STUCK_BATCH  100


typedef struct {
    ngx_http_payout_main_conf_t  *pmcf;
    ngx_http_payout_job_t         job;
} ngx_http_payout_stuck_t;


static ngx_int_t ngx_http_payout_stuck_claim(ngx_http_payout_job_t *job,
    ngx_uint_t room);
static void ngx_http_payout_stuck_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res);


static ngx_http_payout_stuck_t  *ngx_http_payout_stuck;


ngx_int_t
ngx_http_payout_stuck_init_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_stuck_t  *st;

    st = ngx_pcalloc(cycle->pool, sizeof(ngx_http_payout_stuck_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                                   ngx_http_payout_module);

    /* no hurry: a payout is stuck after hours, not milliseconds */
    st->job.name = "looking for stuck payouts";
    st->job.interval = ngx_max(10 * st->pmcf->reconcile_interval, 1000);
    st->job.jitter = st->job.interval / 5;
    st->job.max_inflight = 1;
    st->job.batch = 1;
    st->job.claim = ngx_http_payout_stuck_claim;
    st->job.data = st;

    ngx_http_payout_stuck = st;

    return ngx_http_payout_job_start(cycle, &st->job);
}


void
ngx_http_payout_stuck_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_payout_stuck) {
        ngx_http_payout_job_stop(&ngx_http_payout_stuck->job);
    }

    ngx_http_payout_stuck = NULL;
}


static ngx_int_t
ngx_http_payout_stuck_claim(ngx_http_payout_job_t *job, ngx_uint_t room)
{
    ngx_pool_t                  *pool;
    ngx_http_payout_stuck_t     *st;
    ngx_http_payout_pg_query_t  *q;

    st = job->data;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    q = ngx_http_payout_pg_query_create(pool, ngx_cycle->log,
                                        ngx_http_payout_stuck_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, st->pmcf->reconcile_window)
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, NGX_HTTP_PAYOUT_STUCK_BATCH)
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_stuck_claimed;
    q->data = st;

    if (ngx_http_payout_pg_run(st->pmcf->pg, q) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_stuck_claimed(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int                       i, n;
    ngx_str_t                 uuid, gateway, sub;
    ngx_http_payout_stuck_t  *st;

    st = q->data;
    n = (q->status == NGX_HTTP_PAYOUT_PG_OK) ? PQntuples(res) : 0;

    for (i = 0; i < n; i++) {
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_STUCK_PAYOUT_UUID,
                                &uuid);
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_STUCK_GATEWAY,
                                &gateway);
        ngx_http_payout_pg_text(res, i, NGX_HTTP_PAYOUT_STUCK_SUB_STATUS,
                                &sub);

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "payout: payout %V of gateway \"%V\" is still %V "
                      "after %L s, past payout_reconcile_window: see "
                      "payoutctl status and GET /payouts?filter.sub_status",
                      &uuid, &gateway, &sub,
                      ngx_http_payout_pg_int(res, i,
                                             NGX_HTTP_PAYOUT_STUCK_AGE_S));

        ngx_http_payout_metric_stuck(&gateway);
    }

    ngx_destroy_pool(q->mem);

    ngx_http_payout_job_claimed(&st->job, 0);
}
