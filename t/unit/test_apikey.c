/*
 * API keys: generation, parsing, hashing.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"


static const char  base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* a well-formed test key to corrupt */
static const char  good_key[] =
    "sk_test_0123456789ABCDEFGHIJabcdefghijKLMNOPQRST";


static void
assert_generated(int mode, const char *tag)
{
    int     parsed;
    char    key[NGX_PAYOUT_KEY_LEN + 1];
    size_t  i;

    assert_int_equal(ngx_payout_apikey_generate(mode, key, sizeof(key)),
                     NGX_PAYOUT_OK);

    assert_int_equal(strlen(key), 48);
    assert_memory_equal(key, tag, 8);

    for (i = 8; i < 48; i++) {
        assert_non_null(strchr(base62, key[i]));
    }

    parsed = -1;
    assert_int_equal(ngx_payout_apikey_parse((unsigned char *) key, 48,
                                             &parsed),
                     NGX_PAYOUT_OK);
    assert_int_equal(parsed, mode);
}


static void
test_generate_test_key(void **state)
{
    (void) state;

    assert_generated(NGX_PAYOUT_KEY_MODE_TEST, "sk_test_");
}


static void
test_generate_live_key(void **state)
{
    (void) state;

    assert_generated(NGX_PAYOUT_KEY_MODE_LIVE, "sk_live_");
}


static void
test_generate_keys_differ(void **state)
{
    char  a[NGX_PAYOUT_KEY_LEN + 1], b[NGX_PAYOUT_KEY_LEN + 1];

    (void) state;

    assert_int_equal(ngx_payout_apikey_generate(NGX_PAYOUT_KEY_MODE_TEST,
                                                a, sizeof(a)),
                     NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_apikey_generate(NGX_PAYOUT_KEY_MODE_TEST,
                                                b, sizeof(b)),
                     NGX_PAYOUT_OK);

    assert_string_not_equal(a, b);
    /* and so do their lookup prefixes' random parts */
    assert_memory_not_equal(a + 8, b + 8, NGX_PAYOUT_KEY_PREFIX_LEN - 8);
}


static void
test_generate_uses_whole_alphabet(void **state)
{
    int     seen[62], n;
    char    key[NGX_PAYOUT_KEY_LEN + 1];
    size_t  i, k;

    (void) state;

    memset(seen, 0, sizeof(seen));

    /* 4000 symbols: each of the 62 is expected ~65 times */
    for (k = 0; k < 100; k++) {
        assert_int_equal(ngx_payout_apikey_generate(NGX_PAYOUT_KEY_MODE_LIVE,
                                                    key, sizeof(key)),
                         NGX_PAYOUT_OK);

        for (i = 8; i < 48; i++) {
            seen[strchr(base62, key[i]) - base62]++;
        }
    }

    for (n = 0; n < 62; n++) {
        assert_true(seen[n] > 0);
    }
}


static void
test_generate_buffer_size(void **state)
{
    char  *small, exact[NGX_PAYOUT_KEY_LEN + 1];

    (void) state;

    /* heap buffer of 48 bytes: ASAN would catch any write into it past 48 */
    small = malloc(NGX_PAYOUT_KEY_LEN);
    assert_non_null(small);

    assert_int_equal(ngx_payout_apikey_generate(NGX_PAYOUT_KEY_MODE_TEST,
                                                small, NGX_PAYOUT_KEY_LEN),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_apikey_generate(NGX_PAYOUT_KEY_MODE_TEST,
                                                small, 0),
                     NGX_PAYOUT_ERROR);
    free(small);

    /* room for the key and its NUL is enough */
    assert_int_equal(ngx_payout_apikey_generate(NGX_PAYOUT_KEY_MODE_TEST,
                                                exact, sizeof(exact)),
                     NGX_PAYOUT_OK);
    assert_int_equal(exact[NGX_PAYOUT_KEY_LEN], '\0');
}


static void
test_parse_valid(void **state)
{
    int            mode;
    unsigned char  key[sizeof(good_key)];

    (void) state;

    memcpy(key, good_key, sizeof(good_key));

    mode = -1;
    assert_int_equal(ngx_payout_apikey_parse(key, 48, &mode), NGX_PAYOUT_OK);
    assert_int_equal(mode, NGX_PAYOUT_KEY_MODE_TEST);

    memcpy(key, "sk_live_", 8);
    assert_int_equal(ngx_payout_apikey_parse(key, 48, &mode), NGX_PAYOUT_OK);
    assert_int_equal(mode, NGX_PAYOUT_KEY_MODE_LIVE);
}


