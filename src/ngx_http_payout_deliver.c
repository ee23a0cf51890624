/*
 * The webhook deliverer: a background job in every worker, on the job
 * skeleton (ngx_http_payout_job.c).
 *
 * A NOTIFY from the transaction that queued an event wakes it at once;
 * the job's poll (payout_webhook_poll, with jitter) catches retries that
 * come due and anything a lost connection missed.  It claims due
 * deliveries with leases (several workers and nodes never make the same
 * attempt twice), sends each with Standard Webhooks headers through the
 * event-loop HTTP client, and records the attempt with the next one's
 * time.
 */

#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_secrets.h"
#include "ngx_http_payout_job.h"
#include "ngx_http_payout_metrics.h"
#include "core/ngx_payout_webhook.h"


static const char  ngx_http_payout_claim_sql[] =
    "SELECT delivery_id, url, attempt, msg_id, payload, tenant_id, "
    "secret_enc, old_secret_enc, plain_secret "
    "FROM webhook_claim(p_limit => $1, p_lease => $2)";

enum {
    NGX_HTTP_PAYOUT_CLAIM_DELIVERY_ID = 0,
    NGX_HTTP_PAYOUT_CLAIM_URL,
    NGX_HTTP_PAYOUT_CLAIM_ATTEMPT,
    NGX_HTTP_PAYOUT_CLAIM_MSG_ID,
    NGX_HTTP_PAYOUT_CLAIM_PAYLOAD,
    NGX_HTTP_PAYOUT_CLAIM_TENANT_ID,
    NGX_HTTP_PAYOUT_CLAIM_SECRET_ENC,
    NGX_HTTP_PAYOUT_CLAIM_OLD_SECRET_ENC,
    NGX_HTTP_PAYOUT_CLAIM_PLAIN_SECRET
};

static const char  ngx_http_payout_result_sql[] =
    "SELECT webhook_result("
    "p_id => $1, p_status => $2, p_error => $3, p_retry_in => $4, "
    "p_disable => $5, p_duration_ms => $6)";

/* its one column: the delivery's state after the attempt */
enum {
    NGX_HTTP_PAYOUT_DELIVERY_STATE = 0
};


typedef struct {
    ngx_http_payout_main_conf_t  *pmcf;
    ngx_http_payout_job_t         job;
} ngx_http_payout_deliverer_t;


typedef struct {
    ngx_pool_t                   *pool;
    ngx_http_payout_deliverer_t  *deliverer;
    int64_t                       id;
    int                           attempt;
    ngx_http_payout_http_req_t    http;
} ngx_http_payout_delivery_t;


static void ngx_http_payout_deliver_wake(void *data);
static ngx_int_t ngx_http_payout_deliver_claim(ngx_http_payout_job_t *job,
    ngx_uint_t room);
static void ngx_http_payout_deliver_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_deliver_start(
    ngx_http_payout_deliverer_t *d, PGresult *res, int row);
static ngx_int_t ngx_http_payout_deliver_sign(
    ngx_http_payout_delivery_t *dl, PGresult *res, int row, int64_t tenant,
    char **error);
static void ngx_http_payout_deliver_unsent(ngx_http_payout_delivery_t *dl,
    char *error);
static void ngx_http_payout_deliver_answer(ngx_http_payout_http_req_t *hr);
static void ngx_http_payout_deliver_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_deliver_done(ngx_http_payout_delivery_t *dl);


static ngx_http_payout_deliverer_t  *ngx_http_payout_deliverer;


ngx_int_t
ngx_http_payout_deliver_init_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_deliverer_t  *d;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_payout_module);

    d = ngx_pcalloc(cycle->pool, sizeof(ngx_http_payout_deliverer_t));
    if (d == NULL) {
        return NGX_ERROR;
    }

    d->pmcf = pmcf;
    d->job.name = "delivering webhooks";
    d->job.interval = pmcf->webhook_poll;
    d->job.jitter = pmcf->webhook_poll / 5;
    d->job.max_inflight = pmcf->webhook_concurrency;
    d->job.claim = ngx_http_payout_deliver_claim;
    d->job.data = d;

    ngx_http_payout_deliverer = d;

    if (ngx_http_payout_pg_listen(pmcf->pg, "payout_webhooks",
                                  ngx_http_payout_deliver_wake, d)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_payout_job_start(cycle, &d->job);
}


