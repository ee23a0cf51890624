/*
 * Hex (ngx_payout_hex_decode, _encode, the master key file) and the UUID
 * text form.  base64 (whsec_ secrets) is fuzzed by fuzz_webhook.
 *
 * Invariants: decode accepts exactly an even number of hex digits and
 * encode(decode(s)) is s in lower case; decode(encode(x)) == x; the key
 * file is 64 hex digits between white space; UUIDs are accepted exactly
 * when an independent check accepts them.
 */

#include "fuzz.h"

#include "ngx_payout_core.h"
#include "ngx_payout_crypto.h"


static int fuzz_is_hex(int c);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc, want;
    char           *text;
    size_t          i, a, b;
    unsigned char  *bin, key[NGX_PAYOUT_MASTER_KEY_LEN];

    bin = malloc(size + 1);
    text = malloc(2 * size + 1);
    FUZZ_CHECK(bin != NULL && text != NULL);

    /* decode: even length, hex digits only, either case */

    want = size % 2 == 0;

    for (i = 0; want && i < size; i++) {
        want = fuzz_is_hex(data[i]);
    }

    rc = ngx_payout_hex_decode((const char *) data, size, bin);
    FUZZ_CHECK(rc == (want ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR));

    if (rc == NGX_PAYOUT_OK) {
        ngx_payout_hex_encode(bin, size / 2, text);

        for (i = 0; i < size; i++) {
            FUZZ_CHECK(text[i] == (data[i] >= 'A' && data[i] <= 'F'
                                   ? data[i] | 0x20 : data[i]));
        }
    }

    /* parse(format(x)) == x */

    ngx_payout_hex_encode(data, size, text);

    for (i = 0; i < 2 * size; i++) {
        FUZZ_CHECK((text[i] >= '0' && text[i] <= '9')
                   || (text[i] >= 'a' && text[i] <= 'f'));
    }

    FUZZ_CHECK(ngx_payout_hex_decode(text, 2 * size, bin) == NGX_PAYOUT_OK);
    FUZZ_CHECK(size == 0 || memcmp(bin, data, size) == 0);

    /* the master key file: 64 hex digits, white space around ignored */

    for (a = 0; a < size && strchr(" \t\r\n", data[a]) && data[a]; a++) {
        /* void */
    }

    for (b = size; b > a && strchr(" \t\r\n", data[b - 1]) && data[b - 1];
         b--)
    {
        /* void */
    }

    want = b - a == 64;

    for (i = a; want && i < b; i++) {
        want = fuzz_is_hex(data[i]);
    }

    rc = ngx_payout_master_key_parse(data, size, key);
    FUZZ_CHECK(rc == (want ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR));

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(ngx_payout_hex_decode((const char *) data + a, 64, bin)
                   == NGX_PAYOUT_OK);
        FUZZ_CHECK(memcmp(bin, key, sizeof(key)) == 0);
    }

    /* UUIDs: 8-4-4-4-12 hex digits */

    want = size == 36;

    for (i = 0; want && i < size; i++) {
        want = (i == 8 || i == 13 || i == 18 || i == 23)
               ? data[i] == '-' : fuzz_is_hex(data[i]);
    }

    FUZZ_CHECK(ngx_payout_uuid_valid(data, size) == want);

    free(bin);
    free(text);

    return 0;
}


static int
fuzz_is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}
