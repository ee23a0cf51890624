/*
 * The asynchronous PostgreSQL pool.
 *
 * Each worker keeps a few libpq connections in non-blocking mode, with
 * their sockets registered on nginx's event loop.  Read events are
 * level-triggered, so an idle connection notices the server closing it;
 * write events are enabled only while libpq has unsent data.  A query that
 * finds no idle connection waits in a queue for a bounded time; when no
 * connection is even being attempted, the caller hears at once that the
 * database is unavailable, and answers 503 instead of hanging.
 */

#include <sys/stat.h>

#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_metrics.h"
#include "core/ngx_payout_text.h"


typedef enum {
    NGX_HTTP_PAYOUT_PG_DOWN = 0,
    NGX_HTTP_PAYOUT_PG_CONNECTING,
    NGX_HTTP_PAYOUT_PG_IDLE,
    NGX_HTTP_PAYOUT_PG_BUSY
} ngx_http_payout_pg_state_e;

/* every move is counted, for payout_db_pool_connections{state} */
#define ngx_http_payout_pg_set_state(pc, s)                                 \
    ((pc)->state = ngx_http_payout_pg_moved((pc)->state, s))


/*
 * Planning costs more than running our small queries, so every distinct
 * SQL text becomes a named prepared statement, prepared on a connection
 * the first time that connection runs it.  Past the cap (dynamic SQL that
 * keeps changing) queries simply run unprepared.
 */

#define NGX_HTTP_PAYOUT_PG_MAX_STMTS  256


typedef struct {
    ngx_http_payout_pg_pool_t   *pool;
    PGconn                      *pg;
    uint64_t                     prepared[NGX_HTTP_PAYOUT_PG_MAX_STMTS / 64];
    ngx_int_t                    preparing;  /* statement index or -1 */
    ngx_connection_t            *c;
    ino_t                        ino;
    ngx_http_payout_pg_state_e   state;
    ngx_http_payout_pg_query_t  *query;     /* NULL once its owner left */
    PGresult                    *result;
    ngx_event_t                  timer;     /* by state: reconnect, connect
                                               timeout or query timeout */
    ngx_msec_t                   backoff;
    ngx_msec_t                   sent;      /* when the query went out */
    ngx_uint_t                   index;     /* in the pool, for the log */
    ngx_log_t                    log;       /* the pool's, with an action */
} ngx_http_payout_pg_conn_t;


struct ngx_http_payout_pg_pool_s {
    ngx_http_payout_main_conf_t *conf;
    ngx_log_t                   *log;
    ngx_http_payout_pg_conn_t   *conns;
    ngx_uint_t                   nconns;
    ngx_queue_t                  waiting;
    ngx_uint_t                   nstmts;
    char                        *stmts[NGX_HTTP_PAYOUT_PG_MAX_STMTS];

#define NGX_HTTP_PAYOUT_PG_MAX_LISTEN  4
    ngx_uint_t                   nlisten;
    struct {
        const char                     *channel;
        ngx_http_payout_pg_notify_pt    handler;
        void                           *data;
    }                            listen[NGX_HTTP_PAYOUT_PG_MAX_LISTEN];
    char                         listen_sql[256];

    unsigned                     destroyed:1;
};


static ngx_http_payout_pg_state_e ngx_http_payout_pg_moved(
    ngx_http_payout_pg_state_e from, ngx_http_payout_pg_state_e to);
