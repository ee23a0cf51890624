/*
 * Hex encoding and decoding, and the canonical UUID check.
 */

#include <string.h>

#include "unit.h"


static void
test_hex_encode(void **state)
{
    char                         out[16];
    static const unsigned char   in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };

    (void) state;

    /* exactly two lower-case digits per byte, no NUL written */
    memset(out, '#', sizeof(out));
    ngx_payout_hex_encode(in, sizeof(in), out);

    assert_memory_equal(out, "00017f80abff#", 13);

    memset(out, '#', sizeof(out));
    ngx_payout_hex_encode(in, 0, out);
    assert_int_equal(out[0], '#');
}


static void
test_hex_round_trip(void **state)
{
    int            i;
    char           hex[512];
    unsigned char  bin[256], back[256];

    (void) state;

    for (i = 0; i < 256; i++) {
        bin[i] = (unsigned char) i;
    }

    ngx_payout_hex_encode(bin, sizeof(bin), hex);

    memset(back, 0, sizeof(back));
    assert_int_equal(ngx_payout_hex_decode(hex, sizeof(hex), back),
                     NGX_PAYOUT_OK);
    assert_memory_equal(back, bin, sizeof(bin));
}


static void
test_hex_decode_case(void **state)
{
    unsigned char                out[4];
    static const unsigned char   want[] = { 0xde, 0xad, 0xbe, 0xef };

    (void) state;

    assert_int_equal(ngx_payout_hex_decode("deadbeef", 8, out),
                     NGX_PAYOUT_OK);
    assert_memory_equal(out, want, 4);

    assert_int_equal(ngx_payout_hex_decode("DEADBEEF", 8, out),
                     NGX_PAYOUT_OK);
    assert_memory_equal(out, want, 4);

    assert_int_equal(ngx_payout_hex_decode("DeAdbEeF", 8, out),
                     NGX_PAYOUT_OK);
    assert_memory_equal(out, want, 4);

    /* empty input decodes to nothing */
    assert_int_equal(ngx_payout_hex_decode("", 0, out), NGX_PAYOUT_OK);
}


static void
test_hex_decode_rejects(void **state)
{
    size_t         i;
    unsigned char  out[8];

    /* neighbours of the hex ranges, and other junk, in either nibble */
    static const char  *bad[] = {
        "0g", "g0", "0G", "/0", "0:", "@0", "0`", "0 ", " 0", "0x", "-1",
        "+1", "0\n", "\xc1" "0", "0\xe1", "\xff\xff"
    };

    (void) state;

    /* odd lengths, even when the byte past len is a hex digit */
    assert_int_equal(ngx_payout_hex_decode("0", 1, out), NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_hex_decode("00", 1, out), NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_hex_decode("abcd", 3, out),
                     NGX_PAYOUT_ERROR);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ngx_payout_hex_decode(bad[i], 2, out),
                         NGX_PAYOUT_ERROR);
    }

    /* an embedded NUL is not a digit either */
    assert_int_equal(ngx_payout_hex_decode("00\0" "0", 4, out),
                     NGX_PAYOUT_ERROR);
}


static void
test_hex_value_all_bytes(void **state)
{
    int  c, want;

    (void) state;

    for (c = 0; c < 256; c++) {
        if (c >= '0' && c <= '9') {
            want = c - '0';

        } else if (c >= 'a' && c <= 'f') {
            want = c - 'a' + 10;

        } else if (c >= 'A' && c <= 'F') {
            want = c - 'A' + 10;

        } else {
            want = -1;
        }

        assert_int_equal(ngx_payout_hex_value((unsigned char) c), want);
    }
}


static void
test_uuid_valid(void **state)
{
    (void) state;

    assert_true(ngx_payout_uuid_valid(
        UNIT_STR("123e4567-e89b-12d3-a456-426614174000")));
    assert_true(ngx_payout_uuid_valid(
        UNIT_STR("00000000-0000-0000-0000-000000000000")));
    assert_true(ngx_payout_uuid_valid(
        UNIT_STR("ffffffff-ffff-ffff-ffff-ffffffffffff")));
    assert_true(ngx_payout_uuid_valid(
        UNIT_STR("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")));
    assert_true(ngx_payout_uuid_valid(
        UNIT_STR("123E4567-E89B-12D3-A456-426614174000")));
}


static void
test_uuid_invalid(void **state)
{
    size_t  i;

    static const char  *bad[] = {
        /* dashes misplaced, missing or extra */
        "123e4567e-89b-12d3-a456-426614174000",
        "123e456-7e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a4564-26614174000",
        "123e4567-e89b-12d3-a456-42661417400-",
        "-23e4567-e89b-12d3-a456-426614174000",
        "123e4567xe89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-4266-4174000",
        /* non-hex where a digit belongs */
        "123g4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-42661417400z",
        "123e4567-e89b-12d3-a456-42661417400 ",
        "123e4567-e89b-12d3-a456-4266141740\xc3\xa9",
        "{23e4567-e89b-12d3-a456-42661417400}",
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(strlen(bad[i]), 36);
        assert_false(ngx_payout_uuid_valid((const unsigned char *) bad[i],
                                           36));
    }

    /* wrong lengths */
    assert_false(ngx_payout_uuid_valid(UNIT_STR("")));
    assert_false(ngx_payout_uuid_valid(
        UNIT_STR("123e4567-e89b-12d3-a456-42661417400")));
    assert_false(ngx_payout_uuid_valid(
        UNIT_STR("123e4567-e89b-12d3-a456-4266141740000")));
    assert_false(ngx_payout_uuid_valid(
        UNIT_STR("123e4567-e89b-12d3-a456-426614174000\n")));
    assert_false(ngx_payout_uuid_valid(
        UNIT_STR("123e4567e89b12d3a456426614174000")));
    assert_false(ngx_payout_uuid_valid(
        UNIT_STR("{123e4567-e89b-12d3-a456-426614174000}")));

    /* an embedded NUL */
    assert_false(ngx_payout_uuid_valid(
        UNIT_STR("123e4567-e89b-12d3-a456-4266\0" "4174000")));
}


int
run_hex_tests(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_hex_decode_case),
        cmocka_unit_test(test_hex_decode_rejects),
        cmocka_unit_test(test_hex_value_all_bytes),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_uuid_invalid),
    };

    return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
