/*
 * Sending payouts to gateways.  The order is the write-ahead rule's: the
 * payout is already committed as pending_created when a send starts;
 * then instruction -> provider call -> transition.  When the provider's
 * answer is unknown (timeout, 5xx) the payout stays pending_created for
 * the reconciler, which asks again with the same idempotency key.
 */

#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_metrics.h"
#include "ngx_http_payout_secrets.h"
#include "core/ngx_payout_validate.h"


/* the recipient's id too, for enrollment: payout_instruction() as is */
static const char  ngx_http_payout_instruction_sql[] =
    "SELECT i.payout_uuid, i.amount, i.currency, i.gateway, i.narration, "
    "i.sub_status, i.recipient_type, i.account_number_enc, i.bank_code, "
    "i.bank_account_name, i.mobile_money_number_enc, "
    "i.mobile_money_provider, i.recipient_name, i.recipient_uuid, "
    "i.gateway_recipient_code, i.account_id, i.country, i.balance_id, "
    "p.recipient_id "
    "FROM payout_instruction(p_tenant => $1, p_id => $2) i "
    "JOIN payouts p ON p.id = i.payout_id";

/* its columns: NGX_HTTP_PAYOUT_INSTRUCTION_* (ngx_http_payout_gateway.h) */

/* the text columns that go into the transfer as they are */
static const struct {
    size_t  offset;
    int     col;
} ngx_http_payout_transfer_columns[] = {
    { offsetof(ngx_payout_transfer_t, currency),
      NGX_HTTP_PAYOUT_INSTRUCTION_CURRENCY },
    { offsetof(ngx_payout_transfer_t, narration),
      NGX_HTTP_PAYOUT_INSTRUCTION_NARRATION },
    { offsetof(ngx_payout_transfer_t, bank_code),
      NGX_HTTP_PAYOUT_INSTRUCTION_BANK_CODE },
    { offsetof(ngx_payout_transfer_t, account_name),
      NGX_HTTP_PAYOUT_INSTRUCTION_BANK_ACCOUNT_NAME },
    { offsetof(ngx_payout_transfer_t, provider),
      NGX_HTTP_PAYOUT_INSTRUCTION_MOBILE_MONEY_PROVIDER },
    { offsetof(ngx_payout_transfer_t, recipient_reference),
      NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_UUID },
    { offsetof(ngx_payout_transfer_t, recipient_code),
      NGX_HTTP_PAYOUT_INSTRUCTION_GATEWAY_RECIPIENT_CODE },
    { offsetof(ngx_payout_transfer_t, account_id),
      NGX_HTTP_PAYOUT_INSTRUCTION_ACCOUNT_ID },
    { offsetof(ngx_payout_transfer_t, country),
      NGX_HTTP_PAYOUT_INSTRUCTION_COUNTRY },
    { offsetof(ngx_payout_transfer_t, balance_id),
      NGX_HTTP_PAYOUT_INSTRUCTION_BALANCE_ID }
};

static const char  ngx_http_payout_transition_sql[] =
    "SELECT applied, sub_status, gateway_payout_id, failure_reason, "
    "next_action, from_sub_status, gateway FROM payout_apply_result("
    "p_id => $1, p_from => $2, p_to => $3, p_source => $4, "
    "p_gateway_payout_id => $5, p_failure_reason => $6, "
    "p_next_action => $7, p_next_action_url => $8)";

/* its columns: NGX_HTTP_PAYOUT_RESULT_* (ngx_http_payout_gateway.h) */

/* the caller's handler of a payout_apply_result() query */
typedef struct {
    ngx_http_payout_pg_handler_pt  handler;
    void                          *data;
} ngx_http_payout_applied_t;


