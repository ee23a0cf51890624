/*
 * Operations on one payout through its gateway, which must be configured
 * and of the key's mode:
 *
 *   GET  /payouts/{uuid}/status   the gateway's live view (seed 004); the
 *                                 stored payout is not changed
 *   POST /payouts/{uuid}/cancel   void (Prism): a staged payout is voided
 *                                 here; a sent one only if the provider
 *                                 confirms the cancellation
 *   POST /payouts/{uuid}/transfer send a staged payout (create.c sends)
 */

#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_metrics.h"


static const char  ngx_http_payout_load_sql[] =
    "SELECT p.id, p.gateway, p.sub_status, "
    NGX_HTTP_PAYOUT_TRANSFER_IDS_SQL " "
    "FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id "
    "WHERE p.tenant_id = $1 AND p.livemode = $2 AND p.uuid = $3::uuid";

enum {
    NGX_HTTP_PAYOUT_LOAD_ID = 0,
    NGX_HTTP_PAYOUT_LOAD_GATEWAY,
    NGX_HTTP_PAYOUT_LOAD_SUB_STATUS,
    NGX_HTTP_PAYOUT_LOAD_TRANSFER_IDS     /* NGX_HTTP_PAYOUT_TRANSFER_IDS_* */
};

static const char  ngx_http_payout_void_sql[] =
    "SELECT applied, sub_status FROM payout_transition("
    "p_id => $1, p_from => '{pending_staged}', p_to => 'canceled_voided', "
    "p_source => 'api', p_gateway_payout_id => NULL, "
    "p_failure_reason => 'voided', p_detail => NULL)";

enum {
    NGX_HTTP_PAYOUT_VOID_APPLIED = 0,
    NGX_HTTP_PAYOUT_VOID_SUB_STATUS
};

typedef struct {
    ngx_http_request_t           *request;
    ngx_http_payout_ctx_t        *ctx;
    ngx_http_payout_gateway_t    *gateway;
    int64_t                       payout_id;
    int                           state;        /* stored; -1: unknown */
    ngx_payout_transfer_t         ids;          /* gateway id, type ... */
    ngx_http_payout_provider_call_t  call;
    unsigned                      cancel:1;
    unsigned                      transfer:1;
    unsigned                      created:1;    /* pending_created */
} ngx_http_payout_op_t;


#define NGX_HTTP_PAYOUT_OP_STATUS    0
#define NGX_HTTP_PAYOUT_OP_CANCEL    1
#define NGX_HTTP_PAYOUT_OP_TRANSFER  2


static ngx_int_t ngx_http_payout_op_start(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_uint_t what);
static void ngx_http_payout_op_loaded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_op_void_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_op_ask(ngx_http_payout_op_t *op);
static ngx_int_t ngx_http_payout_op_call(ngx_http_payout_op_t *op);
static void ngx_http_payout_op_status_answer(
    ngx_http_payout_provider_call_t *pc);
static void ngx_http_payout_op_status_send(ngx_http_payout_op_t *op,
    const char *type, long code, json_t *response, const char *message);
static void ngx_http_payout_op_cancel_answer(
    ngx_http_payout_provider_call_t *pc);
static ngx_int_t ngx_http_payout_op_not_cancelable(ngx_http_request_t *r,
    ngx_payout_result_t *res);
static void ngx_http_payout_op_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_op_stored(ngx_http_payout_op_t *op);
static void ngx_http_payout_op_retry(ngx_http_payout_op_t *op,
    const char *code, const char *message);
static void ngx_http_payout_op_show(ngx_http_payout_op_t *op);


ngx_int_t
ngx_http_payout_payouts_status(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_op_start(r, ctx, NGX_HTTP_PAYOUT_OP_STATUS);
}


ngx_int_t
ngx_http_payout_payouts_cancel(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_op_start(r, ctx, NGX_HTTP_PAYOUT_OP_CANCEL);
}


ngx_int_t
ngx_http_payout_payouts_transfer(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_op_start(r, ctx, NGX_HTTP_PAYOUT_OP_TRANSFER);
}


