/*
 * Hosted payout links (issue 10), the API half: POST /payout-links,
 * GET /payout-links, GET /payout-links/{uuid},
 * POST /payout-links/{uuid}/cancel, and the expiry job that marks open
 * links past expires_at expired and queues payout_link.expired.  The page
 * (/pay/{token}) reads and claims links through sql/functions/links.sql.
 */

#ifndef NGX_HTTP_PAYOUT_LINKS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_LINKS_H_INCLUDED_


#include "ngx_http_payout.h"


/* the page location under payout_public_url; the token follows it */
#define NGX_HTTP_PAYOUT_LINK_PAGE_PATH  "/pay/"


ngx_int_t ngx_http_payout_links_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_links_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_links_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_links_cancel(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

ngx_int_t ngx_http_payout_links_init_process(ngx_cycle_t *cycle);
void ngx_http_payout_links_exit_process(ngx_cycle_t *cycle);


#endif /* NGX_HTTP_PAYOUT_LINKS_H_INCLUDED_ */
