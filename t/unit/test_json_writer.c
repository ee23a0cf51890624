/*
 * JSON written as text (ngx_payout_json_writer): strings escaped as
 * jansson escapes them and always valid UTF-8, integers, compacted JSON
 * text; the counting pass gives the length the writing pass writes, and
 * nothing is written outside it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_payout_json_writer.h"


#define JW_CANARY  0xa5
#define JW_BUF     512

/* a writer's call on a (text, length) pair: _raw, _string, _compact */
typedef void (*jw_write_pt)(ngx_payout_json_writer_t *w, const char *s,
    size_t len);

#define JW(write, in, want)                                                 \
    jw_expect(write, in, sizeof(in) - 1, want, sizeof(want) - 1)

/* U+FFFD REPLACEMENT CHARACTER */
#define FFFD  "\xef\xbf\xbd"


static void jw_expect(jw_write_pt write, const char *in, size_t len,
    const char *want, size_t want_len);
static void jw_expect_int(int64_t v, const char *want);
static void jw_expect_canary(const unsigned char *buf, size_t len);
static int jw_grow(ngx_payout_json_writer_t *w, size_t need);


/*
 * Counts, then writes into a buffer of exactly the length counted that
 * has canary bytes on either side: the same length, the expected bytes,
 * and both canaries intact.
 */

static void
jw_expect(jw_write_pt write, const char *in, size_t len, const char *want,
    size_t want_len)
{
    unsigned char             buf[JW_BUF];
    ngx_payout_json_writer_t  w = { 0 };

    w.p = NULL;
    w.len = 0;
    write(&w, in, len);
    assert_int_equal(w.len, want_len);

    assert_true(want_len + 2 <= sizeof(buf));
    memset(buf, JW_CANARY, sizeof(buf));

    w.p = buf + 1;
    w.len = 0;
    write(&w, in, len);
    assert_int_equal(w.len, want_len);
    assert_memory_equal(buf + 1, want, want_len);

    jw_expect_canary(buf, want_len);
}


static void
jw_expect_int(int64_t v, const char *want)
{
    size_t                    n;
    unsigned char             buf[JW_BUF];
    ngx_payout_json_writer_t  w = { 0 };

    n = strlen(want);

    w.p = NULL;
    w.len = 0;
    ngx_payout_jw_int(&w, v);
    assert_int_equal(w.len, n);

    memset(buf, JW_CANARY, sizeof(buf));

    w.p = buf + 1;
    w.len = 0;
    ngx_payout_jw_int(&w, v);
    assert_int_equal(w.len, n);
    assert_memory_equal(buf + 1, want, n);

    jw_expect_canary(buf, n);
}


/* buf[0] and everything after the len bytes at buf + 1 untouched */

static void
jw_expect_canary(const unsigned char *buf, size_t len)
{
    size_t  i;

    assert_int_equal(buf[0], JW_CANARY);

    for (i = 1 + len; i < JW_BUF; i++) {
        assert_int_equal(buf[i], JW_CANARY);
    }
}


static void
test_jw_string_ascii(void **state)
{
    (void) state;

    JW(ngx_payout_jw_string, "", "\"\"");
    JW(ngx_payout_jw_string, "abc", "\"abc\"");
    JW(ngx_payout_jw_string, "payout 42: ok!", "\"payout 42: ok!\"");

    /* '/' and DEL are not escaped, as jansson leaves them */
    JW(ngx_payout_jw_string, "a/b", "\"a/b\"");
    JW(ngx_payout_jw_string, "\x7f", "\"\x7f\"");
    JW(ngx_payout_jw_string, "~\x7f/", "\"~\x7f/\"");
}


