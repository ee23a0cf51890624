/*
 * JSON error bodies and strict parsing of request bodies.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"


/*
 * Parses an error body and checks it is exactly
 * {"error":{"code":code,"message":message[,"field":field]}}.
 */

static void
assert_error_body(const char *body, size_t len, const char *code,
    const char *message, const char *field)
{
    json_t        *root, *err;
    json_error_t   jerr;

    assert_non_null(body);
    assert_int_equal(len, strlen(body));

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(root);
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 1);

    err = json_object_get(root, "error");
    assert_true(json_is_object(err));
    assert_int_equal(json_object_size(err), field ? 3 : 2);

    assert_string_equal(json_string_value(json_object_get(err, "code")),
                        code);
    assert_string_equal(json_string_value(json_object_get(err, "message")),
                        message);

    if (field) {
        assert_string_equal(json_string_value(json_object_get(err, "field")),
                            field);

    } else {
        assert_null(json_object_get(err, "field"));
    }

    json_decref(root);
}


static void
test_error_without_field(void **state)
{
    char    *body;
    size_t   len;

    (void) state;

    body = ngx_payout_json_error("not_found", "No such resource.", NULL,
                                 &len);
    assert_error_body(body, len, "not_found", "No such resource.", NULL);

    /* compact: no whitespace between tokens */
    assert_string_equal(body, "{\"error\":{\"code\":\"not_found\","
                              "\"message\":\"No such resource.\"}}");
    free(body);

    /* len is optional */
    body = ngx_payout_json_error("bad_request", "x", NULL, NULL);
    assert_non_null(body);
    free(body);
}


static void
test_error_with_field(void **state)
{
    char    *body;
    size_t   len;

    (void) state;

    body = ngx_payout_json_error("invalid_parameter",
                                 "limit must be a positive integer.",
                                 "limit", &len);
    assert_error_body(body, len, "invalid_parameter",
                      "limit must be a positive integer.", "limit");
    free(body);
}


static void
test_error_escapes(void **state)
{
    char        *body;
    size_t       len;
    const char  *msg;

    (void) state;

    msg = "say \"hi\" \\ </script>\n\ttab \x01 caf\xc3\xa9";

    body = ngx_payout_json_error("bad\"code", msg, "a\"b", &len);
    assert_error_body(body, len, "bad\"code", msg, "a\"b");

    /* quotes are escaped, control characters are not emitted raw */
    assert_non_null(strstr(body, "say \\\"hi\\\""));
    assert_null(strchr(body, '\n'));
    assert_null(strchr(body, '\t'));
    assert_null(strchr(body, '\x01'));
    free(body);
}


static void
test_error_invalid_utf8(void **state)
{
    int      complete;
    char    *body;
    size_t   len;
    json_t  *root, *err;

    (void) state;

    /*
     * A message that is not UTF-8 (the parse error quotes the request body,
     * and snprintf() may cut it inside a character) must not yield an error
     * body without a message: either NULL (the caller answers 500) or a
     * body with both code and message.
     */

    body = ngx_payout_json_error("invalid_json", "near '\"\xc3", NULL, &len);

    if (body == NULL) {
        return;
    }

    root = json_loadb(body, len, 0, NULL);
    assert_non_null(root);
    err = json_object_get(root, "error");

    complete = json_is_string(json_object_get(err, "code"))
               && json_is_string(json_object_get(err, "message"));

    json_decref(root);
    free(body);

    /* a message cut mid-character must not lose the member */
    assert_true(complete);
}


static void
test_error_code_for_status(void **state)
{
    size_t  i;

    static const struct {
        int          status;
        const char  *code;
    } codes[] = {
        { 400, "bad_request" },
        { 401, "unauthorized" },
        { 404, "not_found" },
        { 405, "method_not_allowed" },
        { 413, "body_too_large" },
        { 415, "unsupported_media_type" },
        { 429, "rate_limited" },
        { 500, "internal_error" },
        { 503, "service_unavailable" },
        /* unknown: by class */
        { 418, "bad_request" },
        { 599, "internal_error" },
    };

    (void) state;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_string_equal(ngx_payout_error_code_for_status(codes[i].status),
                            codes[i].code);
        assert_true(
            ngx_payout_error_message_for_status(codes[i].status)[0] != '\0');
    }

    assert_string_equal(ngx_payout_error_message_for_status(418),
                        ngx_payout_error_message_for_status(400));
    assert_string_equal(ngx_payout_error_message_for_status(599),
                        ngx_payout_error_message_for_status(500));
}


/* parses a body from an exact-size heap copy, so over-reads trip ASAN */

static json_t *
parse(const char *body, size_t len, char *err, size_t err_size)
{
    char    *copy;
    json_t  *json;

    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, body, len);

    err[0] = '\0';
    json = ngx_payout_json_parse_body((unsigned char *) copy, len, err,
                                      err_size);
    free(copy);

    if (json == NULL) {
        /* a rejection always explains itself */
        assert_true(err[0] != '\0');
    }

    return json;
}


#define PARSE(s, err)  parse(s, sizeof(s) - 1, err, sizeof(err))