static void ngx_http_payout_send_instruction(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_send_loaded(ngx_http_payout_send_t *s,
    PGresult *res);
static ngx_int_t ngx_http_payout_send_transfer(ngx_http_payout_send_t *s,
    PGresult *res);
static ngx_int_t ngx_http_payout_send_enroll(ngx_http_payout_send_t *s,
    PGresult *res);
static void ngx_http_payout_send_enrolled(ngx_http_payout_enroll_t *e);
static ngx_int_t ngx_http_payout_send_call(ngx_http_payout_send_t *s);
static void ngx_http_payout_send_go(ngx_http_payout_send_t *s);
static void ngx_http_payout_send_unbuildable(ngx_http_payout_send_t *s,
    const char *what);
static void ngx_http_payout_send_answer(
    ngx_http_payout_provider_call_t *pc);
static void ngx_http_payout_send_apply(ngx_http_payout_send_t *s);
static void ngx_http_payout_send_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_send_finish(ngx_http_payout_send_t *s);
static void ngx_http_payout_apply_counted(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static char *ngx_http_payout_value(ngx_pool_t *pool, PGresult *res,
    int col);
static ngx_int_t ngx_http_payout_send_number(ngx_http_payout_send_t *s,
    PGresult *res, ngx_payout_transfer_t *t);


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
    ngx_http_payout_send_t  *s;

    s = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1) {
        s->unavailable = 1;
        ngx_http_payout_send_finish(s);
        return;
    }

    ngx_http_payout_send_loaded(s, res);
}


void
ngx_http_payout_send_start_row(ngx_http_payout_send_t *s, PGresult *res)
{
    ngx_http_payout_send_loaded(s, res);
}


/* the instruction is in row 0 of res: send it */

static void
ngx_http_payout_send_loaded(ngx_http_payout_send_t *s, PGresult *res)
{
    ngx_int_t   rc;
    ngx_str_t   gateway, uuid;

    if (ngx_http_payout_pg_copy(s->pool, res, 0,
                                NGX_HTTP_PAYOUT_INSTRUCTION_SUB_STATUS,
                                &s->sub_status) != NGX_OK
        || s->sub_status.data == NULL)
    {
        ngx_http_payout_send_finish(s);
        return;
    }

    /* someone else (a duplicate, the reconciler) already moved it on */
    if (ngx_payout_state_parse((char *) s->sub_status.data,
                               s->sub_status.len)
        != NGX_PAYOUT_PENDING_CREATED)
    {
        ngx_http_payout_send_finish(s);
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_INSTRUCTION_GATEWAY,
                            &gateway);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_INSTRUCTION_PAYOUT_UUID,
                            &uuid);

    s->gateway = ngx_http_payout_find_gateway(s->pmcf,
                                              (char *) gateway.data,
                                              gateway.len);
    if (s->gateway == NULL) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "payout: gateway \"%V\" of payout %V is not configured",
                      &gateway, &uuid);
        ngx_http_payout_send_finish(s);
        return;
    }

    ngx_memcpy(s->reference, uuid.data, 36);
    s->reference[36] = '\0';

    if (ngx_http_payout_send_transfer(s, res) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "payout: cannot decrypt the destination of payout %s "
                      "(wrong payout_master_key_file?)", s->reference);
        ngx_http_payout_send_finish(s);
        return;
    }

    /* a destination the gateway does not know yet is registered first */
    if (s->transfer.recipient_code == NULL
        && ngx_http_payout_provider_can(s->gateway, NEEDS_ENROLL))
    {
        rc = ngx_http_payout_send_enroll(s, res);

        if (rc == NGX_OK) {
            return;
        }

        if (rc == NGX_ABORT) {
            ngx_http_payout_send_unbuildable(s, "enrollment");
            return;
        }

        if (rc != NGX_DECLINED) {
            ngx_http_payout_send_finish(s);
            return;
        }
    }

    ngx_http_payout_send_go(s);
}


/* the instruction's row as the connector reads it: s->transfer */