static void
test_jw_string_escapes(void **state)
{
    (void) state;

    JW(ngx_payout_jw_string, "\"", "\"\\\"\"");
    JW(ngx_payout_jw_string, "\\", "\"\\\\\"");
    JW(ngx_payout_jw_string, "a\"b\\c", "\"a\\\"b\\\\c\"");
    JW(ngx_payout_jw_string, "\n", "\"\\n\"");
    JW(ngx_payout_jw_string, "\t", "\"\\t\"");
    JW(ngx_payout_jw_string, "\r", "\"\\r\"");
    JW(ngx_payout_jw_string, "\b", "\"\\b\"");
    JW(ngx_payout_jw_string, "\f", "\"\\f\"");
    JW(ngx_payout_jw_string, "a\r\nb\tc", "\"a\\r\\nb\\tc\"");

    /* other control characters: \u00XX, upper-case hex */
    JW(ngx_payout_jw_string, "\x01", "\"\\u0001\"");
    JW(ngx_payout_jw_string, "\x1f", "\"\\u001F\"");
    JW(ngx_payout_jw_string, "\x0b" "x\x1b", "\"\\u000Bx\\u001B\"");

    /* an embedded NUL */
    JW(ngx_payout_jw_string, "\0", "\"\\u0000\"");
    JW(ngx_payout_jw_string, "a\0b", "\"a\\u0000b\"");
}


/* every ASCII character, alone and in a run, as json_dumpb() writes it */

static void
test_jw_string_as_jansson(void **state)
{
    char                      in[128], want[1024];
    size_t                    i, n;
    json_t                   *s;
    unsigned char             buf[1024];
    ngx_payout_json_writer_t  w = { 0 };

    (void) state;

    for (i = 0; i < 128; i++) {
        in[i] = (char) i;

        s = json_stringn(in + i, 1);
        assert_non_null(s);
        n = json_dumpb(s, want, sizeof(want), JSON_ENCODE_ANY);
        json_decref(s);
        assert_true(n > 0 && n <= sizeof(want));

        jw_expect(ngx_payout_jw_string, in + i, 1, want, n);
    }

    s = json_stringn(in, sizeof(in));
    assert_non_null(s);
    n = json_dumpb(s, want, sizeof(want), JSON_ENCODE_ANY);
    json_decref(s);
    assert_true(n > 0 && n <= sizeof(want));

    w.p = NULL;
    w.len = 0;
    ngx_payout_jw_string(&w, in, sizeof(in));
    assert_int_equal(w.len, n);

    w.p = buf;
    w.len = 0;
    ngx_payout_jw_string(&w, in, sizeof(in));
    assert_int_equal(w.len, n);
    assert_memory_equal(buf, want, n);
}


