/*
 * What the connector tests share: the memory callback connectors
 * allocate through (the glue points it at a pool, the tests at this
 * list, freed at once), and an answer handed to a connector's parse().
 */

#include <stdlib.h>
#include <string.h>

#include "unit_connector.h"


void *
unit_mem_alloc(void *data, size_t size)
{
    unit_mem_t  *m = data;

    if (m->n == UNIT_MEM_BLOCKS) {
        return NULL;
    }

    m->blocks[m->n] = calloc(1, size);

    return m->blocks[m->n++];
}


void
unit_mem_free(unit_mem_t *m)
{
    while (m->n) {
        free(m->blocks[--m->n]);
    }
}


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
