/*
 * The built-in sandbox provider, in two parts: its API
 * (ngx_http_payout_sandbox.c), which gateways call as they call a real
 * provider's, and its event sender (ngx_http_payout_sandbox_events.c),
 * which sends the provider's signed webhooks.  What the API records in
 * PostgreSQL is all they share.
 */

#ifndef NGX_HTTP_PAYOUT_SANDBOX_EVENTS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_SANDBOX_EVENTS_H_INCLUDED_


#include "ngx_http_payout.h"


ngx_int_t ngx_http_payout_sandbox_events_start(ngx_cycle_t *cycle);
void ngx_http_payout_sandbox_events_stop(void);


#endif /* NGX_HTTP_PAYOUT_SANDBOX_EVENTS_H_INCLUDED_ */
