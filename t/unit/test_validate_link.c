/*
 * POST /payout-links' body: the payout's fields through the payouts'
 * checks, the hints through the recipients', and the link's own:
 * methods, expires_in or expires_at within 60 s to 90 days of now.
 */

#include <string.h>

#include "unit.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_crypto.h"


#define UNIT_NOW  1780000000L     /* 2026-05-28T20:26:40Z */


static int unit_link(const char *text, ngx_payout_link_input_t *in,
    ngx_payout_error_t *err);
static void unit_link_bad(const char *text, const char *code,
    const char *field);
static void test_link_good(void **state);
static void test_link_bad(void **state);
static void test_link_time(void **state);
static void test_link_methods_text(void **state);
static void test_link_token(void **state);


static int
unit_link(const char *text, ngx_payout_link_input_t *in,
    ngx_payout_error_t *err)
{
    int            rc;
    json_t        *body;
    json_error_t   jerr;

    body = json_loads(text, 0, &jerr);
    assert_non_null(body);
    memset(err, 0, sizeof(ngx_payout_error_t));

    rc = ngx_payout_validate_link(body, 0, UNIT_NOW, in, err);

    /* the strings point into the body: read them before it goes */
    if (rc == NGX_PAYOUT_OK && in->payout.narration) {
        assert_true(strlen(in->payout.narration) > 0);
    }

    json_decref(body);

    return rc;
}


static void
unit_link_bad(const char *text, const char *code, const char *field)
{
    json_t                   *body;
    json_error_t              jerr;
    ngx_payout_error_t        err;
    ngx_payout_link_input_t   in;

    /* an unknown field's name points into the body: check it first */
    body = json_loads(text, 0, &jerr);
    assert_non_null(body);
    memset(&err, 0, sizeof(err));

    assert_int_equal(ngx_payout_validate_link(body, 0, UNIT_NOW, &in, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.code, code);
    assert_non_null(err.field);
    assert_string_equal(err.field, field);
    assert_true(strlen(err.message) > 0);

    json_decref(body);
}


static void
test_link_good(void **state)
{
    ngx_payout_error_t       err;
    ngx_payout_link_input_t  in;

    (void) state;

    assert_int_equal(unit_link("{\"amount\": 250000, \"currency\": \"ngn\", "
                               "\"gateway\": \"sandbox\"}", &in, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(in.payout.amount, 250000);
    assert_string_equal(in.payout.currency->code, "NGN");
    assert_int_equal(in.methods, 0);
    assert_int_equal(in.expires, UNIT_NOW + 7 * 86400);

    assert_int_equal(unit_link("{\"amount\": 1, \"currency\": \"NGN\", "
                               "\"gateway\": \"sandbox\", \"expires_in\": 60, "
                               "\"methods\": [\"mobile_money\"], "
                               "\"name\": \"Ada\", \"email\": \"a@b.co\", "
                               "\"phone\": \"+234 801 234 5678\", "
                               "\"narration\": \"May\", "
                               "\"idempotency_key\": \"k1\", "
                               "\"metadata\": {\"a\": \"b\"}, "
                               "\"webhook_urls\": [\"https://x.example/h\"], "
                               "\"webhook_secret\": \"s3cret\"}", &in, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(in.expires, UNIT_NOW + 60);
    assert_int_equal(in.methods, NGX_PAYOUT_LINK_MOBILE);

    assert_int_equal(unit_link("{\"amount\": 1, \"currency\": \"NGN\", "
                               "\"gateway\": \"sandbox\", "
                               "\"expires_at\": \"2026-05-29T20:26:40Z\", "
                               "\"methods\": [\"bank_account\", "
                               "\"mobile_money\"]}", &in, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(in.expires, UNIT_NOW + 86400);
    assert_int_equal(in.methods, NGX_PAYOUT_LINK_BANK|NGX_PAYOUT_LINK_MOBILE);

    assert_int_equal(unit_link("{\"amount\": 1, \"currency\": \"NGN\", "
                               "\"gateway\": \"sandbox\", "
                               "\"expires_in\": 7776000}", &in, &err),
                     NGX_PAYOUT_OK);
}


static void
test_link_bad(void **state)
{
    (void) state;

#define UNIT_BASE "\"amount\": 100, \"currency\": \"NGN\", " \
                  "\"gateway\": \"sandbox\""

    unit_link_bad("{\"currency\": \"NGN\", \"gateway\": \"sandbox\"}",
                  "missing_parameter", "amount");
    unit_link_bad("{\"amount\": 1.5, \"currency\": \"NGN\", "
                  "\"gateway\": \"sandbox\"}", "invalid_parameter", "amount");
    unit_link_bad("{\"amount\": 1, \"currency\": \"XXX\", "
                  "\"gateway\": \"sandbox\"}", "invalid_parameter",
                  "currency");
    unit_link_bad("{" UNIT_BASE ", \"expires_in\": 59}",
                  "invalid_parameter", "expires_in");
    unit_link_bad("{" UNIT_BASE ", \"expires_in\": 7776001}",
                  "invalid_parameter", "expires_in");
    unit_link_bad("{" UNIT_BASE ", \"expires_in\": \"60\"}",
                  "invalid_parameter", "expires_in");
    unit_link_bad("{" UNIT_BASE ", \"expires_at\": \"tomorrow\"}",
                  "invalid_parameter", "expires_at");
    unit_link_bad("{" UNIT_BASE ", \"expires_at\": \"2026-05-28T20:27:00Z\"}",
                  "invalid_parameter", "expires_at");
    unit_link_bad("{" UNIT_BASE ", \"expires_at\": \"2026-09-28T20:27:00Z\"}",
                  "invalid_parameter", "expires_at");
    unit_link_bad("{" UNIT_BASE ", \"expires_in\": 3600, "
                  "\"expires_at\": \"2026-05-29T20:26:40Z\"}",
                  "conflicting_parameters", "expires_at");
    unit_link_bad("{" UNIT_BASE ", \"methods\": []}",
                  "invalid_parameter", "methods");
    unit_link_bad("{" UNIT_BASE ", \"methods\": \"bank_account\"}",
                  "invalid_parameter", "methods");
    unit_link_bad("{" UNIT_BASE ", \"methods\": [\"card\"]}",
                  "invalid_parameter", "methods");
    unit_link_bad("{" UNIT_BASE ", \"methods\": [\"bank_account\", "
                  "\"bank_account\"]}", "invalid_parameter", "methods");
    unit_link_bad("{" UNIT_BASE ", \"methods\": [1]}",
                  "invalid_parameter", "methods");
    /* a long unknown name is quoted cut, within the message's buffer */
    unit_link_bad("{" UNIT_BASE ", \"methods\": [\"bank_accoun"
                  "%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%"
                  "%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\"]}",
                  "invalid_parameter", "methods");
    unit_link_bad("{" UNIT_BASE ", \"email\": \"nope\"}",
                  "invalid_parameter", "email");
    unit_link_bad("{" UNIT_BASE ", \"phone\": \"12\"}",
                  "invalid_parameter", "phone");
    unit_link_bad("{" UNIT_BASE ", \"webhook_urls\": [\"ftp://x\"]}",
                  "invalid_parameter", "webhook_urls");
    unit_link_bad("{" UNIT_BASE ", \"bank_account_number\": \"0123456789\"}",
                  "unknown_parameter", "bank_account_number");
    unit_link_bad("{" UNIT_BASE ", \"stage\": true}",
                  "unknown_parameter", "stage");

#undef UNIT_BASE
}


static void
test_link_time(void **state)
{
    (void) state;

    assert_int_equal(ngx_payout_parse_time("1970-01-01T00:00:00Z", 20), 0);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T20:26:40Z", 20),
                     UNIT_NOW);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T21:26:40.123+01:00",
                                           29), UNIT_NOW);
    assert_int_equal(ngx_payout_parse_time("2026-05-28t19:26:40-01:00",
                                           25), UNIT_NOW);
    assert_int_equal(ngx_payout_parse_time("2024-02-29T00:00:00Z", 20),
                     1709164800L);
    assert_int_equal(ngx_payout_parse_time("2025-02-29T00:00:00Z", 20), -1);
    assert_int_equal(ngx_payout_parse_time("2026-13-01T00:00:00Z", 20), -1);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T24:00:00Z", 20), -1);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T20:26:40", 19), -1);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T20:26:40.Z", 21), -1);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T20:26:40+0100", 24),
                     -1);
    assert_int_equal(ngx_payout_parse_time("2026-05-28T20:26:40Zjunk", 24),
                     -1);
}


