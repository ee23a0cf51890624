/*
 * A per-worker pool of asynchronous libpq connections on nginx's event
 * loop.  Usable from requests and from background timers alike.
 */

#ifndef NGX_HTTP_PAYOUT_PG_H_INCLUDED_
#define NGX_HTTP_PAYOUT_PG_H_INCLUDED_


#include "ngx_http_payout.h"


#define NGX_HTTP_PAYOUT_PG_MAX_PARAMS  32

/* how a query ended, in q->status when its handler runs */
#define NGX_HTTP_PAYOUT_PG_OK           0   /* res holds the last result */
#define NGX_HTTP_PAYOUT_PG_SQL_ERROR    1   /* res holds the error result */
#define NGX_HTTP_PAYOUT_PG_UNAVAILABLE  2   /* no database; res is NULL */


typedef void (*ngx_http_payout_pg_handler_pt)(ngx_http_payout_pg_query_t *q,
    PGresult *res);


struct ngx_http_payout_pg_query_s {
    const char                     *sql;
    int                             nparams;
    const char                     *values[NGX_HTTP_PAYOUT_PG_MAX_PARAMS];
    int                             lengths[NGX_HTTP_PAYOUT_PG_MAX_PARAMS];
    int                             formats[NGX_HTTP_PAYOUT_PG_MAX_PARAMS];

    ngx_http_payout_pg_handler_pt   handler;
    void                           *data;
    ngx_log_t                      *log;
    ngx_uint_t                      status;

    /* private to the pool */
    ngx_pool_t                     *mem;
    ngx_http_payout_pg_pool_t      *pool;
    void                           *conn;
    ngx_queue_t                     queue;
    ngx_event_t                     wait;
    ngx_msec_t                      queued_at;
    unsigned                        queued:1;
    unsigned                        running:1;
};


ngx_http_payout_pg_pool_t *ngx_http_payout_pg_pool_create(ngx_cycle_t *cycle,
    ngx_http_payout_main_conf_t *pmcf);
void ngx_http_payout_pg_pool_destroy(ngx_http_payout_pg_pool_t *pool);

ngx_http_payout_pg_query_t *ngx_http_payout_pg_query_create(ngx_pool_t *p,
    ngx_log_t *log, const char *sql);
ngx_int_t ngx_http_payout_pg_param(ngx_http_payout_pg_query_t *q,
    const u_char *value, size_t len);
ngx_int_t ngx_http_payout_pg_param_int(ngx_http_payout_pg_query_t *q,
    int64_t value);
ngx_int_t ngx_http_payout_pg_param_bool(ngx_http_payout_pg_query_t *q,
    ngx_uint_t value);
void ngx_http_payout_pg_param_null(ngx_http_payout_pg_query_t *q);
ngx_int_t ngx_http_payout_param_str(ngx_http_payout_pg_query_t *q,
    const char *s);
ngx_int_t ngx_http_payout_param_json(ngx_http_payout_pg_query_t *q,
    json_t *json);

/* column col of row row of a result; cols are the enum beside the SQL */
ngx_uint_t ngx_http_payout_pg_isnull(PGresult *res, int row, int col);
void ngx_http_payout_pg_text(PGresult *res, int row, int col,
    ngx_str_t *out);
int64_t ngx_http_payout_pg_int(PGresult *res, int row, int col);
ngx_uint_t ngx_http_payout_pg_bool(PGresult *res, int row, int col);
ngx_int_t ngx_http_payout_pg_copy(ngx_pool_t *p, PGresult *res, int row,
    int col, ngx_str_t *out);

ngx_int_t ngx_http_payout_pg_run(ngx_http_payout_pg_pool_t *pool,
    ngx_http_payout_pg_query_t *q);
void ngx_http_payout_pg_cancel(ngx_http_payout_pg_query_t *q);
ngx_int_t ngx_http_payout_pg_run_for_request(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q);

/* a request's query, answered for it (ngx_http_payout_response.c) */
ngx_int_t ngx_http_payout_pg_start(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q);
ngx_int_t ngx_http_payout_pg_failure(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q);
ngx_int_t ngx_http_payout_query_row(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q, PGresult *res, const char *missing);
ngx_int_t ngx_http_payout_query_started(ngx_http_request_t *r,
    ngx_int_t rc);

/*
 * The key's scope, its tenant and mode, as the next two parameters: every
 * query about a tenant's resources is about one mode of them
 * (ngx_http_payout_payouts.c).
 */
ngx_int_t ngx_http_payout_pg_param_scope(ngx_http_payout_pg_query_t *q,
    ngx_http_payout_ctx_t *ctx);

/* $1 tenant, $2 livemode, $3 the {uuid} of the path */
ngx_http_payout_pg_query_t *ngx_http_payout_uuid_query(
    ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx, const char *sql,
    ngx_int_t *rc);

/*
 * Wake-ups: the pool's first connection LISTENs on the channel (again
 * after every reconnect) and calls handler for each notification, and
 * once after each (re)connect, when notifications may have been missed.
 */
typedef void (*ngx_http_payout_pg_notify_pt)(void *data);

ngx_int_t ngx_http_payout_pg_listen(ngx_http_payout_pg_pool_t *pool,
    const char *channel, ngx_http_payout_pg_notify_pt handler, void *data);


#endif /* NGX_HTTP_PAYOUT_PG_H_INCLUDED_ */