static ngx_int_t
ngx_http_payout_send_transfer(ngx_http_payout_send_t *s, PGresult *res)
{
    ngx_str_t               type;
    ngx_uint_t              i;
    ngx_payout_transfer_t  *t;

    t = &s->transfer;
    ngx_memzero(t, sizeof(ngx_payout_transfer_t));

    t->reference = s->reference;
    t->amount = ngx_http_payout_pg_int(res, 0,
                                       NGX_HTTP_PAYOUT_INSTRUCTION_AMOUNT);
    for (i = 0; i < sizeof(ngx_http_payout_transfer_columns)
                    / sizeof(ngx_http_payout_transfer_columns[0]); i++)
    {
        *(char **) ((u_char *) t
                    + ngx_http_payout_transfer_columns[i].offset)
            = ngx_http_payout_value(s->pool, res,
                                    ngx_http_payout_transfer_columns[i].col);
    }

    /* a mobile wallet has no account name: the recipient's name, then */
    if (t->account_name == NULL) {
        t->account_name = ngx_http_payout_value(s->pool, res,
                                 NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_NAME);
    }

    if (t->recipient_code && t->recipient_code[0] == '\0') {
        t->recipient_code = NULL;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_TYPE,
                            &type);

    if (ngx_strcmp(type.data, "connected_account") == 0) {
        /* the account is the destination: no number to open */
        t->type = NGX_PAYOUT_RECIPIENT_CONNECTED;
        return NGX_OK;
    }

    if (ngx_strcmp(type.data, "balance") == 0) {
        /* nor has a balance (balance_id NULL: the gateway's own) */
        t->type = NGX_PAYOUT_RECIPIENT_BALANCE;
        return NGX_OK;
    }

    t->type = (ngx_strcmp(type.data, "mobile_money") == 0)
              ? NGX_PAYOUT_RECIPIENT_MOBILE : NGX_PAYOUT_RECIPIENT_BANK;

    return ngx_http_payout_send_number(s, res, t);
}


/* the sealed account or mobile number of the row, opened into t */

