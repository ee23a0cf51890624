/*
 * The reconciler: a background job in every worker that asks providers
 * about payouts still in flight (SPEC §6).  How an unknown outcome is
 * settled is the connector's capability, never a provider's status code:
 *
 * LOOKUP_BY_REFERENCE: the provider is asked about our uuid
 *   it knows the transfer            -> record its state (e.g. the 0006
 *                                       case: timed out, yet executed)
 *   NOT_FOUND, payout not yet sent   -> send it again, with the same
 *                                       idempotency key: never twice paid
 *   NOT_FOUND, past the window       -> canceled_timeout, since the
 *                                       provider confirms nothing ran
 * RESUBMIT_SAME_KEY (Stripe): the provider is asked by its own id
 *   a payout it gave an id           -> LOOKUP by that id, record its
 *                                       state
 *   no id yet (unknown outcome)      -> send again, same key: answered
 *                                       with the first result; never
 *                                       canceled_timeout, which only the
 *                                       provider could confirm.  Past the
 *                                       key's lifetime (key_ttl) a send
 *                                       could pay twice: left pending,
 *                                       with an error for the operator
 *
 * Claims use leases in PostgreSQL (FOR UPDATE SKIP LOCKED), so workers
 * and nodes sharing the database never check one payout at once.
 */

#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_job.h"
#include "ngx_http_payout_metrics.h"


static const char  ngx_http_payout_reconcile_sql[] =
    "SELECT c.payout_id, c.tenant_id, c.payout_uuid, c.gateway, "
    "c.sub_status, c.age_s, " NGX_HTTP_PAYOUT_TRANSFER_IDS_SQL " "
    "FROM payout_reconcile_claim("
    "p_limit => $1, p_grace_ms => $2, p_gateways => $3::text[], "
    "p_backoff_ms => $4, p_backoff_max_ms => $5, p_poll => $6::text[], "
    "p_poll_ms => $7) c "
    "JOIN payouts p ON p.id = c.payout_id "
    "LEFT JOIN recipients r ON r.id = p.recipient_id";

enum {
    NGX_HTTP_PAYOUT_RECONCILE_PAYOUT_ID = 0,
    NGX_HTTP_PAYOUT_RECONCILE_TENANT_ID,
    NGX_HTTP_PAYOUT_RECONCILE_PAYOUT_UUID,
    NGX_HTTP_PAYOUT_RECONCILE_GATEWAY,
    NGX_HTTP_PAYOUT_RECONCILE_SUB_STATUS,
    NGX_HTTP_PAYOUT_RECONCILE_AGE_S,
    NGX_HTTP_PAYOUT_RECONCILE_TRANSFER_IDS  /* NGX_HTTP_PAYOUT_TRANSFER_IDS_* */
};


typedef struct {
    ngx_http_payout_main_conf_t  *pmcf;
    ngx_http_payout_job_t         job;
    ngx_str_t                     gateways;      /* {"name:mode",...} */
    ngx_str_t                     polled;        /* those with CAP_POLL */
} ngx_http_payout_reconciler_t;


/* seed 003: "every 3 to 5 seconds", with the reconciler's tick of 1 s */
#define NGX_HTTP_PAYOUT_POLL_MS  3000


typedef struct {
    ngx_pool_t                    *pool;
    ngx_http_payout_reconciler_t  *reconciler;
    ngx_http_payout_gateway_t     *gateway;
    int64_t                        payout_id;
    int64_t                        tenant_id;
    int64_t                        age;
    int                            state;         /* as claimed */
    char                           uuid[37];
    unsigned                       created:1;     /* pending_created */
    ngx_http_payout_provider_call_t  call;
} ngx_http_payout_check_t;


static ngx_int_t ngx_http_payout_reconcile_gateways(ngx_cycle_t *cycle,
    ngx_http_payout_main_conf_t *pmcf, unsigned caps, ngx_str_t *out);
static ngx_int_t ngx_http_payout_reconcile_claim(ngx_http_payout_job_t *job,
    ngx_uint_t room);
static void ngx_http_payout_reconcile_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_reconcile_check(
    ngx_http_payout_reconciler_t *rc, PGresult *res, int row);
static void ngx_http_payout_reconcile_answer(
    ngx_http_payout_provider_call_t *pc);
