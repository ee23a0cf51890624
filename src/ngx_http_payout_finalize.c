/*
 * POST /payouts/{uuid}/finalize {"otp": "123456"}: the code a provider
 * asked the merchant for (the payout's next_action otp_required,
 * Paystack's transfer OTP) goes to the connector's FINALIZE, with the
 * provider's id of the transfer.  The payout moves only on the
 * provider's word; a refused code or no answer leaves it as it was, still
 * waiting.  The code reaches the connector's call and nothing else: no
 * log line, no error message.
 */

#include "ngx_http_payout_auth.h"
#include "ngx_http_payout_gateway.h"


static const char  ngx_http_payout_finalize_sql[] =
    "SELECT p.id, p.gateway, p.sub_status, p.next_action, "
    "p.gateway_payout_id FROM payouts p "
    "WHERE p.tenant_id = $1 AND p.livemode = $2 AND p.uuid = $3::uuid";

enum {
    NGX_HTTP_PAYOUT_FINALIZE_ID = 0,
    NGX_HTTP_PAYOUT_FINALIZE_GATEWAY,
    NGX_HTTP_PAYOUT_FINALIZE_SUB_STATUS,
    NGX_HTTP_PAYOUT_FINALIZE_NEXT_ACTION,
    NGX_HTTP_PAYOUT_FINALIZE_GATEWAY_PAYOUT_ID
};


typedef struct {
    ngx_http_request_t               *request;
    ngx_http_payout_ctx_t            *ctx;
    ngx_http_payout_gateway_t        *gateway;
    int64_t                           payout_id;
    ngx_str_t                         otp;
    ngx_str_t                         sub_status;
    ngx_str_t                         gateway_payout_id;
    char                              reference[37];
    ngx_http_payout_provider_call_t   call;
} ngx_http_payout_otp_t;


static void ngx_http_payout_finalize_loaded(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_finalize_call(ngx_http_payout_otp_t *f);
static void ngx_http_payout_finalize_answer(
    ngx_http_payout_provider_call_t *pc);
static ngx_int_t ngx_http_payout_finalize_refused(
    ngx_http_payout_otp_t *f, const char *reason);
static void ngx_http_payout_finalize_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res);


ngx_int_t
ngx_http_payout_payouts_finalize(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_payout_error_t           err;
    ngx_payout_finalize_input_t  in;
    ngx_http_payout_otp_t       *f;
    ngx_http_payout_pg_query_t  *q;

    if (ngx_payout_validate_finalize(ctx->body, &in, &err)
        != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST, err.code,
                                          err.message, err.field);
    }

    q = ngx_http_payout_uuid_query(r, ctx, ngx_http_payout_finalize_sql,
                                   &rc);
    if (q == NULL) {
        return rc;
    }

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_otp_t));
    if (f == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the body may be freed before the provider is called */
    f->otp.len = ngx_strlen(in.otp);
    f->otp.data = ngx_pnalloc(r->pool, f->otp.len + 1);
    if (f->otp.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) ngx_cpystrn(f->otp.data, (u_char *) in.otp, f->otp.len + 1);
    f->request = r;
    f->ctx = ctx;

    q->handler = ngx_http_payout_finalize_loaded;
    q->data = f;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_finalize_loaded(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    int                          state;
    ngx_int_t                    rc;
    ngx_str_t                    gateway, next;
    ngx_http_request_t          *r;
    ngx_http_payout_otp_t       *f;

    f = q->data;
    r = f->request;

    if (ngx_http_payout_query_row(r, q, res, "No such payout.") != NGX_OK) {
        return;
    }

    f->payout_id = ngx_http_payout_pg_int(res, 0,
                                          NGX_HTTP_PAYOUT_FINALIZE_ID);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_FINALIZE_GATEWAY,
                            &gateway);

    f->gateway = ngx_http_payout_key_gateway(r, f->ctx,
                                             (char *) gateway.data,
                                             gateway.len, &rc);
    if (f->gateway == NULL) {
        ngx_http_payout_finalize(r, rc);
        return;
    }

    state = ngx_http_payout_row_state(res, 0,
                                      NGX_HTTP_PAYOUT_FINALIZE_SUB_STATUS);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_FINALIZE_NEXT_ACTION,
                            &next);

    if (state < 0 || !ngx_payout_state_pending(state)
        || ngx_http_payout_pg_isnull(res, 0,
                                     NGX_HTTP_PAYOUT_FINALIZE_NEXT_ACTION)
        || next.len != sizeof("otp_required") - 1
        || ngx_strncmp(next.data, "otp_required", next.len) != 0
        || ngx_http_payout_pg_isnull(res, 0,
                               NGX_HTTP_PAYOUT_FINALIZE_GATEWAY_PAYOUT_ID))
    {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_CONFLICT, "invalid_state",
            "The payout is not waiting for an OTP (next_action "
            "{\"type\": \"otp_required\"}).", NULL));
        return;
    }

    if (ngx_http_payout_pg_copy(r->pool, res, 0,
                                NGX_HTTP_PAYOUT_FINALIZE_SUB_STATUS,
                                &f->sub_status) != NGX_OK
        || ngx_http_payout_pg_copy(r->pool, res, 0,
                                   NGX_HTTP_PAYOUT_FINALIZE_GATEWAY_PAYOUT_ID,
                                   &f->gateway_payout_id) != NGX_OK)
    {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_payout_finalize_call(f);

    if (rc == NGX_DECLINED) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_PAYOUT_422, "not_supported",
            "The payout's gateway has no finalization.", NULL));

    } else if (rc != NGX_OK) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