static void ngx_http_payout_pg_connect(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_connect_poll(ngx_http_payout_pg_conn_t *pc);
static ngx_int_t ngx_http_payout_pg_attach(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_detach(ngx_http_payout_pg_conn_t *pc,
    ngx_uint_t fd_closed);
static ngx_int_t ngx_http_payout_pg_events(ngx_http_payout_pg_conn_t *pc,
    ngx_uint_t read, ngx_uint_t write);
static void ngx_http_payout_pg_close(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_connect_failed(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_broken(ngx_http_payout_pg_conn_t *pc,
    const char *what);
static void ngx_http_payout_pg_schedule_reconnect(
    ngx_http_payout_pg_conn_t *pc);
static ngx_int_t ngx_http_payout_pg_send(ngx_http_payout_pg_conn_t *pc,
    ngx_http_payout_pg_query_t *q);
static ngx_int_t ngx_http_payout_pg_flush(ngx_http_payout_pg_conn_t *pc);
static ngx_int_t ngx_http_payout_pg_stmt(ngx_http_payout_pg_pool_t *pool,
    const char *sql);
static ngx_int_t ngx_http_payout_pg_prepared(ngx_http_payout_pg_conn_t *pc,
    PGresult *res);
static void ngx_http_payout_pg_consume(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_complete(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_dispatch(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_finish(ngx_http_payout_pg_query_t *q,
    ngx_uint_t status, PGresult *res);
static void ngx_http_payout_pg_fail_waiting(ngx_http_payout_pg_pool_t *pool);
static ngx_uint_t ngx_http_payout_pg_reachable(
    ngx_http_payout_pg_pool_t *pool);
static void ngx_http_payout_pg_log_failure(ngx_log_t *log, PGresult *res);
static ngx_uint_t ngx_http_payout_pg_result_unavailable(PGconn *pg,
    PGresult *res);
static void ngx_http_payout_pg_read_handler(ngx_event_t *ev);
static void ngx_http_payout_pg_write_handler(ngx_event_t *ev);
static void ngx_http_payout_pg_timer_handler(ngx_event_t *ev);
static void ngx_http_payout_pg_wait_handler(ngx_event_t *ev);
static void ngx_http_payout_pg_request_cleanup(void *data);
static void ngx_http_payout_pg_send_listen(ngx_http_payout_pg_conn_t *pc);
static void ngx_http_payout_pg_notify(ngx_http_payout_pg_pool_t *pool,
    const char *channel);
static u_char *ngx_http_payout_pg_log_error(ngx_log_t *log, u_char *buf,
    size_t len);
static const char *ngx_http_payout_pg_errmsg(PGconn *pg, char *buf,
    size_t size);
static const char *ngx_http_payout_pg_oneline(const char *s, size_t len,
    char *buf, size_t size);


#define NGX_HTTP_PAYOUT_PG_ERRLEN  512


ngx_http_payout_pg_pool_t *
ngx_http_payout_pg_pool_create(ngx_cycle_t *cycle,
    ngx_http_payout_main_conf_t *pmcf)
{
    ngx_uint_t                  i;
    ngx_http_payout_pg_conn_t  *pc;
    ngx_http_payout_pg_pool_t  *pool;

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_http_payout_pg_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->conf = pmcf;
    pool->log = cycle->log;
    pool->nconns = pmcf->pool_size;
    ngx_queue_init(&pool->waiting);

    pool->conns = ngx_pcalloc(cycle->pool,
                              pool->nconns * sizeof(ngx_http_payout_pg_conn_t));
    if (pool->conns == NULL) {
        return NULL;
    }

    for (i = 0; i < pool->nconns; i++) {
        pc = &pool->conns[i];
        pc->pool = pool;
        pc->preparing = -1;
        pc->index = i;

        /*
         * Each connection's own copy of the worker's log, so its error
         * lines say what it was doing ("while connecting to PostgreSQL").
         */

        pc->log = *cycle->log;
        pc->log.handler = ngx_http_payout_pg_log_error;
        pc->log.data = NULL;
        pc->log.action = "connecting to PostgreSQL";

        pc->timer.handler = ngx_http_payout_pg_timer_handler;
        pc->timer.data = pc;
        pc->timer.log = &pc->log;
        pc->timer.cancelable = 1;

        ngx_http_payout_metric_pg_state(-1, NGX_HTTP_PAYOUT_PG_DOWN);
        ngx_http_payout_pg_connect(pc);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, cycle->log, 0,
                   "payout pg: pool of %ui connections", pool->nconns);

    return pool;
}


static ngx_http_payout_pg_state_e
ngx_http_payout_pg_moved(ngx_http_payout_pg_state_e from,
    ngx_http_payout_pg_state_e to)
{
    ngx_http_payout_metric_pg_state(from, to);

    return to;
}


void
ngx_http_payout_pg_pool_destroy(ngx_http_payout_pg_pool_t *pool)
{
    ngx_uint_t                  i;
    ngx_http_payout_pg_conn_t  *pc;

    pool->destroyed = 1;

    for (i = 0; i < pool->nconns; i++) {
        pc = &pool->conns[i];

        if (pc->timer.timer_set) {
            ngx_del_timer(&pc->timer);
        }

        pc->query = NULL;
        ngx_http_payout_pg_close(pc);
        ngx_http_payout_metric_pg_state(pc->state, -1);
    }

    for (i = 0; i < pool->nstmts; i++) {
        ngx_free(pool->stmts[i]);
    }

    pool->nstmts = 0;
}


ngx_http_payout_pg_query_t *
ngx_http_payout_pg_query_create(ngx_pool_t *p, ngx_log_t *log,
    const char *sql)
{
    ngx_http_payout_pg_query_t  *q;

    q = ngx_pcalloc(p, sizeof(ngx_http_payout_pg_query_t));
    if (q == NULL) {
        return NULL;
    }

    q->sql = sql;
    q->mem = p;
    q->log = log;

    return q;
}


ngx_int_t
ngx_http_payout_pg_param(ngx_http_payout_pg_query_t *q, const u_char *value,
    size_t len)
{
    u_char  *p;

    if (q->nparams == NGX_HTTP_PAYOUT_PG_MAX_PARAMS) {
        return NGX_ERROR;
    }

    /* libpq wants text parameters NUL-terminated */
    p = ngx_pnalloc(q->mem, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, value, len);
    p[len] = '\0';

    q->values[q->nparams] = (const char *) p;
    q->lengths[q->nparams] = (int) len;
    q->nparams++;

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_pg_param_int(ngx_http_payout_pg_query_t *q, int64_t value)
{
    u_char  buf[NGX_INT64_LEN + 1];
    u_char *last;

    last = ngx_sprintf(buf, "%L", value);

    return ngx_http_payout_pg_param(q, buf, last - buf);
}


ngx_int_t
ngx_http_payout_pg_param_bool(ngx_http_payout_pg_query_t *q,
    ngx_uint_t value)
{
    return ngx_http_payout_pg_param(q, (u_char *) (value ? "t" : "f"), 1);
}


void
ngx_http_payout_pg_param_null(ngx_http_payout_pg_query_t *q)
{
    if (q->nparams < NGX_HTTP_PAYOUT_PG_MAX_PARAMS) {
        q->values[q->nparams] = NULL;
        q->lengths[q->nparams] = 0;
        q->nparams++;
    }
}


/* a C string or NULL; JSON as its compact text, or NULL */

ngx_int_t
ngx_http_payout_param_str(ngx_http_payout_pg_query_t *q, const char *s)
{
    if (s == NULL) {
        ngx_http_payout_pg_param_null(q);
        return NGX_OK;
    }

    return ngx_http_payout_pg_param(q, (u_char *) s, ngx_strlen(s));
}


ngx_int_t
ngx_http_payout_param_json(ngx_http_payout_pg_query_t *q, json_t *json)
{
    char       *text;
    ngx_int_t   rc;

    if (json == NULL || json_is_null(json)) {
        ngx_http_payout_pg_param_null(q);
        return NGX_OK;
    }

    text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_payout_pg_param(q, (u_char *) text, ngx_strlen(text));
    free(text);

    return rc;
}


/*
 * Row getters: the glue reads a result by column names (an enum beside
 * each SQL string), never by literal positions.
 */

ngx_uint_t
ngx_http_payout_pg_isnull(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 1 : 0;
}


/* the value in place (NUL-terminated, as libpq keeps it); NULL is "" */

void
ngx_http_payout_pg_text(PGresult *res, int row, int col, ngx_str_t *out)
{
    out->data = (u_char *) PQgetvalue(res, row, col);
    out->len = PQgetlength(res, row, col);
}


/* NGX_ERROR for NULL or what is not a non-negative integer */

int64_t
ngx_http_payout_pg_int(PGresult *res, int row, int col)
{
    return ngx_atoof((u_char *) PQgetvalue(res, row, col),
                     PQgetlength(res, row, col));
}


/* 1 for true, 0 for false and NULL */

ngx_uint_t
ngx_http_payout_pg_bool(PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}


/* a copy in pool p, NUL-terminated; NULL is a null string (data NULL) */

ngx_int_t
ngx_http_payout_pg_copy(ngx_pool_t *p, PGresult *res, int row, int col,
    ngx_str_t *out)
{
    ngx_str_t  v;

    if (PQgetisnull(res, row, col)) {
        ngx_str_null(out);
        return NGX_OK;
    }

    ngx_http_payout_pg_text(res, row, col, &v);

    out->data = ngx_pnalloc(p, v.len + 1);
    if (out->data == NULL) {
        out->len = 0;
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, v.data, v.len + 1);
    out->len = v.len;

    return NGX_OK;
}


/*
 * Starts q.  NGX_OK: its handler runs later, never from inside this call.
 * NGX_DECLINED: no connection is up or being attempted, so the database
 * is unavailable now; the handler will not run.
 */

ngx_int_t
ngx_http_payout_pg_run(ngx_http_payout_pg_pool_t *pool,
    ngx_http_payout_pg_query_t *q)
{
    ngx_uint_t                  i;
    ngx_http_payout_pg_conn_t  *pc;

    if (pool == NULL || pool->destroyed) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, q->log, 0,
                       "payout pg: no pool, database unavailable");
        ngx_http_payout_metric_pg_unavailable();
        return NGX_DECLINED;
    }

    q->pool = pool;

    for (i = 0; i < pool->nconns; i++) {
        pc = &pool->conns[i];

        if (pc->state != NGX_HTTP_PAYOUT_PG_IDLE) {
            continue;
        }

        if (ngx_http_payout_pg_send(pc, q) == NGX_OK) {
            ngx_http_payout_metric_pg_wait(0);
            return NGX_OK;
        }

        ngx_http_payout_pg_broken(pc, "send");
    }

    if (!ngx_http_payout_pg_reachable(pool)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, q->log, 0,
                       "payout pg: no connection up or being attempted, "
                       "database unavailable");
        ngx_http_payout_metric_pg_unavailable();
        return NGX_DECLINED;
    }

    q->wait.handler = ngx_http_payout_pg_wait_handler;
    q->wait.data = q;
    q->wait.log = q->log;
    ngx_add_timer(&q->wait, pool->conf->queue_timeout);

    ngx_queue_insert_tail(&pool->waiting, &q->queue);
    q->queued = 1;
    q->queued_at = ngx_current_msec;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "payout pg: no idle connection, query queued for up "
                   "to %M ms", pool->conf->queue_timeout);

    return NGX_OK;
}


/* the owner of q is going away: its handler must never run */

void
ngx_http_payout_pg_cancel(ngx_http_payout_pg_query_t *q)
{
    ngx_http_payout_pg_conn_t  *pc;

    if (q->queued || q->running) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, q->log, 0,
                       "payout pg: query canceled while %s",
                       q->queued ? "queued" : "running");
    }

    if (q->queued) {
        ngx_queue_remove(&q->queue);
        q->queued = 0;

        if (q->wait.timer_set) {
            ngx_del_timer(&q->wait);
        }
    }

    if (q->running) {
        /* the connection drains the result and discards it */
        pc = q->conn;
        pc->query = NULL;
        q->running = 0;
        q->conn = NULL;
    }
}


ngx_int_t
ngx_http_payout_pg_run_for_request(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_payout_main_conf_t  *pmcf;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_payout_pg_request_cleanup;
    cln->data = q;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    return ngx_http_payout_pg_run(pmcf->pg, q);
}


static void
ngx_http_payout_pg_request_cleanup(void *data)
{
    ngx_http_payout_pg_cancel(data);
}


static void
ngx_http_payout_pg_connect(ngx_http_payout_pg_conn_t *pc)
{
    char                        err[NGX_HTTP_PAYOUT_PG_ERRLEN];
    ngx_http_payout_pg_pool_t  *pool;

    pool = pc->pool;

    /* the conninfo may hold a password: never logged */
    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui connecting", pc->index);

    pc->log.action = "connecting to PostgreSQL";
    pc->pg = PQconnectStart((char *) pool->conf->database.data);

    if (pc->pg == NULL) {
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "payout: database connection: out of memory");
        ngx_http_payout_pg_connect_failed(pc);
        return;
    }

    if (PQstatus(pc->pg) == CONNECTION_BAD
        || PQsetnonblocking(pc->pg, 1) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "payout: database connection failed: %s",
                      ngx_http_payout_pg_errmsg(pc->pg, err, sizeof(err)));
        ngx_http_payout_pg_connect_failed(pc);
        return;
    }

    ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_CONNECTING);

    if (ngx_http_payout_pg_attach(pc) != NGX_OK
        || ngx_http_payout_pg_events(pc, 0, 1) != NGX_OK)
    {
        ngx_http_payout_pg_connect_failed(pc);
        return;
    }

    pc->timer.cancelable = 1;
    ngx_add_timer(&pc->timer, pool->conf->connect_timeout);
}


