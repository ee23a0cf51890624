/*
 * Query string pieces: percent-decoding, bounded integers and sortBy.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"


/*
 * Decodes an exact-size heap copy, not NUL-terminated like nginx's args,
 * into an exact-size heap buffer (decoding never grows the input), so ASAN
 * catches reads and writes past either, and compares with the expected.
 */

static void
assert_decodes(const char *in, size_t len, const char *want, size_t want_len)
{
    size_t          n;
    unsigned char  *src, *out;

    src = malloc(len ? len : 1);
    out = malloc(len ? len : 1);
    assert_non_null(src);
    assert_non_null(out);

    memcpy(src, in, len);
    n = ngx_payout_url_decode(src, len, out);

    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);

    free(src);
    free(out);
}


#define DECODES(in, want)                                                     \
    assert_decodes(in, sizeof(in) - 1, want, sizeof(want) - 1)


static void
test_url_decode(void **state)
{
    (void) state;

    DECODES("", "");
    DECODES("abc", "abc");
    DECODES("%41+b%2", "A b%2");
    DECODES("%zz", "%zz");
    DECODES("a%2Fb", "a/b");
    DECODES("a%2fb", "a/b");
    DECODES("+", " ");
    DECODES("%2B", "+");
    DECODES("%", "%");
    DECODES("%4", "%4");
    DECODES("a%", "a%");
    DECODES("%%41", "%A");
    DECODES("%4g", "%4g");
    DECODES("%g4", "%g4");
    DECODES("%41%42", "AB");
    DECODES("%3A%3a", "::");
    DECODES("%00x", "\0x");
    DECODES("%C3%A9", "\xc3\xa9");
    DECODES("created_at%3ADESC", "created_at:DESC");
}


/* parses from an exact-size heap copy; *out is left alone on failure */

static int
parse_long(const char *s, size_t len, long min, long max, long *out)
{
    int             rc;
    unsigned char  *copy;

    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);

    *out = -12345;
    rc = ngx_payout_parse_long(copy, len, min, max, out);

    if (rc != NGX_PAYOUT_OK) {
        assert_int_equal(*out, -12345);
    }

    free(copy);

    return rc;
}


#define LONG_OK(s, min, max, want)                                            \
    do {                                                                      \
        long  v_;                                                             \
        assert_int_equal(parse_long(s, sizeof(s) - 1, min, max, &v_),         \
                         NGX_PAYOUT_OK);                                      \
        assert_int_equal(v_, want);                                           \
    } while (0)

#define LONG_BAD(s, min, max)                                                 \
    do {                                                                      \
        long  v_;                                                             \
        assert_int_equal(parse_long(s, sizeof(s) - 1, min, max, &v_),         \
                         NGX_PAYOUT_ERROR);                                   \
    } while (0)


static void
test_parse_long_bounds(void **state)
{
    (void) state;

    /* as the module parses limit and page */
    LONG_OK("1", 1, 999999999, 1);
    LONG_OK("50", 1, 999999999, 50);
    LONG_OK("999999999", 1, 999999999, 999999999);
    LONG_OK("007", 1, 999999999, 7);
    LONG_BAD("0", 1, 999999999);
    LONG_BAD("1000000000", 1, 999999999);

    LONG_OK("0", 0, 0, 0);
    LONG_OK("10", 10, 20, 10);
    LONG_OK("20", 10, 20, 20);
    LONG_BAD("9", 10, 20);
    LONG_BAD("21", 10, 20);

    /* the longest accepted input */
    LONG_OK("999999999999999999", 0, LONG_MAX, 999999999999999999L);
}


static void
test_parse_long_rejects(void **state)
{
    (void) state;

    LONG_BAD("", 0, LONG_MAX);
    LONG_BAD("-1", LONG_MIN, LONG_MAX);
    LONG_BAD("+1", 0, LONG_MAX);
    LONG_BAD(" 1", 0, LONG_MAX);
    LONG_BAD("1 ", 0, LONG_MAX);
    LONG_BAD("1a", 0, LONG_MAX);
    LONG_BAD("a1", 0, LONG_MAX);
    LONG_BAD("0x10", 0, LONG_MAX);
    LONG_BAD("1.5", 0, LONG_MAX);
    LONG_BAD("1e3", 0, LONG_MAX);
    LONG_BAD("1\0", 0, LONG_MAX);
    LONG_BAD("\xd9\xa1", 0, LONG_MAX);      /* ARABIC-INDIC DIGIT ONE */

    /* 19 digits and more: rejected before anything can overflow */
    LONG_BAD("1000000000000000000", 0, LONG_MAX);
    LONG_BAD("0000000000000000001", 0, LONG_MAX);
    LONG_BAD("9223372036854775807", 0, LONG_MAX);
    LONG_BAD("9223372036854775808", 0, LONG_MAX);
    LONG_BAD("99999999999999999999999999999999999999", 0, LONG_MAX);
}


