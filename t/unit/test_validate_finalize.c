/*
 * POST /payouts/{uuid}/finalize's body: {"otp"}, 4 to 10 digits, nothing
 * else; an error names the field and never quotes the code.
 */

#include <string.h>

#include "unit.h"
#include "ngx_payout_validate.h"


static void unit_finalize(const char *text, int ok, const char *field);
static void test_finalize_good(void **state);
static void test_finalize_bad(void **state);


static void
unit_finalize(const char *text, int ok, const char *field)
{
    json_t                       *body;
    json_error_t                  jerr;
    ngx_payout_error_t            err;
    ngx_payout_finalize_input_t   in;

    body = json_loads(text, 0, &jerr);
    assert_non_null(body);

    memset(&err, 0, sizeof(err));

    if (ok) {
        assert_int_equal(ngx_payout_validate_finalize(body, &in, &err),
                         NGX_PAYOUT_OK);
        assert_string_equal(in.otp,
                            json_string_value(json_object_get(body, "otp")));

    } else {
        assert_int_equal(ngx_payout_validate_finalize(body, &in, &err),
                         NGX_PAYOUT_ERROR);
        assert_non_null(err.field);
        assert_string_equal(err.field, field);
        /* the code itself is never echoed */
        assert_null(strstr(err.message, "98765"));
    }

    json_decref(body);
}


static void
test_finalize_good(void **state)
{
    (void) state;

    unit_finalize("{\"otp\": \"1234\"}", 1, NULL);
    unit_finalize("{\"otp\": \"123456\"}", 1, NULL);
    unit_finalize("{\"otp\": \"0123456789\"}", 1, NULL);
}


static void
test_finalize_bad(void **state)
{
    (void) state;

    unit_finalize("{}", 0, "otp");
    unit_finalize("{\"otp\": null}", 0, "otp");
    unit_finalize("{\"otp\": 987654}", 0, "otp");
    unit_finalize("{\"otp\": \"987\"}", 0, "otp");
    unit_finalize("{\"otp\": \"98765432101\"}", 0, "otp");
    unit_finalize("{\"otp\": \"98765a\"}", 0, "otp");
    unit_finalize("{\"otp\": \" 98765\"}", 0, "otp");
    unit_finalize("{\"otp\": \"98765\", \"pin\": \"1\"}", 0, "pin");
}


int
run_finalize_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_finalize_good),
        cmocka_unit_test(test_finalize_bad),
    };

    return cmocka_run_group_tests_name("finalize", tests, NULL, NULL);
}
