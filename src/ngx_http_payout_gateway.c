/*
 * Sending payouts to gateways.  The order is the write-ahead rule's: the
 * payout is already committed as pending_created when a send starts;
 * then instruction -> provider call -> transition.  When the provider's
 * answer is unknown (timeout, 5xx) the payout stays pending_created for
 * the reconciler, which asks again with the same idempotency key.
 */

#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_secrets.h"
#include "core/ngx_payout_validate.h"


static const char  ngx_http_payout_instruction_sql[] =
    "SELECT payout_uuid, amount, currency, gateway, narration, sub_status, "
    "recipient_type, account_number_enc, bank_code, bank_account_name, "
    "mobile_money_number_enc, mobile_money_provider "
    "FROM payout_instruction($1, $2)";

static const char  ngx_http_payout_transition_sql[] =
    "SELECT applied, sub_status, gateway_payout_id, failure_reason "
    "FROM payout_transition($1, $2, $3, $4, $5, $6, NULL)";


static void ngx_http_payout_send_instruction(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_send_call(ngx_http_payout_send_t *s,
    ngx_payout_transfer_t *t);
static void ngx_http_payout_send_answer(
    ngx_http_payout_provider_call_t *pc);
static void ngx_http_payout_send_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_send_finish(ngx_http_payout_send_t *s);
static char *ngx_http_payout_value(ngx_pool_t *pool, PGresult *res,
    int col);


ngx_http_payout_send_t *
ngx_http_payout_send_create(ngx_http_payout_main_conf_t *pmcf,
    ngx_log_t *log)
{
    ngx_pool_t              *pool;
    ngx_http_payout_send_t  *s;

    /* the cycle's log: a request's may be gone before the send ends */
    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    s = ngx_pcalloc(pool, sizeof(ngx_http_payout_send_t));
    if (s == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    s->pool = pool;
    s->log = ngx_cycle->log;
    s->pmcf = pmcf;
    s->source = "provider";

    return s;
}


/*
 * NGX_OK: the handler runs later.  NGX_DECLINED: the database is
 * unavailable and s has been freed.
 */

ngx_int_t
ngx_http_payout_send_start(ngx_http_payout_send_t *s)
{
    ngx_int_t                    rc;
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_pg_query_create(s->pool, s->log,
                                        ngx_http_payout_instruction_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, s->tenant_id) != NGX_OK
        || ngx_http_payout_pg_param_int(q, s->payout_id) != NGX_OK)
    {
        ngx_destroy_pool(s->pool);
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_send_instruction;
    q->data = s;

    rc = ngx_http_payout_pg_run(s->pmcf->pg, q);

    if (rc != NGX_OK) {
        ngx_destroy_pool(s->pool);
    }

    return rc;
}


/* the requester is gone: the send goes on and records its result */

void
ngx_http_payout_send_detach(ngx_http_payout_send_t *s)
{
    s->handler = NULL;
}


static void
ngx_http_payout_send_instruction(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    int                      col;
    ngx_str_t                s_status, number;
    const char              *field;
    ngx_payout_transfer_t    t;
    ngx_http_payout_send_t  *s;

    s = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1) {
        s->unavailable = 1;
        ngx_http_payout_send_finish(s);
        return;
    }

    s_status.data = (u_char *) ngx_http_payout_value(s->pool, res, 5);
    s_status.len = ngx_strlen(s_status.data);
    s->sub_status = s_status;

    /* someone else (a duplicate, the reconciler) already moved it on */
    if (ngx_payout_state_parse((char *) s_status.data, s_status.len)
        != NGX_PAYOUT_PENDING_CREATED)
    {
        ngx_http_payout_send_finish(s);
        return;
    }

    s->gateway = ngx_http_payout_find_gateway(s->pmcf, PQgetvalue(res, 0, 3),
                                              PQgetlength(res, 0, 3));
    if (s->gateway == NULL) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "payout: gateway \"%s\" of payout %s is not configured",
                      PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 0));
        ngx_http_payout_send_finish(s);
        return;
    }

    ngx_memzero(&t, sizeof(t));
    ngx_memcpy(s->reference, PQgetvalue(res, 0, 0), 36);
    s->reference[36] = '\0';

    t.reference = s->reference;
    t.amount = ngx_atoof((u_char *) PQgetvalue(res, 0, 1),
                         PQgetlength(res, 0, 1));
    t.currency = ngx_http_payout_value(s->pool, res, 2);
    t.narration = ngx_http_payout_value(s->pool, res, 4);
    t.bank_code = ngx_http_payout_value(s->pool, res, 8);
    t.account_name = ngx_http_payout_value(s->pool, res, 9);
    t.provider = ngx_http_payout_value(s->pool, res, 11);

    if (ngx_strcmp(PQgetvalue(res, 0, 6), "mobile_money") == 0) {
        t.type = NGX_PAYOUT_RECIPIENT_MOBILE;
        col = 10;
        field = "mobile_money_number";

    } else {
        t.type = NGX_PAYOUT_RECIPIENT_BANK;
        col = 7;
        field = "account_number";
    }

    if (PQgetisnull(res, 0, col)
        || ngx_http_payout_open_number(s->pmcf, s->pool, s->tenant_id, field,
                                       PQgetvalue(res, 0, col),
                                       PQgetlength(res, 0, col), &number)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "payout: cannot decrypt the destination of payout %s "
                      "(wrong payout_master_key_file?)", s->reference);
        ngx_http_payout_send_finish(s);
        return;
    }

    t.account_number = (char *) number.data;
    t.mobile_number = (char *) number.data;

    if (ngx_http_payout_send_call(s, &t) != NGX_OK) {
        ngx_http_payout_send_finish(s);
    }
}


