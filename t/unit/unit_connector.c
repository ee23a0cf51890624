/*
 * What the connector tests share: an answer handed to a connector's
 * parse(), and a fixture file read whole (the memory callback,
 * unit_mem_alloc(), is in unit_mem.c).
 */

#include <stdio.h>
#include <stdlib.h>
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


char *
unit_file(const char *path, size_t *len)
{
    long   size;
    FILE  *f;
    char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s (run from the top of the tree)", path);
    }

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);

    buf = malloc(size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, size, f), (size_t) size);
    fclose(f);
    buf[size] = '\0';

    if (len) {
        *len = size;
    }

    return buf;
}