static ngx_int_t
ngx_http_payout_op_start(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    ngx_uint_t what)
{
    ngx_int_t                    rc;
    ngx_http_payout_op_t        *op;
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_uuid_query(r, ctx, ngx_http_payout_load_sql, &rc);
    if (q == NULL) {
        return rc;
    }

    op = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->request = r;
    op->ctx = ctx;
    op->cancel = (what == NGX_HTTP_PAYOUT_OP_CANCEL);
    op->transfer = (what == NGX_HTTP_PAYOUT_OP_TRANSFER);
    q->handler = ngx_http_payout_op_loaded;
    q->data = op;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_op_loaded(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int                          state;
    ngx_int_t                    rc;
    ngx_str_t                    gateway;
    ngx_http_request_t          *r;
    ngx_http_payout_op_t        *op;
    ngx_http_payout_pg_query_t  *vq;

    op = q->data;
    r = op->request;

    if (ngx_http_payout_query_row(r, q, res, "No such payout.") != NGX_OK) {
        return;
    }

    op->payout_id = ngx_http_payout_pg_int(res, 0, NGX_HTTP_PAYOUT_LOAD_ID);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LOAD_GATEWAY, &gateway);
    op->gateway = ngx_http_payout_key_gateway(r, op->ctx,
                                              (char *) gateway.data,
                                              gateway.len, &rc);
    state = ngx_http_payout_row_state(res, 0,
                                      NGX_HTTP_PAYOUT_LOAD_SUB_STATUS);
    op->created = (state == NGX_PAYOUT_PENDING_CREATED);
    op->state = state;

    if (ngx_http_payout_provider_transfer_ids(r->pool, res, 0,
                                              NGX_HTTP_PAYOUT_LOAD_TRANSFER_IDS,
                                              &op->ids)
        != NGX_OK)
    {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (op->gateway == NULL) {
        ngx_http_payout_finalize(r, rc);
        return;
    }

    if (op->transfer) {
        rc = ngx_http_payout_transfer_staged(r, &op->ctx->args[0],
                                             op->payout_id);
        goto started;
    }

    if (op->cancel && state == NGX_PAYOUT_PENDING_STAGED) {
        vq = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                             ngx_http_payout_void_sql);
        if (vq == NULL
            || ngx_http_payout_pg_param_int(vq, op->payout_id) != NGX_OK)
        {
            ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        vq->handler = ngx_http_payout_op_void_done;
        vq->data = op;

        rc = ngx_http_payout_pg_run_for_request(r, vq);
        goto started;
    }

    /*
     * A cancel of a voided payout is answered like the one that voided
     * it: a retry after a lost answer, or after 503 gateway_unavailable
     * when the cancel was carried out all the same, must not read as a
     * failure.  Nothing is asked or written.
     */

    if (op->cancel && state == NGX_PAYOUT_CANCELED_VOIDED) {
        ngx_http_payout_op_show(op);
        return;
    }

    if (op->cancel && (state < 0 || !ngx_payout_state_pending(state))) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_CONFLICT, "invalid_state",
            "The payout is final and cannot be canceled.", NULL));
        return;
    }

    ngx_http_payout_op_ask(op);

    return;

started:

    /* the next query is on its way, or the database is gone */

    (void) ngx_http_payout_query_started(r, rc);
}


static void
ngx_http_payout_op_void_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_payout_op_t  *op;

    op = q->data;

    if (ngx_http_payout_query_row(op->request, q, res, NULL) != NGX_OK) {
        return;
    }

    if (!ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_VOID_APPLIED)) {
        /* transferred meanwhile: ask the provider instead */
        op->created = 1;

        ngx_http_payout_op_ask(op);

        return;
    }

    ngx_http_payout_metric_transition(op->request, NGX_PAYOUT_PENDING_STAGED,
                                      NGX_PAYOUT_CANCELED_VOIDED);

    ngx_http_payout_op_show(op);
}


/*
 * Ask the provider.  A connector that cannot build the call: a cancel it
 * does not have (Paystack; a Stripe transfer) is 422 not_supported, one
 * that lacks the provider's id yet (a Stripe payout still being sent)
 * is asked again later; a status it cannot ask (no provider id yet) is
 * answered from the stored payout.
 */