void
ngx_http_payout_deliver_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_payout_deliverer) {
        ngx_http_payout_job_stop(&ngx_http_payout_deliverer->job);
    }

    ngx_http_payout_deliverer = NULL;
}


static void
ngx_http_payout_deliver_wake(void *data)
{
    ngx_http_payout_deliverer_t  *d = data;

    ngx_http_payout_job_wake(&d->job);
}


static ngx_int_t
ngx_http_payout_deliver_claim(ngx_http_payout_job_t *job, ngx_uint_t room)
{
    ngx_pool_t                   *pool;
    ngx_http_payout_deliverer_t  *d;
    ngx_http_payout_pg_query_t   *q;

    d = job->data;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    q = ngx_http_payout_pg_query_create(pool, ngx_cycle->log,
                                        ngx_http_payout_claim_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, room) != NGX_OK
        || ngx_http_payout_pg_param_int(q,
                          d->pmcf->webhook_timeout / 1000 + 30) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_deliver_claimed;
    q->data = d;

    if (ngx_http_payout_pg_run(d->pmcf->pg, q) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_deliver_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    int                           i, n;
    ngx_pool_t                   *pool;
    ngx_http_payout_deliverer_t  *d;

    d = q->data;
    pool = q->mem;

    n = 0;

    if (q->status == NGX_HTTP_PAYOUT_PG_OK) {
        n = PQntuples(res);

        for (i = 0; i < n; i++) {
            if (ngx_http_payout_deliver_start(d, res, i) != NGX_OK) {
                /* the lease runs out and the attempt is made again */
                ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                              "payout: webhook delivery %L not started",
                              ngx_http_payout_pg_int(res, i,
                                  NGX_HTTP_PAYOUT_CLAIM_DELIVERY_ID));
            }
        }
    }

    ngx_destroy_pool(pool);

    ngx_http_payout_job_claimed(&d->job, n);
}


