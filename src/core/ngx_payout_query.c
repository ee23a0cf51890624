/*
 * Query string pieces: percent-decoding, bounded integers and the
 * nestjs-paginate "sortBy=column:ASC|DESC" parameter, and the quoting of
 * client text in error messages.
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
    int           i, desc;
    size_t        c, col_len, dir_len;
    const char   *dir, **col;

    for (c = 0; c < len && s[c] != ':'; c++) { /* void */ }

    if (c == len) {
        return NGX_PAYOUT_ERROR;
    }

    col_len = c;
    dir = (const char *) s + c + 1;
    dir_len = len - c - 1;

    for (col = ngx_payout_sort_columns; *col; col++) {
        if (strlen(*col) == col_len && memcmp(*col, s, col_len) == 0) {
            break;
        }
    }

    if (*col == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    if (dir_len == 3 && memcmp(dir, "ASC", 3) == 0) {
        desc = 0;

    } else if (dir_len == 4 && memcmp(dir, "DESC", 4) == 0) {
        desc = 1;

    } else {
        return NGX_PAYOUT_ERROR;
    }

    /* a second key on the same column could only contradict the first */

    for (i = 0; i < page->nsort; i++) {
        if (page->sort[i].column == *col) {
            return NGX_PAYOUT_ERROR;
        }
    }

    if (page->nsort == NGX_PAYOUT_LIST_MAX_SORT) {
        return NGX_PAYOUT_ERROR;
    }

    page->sort[page->nsort].column = *col;
    page->sort[page->nsort].desc = desc;
    page->nsort++;

    return NGX_PAYOUT_OK;
}


void
ngx_payout_query_quote(char *dst, size_t size, const char *s, size_t len)
{
    size_t  i, max;

    if (size == 0) {
        return;
    }

    max = len > NGX_PAYOUT_QUERY_QUOTE_LEN ? NGX_PAYOUT_QUERY_QUOTE_LEN : len;

    if (max + 4 > size) {
        max = size > 4 ? size - 4 : 0;
    }

    for (i = 0; i < max; i++) {
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    }

    if (max < len && size >= 4) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }

    dst[i] = '\0';
}
