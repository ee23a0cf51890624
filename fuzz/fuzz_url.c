/*
 * Webhook URLs as they are checked when stored: ngx_payout_url_check()
 * with and without NGX_PAYOUT_URL_ALLOW_PRIVATE, and ngx_payout_url_valid().
 *
 * Invariants: an accepted URL starts with http:// or https:// in any
 * case, has a host, and holds no space, control character or DEL; the
 * check does not depend on the scheme's case, and appending a path to
 * an accepted URL keeps it accepted.  Whatever is accepted, a libcurl
 * URL handle of its own parses, with no user name or password, scheme
 * http or https, a host and no port 0; the strict check accepts exactly
 * what the permissive one does whose host is not a literal private
 * address (the host as libcurl gives it, brackets and zone taken off
 * here, classified by ngx_payout_addr_is_private()).  A refusal says
 * why in valid UTF-8.
 */

#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <curl/curl.h>

#include "fuzz.h"

#include "ngx_payout_validate.h"


static int fuzz_check(const char *s, size_t size);
static int fuzz_private_literal(const char *host);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     ok, scheme;
    char   *s;
    size_t  i;

    s = malloc(size + 3);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);

    ok = fuzz_check(s, size);

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
        FUZZ_CHECK(size + 2 > NGX_PAYOUT_URL_LEN || fuzz_check(s, size + 2));

        /* and its scheme in upper case */

        for (i = 0; i < (size_t) scheme - 3; i++) {
            s[i] &= ~0x20;
        }

        FUZZ_CHECK(fuzz_check(s, size));
    }

    free(s);

    return 0;
}


/* both policies and libcurl agree; whether the permissive check accepts */

static int
fuzz_check(const char *s, size_t size)
{
    int     loose, strict, priv;
    char   *copy, *part, why[256];
    CURLU  *u;

    memset(why, 0x5a, sizeof(why));
    loose = ngx_payout_url_check(s, size, NGX_PAYOUT_URL_ALLOW_PRIVATE, why,
                                 sizeof(why)) == NGX_PAYOUT_OK;

    FUZZ_CHECK(loose == ngx_payout_url_valid(s, size));

    if (!loose) {
        FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0] != '\0');
        FUZZ_CHECK(fuzz_cstr_utf8(why));
    }

    memset(why, 0x5a, sizeof(why));
    strict = ngx_payout_url_check(s, size, 0, why, sizeof(why))
             == NGX_PAYOUT_OK;

    if (!strict) {
        FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0] != '\0');
        FUZZ_CHECK(fuzz_cstr_utf8(why));
    }

    FUZZ_CHECK(!strict || loose);

    if (!loose) {
        return 0;
    }

    /* libcurl, which will send to it, parses it on a handle of our own */

    copy = fuzz_strndup(s, size);
    u = curl_url();
    FUZZ_CHECK(u != NULL);

    FUZZ_CHECK(curl_url_set(u, CURLUPART_URL, copy, 0) == CURLUE_OK);

    part = NULL;
    FUZZ_CHECK(curl_url_get(u, CURLUPART_USER, &part, 0) != CURLUE_OK);
    FUZZ_CHECK(curl_url_get(u, CURLUPART_PASSWORD, &part, 0) != CURLUE_OK);

    FUZZ_CHECK(curl_url_get(u, CURLUPART_SCHEME, &part, 0) == CURLUE_OK);
    FUZZ_CHECK(strcmp(part, "http") == 0 || strcmp(part, "https") == 0);
    curl_free(part);

    if (curl_url_get(u, CURLUPART_PORT, &part, 0) == CURLUE_OK) {
        FUZZ_CHECK(strcmp(part, "0") != 0);
        curl_free(part);
    }

    FUZZ_CHECK(curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK);
    FUZZ_CHECK(part[0] != '\0');

    priv = fuzz_private_literal(part);

    if (strict == priv) {
        fprintf(stderr, "host \"%s\": private %d, strict check %s\n",
                part, priv, strict ? "accepts" : "refuses");
    }

    FUZZ_CHECK(strict == !priv);

    curl_free(part);
    curl_url_cleanup(u);
    free(copy);

    return 1;
}


/* "10.0.0.1", "[::1]" or "[fe80::1%eth0]" the SSRF guard refuses */

static int
fuzz_private_literal(const char *host)
{
    char                 buf[256], *zone;
    size_t               len;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));

    if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        return ngx_payout_addr_is_private((struct sockaddr *) &sin);
    }

    len = strlen(host);

    if (host[0] != '[' || len < 2 || len - 2 >= sizeof(buf)) {
        return 0;
    }

    FUZZ_CHECK(host[len - 1] == ']');

    memcpy(buf, host + 1, len - 2);
    buf[len - 2] = '\0';

    zone = strchr(buf, '%');
    if (zone) {
        *zone = '\0';
    }

    /* libcurl takes a bracketed host only if it is an IPv6 address */

    FUZZ_CHECK(inet_pton(AF_INET6, buf, &sin6.sin6_addr) == 1);
    sin6.sin6_family = AF_INET6;

    return ngx_payout_addr_is_private((struct sockaddr *) &sin6);
}