static void
ngx_http_payout_pg_connect_poll(ngx_http_payout_pg_conn_t *pc)
{
    int                        fd;
    char                       err[NGX_HTTP_PAYOUT_PG_ERRLEN];
    struct stat                st;
    PostgresPollingStatusType  rc;

    rc = PQconnectPoll(pc->pg);

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui connect poll: %s", pc->index,
                   rc == PGRES_POLLING_READING ? "reading"
                   : rc == PGRES_POLLING_WRITING ? "writing"
                   : rc == PGRES_POLLING_OK ? "ok" : "failed");

    if (rc == PGRES_POLLING_FAILED) {
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "payout: database connection failed: %s",
                      ngx_http_payout_pg_errmsg(pc->pg, err, sizeof(err)));
        ngx_http_payout_pg_connect_failed(pc);
        return;
    }

    /*
     * libpq may drop the socket and open another one (the next address,
     * or a retry without SSL), possibly under the same number: compare
     * the inode too.  The old socket is closed, so epoll forgot it.
     */

    fd = PQsocket(pc->pg);

    if (fd < 0 || fstat(fd, &st) == -1
        || (ngx_socket_t) fd != pc->c->fd || st.st_ino != pc->ino)
    {
        ngx_http_payout_pg_detach(pc, 1);

        if (ngx_http_payout_pg_attach(pc) != NGX_OK) {
            ngx_http_payout_pg_connect_failed(pc);
            return;
        }
    }

    switch (rc) {

    case PGRES_POLLING_READING:
        if (ngx_http_payout_pg_events(pc, 1, 0) != NGX_OK) {
            ngx_http_payout_pg_broken(pc, "connect");
        }
        return;

    case PGRES_POLLING_WRITING:
        if (ngx_http_payout_pg_events(pc, 0, 1) != NGX_OK) {
            ngx_http_payout_pg_broken(pc, "connect");
        }
        return;

    default: /* PGRES_POLLING_OK */
        break;
    }

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    if (ngx_http_payout_pg_events(pc, 1, 0) != NGX_OK) {
        ngx_http_payout_pg_broken(pc, "connect");
        return;
    }

    pc->log.action = "talking to PostgreSQL";

    if (pc->backoff) {
        ngx_log_error(NGX_LOG_NOTICE, &pc->log, 0,
                      "payout: database connection restored");
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui connected, server version %d",
                   pc->index, PQserverVersion(pc->pg));

    pc->backoff = 0;
    ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_IDLE);

    if (pc == &pc->pool->conns[0] && pc->pool->nlisten) {
        ngx_http_payout_pg_send_listen(pc);
        return;
    }

    ngx_http_payout_pg_dispatch(pc);
}


