/*
 * The sandbox provider's event sender: a job in every worker, on the job
 * skeleton (ngx_http_payout_job.c), that applies the transfers' scheduled
 * status changes when they fall due and sends them as signed webhooks to
 * payout_sandbox_webhook_url (docs/sandbox.md).  Leases taken with SKIP
 * LOCKED keep several workers and nodes from sending one event twice at
 * once.
 */

#include "ngx_http_payout_sandbox_events.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_http.h"
#include "ngx_http_payout_job.h"
#include "connectors/ngx_payout_connector_sandbox.h"


/* how often the sender looks for due events */
#define NGX_HTTP_PAYOUT_SANDBOX_TICK         150

/* after a failed claim (e.g. sql/sandbox not applied): not every tick */
#define NGX_HTTP_PAYOUT_SANDBOX_PAUSE        5000

/* webhooks in flight per worker, at most */
#define NGX_HTTP_PAYOUT_SANDBOX_MAX_SENDS    20

#define NGX_HTTP_PAYOUT_SANDBOX_SEND_TIMEOUT 5000
#define NGX_HTTP_PAYOUT_SANDBOX_MAX_ATTEMPTS 20


/* one webhook send, in its own pool: it outlives the claim that made it */
typedef struct {
    ngx_pool_t                    *pool;
    ngx_http_payout_http_req_t     hr;
    int64_t                        id;
    ngx_int_t                      attempt;
    ngx_event_t                    free;
} ngx_http_payout_sandbox_send_t;


/* the worker's event sender */
typedef struct {
    ngx_http_payout_main_conf_t   *conf;
    ngx_http_payout_job_t          job;
    ngx_msec_t                     paused_at;
    unsigned                       deliver:1;
    unsigned                       paused:1;
    unsigned                       started:1;
} ngx_http_payout_sandbox_sender_t;


static ngx_int_t ngx_http_payout_sandbox_claim(ngx_http_payout_job_t *job,
    ngx_uint_t room);
static void ngx_http_payout_sandbox_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_sandbox_deliver(
    ngx_http_payout_sandbox_sender_t *sender, PGresult *res, int row);
static u_char *ngx_http_payout_sandbox_event_body(ngx_pool_t *pool,
    PGresult *res, int row, size_t *len);
static ngx_int_t ngx_http_payout_sandbox_sign_headers(
    ngx_http_payout_sandbox_send_t *s);
static void ngx_http_payout_sandbox_delivered(ngx_http_payout_http_req_t *hr);
static const char *ngx_http_payout_sandbox_answer_text(
    ngx_http_payout_http_req_t *hr, char *buf);
static void ngx_http_payout_sandbox_settled(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_sandbox_send_free(ngx_event_t *ev);
static void ngx_http_payout_sandbox_send_done(
    ngx_http_payout_sandbox_send_t *s);


static const char  ngx_http_payout_sandbox_sql_claim[] =
    "SELECT event_id, event_type, created, attempt, body "
    "FROM sandbox.sandbox_events_claim($1, $2)";

enum {
    NGX_HTTP_PAYOUT_SANDBOX_CLAIM_ID = 0,
    NGX_HTTP_PAYOUT_SANDBOX_CLAIM_TYPE,
    NGX_HTTP_PAYOUT_SANDBOX_CLAIM_CREATED,
    NGX_HTTP_PAYOUT_SANDBOX_CLAIM_ATTEMPT,
    NGX_HTTP_PAYOUT_SANDBOX_CLAIM_BODY
};

static const char  ngx_http_payout_sandbox_sql_delivered[] =
    "DELETE FROM sandbox.sandbox_events WHERE id = $1";

static const char  ngx_http_payout_sandbox_sql_retry[] =
    "SELECT sandbox.sandbox_event_retry($1)";


static ngx_http_payout_sandbox_sender_t  ngx_http_payout_sandbox_sender;


ngx_int_t
ngx_http_payout_sandbox_events_start(ngx_cycle_t *cycle)
{
    ngx_str_t                         *url;
    ngx_http_payout_main_conf_t       *pmcf;
    ngx_http_payout_sandbox_sender_t  *s;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_payout_module);
    s = &ngx_http_payout_sandbox_sender;

    ngx_memzero(s, sizeof(ngx_http_payout_sandbox_sender_t));

    s->conf = pmcf;

    url = &pmcf->sandbox_webhook_url;

    if (url->len == 0) {
        s->deliver = 0;

    } else if (!pmcf->has_keys) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "payout sandbox: no payout_master_key_file to sign "
                      "webhooks with; they are not sent");

    } else if (ngx_strncasecmp(url->data, (u_char *) "http://", 7) != 0
               && ngx_strncasecmp(url->data, (u_char *) "https://", 8) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "payout sandbox: payout_sandbox_webhook_url \"%V\" is "
                      "not an http(s) URL; webhooks are not sent", url);

    } else {
        s->deliver = 1;
    }

    /* without a URL it still claims: that applies the due changes */
    s->job.name = "sending sandbox webhooks";
    s->job.interval = NGX_HTTP_PAYOUT_SANDBOX_TICK;
    s->job.jitter = NGX_HTTP_PAYOUT_SANDBOX_TICK / 5;
    s->job.max_inflight = NGX_HTTP_PAYOUT_SANDBOX_MAX_SENDS;
    s->job.claim = ngx_http_payout_sandbox_claim;
    s->job.data = s;

    s->started = 1;

    return ngx_http_payout_job_start(cycle, &s->job);
}


