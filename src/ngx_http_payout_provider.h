/*
 * The bridge between the glue and the connectors: the only glue that
 * calls a connector's table.  A provider call is built by the gateway's
 * connector, carried by the HTTP client, and its answer parsed back into
 * a normalised result; webhooks are verified and read the same way.
 */

#ifndef NGX_HTTP_PAYOUT_PROVIDER_H_INCLUDED_
#define NGX_HTTP_PAYOUT_PROVIDER_H_INCLUDED_


#include "ngx_http_payout.h"
#include "ngx_http_payout_http.h"
#include "ngx_http_payout_pg.h"
#include "core/ngx_payout_connector.h"


typedef struct ngx_http_payout_provider_call_s
    ngx_http_payout_provider_call_t;

typedef void (*ngx_http_payout_provider_pt)(
    ngx_http_payout_provider_call_t *pc);


struct ngx_http_payout_provider_call_s {
    /* set by the caller */
    ngx_http_payout_gateway_t        *gateway;
    ngx_payout_op_e                   op;
    ngx_pool_t                       *pool;
    ngx_log_t                        *log;
    ngx_http_request_t               *request;   /* it outlives no request */
    ngx_http_payout_provider_pt       handler;
    void                             *data;

    /* the outcome, valid while the handler runs */
    ngx_payout_result_t               result;
    ngx_http_payout_http_req_t        http;      /* the raw answer */
};


/* NGX_OK: the handler will be called; NGX_DECLINED: no such operation */
ngx_int_t ngx_http_payout_provider_call(ngx_http_payout_provider_call_t *pc,
    const ngx_payout_transfer_t *t);

/* NGX_OK: signed and fresh; NGX_DECLINED: not */
ngx_int_t ngx_http_payout_provider_verify(ngx_http_request_t *r,
    ngx_http_payout_gateway_t *gw, ngx_str_t *body);

/* a verified hook's event: NGX_OK, or NGX_DECLINED (ignore it) */
ngx_int_t ngx_http_payout_provider_event(ngx_http_request_t *r,
    ngx_http_payout_gateway_t *gw, ngx_str_t *body, ngx_payout_event_t *ev);

/*
 * A provider's word for a payout stored in state "current" (-1: not
 * known): res->state becomes the state to apply, e.g. Stripe's failure
 * of a paid payout is its reversal (ngx_payout_state_provider_word).
 */
void ngx_http_payout_provider_word(ngx_http_payout_gateway_t *gw,
    int current, ngx_payout_result_t *res);

/*
 * What a connector needs besides our reference to look up or cancel a
 * payout (Stripe: its po_/tr_ id, which endpoint, which Stripe-Account):
 * these columns, in this order, from column "first" of a result, spliced
 * into a query over payouts p LEFT JOIN recipients r.
 */
#define NGX_HTTP_PAYOUT_TRANSFER_IDS_SQL                                    \
    "p.gateway_payout_id, r.recipient_type, r.account_id, "                 \
    "r.gateway_recipient_code, r.balance_id"

enum {
    NGX_HTTP_PAYOUT_TRANSFER_IDS_GATEWAY_PAYOUT_ID = 0,
    NGX_HTTP_PAYOUT_TRANSFER_IDS_RECIPIENT_TYPE,
    NGX_HTTP_PAYOUT_TRANSFER_IDS_ACCOUNT_ID,
    NGX_HTTP_PAYOUT_TRANSFER_IDS_RECIPIENT_CODE,
    NGX_HTTP_PAYOUT_TRANSFER_IDS_BALANCE_ID,
    NGX_HTTP_PAYOUT_TRANSFER_IDS_N
};

/*
 * t's gateway_id, type, account_id, recipient_code and balance_id, copied
 * to pool
 */
ngx_int_t ngx_http_payout_provider_transfer_ids(ngx_pool_t *pool,
    PGresult *res, int row, int first, ngx_payout_transfer_t *t);

/* what the gateway's connector can do: LOOKUP_BY_REFERENCE, ... */
#define ngx_http_payout_provider_can(gw, cap)                               \
    ((gw)->actions->caps & NGX_PAYOUT_CAP_##cap)


#endif /* NGX_HTTP_PAYOUT_PROVIDER_H_INCLUDED_ */
