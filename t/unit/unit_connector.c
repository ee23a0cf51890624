/*
 * What the connector tests share: an answer handed to a connector's
 * parse() (the memory callback, unit_mem_alloc(), is in unit_mem.c).
 */

#include <string.h>

#include "unit_connector.h"


void
unit_parse(const ngx_payout_connector_t *c, ngx_payout_op_e op, long status,
    const char *body, ngx_payout_result_t *res)
{
    ngx_payout_answer_t  a;

    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = body;
    a.body_len = body ? strlen(body) : 0;

    /* whatever parse() leaves unset shows */
    memset(res, 0x5a, sizeof(ngx_payout_result_t));
    c->parse(NULL, op, &a, res);
}