static void
test_sort_accepts(void **state)
{
    size_t              i;
    ngx_payout_page_t   page;

    static const struct {
        const char  *in;
        const char  *column;
        int          desc;
    } sorts[] = {
        { "id:ASC", "id", 0 },
        { "id:DESC", "id", 1 },
        { "created_at:ASC", "created_at", 0 },
        { "created_at:DESC", "created_at", 1 },
        { "amount:ASC", "amount", 0 },
        { "amount:DESC", "amount", 1 },
    };

    (void) state;

    for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
        page.nsort = 0;

        assert_int_equal(ngx_payout_page_parse_sort(
                             (const unsigned char *) sorts[i].in,
                             strlen(sorts[i].in), &page),
                         NGX_PAYOUT_OK);

        /* a NUL-terminated whitelisted name, not a pointer into the input */
        assert_int_equal(page.nsort, 1);
        assert_string_equal(page.sort[0].column, sorts[i].column);
        assert_true(page.sort[0].column != sorts[i].in);
        assert_int_equal(page.sort[0].desc, sorts[i].desc);
    }

    /* only len bytes are looked at */
    page.nsort = 0;
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("id:ASC"), &page),
                     NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_page_parse_sort(
                         (const unsigned char *) "amount:DESCxyz", 11, &page),
                     NGX_PAYOUT_OK);
    assert_int_equal(page.nsort, 2);
    assert_string_equal(page.sort[1].column, "amount");
    assert_int_equal(page.sort[1].desc, 1);
}


/* several sortBy apply in order; a column sorts once */

static void
test_sort_several(void **state)
{
    ngx_payout_page_t  page;

    (void) state;

    page.nsort = 0;

    assert_int_equal(ngx_payout_page_parse_sort(
                         UNIT_STR("created_at:ASC"), &page), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("amount:DESC"),
                                                &page), NGX_PAYOUT_OK);

    /* the same column again, whatever the direction, changes nothing */
    assert_int_equal(ngx_payout_page_parse_sort(
                         UNIT_STR("created_at:DESC"), &page),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("amount:DESC"),
                                                &page), NGX_PAYOUT_ERROR);
    assert_int_equal(page.nsort, 2);

    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("id:ASC"), &page),
                     NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("id:ASC"), &page),
                     NGX_PAYOUT_ERROR);

    assert_int_equal(page.nsort, 3);
    assert_string_equal(page.sort[0].column, "created_at");
    assert_int_equal(page.sort[0].desc, 0);
    assert_string_equal(page.sort[1].column, "amount");
    assert_int_equal(page.sort[1].desc, 1);
    assert_string_equal(page.sort[2].column, "id");
    assert_int_equal(page.sort[2].desc, 0);
}


static void
test_sort_rejects(void **state)
{
    size_t              i;
    ngx_payout_page_t   page;

    static const char  *bad[] = {
        "", ":", "id", "id:", ":ASC", "id:asc", "id:Asc", "id:desc",
        "ID:ASC", "foo:ASC", "id:ASC:x", "id;DROP:ASC", "id :ASC",
        "id: ASC", "id:ASC ", " id:ASC", "id:ASCENDING", "id:DES",
        "created_at", "created:ASC", "amounts:ASC", "amount:",
        "payouts.id:ASC", "id,amount:ASC"
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        page.nsort = 1;
        page.sort[0].column = "amount";
        page.sort[0].desc = 1;

        assert_int_equal(ngx_payout_page_parse_sort(
                             (const unsigned char *) bad[i], strlen(bad[i]),
                             &page),
                         NGX_PAYOUT_ERROR);

        /* the keys parsed before survive a bad value */
        assert_int_equal(page.nsort, 1);
        assert_string_equal(page.sort[0].column, "amount");
        assert_int_equal(page.sort[0].desc, 1);
    }

    /* NUL bytes do not truncate the comparison */
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("id\0:ASC"), &page),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("id:ASC\0"), &page),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_page_parse_sort(UNIT_STR("id:\0ASC"), &page),
                     NGX_PAYOUT_ERROR);
}


int
run_query_tests(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_parse_long_bounds),
        cmocka_unit_test(test_parse_long_rejects),
        cmocka_unit_test(test_sort_accepts),
        cmocka_unit_test(test_sort_rejects),
        cmocka_unit_test(test_sort_several),
    };

    return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