/*
 * LISTEN runs as a query nobody waits for; when it completes the
 * connection serves the queue as usual.  Listeners are told to look for
 * work, since anything notified while we were away is lost.
 */

static void
ngx_http_payout_pg_send_listen(ngx_http_payout_pg_conn_t *pc)
{
    ngx_uint_t                  i;
    ngx_http_payout_pg_pool_t  *pool;

    pool = pc->pool;

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui sending \"%s\"", pc->index,
                   pool->listen_sql);

    if (!PQsendQuery(pc->pg, pool->listen_sql)
        || ngx_http_payout_pg_flush(pc) != NGX_OK)
    {
        ngx_http_payout_pg_broken(pc, "listen");
        return;
    }

    ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_BUSY);
    pc->sent = ngx_current_msec;
    pc->timer.cancelable = 1;
    ngx_add_timer(&pc->timer, pool->conf->query_timeout);

    for (i = 0; i < pool->nlisten; i++) {
        pool->listen[i].handler(pool->listen[i].data);
    }
}


ngx_int_t
ngx_http_payout_pg_listen(ngx_http_payout_pg_pool_t *pool,
    const char *channel, ngx_http_payout_pg_notify_pt handler, void *data)
{
    u_char      *last;
    ngx_uint_t   i;

    if (pool == NULL || pool->nlisten == NGX_HTTP_PAYOUT_PG_MAX_LISTEN) {
        return NGX_ERROR;
    }

    pool->listen[pool->nlisten].channel = channel;
    pool->listen[pool->nlisten].handler = handler;
    pool->listen[pool->nlisten].data = data;
    pool->nlisten++;

    last = (u_char *) pool->listen_sql;

    for (i = 0; i < pool->nlisten; i++) {
        last = ngx_slprintf(last, (u_char *) pool->listen_sql
                                  + sizeof(pool->listen_sql) - 1,
                            "LISTEN %s;", pool->listen[i].channel);
    }

    *last = '\0';

    /* already connected: start listening with the next reconnect, or now */
    if (pool->conns[0].state == NGX_HTTP_PAYOUT_PG_IDLE) {
        ngx_http_payout_pg_send_listen(&pool->conns[0]);
    }

    return NGX_OK;
}


