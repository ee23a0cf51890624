/*
 * Recipients (ngx_http_payout_recipients.c): what payout creation shares
 * with POST /payout-recipients, an inline recipient's query parameters.
 */

#ifndef NGX_HTTP_PAYOUT_RECIPIENTS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_RECIPIENTS_H_INCLUDED_


#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"
#include "core/ngx_payout_validate.h"


/*
 * The inline recipient, 16 parameters: type, fingerprint, contact and
 * bank details, the sealed number and its last four, account_id,
 * country and balance_id; all NULL when the payout names an existing
 * recipient.
 */
ngx_int_t ngx_http_payout_recipient_params(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, ngx_payout_recipient_input_t *rc,
    const char *gateway, ngx_http_payout_pg_query_t *q);


#endif /* NGX_HTTP_PAYOUT_RECIPIENTS_H_INCLUDED_ */
