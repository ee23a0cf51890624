/*
 * Webhook URLs as POST /payouts checks them (ngx_payout_url_valid).
 *
 * Invariants: an accepted URL starts with http:// or https:// in any
 * case, has a host, and holds no space, control character or DEL; the
 * check does not depend on the scheme's case, and appending a path to
 * an accepted URL keeps it accepted.
 *
 * SLOT: the core URL check built on libcurl's curl_url() (issue 13,
 * item 5: no userinfo, no broken IPv6 literals, literal private addresses
 * refused) is being added by another stream.  When it is in the tree,
 * call it here next to ngx_payout_url_valid() and check that whatever it
 * accepts curl_url_set(CURLU_DEFAULT_SCHEME off) parses, with no
 * CURLUPART_USER or CURLUPART_PASSWORD and a host that is not a private
 * literal; the Makefile already links the targets with -lcurl.
 */

#include <strings.h>

#include "fuzz.h"

#include "ngx_payout_validate.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     ok, scheme;
    char   *s;
    size_t  i;

    s = malloc(size + 3);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);

    ok = ngx_payout_url_valid(s, size);

    if (ok) {
        for (i = 0; i < size; i++) {
            FUZZ_CHECK((unsigned char) s[i] > 0x20 && s[i] != 0x7f);
        }

        if (size > 8 && strncasecmp(s, "https://", 8) == 0) {
            scheme = 8;

        } else {
            FUZZ_CHECK(size > 7 && strncasecmp(s, "http://", 7) == 0);
            scheme = 7;
        }

        FUZZ_CHECK(s[scheme] != '/' && s[scheme] != '?' && s[scheme] != '#');

        /* the same URL with a path after it */

        memcpy(s + size, "/x", 2);
        FUZZ_CHECK(ngx_payout_url_valid(s, size + 2));

        /* and its scheme in upper case */

        for (i = 0; i < (size_t) scheme - 3; i++) {
            s[i] &= ~0x20;
        }

        FUZZ_CHECK(ngx_payout_url_valid(s, size));
    }

    free(s);

    return 0;
}