void
ngx_http_payout_sandbox_events_stop(void)
{
    ngx_http_payout_sandbox_sender_t  *s;

    s = &ngx_http_payout_sandbox_sender;

    if (s->started) {
        ngx_http_payout_job_stop(&s->job);
        s->started = 0;
    }
}


static ngx_int_t
ngx_http_payout_sandbox_claim(ngx_http_payout_job_t *job, ngx_uint_t room)
{
    ngx_pool_t                        *pool;
    ngx_http_payout_pg_query_t        *q;
    ngx_http_payout_sandbox_sender_t  *s;

    s = job->data;

    if (s->paused) {
        if (ngx_current_msec - s->paused_at < NGX_HTTP_PAYOUT_SANDBOX_PAUSE) {
            return NGX_DECLINED;
        }

        s->paused = 0;
    }

    pool = ngx_create_pool(1024, &job->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    q = ngx_http_payout_pg_query_create(pool, &job->log,
                                        ngx_http_payout_sandbox_sql_claim);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, room) != NGX_OK
        || ngx_http_payout_pg_param_bool(q, s->deliver) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_sandbox_claimed;
    q->data = s;

    /* NGX_DECLINED: no database now; the next tick tries again */
    if (ngx_http_payout_pg_run(s->conf->pg, q) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_sandbox_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    int                                row, n;
    ngx_pool_t                        *pool;
    ngx_http_payout_sandbox_sender_t  *s;

    s = q->data;
    pool = q->mem;
    n = 0;

    if (q->status == NGX_HTTP_PAYOUT_PG_OK) {
        n = PQntuples(res);

        for (row = 0; row < n; row++) {
            /* on failure the event stays leased, and is sent again later */
            (void) ngx_http_payout_sandbox_deliver(s, res, row);
        }

    } else if (q->status == NGX_HTTP_PAYOUT_PG_SQL_ERROR) {
        /* the pool logged why; say it again in a while, not every tick */
        s->paused = 1;
        s->paused_at = ngx_current_msec;
    }

    /* the pool is done with q: it ends here, and so does q */
    ngx_destroy_pool(pool);

    ngx_http_payout_job_claimed(&s->job, n);
}


/* sends one claimed event */

static ngx_int_t
ngx_http_payout_sandbox_deliver(ngx_http_payout_sandbox_sender_t *sender,
    PGresult *res, int row)
{
    size_t                           len;
    u_char                          *body, *url;
    ngx_pool_t                      *pool;
    ngx_str_t                       *u;
    ngx_http_payout_sandbox_send_t  *s;

    u = &sender->conf->sandbox_webhook_url;

    pool = ngx_create_pool(2048, &sender->job.log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    s = ngx_pcalloc(pool, sizeof(ngx_http_payout_sandbox_send_t));
    url = ngx_pnalloc(pool, u->len + 1);
    body = ngx_http_payout_sandbox_event_body(pool, res, row, &len);

    if (s == NULL || url == NULL || body == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_memcpy(url, u->data, u->len);
    url[u->len] = '\0';

    s->pool = pool;
    s->id = ngx_http_payout_pg_int(res, row, NGX_HTTP_PAYOUT_SANDBOX_CLAIM_ID);
    s->attempt = (ngx_int_t) ngx_http_payout_pg_int(res, row,
                                        NGX_HTTP_PAYOUT_SANDBOX_CLAIM_ATTEMPT);

    s->hr.method = "POST";
    s->hr.url = (char *) url;
    s->hr.body = body;
    s->hr.body_len = len;
    s->hr.timeout = NGX_HTTP_PAYOUT_SANDBOX_SEND_TIMEOUT;
    s->hr.max_response = 64 * 1024;
    s->hr.handler = ngx_http_payout_sandbox_delivered;
    s->hr.data = s;
    s->hr.log = &sender->job.log;

    /* the operator's own URL, usually loopback: no SSRF guard */
    s->hr.guard_ssrf = 0;

    if (ngx_http_payout_sandbox_sign_headers(s) != NGX_OK
        || ngx_http_payout_http_start(&s->hr) != NGX_OK)
    {
        if (s->hr.headers) {
            curl_slist_free_all(s->hr.headers);
        }

        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_http_payout_job_started(&sender->job);

    return NGX_OK;
}


/* {"id":"evt_..","type":..,"created":..,"data":{the transfer}} */

static u_char *
ngx_http_payout_sandbox_event_body(ngx_pool_t *pool, PGresult *res,
    int row, size_t *len)
{
    u_char     *body, id[NGX_INT64_LEN + sizeof("evt_")];
    json_t     *data, *event;
    ngx_str_t   json, evid, type;

    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_SANDBOX_CLAIM_BODY,
                            &json);
    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_SANDBOX_CLAIM_ID,
                            &evid);
    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_SANDBOX_CLAIM_TYPE,
                            &type);

    data = json_loadb((char *) json.data, json.len, 0, NULL);
    if (data == NULL) {
        return NULL;
    }

    ngx_sprintf(id, "evt_%V%Z", &evid);

    event = json_pack("{s:s, s:s, s:I, s:o}",
                      "id", (char *) id,
                      "type", (char *) type.data,
                      "created",
                      (json_int_t) ngx_http_payout_pg_int(res, row,
                                       NGX_HTTP_PAYOUT_SANDBOX_CLAIM_CREATED),
                      "data", data);
    if (event == NULL) {
        return NULL;
    }

    *len = json_dumpb(event, NULL, 0, JSON_COMPACT);

    body = ngx_pnalloc(pool, *len);
    if (body != NULL) {
        json_dumpb(event, (char *) body, *len, JSON_COMPACT);
    }

    json_decref(event);

    return body;
}


static ngx_int_t
ngx_http_payout_sandbox_sign_headers(ngx_http_payout_sandbox_send_t *s)
{
    char    sig[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    size_t  n;

    n = ngx_payout_sandbox_sign(&ngx_http_payout_sandbox_sender.conf->keys,
                                (long) ngx_time(), s->hr.body,
                                s->hr.body_len, sig);
    if (n == 0) {
        return NGX_ERROR;
    }

    if (ngx_http_payout_http_header(&s->hr, "Content-Type: application/json")
        != NGX_OK
        || ngx_http_payout_http_header(&s->hr, "Sandbox-Signature: %s", sig)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The receiver answered (or not).  2xx: the event is done; otherwise it
 * is sent again later, until it has had its attempts.  The send's memory
 * goes when that bookkeeping query ends, never in here: the HTTP client
 * may still be looking at hr.
 */

static void
ngx_http_payout_sandbox_delivered(ngx_http_payout_http_req_t *hr)
{
    char                             buf[32];
    const char                      *sql;
    ngx_uint_t                       ok;
    ngx_http_payout_pg_query_t      *q;
    ngx_http_payout_sandbox_send_t  *s;

    s = hr->data;

    ok = (hr->status >= 200 && hr->status < 300);

    if (ok) {
        sql = ngx_http_payout_sandbox_sql_delivered;

    } else if (s->attempt >= NGX_HTTP_PAYOUT_SANDBOX_MAX_ATTEMPTS) {
        ngx_log_error(NGX_LOG_WARN, s->hr.log, 0,
                      "payout sandbox: webhook evt_%L dropped after %i "
                      "attempts (last: %s)", s->id, s->attempt,
                      ngx_http_payout_sandbox_answer_text(hr, buf));
        sql = ngx_http_payout_sandbox_sql_delivered;

    } else {
        ngx_log_error(NGX_LOG_INFO, s->hr.log, 0,
                      "payout sandbox: webhook evt_%L attempt %i failed "
                      "(%s); will retry", s->id, s->attempt,
                      ngx_http_payout_sandbox_answer_text(hr, buf));
        sql = ngx_http_payout_sandbox_sql_retry;
    }

    q = ngx_http_payout_pg_query_create(s->pool, s->hr.log, sql);

    if (q != NULL && ngx_http_payout_pg_param_int(q, s->id) == NGX_OK) {
        q->handler = ngx_http_payout_sandbox_settled;
        q->data = s;

        if (ngx_http_payout_pg_run(ngx_http_payout_sandbox_sender.conf->pg,
                                   q)
            == NGX_OK)
        {
            return;
        }
    }

    /* no database: the lease runs out and the event is sent again */
    s->free.handler = ngx_http_payout_sandbox_send_free;
    s->free.data = s;
    s->free.log = s->hr.log;
    ngx_post_event(&s->free, &ngx_posted_events);
}


/* "HTTP 500" or why there was no answer, for the log */

static const char *
ngx_http_payout_sandbox_answer_text(ngx_http_payout_http_req_t *hr,
    char *buf)
{
    if (hr->status) {
        ngx_sprintf((u_char *) buf, "HTTP %l%Z", hr->status);
        return buf;
    }

    return hr->error_text ? hr->error_text : "no response";
}


static void
ngx_http_payout_sandbox_settled(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_http_payout_sandbox_send_done(q->data);
}


static void
ngx_http_payout_sandbox_send_free(ngx_event_t *ev)
{
    ngx_http_payout_sandbox_send_done(ev->data);
}


static void
ngx_http_payout_sandbox_send_done(ngx_http_payout_sandbox_send_t *s)
{
    ngx_destroy_pool(s->pool);

    /* a finished send makes room: claim the next due events now */
    ngx_http_payout_job_done(&ngx_http_payout_sandbox_sender.job);
}