static void
test_parse_valid_object(void **state)
{
    char     err[256];
    json_t  *json;

    (void) state;

    json = PARSE(" \r\n\t{\"amount\": 1050, \"currency\": \"EUR\",\n"
                 "  \"meta\": {\"k\": [1, \"caf\xc3\xa9\"]}} \n", err);
    assert_non_null(json);
    assert_true(json_is_object(json));
    assert_int_equal(json_integer_value(json_object_get(json, "amount")),
                     1050);
    assert_string_equal(json_string_value(json_object_get(json, "currency")),
                        "EUR");
    json_decref(json);

    json = PARSE("{}", err);
    assert_non_null(json);
    assert_int_equal(json_object_size(json), 0);
    json_decref(json);
}


static void
test_parse_duplicate_keys(void **state)
{
    char     err[256];
    json_t  *json;

    (void) state;

    json = PARSE("{\"amount\":1,\"amount\":2}", err);
    assert_null(json);
    assert_non_null(strstr(err, "duplicate"));

    /* nested, and spelt differently */
    assert_null(PARSE("{\"a\":{\"b\":1,\"b\":1}}", err));
    assert_non_null(strstr(err, "duplicate"));

    assert_null(PARSE("{\"a\":1,\"\\u0061\":2}", err));
    assert_non_null(strstr(err, "duplicate"));
}


static void
test_parse_not_an_object(void **state)
{
    char     err[256];
    size_t   i;

    static const char  *bodies[] = {
        "[]", "[{\"a\":1}]", "\"str\"", "1", "-1.5", "true", "false", "null"
    };

    (void) state;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_null(parse(bodies[i], strlen(bodies[i]), err, sizeof(err)));
    }

    assert_null(PARSE("[1,2]", err));
    assert_string_equal(err, "The request body must be a JSON object.");
}


static void
test_parse_empty(void **state)
{
    char  err[256];

    (void) state;

    assert_null(parse("", 0, err, sizeof(err)));
    assert_non_null(strstr(err, "empty"));

    assert_null(PARSE(" \n ", err));
}


static void
test_parse_malformed(void **state)
{
    char  err[256];

    (void) state;

    assert_null(PARSE("{\"a\":}", err));
    assert_non_null(strstr(err, "line 1, column 6"));

    assert_null(PARSE("{\n  \"a\": 1,\n  \"b\" 2\n}", err));
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "column"));

    /* truncated, trailing garbage, two documents, comments, trailing comma */
    assert_null(PARSE("{\"a\":1", err));
    assert_null(PARSE("{\"a\":1} x", err));
    assert_null(PARSE("{}{}", err));
    assert_null(PARSE("{} // c", err));
    assert_null(PARSE("{\"a\":1,}", err));
    assert_null(PARSE("{'a':1}", err));
    assert_null(PARSE("{a:1}", err));
    assert_null(PARSE("{\"a\":NaN}", err));

    /* amounts that do not fit an integer are not silently rounded */
    assert_null(PARSE("{\"amount\":99999999999999999999}", err));
}


static void
test_parse_invalid_utf8(void **state)
{
    char  err[256];

    (void) state;

    assert_null(PARSE("{\"a\":\"\xff\"}", err));
    assert_null(PARSE("{\"a\":\"\xc3\"}", err));            /* truncated */
    assert_null(PARSE("{\"a\":\"\xc0\xaf\"}", err));        /* overlong */
    assert_null(PARSE("{\"a\":\"\xed\xa0\x80\"}", err));    /* surrogate */
    assert_null(PARSE("{\"\xfe\":1}", err));                /* in a key */
    assert_null(PARSE("{\"a\":\"\\ud800\"}", err));         /* lone escape */
}


static void
test_parse_nul(void **state)
{
    char  err[256];

    (void) state;

    assert_null(PARSE("{\"a\":\"b\0c\"}", err));
    assert_null(PARSE("{\"a\":1}\0", err));
    assert_null(PARSE("{\"a\":\"\\u0000\"}", err));
}


static void
test_parse_deep_nesting(void **state)
{
    char    *body, err[256];
    size_t   i, n;

    (void) state;

    /* {"a":[[[[...  100000 levels: rejected, not a stack overflow */
    n = 100000;
    body = malloc(n + 5);
    assert_non_null(body);

    memcpy(body, "{\"a\":", 5);

    for (i = 0; i < n; i++) {
        body[5 + i] = '[';
    }

    assert_null(parse(body, n + 5, err, sizeof(err)));
    free(body);
}


static void
test_parse_small_err_buffer(void **state)
{
    char  err[16];

    (void) state;

    /* the message is cut to fit and stays terminated */
    memset(err, 'X', sizeof(err));
    assert_null(parse("{\"a\":}", 6, err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1);

    memset(err, 'X', sizeof(err));
    assert_null(parse("", 0, err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1);
}


int
run_json_tests(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_error_without_field),
        cmocka_unit_test(test_error_with_field),
        cmocka_unit_test(test_error_escapes),
        cmocka_unit_test(test_error_invalid_utf8),
        cmocka_unit_test(test_error_code_for_status),
        cmocka_unit_test(test_parse_valid_object),
        cmocka_unit_test(test_parse_duplicate_keys),
        cmocka_unit_test(test_parse_not_an_object),
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_invalid_utf8),
        cmocka_unit_test(test_parse_nul),
        cmocka_unit_test(test_parse_deep_nesting),
        cmocka_unit_test(test_parse_small_err_buffer),
    };

    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