static void
test_jw_string_utf8(void **state)
{
    (void) state;

    /* 2, 3 and 4 bytes: é, €, U+1F600 */
    JW(ngx_payout_jw_string, "\xc3\xa9", "\"\xc3\xa9\"");
    JW(ngx_payout_jw_string, "\xe2\x82\xac", "\"\xe2\x82\xac\"");
    JW(ngx_payout_jw_string, "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
    JW(ngx_payout_jw_string, "caf\xc3\xa9 \xe2\x82\xac" "5",
       "\"caf\xc3\xa9 \xe2\x82\xac" "5\"");

    /* the bounds of each length, and either side of the surrogates */
    JW(ngx_payout_jw_string, "\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");
    JW(ngx_payout_jw_string, "\xe0\xa0\x80\xef\xbf\xbf",
       "\"\xe0\xa0\x80\xef\xbf\xbf\"");
    JW(ngx_payout_jw_string, "\xed\x9f\xbf\xee\x80\x80",
       "\"\xed\x9f\xbf\xee\x80\x80\"");
    JW(ngx_payout_jw_string, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
       "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");

    /* U+FFFD itself, U+2028 */
    JW(ngx_payout_jw_string, FFFD "\xe2\x80\xa8", "\"" FFFD "\xe2\x80\xa8\"");
}


/* each byte that does not start a well-formed sequence: one U+FFFD */

static void
test_jw_string_invalid_utf8(void **state)
{
    (void) state;

    /* a lone continuation byte, bytes never in UTF-8 */
    JW(ngx_payout_jw_string, "\x80", "\"" FFFD "\"");
    JW(ngx_payout_jw_string, "a\x80" "b", "\"a" FFFD "b\"");
    JW(ngx_payout_jw_string, "\xbf\xfe\xff", "\"" FFFD FFFD FFFD "\"");

    /* overlong forms */
    JW(ngx_payout_jw_string, "\xc0\x80", "\"" FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xc1\xbf", "\"" FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xf0\x8f\xbf\xbf",
       "\"" FFFD FFFD FFFD FFFD "\"");

    /* a surrogate, past U+10FFFF, no such lead byte */
    JW(ngx_payout_jw_string, "\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xf4\x90\x80\x80",
       "\"" FFFD FFFD FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xf5\x80\x80\x80",
       "\"" FFFD FFFD FFFD FFFD "\"");

    /* cut short by the end of the input, or by ASCII that stays */
    JW(ngx_payout_jw_string, "x\xe2\x82", "\"x" FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xf0\x9f\x98", "\"" FFFD FFFD FFFD "\"");
    JW(ngx_payout_jw_string, "\xc3", "\"" FFFD "\"");
    JW(ngx_payout_jw_string, "\xe2\x82z", "\"" FFFD FFFD "z\"");
    JW(ngx_payout_jw_string, "\xc3\"", "\"" FFFD "\\\"\"");

    /* a valid character right after an invalid byte is kept */
    JW(ngx_payout_jw_string, "\xe2\xc3\xa9", "\"" FFFD "\xc3\xa9\"");
    JW(ngx_payout_jw_string, "\x80\0", "\"" FFFD "\\u0000\"");
}


/* the output parses, as the input itself when that was valid UTF-8 */

static void
test_jw_string_parses(void **state)
{
    size_t                    i;
    json_t                   *v;
    unsigned char             buf[256];
    json_error_t              err;
    ngx_payout_json_writer_t  w = { 0 };

    static const struct {
        const char  *in;
        size_t       len;
        const char  *out;
        size_t       out_len;
    } cases[] = {
#define C(in, out)  { in, sizeof(in) - 1, out, sizeof(out) - 1 }
        C("a\"b\\c\n\x01\x1f\x7f/", "a\"b\\c\n\x01\x1f\x7f/"),
        C("a\0b", "a\0b"),
        C("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
          "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
        C("\xc0\x80\xed\xa0\x80x\xe2\x82", FFFD FFFD FFFD FFFD FFFD "x"
          FFFD FFFD),
#undef C
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        w.p = buf;
        w.len = 0;
        ngx_payout_jw_string(&w, cases[i].in, cases[i].len);
        assert_true(w.len <= sizeof(buf));

        v = json_loadb((const char *) buf, w.len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        assert_non_null(v);
        assert_true(json_is_string(v));
        assert_int_equal(json_string_length(v), cases[i].out_len);
        assert_memory_equal(json_string_value(v), cases[i].out,
                            cases[i].out_len);
        json_decref(v);
    }
}


static void
test_jw_raw(void **state)
{
    (void) state;

    JW(ngx_payout_jw_raw, "", "");
    JW(ngx_payout_jw_raw, "{\"id\":", "{\"id\":");

    /* copied as they are, NUL and invalid bytes too */
    JW(ngx_payout_jw_raw, "a\0\x80\"", "a\0\x80\"");
}


static void
test_jw_int(void **state)
{
    char     want[32];
    int64_t  v;

    (void) state;

    jw_expect_int(0, "0");
    jw_expect_int(-1, "-1");
    jw_expect_int(1, "1");
    jw_expect_int(42, "42");
    jw_expect_int(-42, "-42");
    jw_expect_int(10, "10");
    jw_expect_int(-100, "-100");
    jw_expect_int(INT64_MAX, "9223372036854775807");
    jw_expect_int(INT64_MAX - 1, "9223372036854775806");
    jw_expect_int(INT64_MIN, "-9223372036854775808");
    jw_expect_int(INT64_MIN + 1, "-9223372036854775807");

    /* each power of ten and its neighbours, either sign, as printf() */
    for (v = 1; v <= INT64_MAX / 10; v *= 10) {
        snprintf(want, sizeof(want), "%lld", (long long) v);
        jw_expect_int(v, want);
        snprintf(want, sizeof(want), "%lld", (long long) (v - 1));
        jw_expect_int(v - 1, want);
        snprintf(want, sizeof(want), "%lld", (long long) -v);
        jw_expect_int(-v, want);
        snprintf(want, sizeof(want), "%lld", (long long) (-v + 1));
        jw_expect_int(-v + 1, want);
    }
}


static void
test_jw_compact(void **state)
{
    (void) state;

    JW(ngx_payout_jw_compact,
       "{\"a\": 1, \"b\" : [1, 2], \"s\": \"x y \\\" z\"}",
       "{\"a\":1,\"b\":[1,2],\"s\":\"x y \\\" z\"}");

    /* every kind of white space between tokens, around the value */
    JW(ngx_payout_jw_compact, " \t\r\n{ \"k\"\t:\n[ true ,\r\nnull ] }\n ",
       "{\"k\":[true,null]}");
    JW(ngx_payout_jw_compact, "  42  ", "42");
    JW(ngx_payout_jw_compact, "\" \"", "\" \"");
    JW(ngx_payout_jw_compact, " \" a \" ", "\" a \"");
    JW(ngx_payout_jw_compact, "", "");
    JW(ngx_payout_jw_compact, " \n\t\r ", "");
    JW(ngx_payout_jw_compact, "{}", "{}");
    JW(ngx_payout_jw_compact, "[ ]", "[]");
    JW(ngx_payout_jw_compact, "[-1.5e+3, 0 ,\"\"]", "[-1.5e+3,0,\"\"]");

    /* a string ending in an escaped backslash ends at its quote */
    JW(ngx_payout_jw_compact, "[\"a\\\\\" , 1]", "[\"a\\\\\",1]");
    JW(ngx_payout_jw_compact, "[\"a\\\\\\\\\" , 1]",
       "[\"a\\\\\\\\\",1]");
    JW(ngx_payout_jw_compact, "{\"k\\\\\" : \"\\\\\" , \"w\" : \" \"}",
       "{\"k\\\\\":\"\\\\\",\"w\":\" \"}");

    /* an escaped quote, then white space still inside the string */
    JW(ngx_payout_jw_compact, "[\"\\\" \" , \" \\\"\"]",
       "[\"\\\" \",\" \\\"\"]");
    JW(ngx_payout_jw_compact, "\"\\\\\\\" x\"", "\"\\\\\\\" x\"");

    /* other escapes and UTF-8 are copied as they are */
    JW(ngx_payout_jw_compact, "{ \"e\" : \"\\u00e9 \\/ \xc3\xa9\" }",
       "{\"e\":\"\\u00e9 \\/ \xc3\xa9\"}");
}


/* compacted text parses to the same value as the text */

static void
test_jw_compact_parses(void **state)
{
    size_t                    i;
    json_t                   *a, *b;
    unsigned char             buf[256];
    json_error_t              err;
    ngx_payout_json_writer_t  w = { 0 };

    static const char  *cases[] = {
        "{\"a\": 1, \"b\" : [1, 2], \"s\": \"x y \\\" z\"}",
        " [ \"a\\\\\" , 1 , { \"\\\\\" : [ ] } ] ",
        "{ \"n\" : null , \"t\" : true , \"f\" : false , \"r\" : 0.5 }",
        "\"  \\u0000 \\t  \"",
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        w.p = buf;
        w.len = 0;
        ngx_payout_jw_compact(&w, cases[i], strlen(cases[i]));
        assert_true(w.len <= sizeof(buf));
        assert_null(memchr(buf, '\n', w.len));

        a = json_loads(cases[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        assert_non_null(a);
        b = json_loadb((const char *) buf, w.len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        assert_non_null(b);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
    }
}


/* values one after the other in one writer: an object, as a row */

static void
test_jw_sequence(void **state)
{
    unsigned char             buf[JW_BUF];
    ngx_payout_json_writer_t  w = { 0 };

    static const char  want[] =
        "{\"id\":-9223372036854775808,\"name\":\"a\\\"b" FFFD "\","
        "\"meta\":{\"k\":[1,2]}}";

    (void) state;

    memset(buf, JW_CANARY, sizeof(buf));

    w.p = NULL;
    w.len = 0;

    for ( ;; ) {
        ngx_payout_jw_raw(&w, "{\"id\":", 6);
        ngx_payout_jw_int(&w, INT64_MIN);
        ngx_payout_jw_raw(&w, ",\"name\":", 8);
        ngx_payout_jw_string(&w, "a\"b\xff", 4);
        ngx_payout_jw_raw(&w, ",\"meta\":", 8);
        ngx_payout_jw_compact(&w, "{ \"k\": [1, 2] }", 15);
        ngx_payout_jw_raw(&w, "}", 1);

        assert_int_equal(w.len, sizeof(want) - 1);

        if (w.p != NULL) {
            break;
        }

        w.p = buf + 1;
        w.len = 0;
    }

    assert_memory_equal(buf + 1, want, sizeof(want) - 1);
    jw_expect_canary(buf, sizeof(want) - 1);
}


/* grow: room from realloc, as little as asked; or none (data non-NULL) */

static int
jw_grow(ngx_payout_json_writer_t *w, size_t need)
{
    unsigned char  *p;

    if (w->data != NULL) {
        return -1;
    }

    p = realloc(w->p, w->len + need);
    if (p == NULL) {
        return -1;
    }

    w->p = p;
    w->size = w->len + need;

    return 0;
}


static void
test_jw_grow(void **state)
{
    int                        i;
    unsigned char             *start;
    ngx_payout_json_writer_t   w = { 0 };

    static const char  want[] = "[\"a\\\"b\",-7,{\"k\":[1,2]}]";

    (void) state;

    /* one pass, in a buffer of one byte that grows as it goes */
    for (i = 0; i < 3; i++) {
        w.p = malloc(1);
        assert_non_null(w.p);
        w.size = 1;
        w.len = 0;
        w.grow = jw_grow;

        ngx_payout_jw_raw(&w, "[", 1);
        ngx_payout_jw_string(&w, "a\"b", 3);
        ngx_payout_jw_raw(&w, ",", 1);
        ngx_payout_jw_int(&w, -7);
        ngx_payout_jw_raw(&w, ",", 1);
        ngx_payout_jw_compact(&w, "{ \"k\" : [1, 2] }", 16);
        ngx_payout_jw_raw(&w, "]", 1);

        assert_false(w.failed);
        assert_int_equal(w.len, sizeof(want) - 1);
        assert_memory_equal(w.p, want, w.len);
        assert_true(w.len <= w.size);
        free(w.p);
    }

    /* a grow that fails: failed set, nothing written past the room */
    start = malloc(4);
    assert_non_null(start);
    memset(start, JW_CANARY, 4);

    w.p = start;
    w.size = 2;
    w.len = 0;
    w.data = start;
    w.failed = 0;

    ngx_payout_jw_raw(&w, "[", 1);
    ngx_payout_jw_string(&w, "abc", 3);
    ngx_payout_jw_raw(&w, "]", 1);

    assert_true(w.failed);
    assert_true(w.len <= 2);
    assert_int_equal(start[2], JW_CANARY);
    assert_int_equal(start[3], JW_CANARY);
    free(start);
}


int
run_json_writer_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_jw_string_ascii),
        cmocka_unit_test(test_jw_string_escapes),
        cmocka_unit_test(test_jw_string_as_jansson),
        cmocka_unit_test(test_jw_string_utf8),
        cmocka_unit_test(test_jw_string_invalid_utf8),
        cmocka_unit_test(test_jw_string_parses),
        cmocka_unit_test(test_jw_raw),
        cmocka_unit_test(test_jw_int),
        cmocka_unit_test(test_jw_compact),
        cmocka_unit_test(test_jw_compact_parses),
        cmocka_unit_test(test_jw_sequence),
        cmocka_unit_test(test_jw_grow),
    };

    return cmocka_run_group_tests_name("json_writer", tests, NULL, NULL);
}
