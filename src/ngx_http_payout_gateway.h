/*
 * Sending a committed payout to its gateway and recording the answer:
 * load the instruction, call the provider (idempotency keyed on our payout
 * uuid), apply the state machine's transition.  A send lives in its own
 * memory pool: once started it finishes and records its result even if
 * the client that asked for it has gone away.
 */

#ifndef NGX_HTTP_PAYOUT_GATEWAY_H_INCLUDED_
#define NGX_HTTP_PAYOUT_GATEWAY_H_INCLUDED_


#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_provider.h"
#include "ngx_http_payout_enroll.h"
#include "core/ngx_payout_validate.h"
#include "core/ngx_payout_state.h"


typedef struct ngx_http_payout_send_s  ngx_http_payout_send_t;

typedef void (*ngx_http_payout_send_pt)(ngx_http_payout_send_t *s);


struct ngx_http_payout_send_s {
    ngx_pool_t                     *pool;
    ngx_log_t                      *log;
    ngx_http_payout_main_conf_t    *pmcf;

    int64_t                         tenant_id;
    int64_t                         payout_id;
    const char                     *source;       /* "api", "reconciler" */

    /* called once when done, unless detached first */
    ngx_http_payout_send_pt         handler;
    void                           *data;

    /* the outcome */
    ngx_uint_t                      unavailable;  /* database unreachable */
    ngx_str_t                       sub_status;
    ngx_str_t                       gateway_payout_id;
    ngx_str_t                       failure_reason;
    ngx_str_t                       next_action;  /* its JSON object:
                                                   * {"type": ...} */

    /* private */
    ngx_http_payout_gateway_t      *gateway;
    ngx_payout_transfer_t           transfer;
    ngx_payout_result_t             result;       /* what is applied */
    ngx_http_payout_enroll_t       *enroll;
    ngx_http_payout_provider_call_t call;
    char                            reference[37];
};


ngx_http_payout_send_t *ngx_http_payout_send_create(
    ngx_http_payout_main_conf_t *pmcf, ngx_log_t *log);
ngx_int_t ngx_http_payout_send_start(ngx_http_payout_send_t *s);

/*
 * The send of a payout whose instruction the caller has already read, in
 * row 0 of res with the columns below first (payout_create_send(),
 * sql/functions/perf.sql): no query before the provider's call.  The
 * handler may have run when this returns.
 */
void ngx_http_payout_send_start_row(ngx_http_payout_send_t *s,
    PGresult *res);

/* the instruction's columns, payout_instruction()'s with the recipient */
enum {
    NGX_HTTP_PAYOUT_INSTRUCTION_PAYOUT_UUID = 0,
    NGX_HTTP_PAYOUT_INSTRUCTION_AMOUNT,
    NGX_HTTP_PAYOUT_INSTRUCTION_CURRENCY,
    NGX_HTTP_PAYOUT_INSTRUCTION_GATEWAY,
    NGX_HTTP_PAYOUT_INSTRUCTION_NARRATION,
    NGX_HTTP_PAYOUT_INSTRUCTION_SUB_STATUS,
    NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_TYPE,
    NGX_HTTP_PAYOUT_INSTRUCTION_ACCOUNT_NUMBER_ENC,
    NGX_HTTP_PAYOUT_INSTRUCTION_BANK_CODE,
    NGX_HTTP_PAYOUT_INSTRUCTION_BANK_ACCOUNT_NAME,
    NGX_HTTP_PAYOUT_INSTRUCTION_MOBILE_MONEY_NUMBER_ENC,
    NGX_HTTP_PAYOUT_INSTRUCTION_MOBILE_MONEY_PROVIDER,
    NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_NAME,
    NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_UUID,
    NGX_HTTP_PAYOUT_INSTRUCTION_GATEWAY_RECIPIENT_CODE,
    NGX_HTTP_PAYOUT_INSTRUCTION_ACCOUNT_ID,
    NGX_HTTP_PAYOUT_INSTRUCTION_COUNTRY,
    NGX_HTTP_PAYOUT_INSTRUCTION_BALANCE_ID,
    NGX_HTTP_PAYOUT_INSTRUCTION_RECIPIENT_ID,
    NGX_HTTP_PAYOUT_INSTRUCTION_NCOLS
};
void ngx_http_payout_send_detach(ngx_http_payout_send_t *s);

/*
 * Apply a provider's result to a payout, e.g. from a webhook; the
 * handler's row has the columns below.  A result in the payout's own
 * state with a next_action stores it and keeps the state; a transition
 * clears it (payout_apply_result(), sql/functions/send.sql).
 */
ngx_int_t ngx_http_payout_apply_result(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_request_t *r, int64_t payout_id, ngx_payout_result_t *res,
    const char *source, ngx_http_payout_pg_handler_pt handler, void *data);

enum {
    NGX_HTTP_PAYOUT_RESULT_APPLIED = 0,
    NGX_HTTP_PAYOUT_RESULT_SUB_STATUS,
    NGX_HTTP_PAYOUT_RESULT_GATEWAY_PAYOUT_ID,
    NGX_HTTP_PAYOUT_RESULT_FAILURE_REASON,
    NGX_HTTP_PAYOUT_RESULT_NEXT_ACTION,
    NGX_HTTP_PAYOUT_RESULT_FROM_SUB_STATUS,   /* before it, for the metrics */
    NGX_HTTP_PAYOUT_RESULT_GATEWAY
};

/* the reason connectors give a refused secret key */
#define NGX_HTTP_PAYOUT_AUTH_FAILED  "gateway_auth_failed"

/* one [error] naming the gateway, never its secret */
void ngx_http_payout_log_auth_failed(ngx_log_t *log,
    ngx_http_payout_gateway_t *gw, const char *what, const char *reference);

/* a staged payout, found and checked, is sent (create.c) */
ngx_int_t ngx_http_payout_transfer_staged(ngx_http_request_t *r,
    ngx_str_t *uuid, int64_t payout_id);


/* the webhook URL policy of the configuration, as NGX_PAYOUT_URL_* flags */
#define ngx_http_payout_url_flags(pmcf)                                      \
    ((pmcf)->webhook_allow_private ? NGX_PAYOUT_URL_ALLOW_PRIVATE : 0)


/* the sub-status in a result column, as the state machine knows it */
int ngx_http_payout_row_state(PGresult *res, int row, int col);


#endif /* NGX_HTTP_PAYOUT_GATEWAY_H_INCLUDED_ */
