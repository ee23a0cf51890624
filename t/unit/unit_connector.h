/*
 * What the connector tests share (unit_connector.c).
 */

#ifndef UNIT_CONNECTOR_H_INCLUDED_
#define UNIT_CONNECTOR_H_INCLUDED_

#include "unit.h"
#include "ngx_payout_connector.h"


/* c->parse() of an answer with this status and body (NULL: none) */
void unit_parse(const ngx_payout_connector_t *c, ngx_payout_op_e op,
    long status, const char *body, ngx_payout_result_t *res);


/* a whole file, NUL-terminated, malloc()ed; the test fails without it */
char *unit_file(const char *path, size_t *len);


#endif /* UNIT_CONNECTOR_H_INCLUDED_ */
