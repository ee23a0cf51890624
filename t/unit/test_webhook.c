/*
 * Standard Webhooks signatures against the published vector, the key
 * rule for plain secrets, and retry timing.
 */

#include <string.h>

#include "unit.h"
#include "ngx_payout_webhook.h"


static void
test_standard_webhooks_vector(void **state)
{
    char  sig[NGX_PAYOUT_WEBHOOK_SIG_LEN + 1];

    static const char  secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static const char  body[] = "{\"test\": 2432232314}";

    (void) state;

    /* standard-webhooks' own test vector (shared/specs/vectors) */
    assert_int_equal(ngx_payout_webhook_sign(secret, sizeof(secret) - 1,
                         "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                         (const unsigned char *) body, sizeof(body) - 1,
                         sig), NGX_PAYOUT_OK);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}


static void
test_key_rule(void **state)
{
    size_t         n;
    unsigned char  key[NGX_PAYOUT_WEBHOOK_KEY_MAX];

    (void) state;

    /* a plain secret is its own bytes */
    assert_int_equal(ngx_payout_webhook_key("your-webhook-secret", 19, key,
                                            &n), NGX_PAYOUT_OK);
    assert_int_equal(n, 19);
    assert_memory_equal(key, "your-webhook-secret", 19);

    /* whsec_: base64, padding not counted */
    assert_int_equal(ngx_payout_webhook_key("whsec_YWJj", 10, key, &n),
                     NGX_PAYOUT_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(key, "abc", 3);

    assert_int_equal(ngx_payout_webhook_key("whsec_YWI=", 10, key, &n),
                     NGX_PAYOUT_OK);
    assert_int_equal(n, 2);

    /* broken base64 and empty secrets */
    assert_int_equal(ngx_payout_webhook_key("whsec_YW", 8, key, &n),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_webhook_key("", 0, key, &n),
                     NGX_PAYOUT_ERROR);
}


/*
 * Found by fuzz_webhook: EVP_DecodeBlock took white space and a "=" in
 * the middle, so the key signed with was not the secret's base64.
 */

static void
test_key_strict_base64(void **state)
{
    size_t          i, n;
    unsigned char   key[NGX_PAYOUT_WEBHOOK_KEY_MAX];

    static const char  *bad[] = {
        "whsec_AAAAAAAAAAAAAAAAAAAA=AAAAAAAAAAAAAAAAAAAAAAA",
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AAA",
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=A=",
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA====",
        "whsec_                                            ",
        "whsec_\t\t\t\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };

    static const char  good[] =
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ngx_payout_webhook_key(bad[i], strlen(bad[i]), key,
                                                &n),
                         NGX_PAYOUT_ERROR);
    }

    assert_int_equal(ngx_payout_webhook_key(good, strlen(good), key, &n),
                     NGX_PAYOUT_OK);
    assert_int_equal(n, 31);
}


static void
test_delays(void **state)
{
    static const long  schedule[] = { 0, 5, 300, 1800 };

    (void) state;

    assert_int_equal(ngx_payout_webhook_delay(schedule, 4, 1, 0), 5);
    assert_in_range(ngx_payout_webhook_delay(schedule, 4, 2, 12345),
                    300, 330);
    assert_in_range(ngx_payout_webhook_delay(schedule, 4, 3, 99999),
                    1800, 1980);
    assert_int_equal(ngx_payout_webhook_delay(schedule, 4, 4, 0), -1);
    assert_int_equal(ngx_payout_webhook_delay(schedule, 4, 0, 0), -1);

    assert_int_equal(ngx_payout_retry_after("120", 3), 120);
    assert_int_equal(ngx_payout_retry_after("Wed, 21 Oct 2015", 16), -1);
    assert_int_equal(ngx_payout_retry_after("", 0), -1);
    assert_int_equal(ngx_payout_retry_after("-5", 2), -1);
}


int
run_webhook_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_key_rule),
        cmocka_unit_test(test_key_strict_base64),
        cmocka_unit_test(test_delays),
    };

    return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