static ngx_int_t
ngx_http_payout_finalize_call(ngx_http_payout_otp_t *f)
{
    ngx_str_t                        *uuid;
    ngx_http_request_t               *r;
    ngx_payout_transfer_t             t;
    ngx_http_payout_provider_call_t  *pc;

    r = f->request;
    pc = &f->call;
    uuid = &f->ctx->args[0];

    ngx_memcpy(f->reference, uuid->data, 36);
    f->reference[36] = '\0';

    ngx_memzero(&t, sizeof(ngx_payout_transfer_t));
    t.reference = f->reference;
    t.gateway_id = (char *) f->gateway_payout_id.data;
    t.otp = (char *) f->otp.data;

    pc->gateway = f->gateway;
    pc->op = NGX_PAYOUT_OP_FINALIZE;
    pc->pool = r->pool;
    pc->log = r->connection->log;
    pc->request = r;
    pc->handler = ngx_http_payout_finalize_answer;
    pc->data = f;

    return ngx_http_payout_provider_call(pc, &t);
}


static void
ngx_http_payout_finalize_answer(ngx_http_payout_provider_call_t *pc)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_payout_result_t         *res;
    ngx_http_payout_otp_t       *f;

    f = pc->data;
    r = f->request;
    res = &pc->result;

    if (res->outcome == NGX_PAYOUT_OUTCOME_STATE && res->state >= 0) {
        /* the provider's word moves the payout and ends the wait */
        rc = ngx_http_payout_apply_result(r->pool, r->connection->log, r,
                                          f->payout_id, res, "api",
                                          ngx_http_payout_finalize_recorded,
                                          f);

        (void) ngx_http_payout_query_started(r, rc);
        return;
    }

    if (res->outcome == NGX_PAYOUT_OUTCOME_REFUSED
        && ngx_strcmp(res->reason, NGX_HTTP_PAYOUT_AUTH_FAILED) == 0)
    {
        /* our key, not the merchant's code: as the enrollment answers */
        ngx_http_payout_log_auth_failed(r->connection->log, f->gateway,
                                        "finalization", f->reference);

        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_BAD_GATEWAY, "gateway_auth_failed",
            "The gateway refused this server's credentials; the payout is "
            "unchanged.", NULL));
        return;
    }

    if (res->outcome == NGX_PAYOUT_OUTCOME_REFUSED) {
        /* a wrong or expired code: the payout still waits for one */
        ngx_http_payout_finalize(r, ngx_http_payout_finalize_refused(f,
                                 res->reason[0] ? res->reason
                                                : "otp_refused"));
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "payout: gateway \"%V\" gave no definite answer to the "
                  "finalization of payout %s (HTTP %l); it is unchanged",
                  &f->gateway->name, f->reference, pc->http.status);

    /* as cancel and enrollment answer it: ask again */
    ngx_http_payout_finalize(r,
        ngx_http_payout_set_retry_after(r) != NGX_OK
        ? NGX_HTTP_INTERNAL_SERVER_ERROR
        : ngx_http_payout_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
              "gateway_unavailable",
              "The gateway gave no definite answer; the payout is "
              "unchanged: retry the finalize.", NULL));
}


static ngx_int_t
ngx_http_payout_finalize_refused(ngx_http_payout_otp_t *f,
    const char *reason)
{
    json_t  *detail;

    detail = json_pack("{s:s%, s:s%, s:s}",
                       "payout_uuid", f->reference, (size_t) 36,
                       "sub_status", (char *) f->sub_status.data,
                       f->sub_status.len,
                       "failure_reason", reason);
    if (detail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_error_detail(f->request,
               NGX_HTTP_BAD_REQUEST, "gateway_rejected",
               "The gateway refused the OTP; the payout still waits for "
               "one.", detail);
}


static void
ngx_http_payout_finalize_recorded(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_int_t                    rc;
    ngx_http_payout_otp_t       *f;

    f = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        ngx_http_payout_finalize(f->request,
                                 ngx_http_payout_pg_failure(f->request, q));
        return;
    }

    /* the payout as it is now */
    rc = ngx_http_payout_payouts_get(f->request, f->ctx);

    if (rc != NGX_DONE) {
        ngx_http_payout_finalize(f->request, rc);
    }
}