static void ngx_http_payout_reconcile_resend(ngx_http_payout_check_t *ck);
static void ngx_http_payout_reconcile_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_reconcile_resent(ngx_http_payout_send_t *s);
static void ngx_http_payout_reconcile_done(ngx_http_payout_check_t *ck);


static ngx_http_payout_reconciler_t  *ngx_http_payout_reconciler;


ngx_int_t
ngx_http_payout_reconcile_init_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_reconciler_t  *rc;

    rc = ngx_pcalloc(cycle->pool, sizeof(ngx_http_payout_reconciler_t));
    if (rc == NULL) {
        return NGX_ERROR;
    }

    rc->pmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                                   ngx_http_payout_module);

    if (ngx_http_payout_reconcile_gateways(cycle, rc->pmcf, 0,
                                           &rc->gateways)
        != NGX_OK
        || ngx_http_payout_reconcile_gateways(cycle, rc->pmcf,
                                              NGX_PAYOUT_CAP_POLL,
                                              &rc->polled)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc->job.name = "reconciling payouts";
    rc->job.interval = rc->pmcf->reconcile_interval;
    rc->job.jitter = rc->pmcf->reconcile_interval / 5;
    rc->job.max_inflight = rc->pmcf->reconcile_batch;
    rc->job.batch = 1;
    rc->job.claim = ngx_http_payout_reconcile_claim;
    rc->job.data = rc;

    ngx_http_payout_reconciler = rc;

    return ngx_http_payout_job_start(cycle, &rc->job);
}


/*
 * The gateways this node can ask, with their mode, as an array literal:
 * payouts of any other gateway are left to the nodes that have it.  With
 * caps, only the gateways whose connector has them.  Gateway names are
 * [a-z0-9_-], so they need no quoting.
 */

static ngx_int_t
ngx_http_payout_reconcile_gateways(ngx_cycle_t *cycle,
    ngx_http_payout_main_conf_t *pmcf, unsigned caps, ngx_str_t *out)
{
    u_char                     *p;
    size_t                      len;
    ngx_uint_t                  i, n, first;
    ngx_http_payout_gateway_t  *gw;

    gw = pmcf->gateways ? pmcf->gateways->elts : NULL;
    n = pmcf->gateways ? pmcf->gateways->nelts : 0;

    len = sizeof("{}");

    for (i = 0; i < n; i++) {
        len += gw[i].name.len + sizeof(":test,") - 1;
    }

    p = ngx_pnalloc(cycle->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    *p++ = '{';
    first = 1;

    for (i = 0; i < n; i++) {
        if ((gw[i].actions->caps & caps) != caps) {
            continue;
        }

        p = ngx_sprintf(p, "%s%V:%s", first ? "" : ",", &gw[i].name,
                        gw[i].livemode ? "live" : "test");
        first = 0;
    }

    *p++ = '}';
    out->len = p - out->data;

    return NGX_OK;
}


void
ngx_http_payout_reconcile_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_payout_reconciler) {
        ngx_http_payout_job_stop(&ngx_http_payout_reconciler->job);
    }

    ngx_http_payout_reconciler = NULL;
}


/* one batch of in-flight payouts due for a check, the last one done */

static ngx_int_t
ngx_http_payout_reconcile_claim(ngx_http_payout_job_t *job, ngx_uint_t room)
{
    ngx_pool_t                    *pool;
    ngx_http_payout_pg_query_t    *q;
    ngx_http_payout_reconciler_t  *rc;

    rc = job->data;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    q = ngx_http_payout_pg_query_create(pool, ngx_cycle->log,
                                        ngx_http_payout_reconcile_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, room) != NGX_OK
        || ngx_http_payout_pg_param_int(q, rc->pmcf->reconcile_grace)
           != NGX_OK
        || ngx_http_payout_pg_param(q, rc->gateways.data, rc->gateways.len)
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, rc->pmcf->reconcile_backoff)
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, rc->pmcf->reconcile_backoff_max)
           != NGX_OK
        || ngx_http_payout_pg_param(q, rc->polled.data, rc->polled.len)
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, NGX_HTTP_PAYOUT_POLL_MS)
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_reconcile_claimed;
    q->data = rc;

    if (ngx_http_payout_pg_run(rc->pmcf->pg, q) != NGX_OK) {
        ngx_http_payout_metric_reconcile(0);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_reconcile_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    int                            i, n;
    ngx_str_t                      uuid;
    ngx_pool_t                    *pool;
    ngx_http_payout_reconciler_t  *rc;

    rc = q->data;
    pool = q->mem;
    n = 0;
    ngx_http_payout_metric_reconcile(q->status == NGX_HTTP_PAYOUT_PG_OK);

    if (q->status == NGX_HTTP_PAYOUT_PG_OK) {
        n = PQntuples(res);

        for (i = 0; i < n; i++) {
            if (ngx_http_payout_reconcile_check(rc, res, i) != NGX_OK) {
                ngx_http_payout_pg_text(res, i,
                                        NGX_HTTP_PAYOUT_RECONCILE_PAYOUT_UUID,
                                        &uuid);
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "payout: reconciler skipped payout %V", &uuid);
            }
        }
    }

    ngx_destroy_pool(pool);

    ngx_http_payout_job_claimed(&rc->job, n);
}