static void
ngx_http_payout_pg_notify(ngx_http_payout_pg_pool_t *pool,
    const char *channel)
{
    ngx_uint_t  i;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, pool->log, 0,
                   "payout pg: NOTIFY on \"%s\"", channel);

    for (i = 0; i < pool->nlisten; i++) {
        if (ngx_strcmp(pool->listen[i].channel, channel) == 0) {
            pool->listen[i].handler(pool->listen[i].data);
        }
    }
}


static ngx_int_t
ngx_http_payout_pg_attach(ngx_http_payout_pg_conn_t *pc)
{
    int                fd;
    struct stat        st;
    ngx_connection_t  *c;

    fd = PQsocket(pc->pg);

    if (fd < 0 || fstat(fd, &st) == -1) {
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "payout: database connection has no socket");
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, &pc->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui watching fd:%d", pc->index, fd);

    c->data = pc;
    c->read->handler = ngx_http_payout_pg_read_handler;
    c->write->handler = ngx_http_payout_pg_write_handler;
    c->read->log = &pc->log;
    c->write->log = &pc->log;

    pc->c = c;
    pc->ino = st.st_ino;

    return NGX_OK;
}


/* forget the socket without closing it: libpq owns it */

static void
ngx_http_payout_pg_detach(ngx_http_payout_pg_conn_t *pc,
    ngx_uint_t fd_closed)
{
    if (pc->c == NULL) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui forgetting fd:%d%s", pc->index,
                   pc->c->fd, fd_closed ? ", closed" : "");

    ngx_http_payout_forget_socket(pc->c, fd_closed);

    pc->c = NULL;
}