static ngx_int_t
ngx_http_payout_send_number(ngx_http_payout_send_t *s, PGresult *res,
    ngx_payout_transfer_t *t)
{
    int        bank, mobile;
    ngx_str_t  number;

    bank = NGX_HTTP_PAYOUT_INSTRUCTION_ACCOUNT_NUMBER_ENC;
    mobile = NGX_HTTP_PAYOUT_INSTRUCTION_MOBILE_MONEY_NUMBER_ENC;

    if (ngx_http_payout_open_destination(s->pmcf, s->pool, s->tenant_id, res,
                                         t->type == NGX_PAYOUT_RECIPIENT_MOBILE,
                                         bank, mobile, &number)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    t->account_number = (char *) number.data;
    t->mobile_number = (char *) number.data;

    return NGX_OK;
}


/*
 * Enroll before initiate (ngx_http_payout_enroll.c stores the code on the
 * recipient).  NGX_OK: ngx_http_payout_send_enrolled() runs later;
 * NGX_DECLINED: nothing to enroll for this destination (a Stripe
 * connected account): initiate directly.
 */

static ngx_int_t
ngx_http_payout_send_enroll(ngx_http_payout_send_t *s, PGresult *res)
{
    ngx_http_payout_enroll_t  *e;

    if (ngx_http_payout_pg_isnull(res, 0,
                                  NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_ID))
    {
        return NGX_DECLINED;
    }

    e = ngx_pcalloc(s->pool, sizeof(ngx_http_payout_enroll_t));
    if (e == NULL) {
        return NGX_ERROR;
    }

    e->gateway = s->gateway;
    e->pool = s->pool;
    e->log = s->log;
    e->tenant_id = s->tenant_id;
    e->recipient_id = ngx_http_payout_pg_int(res, 0,
                                    NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_ID);
    e->transfer = &s->transfer;
    e->handler = ngx_http_payout_send_enrolled;
    e->data = s;

    s->enroll = e;

    return ngx_http_payout_enroll_start(e);
}


/*
 * Enrolled: initiate with the code.  The destination refused: the payout
 * ends canceled_rejected with the provider's reason (canceled_failure
 * for a refused key).  No definite answer: it stays pending_created for
 * the reconciler, whose resubmit enrolls again (the providers dedupe).
 */

static void
ngx_http_payout_send_enrolled(ngx_http_payout_enroll_t *e)
{
    size_t                   len;
    u_char                  *code;
    ngx_payout_result_t     *res;
    ngx_http_payout_send_t  *s;

    s = e->data;
    res = &e->result;

    if (res->outcome == NGX_PAYOUT_OUTCOME_STATE && res->gateway_id[0]
        && (res->state < 0 || ngx_payout_state_pending(res->state)))
    {
        len = ngx_strlen(res->gateway_id) + 1;
        code = ngx_pnalloc(s->pool, len);

        if (code == NULL) {
            ngx_http_payout_send_finish(s);
            return;
        }

        (void) ngx_cpystrn(code, (u_char *) res->gateway_id, len);
        s->transfer.recipient_code = (char *) code;

        ngx_http_payout_send_go(s);
        return;
    }

    if (res->outcome == NGX_PAYOUT_OUTCOME_REFUSED
        || (res->outcome == NGX_PAYOUT_OUTCOME_STATE && res->state >= 0
            && !ngx_payout_state_pending(res->state)))
    {
        ngx_memzero(&s->result, sizeof(ngx_payout_result_t));
        s->result.outcome = NGX_PAYOUT_OUTCOME_STATE;

        if (ngx_strcmp(res->reason, NGX_HTTP_PAYOUT_AUTH_FAILED) == 0) {
            ngx_http_payout_log_auth_failed(s->log, s->gateway,
                                            "enrollment", s->reference);
            s->result.state = NGX_PAYOUT_CANCELED_FAILURE;

        } else {
            s->result.state = NGX_PAYOUT_CANCELED_REJECTED;
        }

        (void) ngx_cpystrn((u_char *) s->result.reason,
                           (u_char *) (res->reason[0]
                                       ? res->reason
                                       : "recipient_refused"),
                           sizeof(s->result.reason));

        ngx_http_payout_send_apply(s);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, s->log, 0,
                  "payout: gateway \"%V\" gave no definite answer to the "
                  "enrollment for payout %s; it stays pending_created for "
                  "the reconciler", &s->gateway->name, s->reference);

    ngx_http_payout_send_finish(s);
}


/* the transfer goes out, or the payout ends if it never can */

static void
ngx_http_payout_send_go(ngx_http_payout_send_t *s)
{
    ngx_int_t  rc;

    rc = ngx_http_payout_send_call(s);

    if (rc == NGX_OK) {
        return;
    }

    if (rc == NGX_DECLINED || rc == NGX_ABORT) {
        ngx_http_payout_send_unbuildable(s, "transfer");
        return;
    }

    ngx_http_payout_send_finish(s);
}


/*
 * The connector cannot send this payout at all (a destination its
 * provider does not pay, details it needs and the recipient lacks).
 * Nothing reached the provider, so the payout is rejected now instead of
 * being left for a reconciler that would fail the same way forever.
 */

static void
ngx_http_payout_send_unbuildable(ngx_http_payout_send_t *s,
    const char *what)
{
    ngx_log_error(NGX_LOG_WARN, s->log, 0,
                  "payout: gateway \"%V\" cannot send the %s of payout %s "
                  "to this destination; it is rejected, nothing was sent",
                  &s->gateway->name, what, s->reference);

    ngx_memzero(&s->result, sizeof(ngx_payout_result_t));
    s->result.outcome = NGX_PAYOUT_OUTCOME_STATE;
    s->result.state = NGX_PAYOUT_CANCELED_REJECTED;
    (void) ngx_cpystrn((u_char *) s->result.reason,
                       (u_char *) "unsupported_destination",
                       sizeof(s->result.reason));

    ngx_http_payout_send_apply(s);
}


static ngx_int_t
ngx_http_payout_send_call(ngx_http_payout_send_t *s)
{
    ngx_http_payout_provider_call_t  *pc;

    pc = &s->call;

    pc->gateway = s->gateway;
    pc->op = NGX_PAYOUT_OP_INITIATE;
    pc->pool = s->pool;
    pc->log = s->log;
    pc->handler = ngx_http_payout_send_answer;
    pc->data = s;

    return ngx_http_payout_provider_call(pc, &s->transfer);
}


static void
ngx_http_payout_send_answer(ngx_http_payout_provider_call_t *pc)
{
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

    if (ngx_strcmp(pc->result.reason, NGX_HTTP_PAYOUT_AUTH_FAILED) == 0) {
        ngx_http_payout_log_auth_failed(s->log, s->gateway, "transfer",
                                        s->reference);
    }

    s->result = pc->result;

    ngx_http_payout_send_apply(s);
}


static void
ngx_http_payout_send_apply(ngx_http_payout_send_t *s)
{
    ngx_int_t  rc;

    rc = ngx_http_payout_apply_result(s->pool, s->log, NULL, s->payout_id,
                                      &s->result, s->source,
                                      ngx_http_payout_send_recorded, s);
    if (rc != NGX_OK) {
        s->unavailable = 1;
        ngx_http_payout_send_finish(s);
    }
}


void
ngx_http_payout_log_auth_failed(ngx_log_t *log, ngx_http_payout_gateway_t *gw,
    const char *what, const char *reference)
{
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "payout: gateway \"%V\" refused its secret key (401/403) "
                  "on the %s of payout %s: check its secret_file; the "
                  "payout is not retried", &gw->name, what, reference);
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
    ngx_http_payout_applied_t    *a;
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

    if (res->next_action[0]) {
        ngx_http_payout_pg_param(q, (u_char *) res->next_action,
                                 ngx_strlen(res->next_action));
    } else {
        ngx_http_payout_pg_param_null(q);
    }

    if (res->next_action[0] && res->next_action_url[0]) {
        ngx_http_payout_pg_param(q, (u_char *) res->next_action_url,
                                 ngx_strlen(res->next_action_url));
    } else {
        ngx_http_payout_pg_param_null(q);
    }

    q->handler = handler;
    q->data = data;

    /* the row's transition is counted first; without memory, only not that */
    a = ngx_palloc(q->mem, sizeof(ngx_http_payout_applied_t));

    if (a) {
        a->handler = handler;
        a->data = data;

        q->handler = ngx_http_payout_apply_counted;
        q->data = a;
    }

    /* a request's query must not outlive it */
    if (r) {
        return ngx_http_payout_pg_run_for_request(r, q);
    }

    return ngx_http_payout_pg_run(pmcf->pg, q);
}