static ngx_int_t
ngx_http_payout_reconcile_check(ngx_http_payout_reconciler_t *rc,
    PGresult *res, int row)
{
    int                               state;
    ngx_int_t                         lookup, resend;
    ngx_str_t                         gateway, uuid;
    ngx_pool_t                       *pool;
    ngx_payout_transfer_t             t;
    ngx_http_payout_check_t          *ck;
    ngx_http_payout_gateway_t        *gw;
    ngx_http_payout_provider_call_t  *pc;

    /* the claim returns only payouts of this node's gateways, in their mode */
    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_RECONCILE_GATEWAY,
                            &gateway);

    gw = ngx_http_payout_find_gateway(rc->pmcf, (char *) gateway.data,
                                      gateway.len);
    if (gw == NULL) {
        return NGX_DECLINED;
    }

    state = ngx_http_payout_row_state(res, row,
                                      NGX_HTTP_PAYOUT_RECONCILE_SUB_STATUS);

    /* a provider that knows our uuid is asked by it; else by its own id */
    lookup = ngx_http_payout_provider_can(gw, LOOKUP_BY_REFERENCE)
             || !ngx_http_payout_pg_isnull(res, row,
                    NGX_HTTP_PAYOUT_RECONCILE_TRANSFER_IDS
                    + NGX_HTTP_PAYOUT_TRANSFER_IDS_GATEWAY_PAYOUT_ID);

    resend = !lookup
             && ngx_http_payout_provider_can(gw, RESUBMIT_SAME_KEY)
             && state == NGX_PAYOUT_PENDING_CREATED;

    if (!lookup && !resend) {
        /* nothing to ask: the provider's webhooks settle it */
        return NGX_OK;
    }

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    ck = ngx_pcalloc(pool, sizeof(ngx_http_payout_check_t));
    if (ck == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ck->pool = pool;
    ck->reconciler = rc;
    ck->gateway = gw;
    ck->payout_id = ngx_http_payout_pg_int(res, row,
                                          NGX_HTTP_PAYOUT_RECONCILE_PAYOUT_ID);
    ck->tenant_id = ngx_http_payout_pg_int(res, row,
                                          NGX_HTTP_PAYOUT_RECONCILE_TENANT_ID);
    ck->age = ngx_http_payout_pg_int(res, row,
                                     NGX_HTTP_PAYOUT_RECONCILE_AGE_S);
    ck->state = state;
    ck->created = (state == NGX_PAYOUT_PENDING_CREATED);

    ngx_http_payout_pg_text(res, row, NGX_HTTP_PAYOUT_RECONCILE_PAYOUT_UUID,
                            &uuid);
    ngx_memcpy(ck->uuid, uuid.data, 36);
    ck->uuid[36] = '\0';

    if (resend && gw->actions->key_ttl > 0
        && ck->age >= gw->actions->key_ttl)
    {
        /* the key has expired: a send now could be a second payment */
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "payout: payout %s at gateway \"%V\" has had no "
                      "answer for longer than the gateway keeps its "
                      "idempotency key (%l s); it is not sent again and "
                      "stays pending_created: check it at the provider",
                      ck->uuid, &gw->name, gw->actions->key_ttl);
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    ngx_http_payout_job_started(&rc->job);

    if (resend) {
        ngx_http_payout_reconcile_resend(ck);
        return NGX_OK;
    }

    ngx_memzero(&t, sizeof(ngx_payout_transfer_t));

    if (ngx_http_payout_provider_transfer_ids(pool, res, row,
                                         NGX_HTTP_PAYOUT_RECONCILE_TRANSFER_IDS,
                                         &t)
        != NGX_OK)
    {
        ngx_http_payout_job_done(&rc->job);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    t.reference = ck->uuid;

    pc = &ck->call;
    pc->gateway = gw;
    pc->op = NGX_PAYOUT_OP_LOOKUP;
    pc->pool = pool;
    pc->log = ngx_cycle->log;
    pc->handler = ngx_http_payout_reconcile_answer;
    pc->data = ck;

    if (ngx_http_payout_provider_call(pc, &t) != NGX_OK) {
        ngx_http_payout_job_done(&rc->job);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_reconcile_answer(ngx_http_payout_provider_call_t *pc)
{
    ngx_int_t                  rc;
    ngx_payout_result_t       *res;
    ngx_http_payout_check_t   *ck;

    ck = pc->data;
    res = &pc->result;

    /* only a lookup by our uuid can show the provider never got it */
    if (res->outcome == NGX_PAYOUT_OUTCOME_NOT_FOUND && ck->created
        && ngx_http_payout_provider_can(ck->gateway, LOOKUP_BY_REFERENCE))
    {

        if (ck->age < ck->reconciler->pmcf->reconcile_window) {
            /* never arrived: send again, same idempotency key */
            ngx_http_payout_reconcile_resend(ck);
            return;
        }

        /* the provider confirms nothing was executed */
        res->state = NGX_PAYOUT_CANCELED_TIMEOUT;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;
        res->gateway_id[0] = '\0';
        ngx_cpystrn((u_char *) res->reason, (u_char *) "timeout",
                    sizeof(res->reason));
    }

    if (res->outcome != NGX_PAYOUT_OUTCOME_STATE) {
        /* no definite answer: the next check asks again */
        ngx_http_payout_reconcile_done(ck);
        return;
    }

    /* e.g. Stripe's failure of a paid payout: its reversal */
    ngx_http_payout_provider_word(ck->gateway, ck->state, res);

    rc = ngx_http_payout_apply_result(ck->pool, ngx_cycle->log, NULL,
                                      ck->payout_id, res, "reconciler",
                                      ngx_http_payout_reconcile_recorded,
                                      ck);
    if (rc != NGX_OK) {
        ngx_http_payout_reconcile_done(ck);
    }
}


static void
ngx_http_payout_reconcile_resend(ngx_http_payout_check_t *ck)
{
    ngx_http_payout_send_t  *s;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "payout: reconciler sends payout %s again", ck->uuid);

    s = ngx_http_payout_send_create(ck->reconciler->pmcf, ngx_cycle->log);
    if (s == NULL) {
        ngx_http_payout_reconcile_done(ck);
        return;
    }

    s->tenant_id = ck->tenant_id;
    s->payout_id = ck->payout_id;
    s->source = "reconciler";
    s->handler = ngx_http_payout_reconcile_resent;
    s->data = ck;

    if (ngx_http_payout_send_start(s) != NGX_OK) {
        ngx_http_payout_reconcile_done(ck);
    }
}


static void
ngx_http_payout_reconcile_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_str_t                 to;
    ngx_http_payout_check_t  *ck;

    ck = q->data;

    if (q->status == NGX_HTTP_PAYOUT_PG_OK && PQntuples(res) == 1
        && ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_RESULT_APPLIED))
    {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_RESULT_SUB_STATUS,
                                &to);
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "payout: reconciler moved payout %s to %V",
                      ck->uuid, &to);
    }

    ngx_http_payout_reconcile_done(ck);
}


static void
ngx_http_payout_reconcile_resent(ngx_http_payout_send_t *s)
{
    ngx_http_payout_reconcile_done(s->data);
}


static void
ngx_http_payout_reconcile_done(ngx_http_payout_check_t *ck)
{
    ngx_http_payout_job_done(&ck->reconciler->job);
    ngx_destroy_pool(ck->pool);
}