static ngx_int_t
ngx_http_payout_deliver_start(ngx_http_payout_deliverer_t *d,
    PGresult *res, int row)
{
    char                         *error;
    int64_t                       tenant;
    ngx_str_t                     url, payload, msg_id;
    ngx_int_t                     rc;
    ngx_pool_t                   *pool;
    ngx_http_payout_delivery_t   *dl;
    ngx_http_payout_http_req_t   *hr;

    pool = ngx_create_pool(2048, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    dl = ngx_pcalloc(pool, sizeof(ngx_http_payout_delivery_t));
    if (dl == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    dl->pool = pool;
    dl->deliverer = d;
    dl->id = ngx_http_payout_pg_int(res, row,
                                    NGX_HTTP_PAYOUT_CLAIM_DELIVERY_ID);
    dl->attempt = ngx_http_payout_pg_int(res, row,
                                         NGX_HTTP_PAYOUT_CLAIM_ATTEMPT);
    tenant = ngx_http_payout_pg_int(res, row,
                                    NGX_HTTP_PAYOUT_CLAIM_TENANT_ID);

    hr = &dl->http;

    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_CLAIM_URL, &url);
    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_CLAIM_PAYLOAD,
                            &payload);
    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_CLAIM_MSG_ID,
                            &msg_id);

    hr->url = ngx_pnalloc(pool, url.len + 1);
    hr->body_len = payload.len;
    hr->body = ngx_pnalloc(pool, hr->body_len);

    if (hr->url == NULL || hr->body == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_memcpy((char *) hr->url, url.data, url.len);
    ((char *) hr->url)[url.len] = '\0';
    ngx_memcpy(hr->body, payload.data, hr->body_len);

    hr->method = "POST";
    hr->timeout = d->pmcf->webhook_timeout;
    hr->max_response = 64 * 1024;
    hr->guard_ssrf = 1;
    hr->ca_file = d->pmcf->ca_file.len ? (char *) d->pmcf->ca_file.data
                                       : NULL;
    hr->allow_private = d->pmcf->webhook_allow_private ? 1 : 0;
    hr->handler = ngx_http_payout_deliver_answer;
    hr->data = dl;
    hr->log = ngx_cycle->log;

    rc = NGX_ERROR;
    error = NULL;

    if (ngx_http_payout_http_header(hr, "Content-Type: application/json")
        == NGX_OK
        && ngx_http_payout_http_header(hr, "webhook-id: %s",
                                       msg_id.data) == NGX_OK)
    {
        rc = ngx_http_payout_deliver_sign(dl, res, row, tenant, &error);
    }

    if (rc == NGX_DECLINED) {
        ngx_http_payout_deliver_unsent(dl, error);
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        if (hr->headers) {
            curl_slist_free_all(hr->headers);
        }

        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    if (ngx_http_payout_http_start(hr) != NGX_OK) {
        ngx_http_payout_deliver_unsent(dl, "the request could not be "
                                           "started");
        return NGX_OK;
    }

    ngx_http_payout_job_started(&d->job);

    return NGX_OK;
}


/*
 * An attempt that could not be made (a secret that cannot sign, a
 * request libcurl refused) is recorded as a failed one, so it follows
 * the schedule to dead rather than being claimed again forever while
 * it holds back every later event of its payout to its URL.
 */

static void
ngx_http_payout_deliver_unsent(ngx_http_payout_delivery_t *dl, char *error)
{
    ngx_http_payout_http_req_t  *hr;

    hr = &dl->http;

    if (hr->headers) {
        curl_slist_free_all(hr->headers);
        hr->headers = NULL;
    }

    hr->status = 0;
    hr->error_text = error;
    hr->elapsed = 0;
    ngx_str_null(&hr->retry_after);

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "payout: webhook delivery %L not sent: %s", dl->id, error);

    ngx_http_payout_job_started(&dl->deliverer->job);

    ngx_http_payout_deliver_answer(hr);
}


/*
 * webhook-timestamp and webhook-signature for every active secret (two
 * while a rotated endpoint secret is still honoured), and the seed's
 * plain secret header for a payout's own webhook_secret.  NGX_DECLINED
 * with *error (never the secret) when a secret cannot sign.
 */