static ngx_int_t
ngx_http_payout_pg_events(ngx_http_payout_pg_conn_t *pc, ngx_uint_t read,
    ngx_uint_t write)
{
    ngx_event_t  *rev, *wev;

    rev = pc->c->read;
    wev = pc->c->write;

    if (read && !rev->active) {
        if (ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (!read && rev->active) {
        if (ngx_del_event(rev, NGX_READ_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (write && !wev->active) {
        if (ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (!write && wev->active) {
        if (ngx_del_event(wev, NGX_WRITE_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_payout_pg_close(ngx_http_payout_pg_conn_t *pc)
{
    /* after a read error libpq has closed the socket itself */

    ngx_http_payout_pg_detach(pc, pc->pg == NULL || pc->c == NULL
                                  || PQsocket(pc->pg) < 0
                                  || (ngx_socket_t) PQsocket(pc->pg)
                                     != pc->c->fd);

    if (pc->result) {
        PQclear(pc->result);
        pc->result = NULL;
    }

    if (pc->pg) {
        PQfinish(pc->pg);
        pc->pg = NULL;
    }

    ngx_memzero(pc->prepared, sizeof(pc->prepared));
    pc->preparing = -1;

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    if (pc->state != NGX_HTTP_PAYOUT_PG_DOWN) {
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                       "payout pg: #%ui closed", pc->index);
    }

    ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_DOWN);
}


/*
 * An attempt failed: try again later, and if no other connection is up
 * or being attempted, the queued queries learn it now, not at their
 * queue timeout.
 */

static void
ngx_http_payout_pg_connect_failed(ngx_http_payout_pg_conn_t *pc)
{
    ngx_http_payout_pg_close(pc);
    ngx_http_payout_pg_schedule_reconnect(pc);

    if (!ngx_http_payout_pg_reachable(pc->pool)) {
        ngx_http_payout_pg_fail_waiting(pc->pool);
    }
}


/* the connection failed under a query or while idle: start over */

static void
ngx_http_payout_pg_broken(ngx_http_payout_pg_conn_t *pc, const char *what)
{
    char                         err[NGX_HTTP_PAYOUT_PG_ERRLEN];
    ngx_http_payout_pg_pool_t   *pool;
    ngx_http_payout_pg_query_t  *q;

    pool = pc->pool;

    ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                  "payout: database connection lost (%s): %s", what,
                  ngx_http_payout_pg_errmsg(pc->pg, err, sizeof(err)));

    q = pc->query;
    pc->query = NULL;

    ngx_http_payout_pg_close(pc);
    ngx_http_payout_pg_schedule_reconnect(pc);

    if (q) {
        ngx_http_payout_pg_finish(q, NGX_HTTP_PAYOUT_PG_UNAVAILABLE, NULL);
    }

    if (!ngx_http_payout_pg_reachable(pool)) {
        ngx_http_payout_pg_fail_waiting(pool);
    }
}


static void
ngx_http_payout_pg_schedule_reconnect(ngx_http_payout_pg_conn_t *pc)
{
    ngx_http_payout_main_conf_t  *pmcf;

    ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_DOWN);

    if (pc->pool->destroyed) {
        return;
    }

    pmcf = pc->pool->conf;

    if (pc->backoff == 0) {
        pc->backoff = pmcf->reconnect_min;

    } else {
        pc->backoff = ngx_min(pc->backoff * 2, pmcf->reconnect_max);
    }

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                   "payout pg: #%ui reconnecting in %M ms", pc->index,
                   pc->backoff);

    pc->timer.cancelable = 1;
    ngx_add_timer(&pc->timer, pc->backoff);
}


static ngx_int_t
ngx_http_payout_pg_send(ngx_http_payout_pg_conn_t *pc,
    ngx_http_payout_pg_query_t *q)
{
    int        ok;
    char       name[32];
#if (NGX_DEBUG)
    char       sql[64];
#endif
    ngx_int_t  stmt;

    stmt = ngx_http_payout_pg_stmt(pc->pool, q->sql);
    ngx_sprintf((u_char *) name, "payout_%i%Z", stmt);

    /* parameter values may be secrets or account numbers: never logged */
    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "payout pg: #%ui %s %s, %d parameters: \"%s\"",
                   pc->index,
                   stmt == NGX_ERROR ? "running unprepared"
                   : (pc->prepared[stmt / 64] & ((uint64_t) 1 << (stmt % 64)))
                     ? "running" : "preparing",
                   stmt == NGX_ERROR ? "statement" : name, q->nparams,
                   ngx_http_payout_pg_oneline(q->sql, ngx_strlen(q->sql),
                                              sql, sizeof(sql)));

    if (stmt == NGX_ERROR) {
        ok = PQsendQueryParams(pc->pg, q->sql, q->nparams, NULL, q->values,
                               NULL, NULL, 0);

    } else if (pc->prepared[stmt / 64] & ((uint64_t) 1 << (stmt % 64))) {
        ok = PQsendQueryPrepared(pc->pg, name, q->nparams, q->values,
                                 NULL, NULL, 0);

    } else {
        ok = PQsendPrepare(pc->pg, name, q->sql, q->nparams, NULL);
        pc->preparing = stmt;
    }

    if (!ok || ngx_http_payout_pg_flush(pc) != NGX_OK) {
        pc->preparing = -1;
        return NGX_ERROR;
    }

    pc->query = q;
    ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_BUSY);
    pc->sent = ngx_current_msec;
    q->conn = pc;
    q->running = 1;

    /*
     * A query in flight keeps a worker that is shutting down alive until
     * it ends: its request still waits for the answer.
     */

    pc->timer.cancelable = 0;
    ngx_add_timer(&pc->timer, pc->pool->conf->query_timeout);

    return NGX_OK;
}


/* the statement's index in this worker's registry, or NGX_ERROR */

static ngx_int_t
ngx_http_payout_pg_stmt(ngx_http_payout_pg_pool_t *pool, const char *sql)
{
    size_t      len;
    ngx_uint_t  i;

    for (i = 0; i < pool->nstmts; i++) {
        if (pool->stmts[i] == sql || ngx_strcmp(pool->stmts[i], sql) == 0) {
            return i;
        }
    }

    if (pool->nstmts == NGX_HTTP_PAYOUT_PG_MAX_STMTS) {
        return NGX_ERROR;
    }

    len = ngx_strlen(sql) + 1;

    pool->stmts[i] = ngx_alloc(len, pool->log);
    if (pool->stmts[i] == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(pool->stmts[i], sql, len);
    pool->nstmts++;

    return i;
}


/*
 * A prepare finished.  NGX_DECLINED: it worked and the query itself is on
 * its way; NGX_DONE: it worked but nobody waits any more (res is freed);
 * NGX_OK: it failed, and res says why.
 */

static ngx_int_t
ngx_http_payout_pg_prepared(ngx_http_payout_pg_conn_t *pc, PGresult *res)
{
    char                         name[32];
    ngx_int_t                    stmt;
    ngx_http_payout_pg_query_t  *q;

    stmt = pc->preparing;
    pc->preparing = -1;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        return NGX_OK;
    }

    pc->prepared[stmt / 64] |= (uint64_t) 1 << (stmt % 64);

    PQclear(res);

    q = pc->query;

    if (q == NULL) {
        return NGX_DONE;
    }

    ngx_sprintf((u_char *) name, "payout_%i%Z", stmt);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "payout pg: #%ui prepared %s, running it", pc->index,
                   name);

    if (!PQsendQueryPrepared(pc->pg, name, q->nparams, q->values, NULL, NULL,
                             0)
        || ngx_http_payout_pg_flush(pc) != NGX_OK)
    {
        ngx_http_payout_pg_broken(pc, "send");
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_payout_pg_flush(ngx_http_payout_pg_conn_t *pc)
{
    int  rc;

    rc = PQflush(pc->pg);

    if (rc == -1) {
        return NGX_ERROR;
    }

    /* 1: libpq still holds unsent data; write when the socket drains */
    return ngx_http_payout_pg_events(pc, 1, rc == 1);
}


static void
ngx_http_payout_pg_consume(ngx_http_payout_pg_conn_t *pc)
{
    PGresult  *res;
    PGnotify  *notify;

    if (!PQconsumeInput(pc->pg)) {
        ngx_http_payout_pg_broken(pc, "read");
        return;
    }

    while ((notify = PQnotifies(pc->pg)) != NULL) {
        ngx_http_payout_pg_notify(pc->pool, notify->relname);
        PQfreemem(notify);
    }

    if (pc->state != NGX_HTTP_PAYOUT_PG_BUSY) {
        if (PQstatus(pc->pg) == CONNECTION_BAD) {
            ngx_http_payout_pg_broken(pc, "idle");
        }

        return;
    }

    while (!PQisBusy(pc->pg)) {
        res = PQgetResult(pc->pg);

        if (res == NULL) {
            ngx_http_payout_pg_complete(pc);
            return;
        }

        /* keep the last result, but an error wins over later ones */
        if (pc->result
            && PQresultStatus(pc->result) == PGRES_FATAL_ERROR)
        {
            PQclear(res);
            continue;
        }

        if (pc->result) {
            PQclear(pc->result);
        }

        pc->result = res;
    }
}


static void
ngx_http_payout_pg_complete(ngx_http_payout_pg_conn_t *pc)
{
    char                         err[NGX_HTTP_PAYOUT_PG_ERRLEN];
    PGresult                    *res;
    ngx_uint_t                   status, bad;
    ExecStatusType               rs;
    ngx_http_payout_pg_query_t  *q;

    res = pc->result;
    pc->result = NULL;

    if (pc->preparing >= 0) {
        switch (ngx_http_payout_pg_prepared(pc, res)) {

        case NGX_DECLINED:
            return;

        case NGX_DONE:
            res = NULL;
            break;

        default: /* NGX_OK: preparing failed, res says why */
            break;
        }
    }

    q = pc->query;
    pc->query = NULL;

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
        status = NGX_HTTP_PAYOUT_PG_OK;

    } else if (ngx_http_payout_pg_result_unavailable(pc->pg, res)) {
        status = NGX_HTTP_PAYOUT_PG_UNAVAILABLE;

    } else {
        status = NGX_HTTP_PAYOUT_PG_SQL_ERROR;

        ngx_http_payout_pg_log_failure(&pc->log, res);
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, q ? q->log : &pc->log, 0,
                   "payout pg: #%ui result %s, %d rows, %M ms%s", pc->index,
                   PQresStatus(rs), res ? PQntuples(res) : 0,
                   ngx_current_msec - pc->sent, q ? "" : ", nobody waits");

    /* settle the connection first: the handler may start a new query */

    bad = (PQstatus(pc->pg) == CONNECTION_BAD);

    if (bad) {
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "payout: database connection lost: %s",
                      ngx_http_payout_pg_errmsg(pc->pg, err, sizeof(err)));
        ngx_http_payout_pg_close(pc);
        ngx_http_payout_pg_schedule_reconnect(pc);

    } else {
        ngx_http_payout_pg_set_state(pc, NGX_HTTP_PAYOUT_PG_IDLE);
    }

    if (q) {
        ngx_http_payout_pg_finish(q, status, res);
    }

    if (res) {
        PQclear(res);
    }

    if (bad) {
        if (!ngx_http_payout_pg_reachable(pc->pool)) {
            ngx_http_payout_pg_fail_waiting(pc->pool);
        }

        return;
    }

    if (pc->state == NGX_HTTP_PAYOUT_PG_IDLE) {
        ngx_http_payout_pg_dispatch(pc);
    }
}


/*
 * A failed query in the log: its SQLSTATE and primary message only.  The
 * detail and context may quote the row or the input ("Failing row
 * contains ...", "Key (...)=(...)"); so does the message of a data error
 * (class 22), whose values are hidden.
 */

static void
ngx_http_payout_pg_log_failure(ngx_log_t *log, PGresult *res)
{
    char   msg[256];
    char  *state, *primary;

    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (state == NULL || primary == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "payout: database query failed: %s",
                      res ? PQresStatus(PQresultStatus(res)) : "no result");
        return;
    }

    if (ngx_strncmp(state, "22", 2) == 0) {
        ngx_payout_redact_values(msg, sizeof(msg), primary);

    } else {
        ngx_payout_utf8_cut(msg, sizeof(msg), primary,
                            ngx_strlen(primary));
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "payout: database query failed: SQLSTATE %s: %s",
                  state, msg);
}


static ngx_uint_t
ngx_http_payout_pg_result_unavailable(PGconn *pg, PGresult *res)
{
    char  *state;

    if (res == NULL || PQstatus(pg) == CONNECTION_BAD) {
        return 1;
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    if (state == NULL) {
        return 0;
    }

    /* connection exceptions, shutdowns, too many connections */
    return ngx_strncmp(state, "08", 2) == 0
           || ngx_strncmp(state, "57P", 3) == 0
           || ngx_strncmp(state, "53", 2) == 0;
}


static void
ngx_http_payout_pg_dispatch(ngx_http_payout_pg_conn_t *pc)
{
    ngx_queue_t                 *head;
    ngx_http_payout_pg_pool_t   *pool;
    ngx_http_payout_pg_query_t  *q;

    pool = pc->pool;

    if (ngx_queue_empty(&pool->waiting)) {
        return;
    }

    head = ngx_queue_head(&pool->waiting);
    q = ngx_queue_data(head, ngx_http_payout_pg_query_t, queue);

    ngx_queue_remove(head);
    q->queued = 0;

    if (q->wait.timer_set) {
        ngx_del_timer(&q->wait);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "payout pg: #%ui takes the query that waited %M ms",
                   pc->index, ngx_current_msec - q->queued_at);

    ngx_http_payout_metric_pg_wait(ngx_current_msec - q->queued_at);

    if (ngx_http_payout_pg_send(pc, q) != NGX_OK) {
        ngx_http_payout_pg_broken(pc, "send");
        ngx_http_payout_pg_finish(q, NGX_HTTP_PAYOUT_PG_UNAVAILABLE, NULL);
    }
}


static void
ngx_http_payout_pg_finish(ngx_http_payout_pg_query_t *q, ngx_uint_t status,
    PGresult *res)
{
    q->running = 0;
    q->conn = NULL;
    q->status = status;

    if (status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE) {
        ngx_http_payout_metric_pg_unavailable();
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "payout pg: query done: %s",
                   status == NGX_HTTP_PAYOUT_PG_OK ? "ok"
                   : status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE
                     ? "database unavailable" : "SQL error");

    q->handler(q, res);
}


static void
ngx_http_payout_pg_fail_waiting(ngx_http_payout_pg_pool_t *pool)
{
    ngx_queue_t                 *head;
    ngx_http_payout_pg_query_t  *q;

    if (!ngx_queue_empty(&pool->waiting)) {
        ngx_log_debug0(NGX_LOG_DEBUG_EVENT, pool->log, 0,
                       "payout pg: no connection left, "
                       "failing the queued queries");
    }

    while (!ngx_queue_empty(&pool->waiting)) {
        head = ngx_queue_head(&pool->waiting);
        q = ngx_queue_data(head, ngx_http_payout_pg_query_t, queue);

        ngx_queue_remove(head);
        q->queued = 0;

        if (q->wait.timer_set) {
            ngx_del_timer(&q->wait);
        }

        ngx_http_payout_pg_finish(q, NGX_HTTP_PAYOUT_PG_UNAVAILABLE, NULL);
    }
}


/* is any connection up, or at least being attempted right now? */

static ngx_uint_t
ngx_http_payout_pg_reachable(ngx_http_payout_pg_pool_t *pool)
{
    ngx_uint_t  i;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state != NGX_HTTP_PAYOUT_PG_DOWN) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_payout_pg_read_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_payout_pg_conn_t  *pc;

    c = ev->data;
    pc = c->data;

    switch (pc->state) {

    case NGX_HTTP_PAYOUT_PG_CONNECTING:
        ngx_http_payout_pg_connect_poll(pc);
        return;

    case NGX_HTTP_PAYOUT_PG_IDLE:
    case NGX_HTTP_PAYOUT_PG_BUSY:
        ngx_http_payout_pg_consume(pc);
        return;

    default:
        return;
    }
}


static void
ngx_http_payout_pg_write_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_payout_pg_conn_t  *pc;

    c = ev->data;
    pc = c->data;

    switch (pc->state) {

    case NGX_HTTP_PAYOUT_PG_CONNECTING:
        ngx_http_payout_pg_connect_poll(pc);
        return;

    case NGX_HTTP_PAYOUT_PG_BUSY:
        if (ngx_http_payout_pg_flush(pc) != NGX_OK) {
            ngx_http_payout_pg_broken(pc, "write");
        }
        return;

    default:
        if (ngx_http_payout_pg_events(pc, 1, 0) != NGX_OK) {
            ngx_http_payout_pg_broken(pc, "write");
        }
        return;
    }
}


static void
ngx_http_payout_pg_timer_handler(ngx_event_t *ev)
{
    ngx_http_payout_pg_conn_t  *pc;

    pc = ev->data;

    switch (pc->state) {

    case NGX_HTTP_PAYOUT_PG_DOWN:
        ngx_http_payout_pg_connect(pc);
        return;

    case NGX_HTTP_PAYOUT_PG_CONNECTING:
        ngx_log_error(NGX_LOG_ERR, &pc->log, 0,
                      "payout: database connection timed out");
        ngx_http_payout_pg_connect_failed(pc);
        return;

    case NGX_HTTP_PAYOUT_PG_BUSY:
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &pc->log, 0,
                       "payout pg: #%ui query timed out after %M ms",
                       pc->index, ngx_current_msec - pc->sent);

        /* the server aborts the query when its connection goes away */
        ngx_http_payout_pg_broken(pc, "query timed out");
        return;

    default:
        return;
    }
}


