/*
 * API keys.  A key is "sk_<mode>_" plus 40 base62 characters (~238 bits).
 * We store the first 16 characters for lookup and display, and the SHA-256
 * of the whole key; a plain hash suffices because keys are high-entropy.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ngx_payout_core.h"
#include "ngx_payout_crypto.h"


static const char  base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


static int ngx_payout_is_base62(unsigned char c);


int
ngx_payout_apikey_generate(int mode, char *out, size_t size)
{
    size_t         n;
    unsigned char  rnd[64];
    const char    *tag;

    if (size < NGX_PAYOUT_KEY_LEN + 1) {
        return NGX_PAYOUT_ERROR;
    }

    tag = (mode == NGX_PAYOUT_KEY_MODE_LIVE) ? "sk_live_" : "sk_test_";
    memcpy(out, tag, NGX_PAYOUT_KEY_TAG_LEN);

    n = NGX_PAYOUT_KEY_TAG_LEN;

    while (n < NGX_PAYOUT_KEY_LEN) {
        size_t  i;

        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return NGX_PAYOUT_ERROR;
        }

        for (i = 0; i < sizeof(rnd) && n < NGX_PAYOUT_KEY_LEN; i++) {
            /* rejection sampling keeps the alphabet uniform */
            if (rnd[i] < 248) {
                out[n++] = base62[rnd[i] % 62];
            }
        }
    }

    out[n] = '\0';

    return NGX_PAYOUT_OK;
}


int
ngx_payout_apikey_parse(const unsigned char *key, size_t len, int *mode)
{
    size_t  i;

    if (len != NGX_PAYOUT_KEY_LEN) {
        return NGX_PAYOUT_ERROR;
    }

    if (memcmp(key, "sk_test_", NGX_PAYOUT_KEY_TAG_LEN) == 0) {
        *mode = NGX_PAYOUT_KEY_MODE_TEST;

    } else if (memcmp(key, "sk_live_", NGX_PAYOUT_KEY_TAG_LEN) == 0) {
        *mode = NGX_PAYOUT_KEY_MODE_LIVE;

    } else {
        return NGX_PAYOUT_ERROR;
    }

    for (i = NGX_PAYOUT_KEY_TAG_LEN; i < len; i++) {
        if (!ngx_payout_is_base62(key[i])) {
            return NGX_PAYOUT_ERROR;
        }
    }

    return NGX_PAYOUT_OK;
}


void
ngx_payout_apikey_hash(const unsigned char *key, size_t len,
    unsigned char *hash)
{
    ngx_payout_sha256(key, len, hash);
}


int
ngx_payout_apikey_hash_equal(const unsigned char *a, const unsigned char *b)
{
    return CRYPTO_memcmp(a, b, NGX_PAYOUT_KEY_HASH_LEN) == 0;
}


static int
ngx_payout_is_base62(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
           || (c >= 'a' && c <= 'z');
}
