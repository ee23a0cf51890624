/*
 * Enrollment: register a recipient's destination at its gateway (a
 * Paystack transfer recipient, a Stripe external account, a sandbox
 * recipient) and record the gateway's code on the recipient, so that
 * later transfers reuse it.  The endpoint
 * POST /v1/payout-recipients/{uuid}/accounts and the send path (enroll
 * before initiate) both run this step.
 */

#ifndef NGX_HTTP_PAYOUT_ENROLL_H_INCLUDED_
#define NGX_HTTP_PAYOUT_ENROLL_H_INCLUDED_


#include "ngx_http_payout.h"
#include "ngx_http_payout_provider.h"


typedef struct ngx_http_payout_enroll_s  ngx_http_payout_enroll_t;

typedef void (*ngx_http_payout_enroll_pt)(ngx_http_payout_enroll_t *e);


struct ngx_http_payout_enroll_s {
    /* set by the caller */
    ngx_http_payout_gateway_t        *gateway;
    ngx_pool_t                       *pool;
    ngx_log_t                        *log;
    ngx_http_request_t               *request;    /* or NULL */
    int64_t                           tenant_id;
    int64_t                           recipient_id;  /* 0: found by the
                                                      * transfer's
                                                      * recipient_reference */
    /* the destination, decrypted; recipient_reference: the recipient uuid */
    const ngx_payout_transfer_t      *transfer;
    ngx_http_payout_enroll_pt         handler;
    void                             *data;

    /* the outcome, valid while the handler runs */
    ngx_payout_result_t               result;     /* outcome; STATE:
                                                   * gateway_id holds the
                                                   * code */
    ngx_uint_t                        stored;     /* the code is recorded on
                                                   * the recipient */
    ngx_str_t                         recipient;  /* stored: the recipient
                                                   * as the API shows it */

    /* private */
    ngx_http_payout_provider_call_t   call;
};


/*
 * NGX_OK: the handler will be called; NGX_DECLINED: the gateway's
 * connector has no enrollment for this destination; NGX_ERROR.
 */
ngx_int_t ngx_http_payout_enroll_start(ngx_http_payout_enroll_t *e);


#endif /* NGX_HTTP_PAYOUT_ENROLL_H_INCLUDED_ */
