/*
 * Strict JSON request bodies (ngx_payout_json_parse_body) and the JSON
 * error body built from its complaint.
 *
 * Invariants: an accepted body is an object, valid UTF-8 throughout, with
 * no NUL in any key or string; it is what a lax parse reads too, and
 * survives serialisation; the same body with one of its keys repeated is
 * refused; a refusal's message makes an error body that is valid JSON.
 */

#include "ngx_payout_core.h"

#include "fuzz.h"


static void fuzz_check_value(json_t *v, int depth);
static void fuzz_check_refusal(const char *msg);
static void fuzz_check_duplicate(json_t *body);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    msg[512];
    json_t *body, *lax;

    msg[0] = '\0';

    body = ngx_payout_json_parse_body(data, size, msg, sizeof(msg));

    if (body == NULL) {
        fuzz_check_refusal(msg);
        return 0;
    }

    FUZZ_CHECK(json_is_object(body));
    FUZZ_CHECK(fuzz_utf8_valid(data, size));
    fuzz_check_value(body, 0);

    /* strictness only ever refuses: what it accepts, a lax parse reads */

    lax = json_loadb((const char *) data, size, 0, NULL);
    FUZZ_CHECK(lax != NULL);
    FUZZ_CHECK(json_equal(body, lax));
    json_decref(lax);

    json_decref(fuzz_reparse(body));

    fuzz_check_duplicate(body);

    json_decref(body);

    return 0;
}


static void
fuzz_check_value(json_t *v, int depth)
{
    size_t       i;
    json_t      *m;
    const char  *key;

    FUZZ_CHECK(depth <= 4096);

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        json_object_foreach(v, key, m) {
            FUZZ_CHECK(fuzz_cstr_utf8(key));
#if JANSSON_VERSION_HEX >= 0x020e00
            FUZZ_CHECK(json_object_iter_key_len(json_object_key_to_iter(key))
                       == strlen(key));
#endif
            fuzz_check_value(m, depth + 1);
        }

        break;

    case JSON_ARRAY:
        json_array_foreach(v, i, m) {
            fuzz_check_value(m, depth + 1);
        }

        break;

    case JSON_STRING:
        FUZZ_CHECK(strlen(json_string_value(v)) == json_string_length(v));
        FUZZ_CHECK(fuzz_cstr_utf8(json_string_value(v)));
        break;

    default:
        break;
    }
}


/* the 400 the API answers with: valid JSON, the message if it can */

static void
fuzz_check_refusal(const char *msg)
{
    char        *body;
    size_t       len;
    json_t      *json;
    const char  *s;

    FUZZ_CHECK(msg[0] != '\0');

    body = ngx_payout_json_error("invalid_json", msg, NULL, &len);
    FUZZ_CHECK(body != NULL);
    FUZZ_CHECK(fuzz_utf8_valid((unsigned char *) body, len));

    json = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json != NULL);

    s = json_string_value(json_object_get(json_object_get(json, "error"),
                                          "message"));
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(!fuzz_cstr_utf8(msg) || strcmp(s, msg) == 0);

    json_decref(json);
    free(body);
}


/* {"k":null, ...the body's members...} where "k" is already a member */

static void
fuzz_check_duplicate(json_t *body)
{
    char        *text, *key, *dup, msg[512];
    size_t       len;
    json_t      *k, *again;
    const char  *first;
    void        *iter;

    iter = json_object_iter(body);
    if (iter == NULL) {
        return;
    }

    first = json_object_iter_key(iter);

    k = json_string(first);
    FUZZ_CHECK(k != NULL);
    key = json_dumps(k, JSON_ENCODE_ANY);
    FUZZ_CHECK(key != NULL);
    json_decref(k);

    text = json_dumps(body, JSON_COMPACT);
    FUZZ_CHECK(text != NULL && text[0] == '{');

    len = strlen(key) + strlen(text) + 16;
    dup = malloc(len);
    FUZZ_CHECK(dup != NULL);
    snprintf(dup, len, "{%s:null,%s", key, text + 1);

    again = ngx_payout_json_parse_body((unsigned char *) dup, strlen(dup),
                                       msg, sizeof(msg));
    FUZZ_CHECK(again == NULL);

    free(dup);
    free(text);
    free(key);
}
