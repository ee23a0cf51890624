/*
 * Text that leaves the module: UTF-8 cuts and log redaction.
 */

#include <string.h>

#include "ngx_payout_text.h"


#define NGX_PAYOUT_UTF8_SHORT  ((size_t) -1)


static size_t ngx_payout_utf8_seq(const unsigned char *p, size_t len);
static size_t ngx_payout_text_put(char *dst, size_t size, size_t n,
    const char *src, size_t len);


/*
 * The length of the well-formed sequence p starts, 0 when there is none,
 * NGX_PAYOUT_UTF8_SHORT when p holds only the start of one.
 */

static size_t
ngx_payout_utf8_seq(const unsigned char *p, size_t len)
{
    size_t    i, n;
    unsigned  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (p[0] >= 0x01 && p[0] <= 0x7f) {
        return 1;

    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        lo = (p[0] == 0xe0) ? 0xa0 : 0x80;      /* overlong */
        hi = (p[0] == 0xed) ? 0x9f : 0xbf;      /* surrogates */

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        lo = (p[0] == 0xf0) ? 0x90 : 0x80;      /* overlong */
        hi = (p[0] == 0xf4) ? 0x8f : 0xbf;      /* past U+10FFFF */

    } else {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if (i == len) {
            return NGX_PAYOUT_UTF8_SHORT;
        }

        if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf)) {
            return 0;
        }
    }

    return n;
}


size_t
ngx_payout_utf8_cut(char *dst, size_t size, const char *src, size_t len)
{
    size_t                i, n, out;
    const unsigned char  *s;

    if (size == 0) {
        return 0;
    }

    s = (const unsigned char *) src;
    out = 0;
    i = 0;

    while (i < len) {
        n = ngx_payout_utf8_seq(s + i, len - i);

        if (n == NGX_PAYOUT_UTF8_SHORT) {
            break;
        }

        if (out + (n ? n : 1) > size - 1) {
            break;
        }

        if (n == 0) {
            dst[out++] = '?';
            i++;
            continue;
        }

        /* out <= i: the copy never overtakes what it reads */
        memmove(dst + out, s + i, n);
        out += n;
        i += n;
    }

    dst[out] = '\0';

    return out;
}


int
ngx_payout_utf8_valid(const char *s, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; i += n) {
        n = ngx_payout_utf8_seq((const unsigned char *) s + i, len - i);

        if (n == 0 || n == NGX_PAYOUT_UTF8_SHORT) {
            return 0;
        }
    }

    return 1;
}


size_t
ngx_payout_url_redact(char *dst, size_t size, const char *url)
{
    size_t       n;
    const char  *p, *host, *end, *at;

    if (size == 0) {
        return 0;
    }

    n = 0;
    p = strstr(url, "://");

    if (p == NULL) {
        /* not a URL we know how to take apart: show nothing of it */
        return ngx_payout_text_put(dst, size, 0, "(url)", 5);
    }

    p += 3;
    n = ngx_payout_text_put(dst, size, n, url, p - url);

    host = p;
    end = p + strcspn(p, "/?#");

    for (at = host; at < end; at++) {
        if (*at == '@') {
            host = at + 1;
        }
    }

    n = ngx_payout_text_put(dst, size, n, host, end - host);

    if (*end == '/') {
        n = ngx_payout_text_put(dst, size, n, end, strcspn(end, "?#"));
    }

    return n;
}


size_t
ngx_payout_redact_values(char *dst, size_t size, const char *msg)
{
    size_t       n;
    const char  *p, *q;

    if (size == 0) {
        return 0;
    }

    dst[0] = '\0';
    n = 0;

    for (p = msg; *p && *p != '\n'; p++) {

        if (p[0] == ':' && p[1] == ' ') {
            break;
        }

        if (*p != '"') {
            n = ngx_payout_text_put(dst, size, n, p, 1);
            continue;
        }

        n = ngx_payout_text_put(dst, size, n, "\"...\"", 5);

        /* PostgreSQL doubles a quote inside a quoted value */
        for (q = p + 1; *q; q++) {
            if (q[0] == '"' && q[1] == '"') {
                q++;
                continue;
            }

            if (q[0] == '"') {
                break;
            }
        }

        if (*q == '\0') {
            break;
        }

        p = q;
    }

    return n;
}


/* appends src[0 .. len) at dst + n as far as it fits, NUL-terminated */

static size_t
ngx_payout_text_put(char *dst, size_t size, size_t n, const char *src,
    size_t len)
{
    if (len > size - 1 - n) {
        len = size - 1 - n;
    }

    memcpy(dst + n, src, len);
    n += len;
    dst[n] = '\0';

    return n;
}
