/*
 * Webhook URLs, checked when they are stored: libcurl's own URL parser
 * (the one that will send to them) must accept them, so nothing stored
 * fails on every attempt for a reason known at create.  Beyond syntax:
 * http and https only, no user name or password (it would be stored in
 * clear and logged with every failed attempt), and, unless private
 * targets are allowed, no literal address the SSRF guard would refuse
 * anyway.  Where a host name resolves to stays the sender's check.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <curl/curl.h>

#include "ngx_payout_validate.h"


static int ngx_payout_url_parts(CURLU *u, unsigned flags, char *why,
    size_t size);
static int ngx_payout_url_literal_private(const char *host);
static int ngx_payout_url_fail(char *why, size_t size, const char *what,
    const char *detail);


int
ngx_payout_url_check(const char *s, size_t len, unsigned flags, char *why,
    size_t size)
{
    int         rc;
    char       *copy;
    size_t      i, end, scheme;
    CURLU      *u;
    CURLUcode   uc;

    if (len > NGX_PAYOUT_URL_LEN) {
        snprintf(why, size, "must be at most %d bytes long",
                 NGX_PAYOUT_URL_LEN);
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f) {
            return ngx_payout_url_fail(why, size, "must not contain spaces "
                                       "or control characters", NULL);
        }
    }

    /*
     * "http://" exactly: libcurl also takes "http:/host" and
     * "http:///host", which no one means
     */

    scheme = (len > 8 && strncasecmp(s, "https://", 8) == 0) ? 8
             : (len > 7 && strncasecmp(s, "http://", 7) == 0) ? 7 : 0;

    if (scheme == 0 || s[scheme] == '/') {
        return ngx_payout_url_fail(why, size, "must be an http:// or "
                                   "https:// URL with a host", NULL);
    }

    /* libcurl also takes "host:/" as no port; the old check did not */

    for (end = scheme; end < len; end++) {
        if (s[end] == '/' || s[end] == '?' || s[end] == '#') {
            break;
        }
    }

    if (s[end - 1] == ':') {
        return ngx_payout_url_fail(why, size, "must not have an empty port",
                                   NULL);
    }

    /* libcurl wants a C string; s need not be one */

    copy = malloc(len + 1);
    u = curl_url();

    if (copy == NULL || u == NULL) {
        free(copy);
        curl_url_cleanup(u);
        return ngx_payout_url_fail(why, size, "cannot be checked now", NULL);
    }

    memcpy(copy, s, len);
    copy[len] = '\0';

    uc = curl_url_set(u, CURLUPART_URL, copy, 0);
    free(copy);

    if (uc != CURLUE_OK) {
        rc = ngx_payout_url_fail(why, size, "is not a valid URL",
                                 curl_url_strerror(uc));

    } else {
        rc = ngx_payout_url_parts(u, flags, why, size);
    }

    curl_url_cleanup(u);

    return rc;
}


/* the syntax check alone, for callers without a private-address policy */

int
ngx_payout_url_valid(const char *s, size_t len)
{
    char  why[128];

    return ngx_payout_url_check(s, len, NGX_PAYOUT_URL_ALLOW_PRIVATE, why,
                                sizeof(why))
           == NGX_PAYOUT_OK;
}


static int
ngx_payout_url_parts(CURLU *u, unsigned flags, char *why, size_t size)
{
    int    rc;
    char  *part;

    part = NULL;

    /* any "@" in the authority, even "http://@host/" */

    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK
        || curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK)
    {
        curl_free(part);
        return ngx_payout_url_fail(why, size, "must not contain a user "
                                   "name or password", NULL);
    }

    if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK) {
        return ngx_payout_url_fail(why, size, "must be an http:// or "
                                   "https:// URL", NULL);
    }

    rc = strcmp(part, "http") == 0 || strcmp(part, "https") == 0;
    curl_free(part);

    if (!rc) {
        return ngx_payout_url_fail(why, size, "must be an http:// or "
                                   "https:// URL", NULL);
    }

    if (curl_url_get(u, CURLUPART_PORT, &part, 0) == CURLUE_OK) {
        rc = strcmp(part, "0") == 0;
        curl_free(part);

        if (rc) {
            return ngx_payout_url_fail(why, size, "must have a port from 1 "
                                       "to 65535", NULL);
        }
    }

    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK) {
        return ngx_payout_url_fail(why, size, "must have a host", NULL);
    }

    rc = NGX_PAYOUT_OK;

    /* libcurl gives "127.1" and "0x7f000001" as "127.0.0.1" */

    if (!(flags & NGX_PAYOUT_URL_ALLOW_PRIVATE)
        && ngx_payout_url_literal_private(part))
    {
        rc = ngx_payout_url_fail(why, size, "must not point at a private, "
                                 "loopback, link-local or otherwise "
                                 "non-public address", part);
    }

    curl_free(part);

    return rc;
}


/* "127.0.0.1" or "[::1]" (as libcurl gives hosts) that the guard refuses */

static int
ngx_payout_url_literal_private(const char *host)
{
    char                 buf[INET6_ADDRSTRLEN + 1];
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

    if (len < 3 || host[0] != '[' || host[len - 1] != ']'
        || len - 2 >= sizeof(buf))
    {
        return 0;
    }

    memcpy(buf, host + 1, len - 2);
    buf[len - 2] = '\0';

    if (inet_pton(AF_INET6, buf, &sin6.sin6_addr) != 1) {
        return 0;
    }

    sin6.sin6_family = AF_INET6;

    return ngx_payout_addr_is_private((struct sockaddr *) &sin6);
}


/* "what", or "what (detail)" */

static int
ngx_payout_url_fail(char *why, size_t size, const char *what,
    const char *detail)
{
    if (detail) {
        snprintf(why, size, "%s (%s)", what, detail);

    } else {
        snprintf(why, size, "%s", what);
    }

    return NGX_PAYOUT_ERROR;
}