static ngx_int_t
ngx_http_payout_deliver_sign(ngx_http_payout_delivery_t *dl, PGresult *res,
    int row, int64_t tenant, char **error)
{
    int                           col;
    long                          now;
    char                          sig[2][NGX_PAYOUT_WEBHOOK_SIG_LEN + 1];
    ngx_str_t                     secret, msg_id, sealed;
    ngx_uint_t                    nsig, plain;
    const char                   *field;
    ngx_http_payout_http_req_t   *hr;
    ngx_http_payout_main_conf_t  *pmcf;

    hr = &dl->http;
    pmcf = dl->deliverer->pmcf;
    now = (long) ngx_time();
    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_CLAIM_MSG_ID,
                            &msg_id);
    plain = ngx_http_payout_pg_bool(res, row,
                                    NGX_HTTP_PAYOUT_CLAIM_PLAIN_SECRET);
    field = plain ? "webhook_secret" : "endpoint_secret";
    nsig = 0;

    if (ngx_http_payout_http_header(hr, "webhook-timestamp: %l", now)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the endpoint's secret, then the one it rotated from, if in overlap */
    for (col = NGX_HTTP_PAYOUT_CLAIM_SECRET_ENC;
         col <= NGX_HTTP_PAYOUT_CLAIM_OLD_SECRET_ENC;
         col++)
    {
        ngx_http_payout_pg_text(res, row, col, &sealed);

        if (sealed.len == 0) {
            continue;
        }

        if (ngx_http_payout_open_number(pmcf, dl->pool, tenant, field,
                                        (char *) sealed.data, sealed.len,
                                        &secret)
            != NGX_OK)
        {
            *error = "cannot sign: the webhook secret cannot be decrypted";
            return NGX_DECLINED;
        }

        if (ngx_payout_webhook_sign((char *) secret.data, secret.len,
                                    (char *) msg_id.data, now, hr->body,
                                    hr->body_len, sig[nsig])
            != NGX_PAYOUT_OK)
        {
            *error = "cannot sign: the webhook secret is not a usable key";
            return NGX_DECLINED;
        }

        nsig++;

        if (plain && col == 6
            && ngx_http_payout_http_header(hr,
                                    "Orchestrapay-Webhook-Secret: %V",
                                    &secret) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (nsig == 1) {
        return ngx_http_payout_http_header(hr, "webhook-signature: %s",
                                           sig[0]);
    }

    if (nsig == 2) {
        return ngx_http_payout_http_header(hr, "webhook-signature: %s %s",
                                           sig[0], sig[1]);
    }

    return NGX_OK;
}


static void
ngx_http_payout_deliver_answer(ngx_http_payout_http_req_t *hr)
{
    long                          delay, retry_after;
    ngx_str_t                    *ra;
    ngx_uint_t                    disable;
    ngx_http_payout_pg_query_t   *q;
    ngx_http_payout_delivery_t   *dl;
    ngx_http_payout_main_conf_t  *pmcf;

    dl = hr->data;
    pmcf = dl->deliverer->pmcf;

    disable = (hr->status == 410);
    delay = ngx_payout_webhook_delay((long *) pmcf->webhook_schedule->elts,
                                     (int) pmcf->webhook_schedule->nelts,
                                     dl->attempt, (unsigned) ngx_random());

    /* the receiver may ask for more time, never for less than scheduled */
    ra = &hr->retry_after;

    if (ra->len && delay >= 0) {
        retry_after = ngx_payout_retry_after((char *) ra->data, ra->len);
        retry_after = ngx_min(retry_after, 86400);

        if (retry_after > delay) {
            delay = retry_after;
        }
    }

    q = ngx_http_payout_pg_query_create(dl->pool, ngx_cycle->log,
                                        ngx_http_payout_result_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, dl->id) != NGX_OK)
    {
        ngx_http_payout_deliver_done(dl);
        return;
    }

    if (hr->status) {
        ngx_http_payout_pg_param_int(q, hr->status);
        ngx_http_payout_pg_param_null(q);

    } else {
        ngx_http_payout_pg_param_null(q);
        ngx_http_payout_param_str(q, hr->error_text ? hr->error_text
                                                    : "no response");
    }

    if (delay >= 0) {
        ngx_http_payout_pg_param_int(q, delay);
    } else {
        ngx_http_payout_pg_param_null(q);
    }

    ngx_http_payout_param_str(q, disable ? "t" : "f");
    ngx_http_payout_pg_param_int(q, hr->elapsed);

    q->handler = ngx_http_payout_deliver_recorded;
    q->data = dl;

    if (ngx_http_payout_pg_run(pmcf->pg, q) != NGX_OK) {
        /* unrecorded: the lease expires and the attempt is repeated */
        ngx_http_payout_deliver_done(dl);
    }
}


static void
ngx_http_payout_deliver_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_str_t  state;

    /* the delivery's state after this attempt */
    if (q->status == NGX_HTTP_PAYOUT_PG_OK && PQntuples(res) == 1
        && !ngx_http_payout_pg_isnull(res, 0, NGX_HTTP_PAYOUT_DELIVERY_STATE))
    {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_DELIVERY_STATE,
                                &state);
        ngx_http_payout_metric_delivery(&state);
    }

    ngx_http_payout_deliver_done(q->data);
}


static void
ngx_http_payout_deliver_done(ngx_http_payout_delivery_t *dl)
{
    ngx_http_payout_deliverer_t  *d;

    d = dl->deliverer;

    ngx_destroy_pool(dl->pool);

    /* the next event of the same payout may be due now */
    ngx_http_payout_job_done(&d->job);
}

