/*
 * GET /payouts/{uuid}/events: a payout's history from payout_events
 * (from, to, source, detail, created_at), oldest first, in the key's
 * tenant and mode; another tenant's or mode's payout is a 404 as for
 * GET /payouts/{uuid} (sql/functions/events.sql).
 */

#include "ngx_http_payout.h"


static const char  ngx_http_payout_events_sql[] =
    "SELECT j FROM payout_events_json("
    "p_tenant => $1, p_livemode => $2, p_uuid => $3::uuid) j "
    "WHERE j IS NOT NULL";


ngx_int_t
ngx_http_payout_payouts_events(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_get_json(r, ctx, ngx_http_payout_events_sql);
}
