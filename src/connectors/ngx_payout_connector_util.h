/*
 * What every connector does alike while building a call or a result
 * (ngx_payout_connector_util.c): no connector's own protocol lives here.
 */

#ifndef NGX_PAYOUT_CONNECTOR_UTIL_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_UTIL_H_INCLUDED_

#include "../core/ngx_payout_connector.h"


/*
 * Adds "name: prefix value" to call, allocated through acct->mem;
 * value is value_len bytes, NUL-terminated or not (a secret read from a
 * file).  NGX_PAYOUT_ERROR when the call is full or memory ran out.
 */
int ngx_payout_call_header(const ngx_payout_account_t *acct,
    ngx_payout_call_t *call, const char *name, const char *prefix,
    const char *value, size_t value_len);

/* src (NULL: "") into dst[size], cut on a UTF-8 character boundary */
void ngx_payout_result_copy(char *dst, size_t size, const char *src);


/* a provider's status value -> our state by c's table, or -1 */
int ngx_payout_status_state(const ngx_payout_connector_t *c,
    const char *status);


/*
 * A 401 or 403: the provider executed nothing.  A send fails
 * (canceled_failure, "gateway_auth_failed"); any other call is refused.
 */
void ngx_payout_result_auth_failed(ngx_payout_op_e op,
    ngx_payout_result_t *res);


#endif /* NGX_PAYOUT_CONNECTOR_UTIL_H_INCLUDED_ */
