/*
 * Secrets at rest: AES-256-GCM round trips, tamper and context checks,
 * master key parsing, key derivation.
 */

#include <string.h>

#include <openssl/sha.h>

#include "unit.h"
#include "ngx_payout_crypto.h"


static const char  master_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";


static void
load_keys(ngx_payout_keys_t *keys)
{
    unsigned char  master[NGX_PAYOUT_MASTER_KEY_LEN];

    assert_int_equal(ngx_payout_master_key_parse(
                         (const unsigned char *) master_hex,
                         sizeof(master_hex) - 1, master), NGX_PAYOUT_OK);
    ngx_payout_keys_derive(master, keys);
}


static void
test_master_key_parse(void **state)
{
    unsigned char  key[NGX_PAYOUT_MASTER_KEY_LEN];
    char           text[80];

    (void) state;

    snprintf(text, sizeof(text), "  %s\n", master_hex);
    assert_int_equal(ngx_payout_master_key_parse((unsigned char *) text,
                         strlen(text), key), NGX_PAYOUT_OK);
    assert_int_equal(key[0], 0x00);
    assert_int_equal(key[31], 0x1f);

    /* too short, too long, not hex */
    assert_int_equal(ngx_payout_master_key_parse(
                         (const unsigned char *) master_hex, 62, key),
                     NGX_PAYOUT_ERROR);
    snprintf(text, sizeof(text), "%s00", master_hex);
    assert_int_equal(ngx_payout_master_key_parse((unsigned char *) text,
                         strlen(text), key), NGX_PAYOUT_ERROR);
    memcpy(text, master_hex, 64);
    text[10] = 'g';
    assert_int_equal(ngx_payout_master_key_parse((unsigned char *) text, 64,
                         key), NGX_PAYOUT_ERROR);
}


static void
test_derived_keys_differ(void **state)
{
    ngx_payout_keys_t  keys;

    (void) state;

    load_keys(&keys);
    assert_memory_not_equal(keys.enc, keys.fingerprint, 32);
    assert_memory_not_equal(keys.enc, keys.token, 32);
    assert_memory_not_equal(keys.fingerprint, keys.token, 32);
}


static void
test_seal_open_round_trip(void **state)
{
    size_t             n;
    unsigned char      sealed[64 + NGX_PAYOUT_SEAL_OVERHEAD];
    unsigned char      again[64 + NGX_PAYOUT_SEAL_OVERHEAD];
    unsigned char      plain[64];
    ngx_payout_keys_t  keys;

    static const unsigned char  msg[] = "0123456789";
    static const unsigned char  aad[] = "tenant:1";

    (void) state;

    load_keys(&keys);

    assert_int_equal(ngx_payout_seal(&keys, aad, 8, msg, 10, sealed),
                     NGX_PAYOUT_OK);
    assert_int_equal(sealed[0], 0x01);

    /* the ciphertext never holds the plaintext */
    assert_memory_not_equal(sealed + 13, msg, 10);

    assert_int_equal(ngx_payout_open(&keys, aad, 8, sealed,
                         10 + NGX_PAYOUT_SEAL_OVERHEAD, plain, &n),
                     NGX_PAYOUT_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(plain, msg, 10);

    /* fresh nonces: sealing twice gives different blobs */
    assert_int_equal(ngx_payout_seal(&keys, aad, 8, msg, 10, again),
                     NGX_PAYOUT_OK);
    assert_memory_not_equal(sealed, again, 10 + NGX_PAYOUT_SEAL_OVERHEAD);
}


static void
test_open_rejects_tampering(void **state)
{
    size_t             n, len;
    unsigned char      sealed[10 + NGX_PAYOUT_SEAL_OVERHEAD];
    unsigned char      copy[10 + NGX_PAYOUT_SEAL_OVERHEAD];
    unsigned char      plain[64];
    ngx_payout_keys_t  keys, other;

    static const unsigned char  msg[] = "0123456789";

    (void) state;

    load_keys(&keys);
    len = sizeof(sealed);

    assert_int_equal(ngx_payout_seal(&keys, (unsigned char *) "tenant:1", 8,
                                     msg, 10, sealed), NGX_PAYOUT_OK);

    /* another tenant's context */
    assert_int_equal(ngx_payout_open(&keys, (unsigned char *) "tenant:2", 8,
                                     sealed, len, plain, &n),
                     NGX_PAYOUT_ERROR);

    /* each byte flipped: version, nonce, ciphertext, tag */
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, sealed, len);
        copy[i] ^= 0x40;
        assert_int_equal(ngx_payout_open(&keys, (unsigned char *) "tenant:1",
                                         8, copy, len, plain, &n),
                         NGX_PAYOUT_ERROR);
    }

    /* truncated */
    assert_int_equal(ngx_payout_open(&keys, (unsigned char *) "tenant:1", 8,
                                     sealed, NGX_PAYOUT_SEAL_OVERHEAD - 1,
                                     plain, &n), NGX_PAYOUT_ERROR);

    /* another master key */
    memcpy(&other, &keys, sizeof(other));
    other.enc[0] ^= 1;
    assert_int_equal(ngx_payout_open(&other, (unsigned char *) "tenant:1", 8,
                                     sealed, len, plain, &n),
                     NGX_PAYOUT_ERROR);
}


static void
test_hmac_sha256_vector(void **state)
{
    char           hex[65];
    unsigned char  mac[32];

    (void) state;

    /* RFC 4231 test case 2 */
    ngx_payout_hmac_sha256((unsigned char *) "Jefe", 4,
                           (unsigned char *) "what do ya want for nothing?",
                           28, mac);
    ngx_payout_hex_encode(mac, 32, hex);
    hex[64] = '\0';
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
}


/* key order and spacing do not change a request's hash; values do */

static void
test_request_hash(void **state)
{
    json_t         *a, *b, *c;
    unsigned char   ha[32], hb[32], hc[32], want[32];

    (void) state;

    a = json_loads("{\"b\": 1, \"a\": [1, 2]}", 0, NULL);
    b = json_loads("{\"a\":[1,2],\"b\":1}", 0, NULL);
    c = json_loads("{\"a\": [2, 1], \"b\": 1}", 0, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);

    assert_int_equal(ngx_payout_request_hash(a, ha), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_request_hash(b, hb), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_request_hash(c, hc), NGX_PAYOUT_OK);

    assert_memory_equal(ha, hb, 32);
    assert_memory_not_equal(ha, hc, 32);

    /* SHA-256 of the canonical text itself */
    SHA256((const unsigned char *) "{\"a\":[1,2],\"b\":1}", 17, want);
    assert_memory_equal(ha, want, 32);

    json_decref(a);
    json_decref(b);
    json_decref(c);
}


int
run_crypto_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_master_key_parse),
        cmocka_unit_test(test_derived_keys_differ),
        cmocka_unit_test(test_seal_open_round_trip),
        cmocka_unit_test(test_open_rejects_tampering),
        cmocka_unit_test(test_hmac_sha256_vector),
        cmocka_unit_test(test_request_hash),
    };

    return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