static ngx_int_t
ngx_http_payout_send_call(ngx_http_payout_send_t *s,
    ngx_payout_transfer_t *t)
{
    ngx_http_payout_provider_call_t  *pc;

    pc = &s->call;

    pc->gateway = s->gateway;
    pc->op = NGX_PAYOUT_OP_INITIATE;
    pc->pool = s->pool;
    pc->log = s->log;
    pc->handler = ngx_http_payout_send_answer;
    pc->data = s;

    return ngx_http_payout_provider_call(pc, t) == NGX_OK ? NGX_OK
                                                          : NGX_ERROR;
}


static void
ngx_http_payout_send_answer(ngx_http_payout_provider_call_t *pc)
{
    ngx_int_t                rc;
    ngx_http_payout_send_t  *s;

    s = pc->data;

    if (pc->result.outcome != NGX_PAYOUT_OUTCOME_STATE) {
        ngx_log_error(NGX_LOG_WARN, s->log, 0,
                      "payout: gateway \"%V\" gave no definite answer for "
                      "payout %s (HTTP %l%s%s); it stays pending_created "
                      "for the reconciler", &s->gateway->name, s->reference,
                      pc->http.status, pc->http.error_text ? ": " : "",
                      pc->http.error_text ? pc->http.error_text : "");
        ngx_http_payout_send_finish(s);
        return;
    }

    rc = ngx_http_payout_apply_result(s->pool, s->log, NULL, s->payout_id,
                                      &pc->result, s->source,
                                      ngx_http_payout_send_recorded, s);
    if (rc != NGX_OK) {
        s->unavailable = 1;
        ngx_http_payout_send_finish(s);
    }
}


ngx_int_t
ngx_http_payout_apply_result(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_request_t *r, int64_t payout_id, ngx_payout_result_t *res,
    const char *source, ngx_http_payout_pg_handler_pt handler, void *data)
{
    char                          from[256];
    size_t                        len;
    const char                   *to;
    ngx_http_payout_pg_query_t   *q;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_payout_module);

    /* a provider's word: it applies by what it implies, never to staged */
    len = ngx_payout_state_event_sources(res->state, from, sizeof(from));
    to = ngx_payout_state_name(res->state);

    q = ngx_http_payout_pg_query_create(pool, log,
                                        ngx_http_payout_transition_sql);
    if (q == NULL || len == 0
        || ngx_http_payout_pg_param_int(q, payout_id) != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) from, len) != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) to, ngx_strlen(to))
           != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) source,
                                    ngx_strlen(source)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (res->gateway_id[0]) {
        ngx_http_payout_pg_param(q, (u_char *) res->gateway_id,
                                 ngx_strlen(res->gateway_id));
    } else {
        ngx_http_payout_pg_param_null(q);
    }

    if (res->reason[0]) {
        ngx_http_payout_pg_param(q, (u_char *) res->reason,
                                 ngx_strlen(res->reason));
    } else {
        ngx_http_payout_pg_param_null(q);
    }

    q->handler = handler;
    q->data = data;

    /* a request's query must not outlive it */
    if (r) {
        return ngx_http_payout_pg_run_for_request(r, q);
    }

    return ngx_http_payout_pg_run(pmcf->pg, q);
}


static void
ngx_http_payout_send_recorded(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_payout_send_t  *s;

    s = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1) {
        /* the provider acted, we could not record it: reconciler's job */
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "payout: could not record the gateway's answer for "
                      "payout %s", s->reference);
        s->unavailable = 1;
        ngx_http_payout_send_finish(s);
        return;
    }

    s->sub_status.data = (u_char *) ngx_http_payout_value(s->pool, res, 1);
    s->sub_status.len = ngx_strlen(s->sub_status.data);

    if (!PQgetisnull(res, 0, 2)) {
        s->gateway_payout_id.data =
                         (u_char *) ngx_http_payout_value(s->pool, res, 2);
        s->gateway_payout_id.len = ngx_strlen(s->gateway_payout_id.data);
    }

    if (!PQgetisnull(res, 0, 3)) {
        s->failure_reason.data =
                         (u_char *) ngx_http_payout_value(s->pool, res, 3);
        s->failure_reason.len = ngx_strlen(s->failure_reason.data);
    }

    ngx_http_payout_send_finish(s);
}


static void
ngx_http_payout_send_finish(ngx_http_payout_send_t *s)
{
    if (s->handler) {
        s->handler(s);
    }

    ngx_destroy_pool(s->pool);
}


static char *
ngx_http_payout_value(ngx_pool_t *pool, PGresult *res, int col)
{
    char    *p;
    size_t   len;

    if (PQgetisnull(res, 0, col)) {
        return NULL;
    }

    len = PQgetlength(res, 0, col);

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, PQgetvalue(res, 0, col), len);
    p[len] = '\0';

    return p;
}
