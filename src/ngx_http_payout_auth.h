/*
 * API key authentication (ngx_http_payout_auth.c).  The router asks, and
 * is called back when the key is known: auth.c never calls into the
 * router, so the two files do not depend on each other in a circle.
 */

#ifndef NGX_HTTP_PAYOUT_AUTH_H_INCLUDED_
#define NGX_HTTP_PAYOUT_AUTH_H_INCLUDED_


#include "ngx_http_payout.h"


/* this worker's key cache (payout_api_key_cache) */
ngx_int_t ngx_http_payout_auth_init_process(ngx_cycle_t *cycle,
    ngx_http_payout_main_conf_t *pmcf);

/* the checks that need no database: NULL, or what is wrong */
const char *ngx_http_payout_auth_problem(ngx_http_request_t *r);

/*
 * Looks the key up; done (ngx_http_payout_auth_done_pt) is called on
 * success, else the request is answered 401 or 503 and finalized.
 * NGX_DONE while the query runs, or a code to finalize with.
 */
ngx_int_t ngx_http_payout_authenticate(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_http_payout_auth_done_pt done);

ngx_int_t ngx_http_payout_unauthorized(ngx_http_request_t *r,
    const char *message);

/*
 * The gateway a request names: configured and of the key's mode.  NULL
 * when not, with *rc the 400 given.
 */
ngx_http_payout_gateway_t *ngx_http_payout_key_gateway(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const char *name, size_t len,
    ngx_int_t *rc);


#endif /* NGX_HTTP_PAYOUT_AUTH_H_INCLUDED_ */
