/*
 * Helpers every connector shares: a header line added to a call, a
 * provider's text copied into a result's fixed buffer, a status looked up
 * in a connector's table, the result of a refused credential.
 */

#include <string.h>

#include "ngx_payout_connector_util.h"
#include "../core/ngx_payout_text.h"


int
ngx_payout_call_header(const ngx_payout_account_t *acct,
    ngx_payout_call_t *call, const char *name, const char *prefix,
    const char *value, size_t value_len)
{
    char    *h, *p;
    size_t   name_len, prefix_len;

    if (call->nheaders == NGX_PAYOUT_CALL_HEADERS) {
        return NGX_PAYOUT_ERROR;
    }

    name_len = strlen(name);
    prefix_len = strlen(prefix);

    h = acct->mem.alloc(acct->mem.data,
                        name_len + sizeof(": ") - 1 + prefix_len
                        + value_len + 1);
    if (h == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    p = h;
    memcpy(p, name, name_len);
    p += name_len;
    memcpy(p, ": ", 2);
    p += 2;
    memcpy(p, prefix, prefix_len);
    p += prefix_len;
    memcpy(p, value, value_len);
    p[value_len] = '\0';

    call->headers[call->nheaders++] = h;

    return NGX_PAYOUT_OK;
}


void
ngx_payout_result_copy(char *dst, size_t size, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }

    ngx_payout_utf8_cut(dst, size, src, strlen(src));
}


int
ngx_payout_status_state(const ngx_payout_connector_t *c, const char *status)
{
    size_t  i;

    if (status == NULL) {
        return -1;
    }

    for (i = 0; i < c->nstatuses; i++) {
        if (strcmp(c->statuses[i].status, status) == 0) {
            return c->statuses[i].state;
        }
    }

    return -1;
}


void
ngx_payout_result_auth_failed(ngx_payout_op_e op, ngx_payout_result_t *res)
{
    ngx_payout_result_copy(res->reason, sizeof(res->reason),
                           "gateway_auth_failed");

    if (op == NGX_PAYOUT_OP_INITIATE) {
        res->state = NGX_PAYOUT_CANCELED_FAILURE;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;

    } else {
        res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
    }
}
