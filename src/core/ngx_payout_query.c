/*
 * Query string pieces: percent-decoding, bounded integers and the
 * nestjs-paginate "sortBy=column:ASC|DESC" parameter.
 */

#include <string.h>

#include "ngx_payout_core.h"


static const char  *ngx_payout_sort_columns[] = {
    "id", "created_at", "amount", NULL
};



size_t
ngx_payout_url_decode(const unsigned char *src, size_t len,
    unsigned char *dst)
{
    int             hi, lo;
    size_t          i;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < len; i++) {

        if (src[i] == '+') {
            *d++ = ' ';
            continue;
        }

        if (src[i] == '%' && i + 2 < len) {
            hi = ngx_payout_hex_value(src[i + 1]);
            lo = ngx_payout_hex_value(src[i + 2]);

            if (hi >= 0 && lo >= 0) {
                *d++ = (unsigned char) (hi << 4 | lo);
                i += 2;
                continue;
            }
        }

        *d++ = src[i];
    }

    return (size_t) (d - dst);
}


int
ngx_payout_parse_long(const unsigned char *s, size_t len, long min, long max,
    long *out)
{
    long    v;
    size_t  i;

    if (len == 0 || len > 18) {
        return NGX_PAYOUT_ERROR;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return NGX_PAYOUT_ERROR;
        }

        v = v * 10 + (s[i] - '0');
    }

    if (v < min || v > max) {
        return NGX_PAYOUT_ERROR;
    }

    *out = v;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_page_parse_sort(const unsigned char *s, size_t len,
    ngx_payout_page_t *page)
{
    size_t        i, col_len;
    const char   *dir, **col;
    size_t        dir_len;

    for (i = 0; i < len && s[i] != ':'; i++) { /* void */ }

    if (i == len) {
        return NGX_PAYOUT_ERROR;
    }

    col_len = i;
    dir = (const char *) s + i + 1;
    dir_len = len - i - 1;

    for (col = ngx_payout_sort_columns; *col; col++) {
        if (strlen(*col) == col_len && memcmp(*col, s, col_len) == 0) {
            break;
        }
    }

    if (*col == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    if (dir_len == 3 && memcmp(dir, "ASC", 3) == 0) {
        page->sort_desc = 0;

    } else if (dir_len == 4 && memcmp(dir, "DESC", 4) == 0) {
        page->sort_desc = 1;

    } else {
        return NGX_PAYOUT_ERROR;
    }

    page->sort_column = *col;

    return NGX_PAYOUT_OK;
}