static void
ngx_http_payout_op_ask(ngx_http_payout_op_t *op)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = op->request;

    rc = ngx_http_payout_op_call(op);

    if (rc == NGX_DECLINED && !op->cancel) {
        ngx_http_payout_op_stored(op);

    } else if (rc == NGX_DECLINED
               && ngx_http_payout_provider_can(op->gateway, CAN_CANCEL)
               && (op->ids.gateway_id == NULL
                   || op->ids.gateway_id[0] == '\0'))
    {
        ngx_http_payout_op_retry(op, "payout_in_flight",
                                 "The gateway has not confirmed the payout "
                                 "yet: retry the cancel.");

    } else if (rc == NGX_DECLINED) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_PAYOUT_422, "not_supported",
            "The payout's gateway has no cancellation for this payout.",
            NULL));

    } else if (rc != NGX_OK) {
        ngx_http_payout_finalize(op->request,
                                 NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


static ngx_int_t
ngx_http_payout_op_call(ngx_http_payout_op_t *op)
{
    char                              reference[37];
    ngx_str_t                        *uuid;
    ngx_http_request_t               *r;
    ngx_payout_transfer_t             t;
    ngx_http_payout_provider_call_t  *pc;

    r = op->request;
    pc = &op->call;
    uuid = &op->ctx->args[0];

    if (uuid->len != 36) {
        return NGX_ERROR;
    }

    ngx_memcpy(reference, uuid->data, 36);
    reference[36] = '\0';

    t = op->ids;
    t.reference = reference;

    pc->gateway = op->gateway;
    pc->op = op->cancel ? NGX_PAYOUT_OP_CANCEL : NGX_PAYOUT_OP_LOOKUP;
    pc->pool = r->pool;
    pc->log = r->connection->log;
    pc->request = r;
    pc->handler = op->cancel ? ngx_http_payout_op_cancel_answer
                             : ngx_http_payout_op_status_answer;
    pc->data = op;

    return ngx_http_payout_provider_call(pc, &t);
}


/* seed 004: {"code": {"type", "success", "code"}, "response", ...} */

static void
ngx_http_payout_op_status_answer(ngx_http_payout_provider_call_t *pc)
{
    long                         code;
    json_t                      *response;
    const char                  *type, *message;
    ngx_http_payout_op_t        *op;
    ngx_http_payout_http_req_t  *hr;

    op = pc->data;
    hr = &pc->http;

    response = NULL;

    if (hr->status && hr->response.len) {
        response = json_loadb((char *) hr->response.data, hr->response.len,
                              0, NULL);
    }

    if (hr->status >= 200 && hr->status < 300) {
        type = "ok";
        code = hr->status;
        message = NULL;

    } else if (hr->status == 404) {
        type = "not_found";
        code = 404;
        message = "The gateway has no transfer for this payout.";

    } else if (hr->status) {
        type = "error";
        code = hr->status;
        message = "The gateway answered with an error.";

    } else {
        type = "unavailable";
        code = 504;
        message = hr->error_text ? hr->error_text
                                 : "The gateway did not answer.";
    }

    ngx_http_payout_op_status_send(op, type, code, response, message);
}


/* the seed-004 shape; response: a new reference, taken over here */

static void
ngx_http_payout_op_status_send(ngx_http_payout_op_t *op, const char *type,
    long code, json_t *response, const char *message)
{
    json_t  *out;

    if (response == NULL) {
        response = json_object();
    }

    /* "O" takes a reference of its own: ours is dropped below */
    out = json_pack("{s{sssbsi}sOss?}",
                    "code", "type", type, "success", code < 300,
                    "code", (int) code,
                    "response", response,
                    "error_message", message);

    json_decref(response);

    if (out == NULL) {
        ngx_http_payout_finalize(op->request,
                                 NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_payout_finalize(op->request,
        ngx_http_payout_send_json_t(op->request, NGX_HTTP_OK, out));
    json_decref(out);
}


static void
ngx_http_payout_op_cancel_answer(ngx_http_payout_provider_call_t *pc)
{
    ngx_int_t              rc;
    const char            *code, *message;
    ngx_http_request_t    *r;
    ngx_http_payout_op_t  *op;

    op = pc->data;
    r = op->request;

    /*
     * No answer, or the gateway's own trouble: the cancel may have been
     * carried out all the same.  Or the gateway has not seen the payout
     * yet: its own request or the reconciler is still sending it, and
     * voiding it here would race that.  Either way the client is told to
     * ask again (a second cancel of a canceled transfer is answered like
     * the first).
     */

    code = NULL;

    if (pc->result.outcome == NGX_PAYOUT_OUTCOME_UNKNOWN) {
        code = "gateway_unavailable";
        message = "The gateway did not answer; the payout may have been "
                  "canceled: retry the cancel.";

    } else if (pc->result.outcome == NGX_PAYOUT_OUTCOME_NOT_FOUND
               && op->created)
    {
        code = "payout_in_flight";
        message = "The payout is still on its way to the gateway: retry "
                  "the cancel.";
    }

    if (code) {
        ngx_http_payout_op_retry(op, code, message);
        return;
    }

    if (pc->result.outcome != NGX_PAYOUT_OUTCOME_STATE
        || pc->result.state != NGX_PAYOUT_CANCELED_VOIDED)
    {
        ngx_http_payout_finalize(r, ngx_http_payout_op_not_cancelable(r,
                                                             &pc->result));
        return;
    }

    rc = ngx_http_payout_apply_result(r->pool, r->connection->log, r,
                                      op->payout_id, &pc->result, "api",
                                      ngx_http_payout_op_recorded, op);

    (void) ngx_http_payout_query_started(r, rc);
}


/*
 * 409: the gateway refused the cancel (e.g. Mollie once a payout is past
 * "requested") or says the payout is already past voiding; the
 * provider's own reason, when it gave one, goes into the message.
 */

static ngx_int_t
ngx_http_payout_op_not_cancelable(ngx_http_request_t *r,
    ngx_payout_result_t *res)
{
    u_char  *msg, *last;

    if (res->reason[0] == '\0') {
        return ngx_http_payout_send_error(r, NGX_HTTP_CONFLICT,
                   "not_cancelable",
                   "The gateway can no longer cancel this payout.", NULL);
    }

    msg = ngx_pnalloc(r->pool, sizeof(res->reason) + 64);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_snprintf(msg, sizeof(res->reason) + 63,
                        "The gateway can no longer cancel this payout: %s",
                        res->reason);
    *last = '\0';

    return ngx_http_payout_send_error(r, NGX_HTTP_CONFLICT, "not_cancelable",
                                      (char *) msg, NULL);
}


static void
ngx_http_payout_op_recorded(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_payout_op_t  *op;

    op = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        ngx_http_payout_finalize(op->request,
            ngx_http_payout_pg_failure(op->request, q));
        return;
    }

    ngx_http_payout_op_show(op);
}


/*
 * No provider call could be built (a Stripe payout has no id before
 * Stripe answers its creation): the stored state, in the seed-004 shape,
 * code.type "stored".
 */

static void
ngx_http_payout_op_stored(ngx_http_payout_op_t *op)
{
    ngx_http_payout_op_status_send(op, "stored", 200,
        json_pack("{ss}", "sub_status",
                  op->state >= 0 ? ngx_payout_state_name(op->state)
                                 : "unknown"),
        NULL);
}


/* 503 with Retry-After: ask again */

static void
ngx_http_payout_op_retry(ngx_http_payout_op_t *op, const char *code,
    const char *message)
{
    ngx_http_request_t  *r;

    r = op->request;

    ngx_http_payout_finalize(r,
        ngx_http_payout_set_retry_after(r) != NGX_OK
        ? NGX_HTTP_INTERNAL_SERVER_ERROR
        : ngx_http_payout_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     code, message, NULL));
}


/* answer with the payout as it is now */

static void
ngx_http_payout_op_show(ngx_http_payout_op_t *op)
{
    ngx_int_t  rc;

    rc = ngx_http_payout_payouts_get(op->request, op->ctx);

    if (rc != NGX_DONE) {
        ngx_http_payout_finalize(op->request, rc);
    }
}
