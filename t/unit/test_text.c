/*
 * Text leaving the module: UTF-8 cut only between characters, never
 * invalid; URLs and database messages logged without secrets.
 */

#include <string.h>

#include "unit.h"
#include "ngx_payout_text.h"


#define CUT(buf, size, s)                                                   \
    ngx_payout_utf8_cut(buf, size, s, sizeof(s) - 1)


static void
test_utf8_cut_ascii(void **state)
{
    char  buf[8];

    (void) state;

    assert_int_equal(CUT(buf, sizeof(buf), "abc"), 3);
    assert_string_equal(buf, "abc");

    /* size counts the NUL */
    assert_int_equal(CUT(buf, sizeof(buf), "abcdefghij"), 7);
    assert_string_equal(buf, "abcdefg");

    assert_int_equal(CUT(buf, 1, "abc"), 0);
    assert_string_equal(buf, "");

    assert_int_equal(ngx_payout_utf8_cut(buf, 0, "abc", 3), 0);
    assert_int_equal(CUT(buf, sizeof(buf), ""), 0);
    assert_string_equal(buf, "");
}


static void
test_utf8_cut_boundaries(void **state)
{
    char  buf[8];

    (void) state;

    /* 2 bytes: é; 3 bytes: €; 4 bytes: U+1F600 */
    assert_int_equal(CUT(buf, 6, "abcd\xc3\xa9"), 4);
    assert_string_equal(buf, "abcd");
    assert_int_equal(CUT(buf, 7, "abcd\xc3\xa9"), 6);
    assert_string_equal(buf, "abcd\xc3\xa9");

    assert_int_equal(CUT(buf, 6, "abc\xe2\x82\xac"), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(CUT(buf, 7, "abc\xe2\x82\xac"), 6);
    assert_string_equal(buf, "abc\xe2\x82\xac");

    assert_int_equal(CUT(buf, 5, "a\xf0\x9f\x98\x80"), 1);
    assert_string_equal(buf, "a");
    assert_int_equal(CUT(buf, 6, "a\xf0\x9f\x98\x80"), 5);
    assert_string_equal(buf, "a\xf0\x9f\x98\x80");

    /* every cut of a run of 3-byte characters is valid */
    {
        size_t       size, n;
        const char   euros[] = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac";

        for (size = 1; size <= sizeof(buf); size++) {
            n = ngx_payout_utf8_cut(buf, size, euros, sizeof(euros) - 1);
            assert_int_equal(n % 3, 0);
            assert_true(n < size);
            assert_true(ngx_payout_utf8_valid(buf, n));
        }
    }
}


static void
test_utf8_cut_invalid(void **state)
{
    char    buf[32];
    size_t  i;

    static const struct {
        const char  *in;
        size_t       len;
        const char  *out;
    } cases[] = {
#define C(in, out)  { in, sizeof(in) - 1, out }
        /* stray continuation, impossible bytes, NUL */
        C("a\x80" "b\xff" "c", "a?b?c"),
        C("a\0b", "a?b"),
        /* overlong forms */
        C("\xc0\xaf", "??"),
        C("\xe0\x80\xaf" "x", "???x"),
        C("\xf0\x80\x80\xaf", "????"),
        /* a surrogate, past U+10FFFF, no such lead byte */
        C("\xed\xa0\x80", "???"),
        C("\xf4\x90\x80\x80", "????"),
        C("\xf5\x80\x80\x80", "????"),
        /* the largest valid code points below those stay */
        C("\xed\x9f\xbf\xf4\x8f\xbf\xbf", "\xed\x9f\xbf\xf4\x8f\xbf\xbf"),
        /* a lead byte followed by ASCII is invalid, the ASCII stays */
        C("\xe2\x82z", "??z"),
        /* a sequence the input itself cuts short is dropped */
        C("abc\xe2\x82", "abc"),
        C("abc\xf0", "abc"),
#undef C
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ngx_payout_utf8_cut(buf, sizeof(buf), cases[i].in,
                                             cases[i].len),
                         strlen(cases[i].out));
        assert_string_equal(buf, cases[i].out);
    }

    assert_false(ngx_payout_utf8_valid("abc\xe2\x82", 5));
    assert_false(ngx_payout_utf8_valid("a\0b", 3));
    assert_false(ngx_payout_utf8_valid("\xc0\xaf", 2));
    assert_true(ngx_payout_utf8_valid("\xc3\xa9\xe2\x82\xac", 5));
}


static void
test_utf8_cut_in_place(void **state)
{
    char  buf[16];

    (void) state;

    memcpy(buf, "\xff\xfe" "ab\xc3\xa9\xe2\x82\xac", 9);

    assert_int_equal(ngx_payout_utf8_cut(buf, 8, buf, 9), 6);
    assert_string_equal(buf, "??ab\xc3\xa9");
}


static void
test_url_redact(void **state)
{
    char  buf[64];

    (void) state;

    ngx_payout_url_redact(buf, sizeof(buf),
                          "https://user:pa55@example.com:8443/h/1?t=sk#f");
    assert_string_equal(buf, "https://example.com:8443/h/1");

    ngx_payout_url_redact(buf, sizeof(buf), "http://a@b@c/x");
    assert_string_equal(buf, "http://c/x");

    ngx_payout_url_redact(buf, sizeof(buf), "http://host?token=x");
    assert_string_equal(buf, "http://host");

    ngx_payout_url_redact(buf, sizeof(buf), "http://[::1]:80/");
    assert_string_equal(buf, "http://[::1]:80/");

    ngx_payout_url_redact(buf, sizeof(buf), "user:secret@host");
    assert_string_equal(buf, "(url)");

    assert_int_equal(ngx_payout_url_redact(buf, 8, "http://example.com/"),
                     7);
    assert_string_equal(buf, "http://");
}


static void
test_redact_values(void **state)
{
    char  buf[80];

    (void) state;

    ngx_payout_redact_values(buf, sizeof(buf),
        "invalid input syntax for type uuid: \"sk_test_abc\"");
    assert_string_equal(buf, "invalid input syntax for type uuid");

    ngx_payout_redact_values(buf, sizeof(buf),
        "value \"0123456789\" is out of range for type integer");
    assert_string_equal(buf, "value \"...\" is out of range for type "
                        "integer");

    ngx_payout_redact_values(buf, sizeof(buf),
        "value \"a\"\"b: c\" is bad\nDETAIL:  Key (x)=(secret)");
    assert_string_equal(buf, "value \"...\" is bad");

    ngx_payout_redact_values(buf, sizeof(buf), "unterminated \"secret");
    assert_string_equal(buf, "unterminated \"...\"");

    assert_int_equal(ngx_payout_redact_values(buf, 4, "abcdef"), 3);
    assert_string_equal(buf, "abc");
}


int
run_text_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_utf8_cut_ascii),
        cmocka_unit_test(test_utf8_cut_boundaries),
        cmocka_unit_test(test_utf8_cut_invalid),
        cmocka_unit_test(test_utf8_cut_in_place),
        cmocka_unit_test(test_url_redact),
        cmocka_unit_test(test_redact_values),
    };

    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