static void
test_link_methods_text(void **state)
{
    char  buf[64];

    (void) state;

    assert_string_equal(ngx_payout_link_methods_text(NGX_PAYOUT_LINK_BANK,
                                                     buf, sizeof(buf)),
                        "{bank_account}");
    assert_string_equal(ngx_payout_link_methods_text(NGX_PAYOUT_LINK_MOBILE,
                                                     buf, sizeof(buf)),
                        "{mobile_money}");
    assert_string_equal(ngx_payout_link_methods_text(
                            NGX_PAYOUT_LINK_BANK|NGX_PAYOUT_LINK_MOBILE,
                            buf, sizeof(buf)),
                        "{bank_account,mobile_money}");
    assert_null(ngx_payout_link_methods_text(NGX_PAYOUT_LINK_BANK, buf, 4));
}


static void
test_link_token(void **state)
{
    char  a[NGX_PAYOUT_LINK_TOKEN_LEN + 1], b[NGX_PAYOUT_LINK_TOKEN_LEN + 1];

    (void) state;

    assert_int_equal(ngx_payout_link_token(a), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_link_token(b), NGX_PAYOUT_OK);
    assert_int_equal(strlen(a), NGX_PAYOUT_LINK_TOKEN_LEN);
    assert_true(strcmp(a, b) != 0);
    assert_true(ngx_payout_link_token_valid(a, strlen(a)));
    assert_true(ngx_payout_link_token_valid(b, strlen(b)));

    assert_true(ngx_payout_link_token_valid(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 43));
    assert_true(ngx_payout_link_token_valid(
        "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8", 43));
    /* a last character with bits a 32-byte token cannot have */
    assert_false(ngx_payout_link_token_valid(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", 43));
    assert_false(ngx_payout_link_token_valid(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 42));
    assert_false(ngx_payout_link_token_valid(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+AA", 43));
    assert_false(ngx_payout_link_token_valid(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AA", 43));
}


int
run_link_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_link_good),
        cmocka_unit_test(test_link_bad),
        cmocka_unit_test(test_link_time),
        cmocka_unit_test(test_link_methods_text),
        cmocka_unit_test(test_link_token),
    };

    return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
