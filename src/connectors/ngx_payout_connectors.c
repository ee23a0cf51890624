/*
 * The registry of connectors: the only file that names them.  Adding a
 * provider is one X() line here, its file in src/connectors/ and that
 * file in the nginx config script.
 */

#include <stdio.h>
#include <string.h>

#include "../core/ngx_payout_connector.h"


#define NGX_PAYOUT_CONNECTORS                                                \
    X(sandbox)                                                               \
    X(paystack)                                                              \
    X(stripe)                                                                \
    X(mollie)                                                                \
    X(adyen)                                                                 \
    X(payneteasy)


#define X(name)  extern const ngx_payout_connector_t                        \
                     ngx_payout_connector_##name;
NGX_PAYOUT_CONNECTORS
#undef X

#define X(name)  &ngx_payout_connector_##name,
static const ngx_payout_connector_t  *ngx_payout_connectors[] = {
    NGX_PAYOUT_CONNECTORS
    NULL
};
#undef X


const ngx_payout_connector_t *
ngx_payout_connector_find(const char *name, size_t len)
{
    const ngx_payout_connector_t  **c;

    for (c = ngx_payout_connectors; *c; c++) {
        if (strlen((*c)->name) == len && memcmp((*c)->name, name, len) == 0)
        {
            return *c;
        }
    }

    return NULL;
}


size_t
ngx_payout_connector_names(char *buf, size_t size)
{
    int                             n;
    size_t                          len;
    const ngx_payout_connector_t  **c;

    len = 0;

    if (size == 0) {
        return 0;
    }

    buf[0] = '\0';

    for (c = ngx_payout_connectors; *c; c++) {
        n = snprintf(buf + len, size - len, "%s%s",
                     c == ngx_payout_connectors ? "" : ", ", (*c)->name);

        if (n < 0 || (size_t) n >= size - len) {
            break;
        }

        len += n;
    }

    return len;
}
