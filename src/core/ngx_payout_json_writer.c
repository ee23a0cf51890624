/*
 * JSON written as text (ngx_payout_json_writer.h).
 */

#include <string.h>

#include "ngx_payout_json_writer.h"


static void ngx_payout_jw_bytes(ngx_payout_json_writer_t *w,
    const unsigned char *s, size_t len);
static size_t ngx_payout_jw_utf8_len(const unsigned char *s, size_t len);


static const char  ngx_payout_jw_hex[] = "0123456789ABCDEF";

/* U+FFFD REPLACEMENT CHARACTER in UTF-8 */
static const unsigned char  ngx_payout_jw_fffd[] = { 0xef, 0xbf, 0xbd };


void
ngx_payout_jw_raw(ngx_payout_json_writer_t *w, const char *s, size_t len)
{
    ngx_payout_jw_bytes(w, (const unsigned char *) s, len);
}


void
ngx_payout_jw_string(ngx_payout_json_writer_t *w, const char *s, size_t len)
{
    size_t                n;
    unsigned char         c, esc[6];
    const unsigned char  *p, *end, *run;

    p = (const unsigned char *) s;
    end = p + len;

    ngx_payout_jw_bytes(w, (const unsigned char *) "\"", 1);

    run = p;

    while (p < end) {
        c = *p;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            p++;
            continue;
        }

        if (c >= 0x80) {
            n = ngx_payout_jw_utf8_len(p, end - p);

            if (n) {
                p += n;
                continue;
            }
        }

        ngx_payout_jw_bytes(w, run, p - run);

        if (c >= 0x80) {
            ngx_payout_jw_bytes(w, ngx_payout_jw_fffd,
                                sizeof(ngx_payout_jw_fffd));

        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = c;
            ngx_payout_jw_bytes(w, esc, 2);

        } else {
            esc[0] = '\\';

            switch (c) {
            case '\b': esc[1] = 'b'; n = 2; break;
            case '\f': esc[1] = 'f'; n = 2; break;
            case '\n': esc[1] = 'n'; n = 2; break;
            case '\r': esc[1] = 'r'; n = 2; break;
            case '\t': esc[1] = 't'; n = 2; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = ngx_payout_jw_hex[c >> 4];
                esc[5] = ngx_payout_jw_hex[c & 0xf];
                n = 6;
            }

            ngx_payout_jw_bytes(w, esc, n);
        }

        p++;
        run = p;
    }

    ngx_payout_jw_bytes(w, run, p - run);
    ngx_payout_jw_bytes(w, (const unsigned char *) "\"", 1);
}


void
ngx_payout_jw_int(ngx_payout_json_writer_t *w, int64_t v)
{
    uint64_t       u;
    unsigned char  buf[24], *p;

    p = buf + sizeof(buf);

    /* INT64_MIN has no positive int64_t: negate as unsigned */
    u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

    do {
        *--p = (unsigned char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        *--p = '-';
    }

    ngx_payout_jw_bytes(w, p, buf + sizeof(buf) - p);
}


void
ngx_payout_jw_compact(ngx_payout_json_writer_t *w, const char *s, size_t len)
{
    int                   in_string;
    unsigned char         c;
    const unsigned char  *p, *end, *run;

    p = (const unsigned char *) s;
    end = p + len;
    run = p;
    in_string = 0;

    for ( /* void */ ; p < end; p++) {
        c = *p;

        if (in_string) {
            if (c == '\\' && p + 1 < end) {
                p++;

            } else if (c == '"') {
                in_string = 0;
            }

            continue;
        }

        if (c == '"') {
            in_string = 1;
            continue;
        }

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ngx_payout_jw_bytes(w, run, p - run);
            run = p + 1;
        }
    }

    ngx_payout_jw_bytes(w, run, p - run);
}


static void
ngx_payout_jw_bytes(ngx_payout_json_writer_t *w, const unsigned char *s,
    size_t len)
{
    if (w->p == NULL) {
        w->len += len;
        return;
    }

    if (w->grow != NULL && w->size - w->len < len) {
        if (w->failed || w->grow(w, len) != 0) {
            w->failed = 1;
            return;
        }
    }

    memcpy(w->p + w->len, s, len);
    w->len += len;
}


/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF), 0 if none.
 */

static size_t
ngx_payout_jw_utf8_len(const unsigned char *s, size_t len)
{
    size_t         n, i;
    unsigned char  c, lo, hi;

    c = s[0];
    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;

    } else {
        return 0;
    }

    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}
