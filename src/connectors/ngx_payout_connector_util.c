/*
 * Helpers every connector shares: a header line added to a call, and a
 * provider's text copied into a result's fixed buffer.
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
