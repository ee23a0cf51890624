/*
 * API keys: ngx_payout_apikey_parse on whatever follows "Bearer ", the
 * key hash, and generated keys.
 *
 * Invariants: a key is accepted exactly when it is "sk_test_" or
 * "sk_live_" and 40 base62 characters, with the mode of its tag; the hash
 * is SHA-256 computed here with OpenSSL's EVP digest; hashes compare equal
 * only to themselves; a generated key parses back to its mode.
 */

#include <openssl/evp.h>

#include "fuzz.h"

#include "ngx_payout_core.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc, mode, want, want_mode;
    char            gen[NGX_PAYOUT_KEY_LEN + 1];
    size_t          i;
    unsigned int    n;
    unsigned char   hash[NGX_PAYOUT_KEY_HASH_LEN];
    unsigned char   other[EVP_MAX_MD_SIZE];

    want = size == NGX_PAYOUT_KEY_LEN;
    want_mode = -1;

    if (want && memcmp(data, "sk_test_", 8) == 0) {
        want_mode = NGX_PAYOUT_KEY_MODE_TEST;

    } else if (want && memcmp(data, "sk_live_", 8) == 0) {
        want_mode = NGX_PAYOUT_KEY_MODE_LIVE;

    } else {
        want = 0;
    }

    for (i = 8; want && i < size; i++) {
        want = (data[i] >= '0' && data[i] <= '9')
               || (data[i] >= 'A' && data[i] <= 'Z')
               || (data[i] >= 'a' && data[i] <= 'z');
    }

    mode = -1;
    rc = ngx_payout_apikey_parse(data, size, &mode);

    FUZZ_CHECK(rc == (want ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR));
    FUZZ_CHECK(!want || mode == want_mode);

    /* the hash keys are looked up by */

    ngx_payout_apikey_hash(data, size, hash);
    FUZZ_CHECK(EVP_Digest(data, size, other, &n, EVP_sha256(), NULL) == 1);
    FUZZ_CHECK(n == NGX_PAYOUT_KEY_HASH_LEN);
    FUZZ_CHECK(memcmp(hash, other, n) == 0);
    FUZZ_CHECK(ngx_payout_apikey_hash_equal(hash, other));

    other[size % n] ^= 1;
    FUZZ_CHECK(!ngx_payout_apikey_hash_equal(hash, other));

    /* generated keys of either mode parse back */

    mode = size % 2 ? NGX_PAYOUT_KEY_MODE_LIVE : NGX_PAYOUT_KEY_MODE_TEST;
    FUZZ_CHECK(ngx_payout_apikey_generate(mode, gen, sizeof(gen))
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(strlen(gen) == NGX_PAYOUT_KEY_LEN);
    FUZZ_CHECK(ngx_payout_apikey_parse((unsigned char *) gen, strlen(gen),
                                       &want_mode)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(want_mode == mode);
    FUZZ_CHECK(ngx_payout_apikey_generate(mode, gen, NGX_PAYOUT_KEY_LEN)
               == NGX_PAYOUT_ERROR);

    return 0;
}
