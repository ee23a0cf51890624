/*
 * Hex encoding, and the canonical UUID text form check.
 */

#include "ngx_payout_core.h"



void
ngx_payout_hex_encode(const unsigned char *src, size_t len, char *dst)
{
    static const char  hex[] = "0123456789abcdef";

    while (len--) {
        *dst++ = hex[*src >> 4];
        *dst++ = hex[*src++ & 0xf];
    }
}


int
ngx_payout_hex_decode(const char *src, size_t len, unsigned char *dst)
{
    int     hi, lo;
    size_t  i;

    if (len % 2) {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < len; i += 2) {
        hi = ngx_payout_hex_value((unsigned char) src[i]);
        lo = ngx_payout_hex_value((unsigned char) src[i + 1]);

        if (hi < 0 || lo < 0) {
            return NGX_PAYOUT_ERROR;
        }

        *dst++ = (unsigned char) (hi << 4 | lo);
    }

    return NGX_PAYOUT_OK;
}


int
ngx_payout_uuid_valid(const unsigned char *s, size_t len)
{
    size_t  i;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }

        } else if (ngx_payout_hex_value(s[i]) < 0) {
            return 0;
        }
    }

    return 1;
}


int
ngx_payout_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