static void
ngx_http_payout_apply_counted(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_str_t                   gateway;
    ngx_http_payout_applied_t  *a;

    a = q->data;
    q->handler = a->handler;
    q->data = a->data;

    if (q->status == NGX_HTTP_PAYOUT_PG_OK && PQntuples(res) == 1
        && ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_RESULT_APPLIED))
    {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_RESULT_GATEWAY,
                                &gateway);

        ngx_http_payout_metric_moved(&gateway,
            ngx_http_payout_row_state(res, 0,
                                      NGX_HTTP_PAYOUT_RESULT_FROM_SUB_STATUS),
            ngx_http_payout_row_state(res, 0,
                                      NGX_HTTP_PAYOUT_RESULT_SUB_STATUS));
    }

    q->handler(q, res);
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

    /* a failed copy leaves a null string, as a NULL column does */
    (void) ngx_http_payout_pg_copy(s->pool, res, 0,
                                   NGX_HTTP_PAYOUT_RESULT_SUB_STATUS,
                                   &s->sub_status);
    (void) ngx_http_payout_pg_copy(s->pool, res, 0,
                                   NGX_HTTP_PAYOUT_RESULT_GATEWAY_PAYOUT_ID,
                                   &s->gateway_payout_id);
    (void) ngx_http_payout_pg_copy(s->pool, res, 0,
                                   NGX_HTTP_PAYOUT_RESULT_FAILURE_REASON,
                                   &s->failure_reason);
    (void) ngx_http_payout_pg_copy(s->pool, res, 0,
                                   NGX_HTTP_PAYOUT_RESULT_NEXT_ACTION,
                                   &s->next_action);

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


/* a copy of column col of the one row, or NULL */

static char *
ngx_http_payout_value(ngx_pool_t *pool, PGresult *res, int col)
{
    ngx_str_t  v;

    if (ngx_http_payout_pg_copy(pool, res, 0, col, &v) != NGX_OK) {
        return NULL;
    }

    return (char *) v.data;
}


int
ngx_http_payout_row_state(PGresult *res, int row, int col)
{
    ngx_str_t  name;

    ngx_http_payout_pg_text(res, row, col, &name);

    return ngx_payout_state_parse((char *) name.data, name.len);
}