static void
ngx_http_payout_pg_wait_handler(ngx_event_t *ev)
{
    ngx_http_payout_pg_query_t  *q;

    q = ev->data;

    ngx_log_error(NGX_LOG_WARN, q->log, 0,
                  "payout: no database connection became free in time");

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "payout pg: query waited %M ms in the queue",
                   ngx_current_msec - q->queued_at);

    ngx_queue_remove(&q->queue);
    q->queued = 0;

    ngx_http_payout_pg_finish(q, NGX_HTTP_PAYOUT_PG_UNAVAILABLE, NULL);
}


static u_char *
ngx_http_payout_pg_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    if (log->action) {
        buf = ngx_snprintf(buf, len, " while %s", log->action);
    }

    return buf;
}


/*
 * libpq's message on one line: it ends in a newline and may hold more
 * ("\n\tIs the server running ...?"), which the action would follow.
 */

static const char *
ngx_http_payout_pg_errmsg(PGconn *pg, char *buf, size_t size)
{
    char    *p;
    size_t   len;

    if (pg == NULL) {
        return "no connection";
    }

    p = PQerrorMessage(pg);
    len = ngx_strlen(p);

    while (len && (p[len - 1] == '\n' || p[len - 1] == ' ')) {
        len--;
    }

    return ngx_http_payout_pg_oneline(p, len, buf, size);
}


/* a message or a statement as one line: each run of blanks one space */

static const char *
ngx_http_payout_pg_oneline(const char *s, size_t len, char *buf,
    size_t size)
{
    char  *p, *q;

    ngx_payout_utf8_cut(buf, size, s, len);

    for (p = buf, q = buf; *p; p++) {
        if (*p != '\n' && *p != '\t' && *p != ' ') {
            *q++ = *p;

        } else if (q == buf || q[-1] != ' ') {
            *q++ = ' ';
        }
    }

    *q = '\0';

    return buf;
}
