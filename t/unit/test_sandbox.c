/*
 * The sandbox connector's codec: outcomes by last four digits, the
 * webhook signature (fresh, stale, tampered), and the answers it parses.
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "ngx_payout_sandbox.h"
#include "ngx_payout_validate.h"


static const char  ref[] = "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7";


static void
keys(ngx_payout_keys_t *k)
{
    unsigned char  master[32];

    memset(master, 0x7f, sizeof(master));
    ngx_payout_keys_derive(master, k);
}


static void
test_outcomes(void **state)
{
    (void) state;

#define OUT(s)  ngx_payout_sandbox_outcome(s, strlen(s))
    assert_int_equal(OUT("0123456789"), NGX_PAYOUT_SANDBOX_SUCCEED);
    assert_int_equal(OUT("9990002"), NGX_PAYOUT_SANDBOX_INVALID_ACCOUNT);
    assert_int_equal(OUT("9990003"), NGX_PAYOUT_SANDBOX_NO_FUNDS);
    assert_int_equal(OUT("9990004"), NGX_PAYOUT_SANDBOX_FAIL_LATER);
    assert_int_equal(OUT("9990005"), NGX_PAYOUT_SANDBOX_REVERSE);
    assert_int_equal(OUT("9990006"), NGX_PAYOUT_SANDBOX_NO_ANSWER);
    assert_int_equal(OUT("9990007"), NGX_PAYOUT_SANDBOX_STAY_PENDING);
    assert_int_equal(OUT("9990008"), NGX_PAYOUT_SANDBOX_SUCCEED);
    assert_int_equal(OUT("9991002"), NGX_PAYOUT_SANDBOX_SUCCEED);
    assert_int_equal(OUT("002"), NGX_PAYOUT_SANDBOX_SUCCEED);
#undef OUT
}


static void
test_signature(void **state)
{
    char                sig[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    size_t              n;
    ngx_payout_keys_t   k, other;

    static const unsigned char  body[] = "{\"id\":\"evt_1\"}";

    (void) state;

    keys(&k);

    n = ngx_payout_sandbox_sign(&k, 1700000000, body, sizeof(body) - 1,
                                sig);
    assert_int_equal(n, strlen(sig));
    assert_memory_equal(sig, "t=1700000000,v1=", 16);
    assert_int_equal(n, 16 + 64);

    /* fresh and intact */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n, body,
                         sizeof(body) - 1, 1700000100, 300), NGX_PAYOUT_OK);

    /* stale, or from the future */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n, body,
                         sizeof(body) - 1, 1700000301, 300),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n, body,
                         sizeof(body) - 1, 1699999699, 300),
                     NGX_PAYOUT_ERROR);

    /* one byte of the body changed */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n,
                         (const unsigned char *) "{\"id\":\"evt_2\"}",
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);

    /* another master key */
    memcpy(&other, &k, sizeof(k));
    other.token[0] ^= 1;
    assert_int_equal(ngx_payout_sandbox_verify(&other, sig, n, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);

    /* malformed headers */
    assert_int_equal(ngx_payout_sandbox_verify(&k, "", 0, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_sandbox_verify(&k, "v1=abc", 6, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_sandbox_verify(&k, "t=x,v1=00", 9, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);

    /* a truncated signature */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n - 1, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);
}


static void
test_transfer_body(void **state)
{
    char                   *out;
    size_t                  len;
    json_t                 *json;
    ngx_payout_transfer_t   t;

    (void) state;

    memset(&t, 0, sizeof(t));
    t.reference = ref;
    t.amount = 250000;
    t.currency = "NGN";
    t.type = NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = "0123456789";
    t.bank_code = "058";
    t.account_name = "JOHN SELLER";

    out = ngx_payout_sandbox_transfer_body(&t, &len);
    assert_non_null(out);

    json = json_loadb(out, len, 0, NULL);
    assert_non_null(json);
    assert_string_equal(json_string_value(json_object_get(json,
                                                          "reference")), ref);
    assert_int_equal(json_integer_value(json_object_get(json, "amount")),
                     250000);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json, "destination"),
                            "account_number")), "0123456789");

    json_decref(json);
    free(out);
}


static void
test_parse_answers(void **state)
{
    char                 reference[37];
    ngx_payout_result_t  res;

    static const char  pending[] =
        "{\"id\":\"sbx_tr_7\",\"status\":\"pending\"}";
    static const char  rejected[] =
        "{\"error\":{\"code\":\"invalid_account\",\"message\":\"x\"}}";
    static const char  event[] =
        "{\"id\":\"evt_1\",\"type\":\"transfer.failed\",\"data\":{"
        "\"id\":\"sbx_tr_7\",\"reference\":"
        "\"4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7\",\"status\":\"failed\","
        "\"failure_reason\":\"account_closed\"}}";

    (void) state;

    ngx_payout_sandbox_parse_initiate(201, pending, sizeof(pending) - 1,
                                      &res);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.gateway_id, "sbx_tr_7");

    ngx_payout_sandbox_parse_initiate(422, rejected, sizeof(rejected) - 1,
                                      &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "invalid_account");

    /* no definite answer: it may have executed */
    ngx_payout_sandbox_parse_initiate(0, "", 0, &res);
    assert_int_equal(res.state, -1);
    ngx_payout_sandbox_parse_initiate(503, "oops", 4, &res);
    assert_int_equal(res.state, -1);
    ngx_payout_sandbox_parse_initiate(200, "not json", 8, &res);
    assert_int_equal(res.state, -1);

    assert_int_equal(ngx_payout_sandbox_parse_event(event, sizeof(event) - 1,
                                                    reference, &res),
                     NGX_PAYOUT_OK);
    assert_string_equal(reference, ref);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "account_closed");

    assert_int_equal(ngx_payout_sandbox_parse_event("{}", 2, reference,
                                                    &res),
                     NGX_PAYOUT_ERROR);
}


/*
 * Found by fuzz_sandbox: provider strings longer than their buffers were
 * cut mid-character, which PostgreSQL refuses (issue 13, item 8).
 */

static void
test_long_strings_cut_whole(void **state)
{
    char                 body[1024], *p;
    size_t               i;
    ngx_payout_result_t  res;

    (void) state;

    /* an id of 60 "\u20ac" (3 bytes each), a reason of 100 "\u00e9" (2) */

    p = body;
    p += sprintf(p, "{\"status\":\"failed\",\"id\":\"");

    for (i = 0; i < 60; i++) {
        p += sprintf(p, "\xe2\x82\xac");
    }

    p += sprintf(p, "\",\"failure_reason\":\"");

    for (i = 0; i < 100; i++) {
        p += sprintf(p, "\xc3\xa9");
    }

    p += sprintf(p, "\"}");

    ngx_payout_sandbox_parse_transfer(200, body, (size_t) (p - body), &res);

    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);

    /* 127 and 159 bytes of room: 42 and 79 whole characters */
    assert_int_equal(strlen(res.gateway_id), 42 * 3);
    assert_int_equal(strlen(res.reason), 79 * 2);
    assert_memory_equal(res.gateway_id + 41 * 3, "\xe2\x82\xac", 3);
    assert_memory_equal(res.reason + 78 * 2, "\xc3\xa9", 2);
}


int
run_sandbox_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_transfer_body),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_long_strings_cut_whole),
    };

    return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