static void
test_parse_wrong_length(void **state)
{
    int            mode;
    unsigned char  key[sizeof(good_key) + 1];

    (void) state;

    memcpy(key, good_key, sizeof(good_key));
    key[48] = 'x';

    assert_int_equal(ngx_payout_apikey_parse(key, 0, &mode),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_apikey_parse(key, 8, &mode),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_apikey_parse(key, 47, &mode),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_apikey_parse(key, 49, &mode),
                     NGX_PAYOUT_ERROR);
}


static void
test_parse_wrong_tag(void **state)
{
    int            mode;
    size_t         i;
    unsigned char  key[sizeof(good_key)];

    static const char  *tags[] = {
        "sk_prod_", "SK_TEST_", "sk_Test_", "pk_test_", "sk-test_",
        "sk_test-", "sk_livex", "sk_test0", "rk_live_", "\0k_test_"
    };

    (void) state;

    for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        memcpy(key, good_key, sizeof(good_key));
        memcpy(key, tags[i], 8);

        assert_int_equal(ngx_payout_apikey_parse(key, 48, &mode),
                         NGX_PAYOUT_ERROR);
    }
}


static void
test_parse_non_base62(void **state)
{
    int            mode;
    size_t         i, p;
    unsigned char  key[sizeof(good_key)];

    static const unsigned char  bad[] = {
        '-', '_', ' ', '\0', '+', '/', '=', '.', '%', '\n', 0x7f, 0x80, 0xff
    };
    /* first, a middle and the last random position */
    static const size_t         pos[] = { 8, 30, 47 };

    (void) state;

    for (i = 0; i < sizeof(bad); i++) {
        for (p = 0; p < sizeof(pos) / sizeof(pos[0]); p++) {
            memcpy(key, good_key, sizeof(good_key));
            key[pos[p]] = bad[i];

            assert_int_equal(ngx_payout_apikey_parse(key, 48, &mode),
                             NGX_PAYOUT_ERROR);
        }
    }
}


static void
test_hash_sha256(void **state)
{
    char           hex[2 * NGX_PAYOUT_KEY_HASH_LEN + 1];
    unsigned char  hash[NGX_PAYOUT_KEY_HASH_LEN];

    (void) state;

    ngx_payout_apikey_hash(UNIT_STR("abc"), hash);
    ngx_payout_hex_encode(hash, sizeof(hash), hex);
    hex[sizeof(hex) - 1] = '\0';

    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");

    ngx_payout_apikey_hash(UNIT_STR(""), hash);
    ngx_payout_hex_encode(hash, sizeof(hash), hex);

    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
}


static void
test_hash_equal(void **state)
{
    unsigned char  a[NGX_PAYOUT_KEY_HASH_LEN], b[NGX_PAYOUT_KEY_HASH_LEN];

    (void) state;

    ngx_payout_apikey_hash((const unsigned char *) good_key, 48, a);
    ngx_payout_apikey_hash((const unsigned char *) good_key, 48, b);

    assert_true(ngx_payout_apikey_hash_equal(a, b));

    b[NGX_PAYOUT_KEY_HASH_LEN - 1] ^= 1;
    assert_false(ngx_payout_apikey_hash_equal(a, b));

    b[NGX_PAYOUT_KEY_HASH_LEN - 1] ^= 1;
    b[0] ^= 0x80;
    assert_false(ngx_payout_apikey_hash_equal(a, b));

    /* a different key (one character shorter) hashes differently */
    ngx_payout_apikey_hash((const unsigned char *) good_key, 47, b);
    assert_false(ngx_payout_apikey_hash_equal(a, b));
}


int
run_apikey_tests(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_generate_test_key),
        cmocka_unit_test(test_generate_live_key),
        cmocka_unit_test(test_generate_keys_differ),
        cmocka_unit_test(test_generate_uses_whole_alphabet),
        cmocka_unit_test(test_generate_buffer_size),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_wrong_length),
        cmocka_unit_test(test_parse_wrong_tag),
        cmocka_unit_test(test_parse_non_base62),
        cmocka_unit_test(test_hash_sha256),
        cmocka_unit_test(test_hash_equal),
    };

    return cmocka_run_group_tests_name("apikey", tests, NULL, NULL);
}
