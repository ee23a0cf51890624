/*
 * A payout as the API shows it, rendered in C from plain columns
 * (ngx_http_payout_render.c): the same keys, order and values as
 * payout_json() in sql/functions/api_json.sql, without its per-row
 * subquery on the hot path.
 */

#ifndef NGX_HTTP_PAYOUT_RENDER_H_INCLUDED_
#define NGX_HTTP_PAYOUT_RENDER_H_INCLUDED_


#include "ngx_http_payout.h"

#include <libpq-fe.h>


/*
 * The select list of a payout with its recipient, as "p" and "r", whose
 * columns are the enum in ngx_http_payout_render.c, and the FROM that
 * names them so; a statement adds its WHERE.
 */
#define NGX_HTTP_PAYOUT_RENDER_COLUMNS                                        \
    "p.id, p.uuid, p.tenant_id, p.amount, p.currency, p.gateway, "            \
    "p.status, p.sub_status, p.narration, p.metadata, p.idempotency_key, "    \
    "p.gateway_payout_id, p.failure_reason, p.next_action, "                  \
    "array_to_json(p.webhook_urls), p.livemode, to_json(p.created_at), "      \
    "to_json(p.updated_at), "                                                 \
    "r.id, r.uuid, r.tenant_id, r.gateway, r.recipient_type, r.name, "        \
    "r.email, r.phone, r.bank_code, r.bank_name, r.bank_account_name, "       \
    "r.account_number_last4, r.mobile_money_provider, "                       \
    "r.mobile_money_last4, r.account_id, r.balance_id, r.country, "           \
    "r.gateway_recipient_code, r.idempotency_key, r.metadata, r.livemode, "   \
    "to_json(r.created_at), to_json(r.updated_at), p.next_action_url "

/* the recipient "r" of the payout "p" */
#define NGX_HTTP_PAYOUT_RENDER_JOIN                                           \
    "LEFT JOIN recipients r ON r.id = p.recipient_id "

#define NGX_HTTP_PAYOUT_RENDER_FROM                                           \
    "FROM payouts p " NGX_HTTP_PAYOUT_RENDER_JOIN

#define NGX_HTTP_PAYOUT_RENDER_SQL                                            \
    "SELECT " NGX_HTTP_PAYOUT_RENDER_COLUMNS NGX_HTTP_PAYOUT_RENDER_FROM


/*
 * The payouts of a result whose columns from base on are
 * NGX_HTTP_PAYOUT_RENDER_COLUMNS, as JSON text allocated in pool: the
 * first row's object, or (array) an array of the rows whose column base
 * is not NULL.  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_payout_render_payouts(ngx_pool_t *pool, PGresult *res,
    int base, ngx_uint_t array, ngx_str_t *out);


#endif /* NGX_HTTP_PAYOUT_RENDER_H_INCLUDED_ */
