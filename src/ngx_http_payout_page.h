/*
 * The payout-link page (ngx_http_payout_page.c): `location /pay/ {
 * payout_link_page; }` serves GET and POST /pay/{token}, the status page
 * /pay/{token}/status and the stylesheet /pay/payout.css.
 */

#ifndef NGX_HTTP_PAYOUT_PAGE_H_INCLUDED_
#define NGX_HTTP_PAYOUT_PAGE_H_INCLUDED_


#include "ngx_http_payout.h"


/* the largest form body accepted: every field at its maximum fits */
#define NGX_HTTP_PAYOUT_PAGE_BODY_MAX  8192


char *ngx_http_payout_link_page(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_payout_link_templates(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_payout_link_frame_ancestors(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/* the rewrite phase: a page's token is read and masked before logging */
ngx_int_t ngx_http_payout_page_rewrite(ngx_http_request_t *r);

/*
 * The header filter: an answer in a page location that the page did not
 * make (nginx's own error pages) gets the page's security headers too.
 */
ngx_int_t ngx_http_payout_page_foreign(ngx_http_request_t *r);

/* the location's templates and CSP, from its parent or the defaults */
char *ngx_http_payout_page_merge(ngx_conf_t *cf,
    ngx_http_payout_loc_conf_t *prev, ngx_http_payout_loc_conf_t *conf);


#endif /* NGX_HTTP_PAYOUT_PAGE_H_INCLUDED_ */
