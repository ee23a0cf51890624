/*
 * Validation of POST /payouts and POST /payout-recipients bodies: seed
 * 004's fields, their types and formats, and its one-of recipient rules.
 * This file holds the engine and its primitives; the fields of each
 * request live with their concern (ngx_payout_validate_field.h).
 *
 * Each request has a table of its fields; the table is both the list of
 * known fields (anything else is a typo we report) and the order in which
 * fields are checked, so the first problem reported is deterministic:
 * unknown fields, then every field in table order, then the one-of rules.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ngx_payout_validate_field.h"


static int ngx_payout_string_valid(const ngx_payout_string_rule_t *rule,
    const char *name, const char *s, size_t len, ngx_payout_error_t *err);
static const char *ngx_payout_suggest(const ngx_payout_field_t *fields,
    const char *key, size_t len);
static size_t ngx_payout_distance(const char *a, size_t alen,
    const char *b, size_t blen);


const ngx_payout_string_rule_t  ngx_payout_rule_gateway = {
    NGX_PAYOUT_S_CLASS, 1, 32,
    NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_DIGIT, NGX_PAYOUT_C_SLUG,
    "1 to 32 lower-case letters, digits, '_' or '-', starting with a "
    "letter or digit"
};

const ngx_payout_string_rule_t  ngx_payout_rule_name = {
    NGX_PAYOUT_S_TEXT, 0, NGX_PAYOUT_NAME_LEN, 0, 0, NULL
};

const ngx_payout_string_rule_t  ngx_payout_rule_idempotency_key = {
    NGX_PAYOUT_S_ASCII, 1, 255, 0, 0,
    "1 to 255 printable ASCII characters without spaces"
};


int
ngx_payout_validate_fields(json_t *body, const ngx_payout_field_t *fields,
    void *out, ngx_payout_error_t *err)
{
    char                      quoted[NGX_PAYOUT_QUOTE_LEN + 4];
    size_t                    key_len;
    json_t                   *value;
    const char               *key, *hint;
    const ngx_payout_field_t *f;

    if (!json_is_object(body)) {
        return ngx_payout_fail(err, "invalid_parameter", NULL,
                               "The request body must be a JSON object.");
    }

    /* unknown fields first: a misspelt optional field must not vanish */

    json_object_foreach(body, key, value) {
        key_len = ngx_payout_key_len(key);

        for (f = fields; f->name; f++) {
            if (strlen(f->name) == key_len
                && memcmp(f->name, key, key_len) == 0)
            {
                break;
            }
        }

        if (f->name) {
            continue;
        }

        ngx_payout_quote(key, key_len, quoted);
        hint = ngx_payout_suggest(fields, key, key_len);

        if (hint) {
            return ngx_payout_fail(err, "unknown_parameter", key,
                                   "Unknown parameter \"%s\"; "
                                   "did you mean \"%s\"?", quoted, hint);
        }

        return ngx_payout_fail(err, "unknown_parameter", key,
                               "Unknown parameter \"%s\".", quoted);
    }

    for (f = fields; f->name; f++) {
        value = json_object_get(body, f->name);

        /* null is how many clients say "not set" */

        if (value == NULL || json_is_null(value)) {
            if (f->flags & NGX_PAYOUT_F_REQUIRED) {
                return ngx_payout_fail(err, "missing_parameter", f->name,
                                       "%s is required.", f->name);
            }

            continue;
        }

        if (f->check(value, f, (char *) out + f->offset, err)
            != NGX_PAYOUT_OK)
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_string(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t       len;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_string_valid(f->rule, f->name, s, len, err)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_string_value(json_t *value, const char *name, const char **s,
    size_t *len, ngx_payout_error_t *err)
{
    if (!json_is_string(value)) {
        return ngx_payout_type_error(err, name, "a string", value);
    }

    *s = json_string_value(value);
    *len = json_string_length(value);

    /* the rest of the system sees C strings: "a\u0000b" would be cut */

    if (strlen(*s) != *len) {
        return ngx_payout_fail(err, "invalid_parameter", name,
                               "%s must not contain NUL characters.", name);
    }

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_string_valid(const ngx_payout_string_rule_t *rule,
    const char *name, const char *s, size_t len, ngx_payout_error_t *err)
{
    size_t    i;
    unsigned  cls;

    switch (rule->kind) {

    case NGX_PAYOUT_S_CLASS:

        for (i = 0; i < len; i++) {
            cls = ngx_payout_char_class((unsigned char) s[i]);

            if (!(cls & (i == 0 ? rule->first : rule->rest))) {
                break;
            }
        }

        if (i < len || len < rule->min || len > rule->max) {
            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must be %s.", name, rule->what);
        }

        return NGX_PAYOUT_OK;

    case NGX_PAYOUT_S_ASCII:

        for (i = 0; i < len; i++) {
            if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e) {
                break;
            }
        }

        if (i < len || len < rule->min || len > rule->max) {
            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must be %s.", name, rule->what);
        }

        return NGX_PAYOUT_OK;

    default: /* NGX_PAYOUT_S_TEXT */

        if (len < rule->min || len > rule->max) {
            if (len == 0) {
                return ngx_payout_fail(err, "invalid_parameter", name,
                                       "%s must not be empty.", name);
            }

            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must be at most %zu bytes long.",
                                   name, rule->max);
        }

        if (ngx_payout_has_control(s, len)) {
            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must not contain control "
                                   "characters.", name);
        }

        return NGX_PAYOUT_OK;
    }
}


int
ngx_payout_max_len(const char *name, size_t len, size_t max,
    ngx_payout_error_t *err)
{
    if (len > max) {
        return ngx_payout_fail(err, "invalid_parameter", name,
                               "%s must be at most %zu bytes long.", name,
                               max);
    }

    return NGX_PAYOUT_OK;
}


/*
 * C0 controls, DEL, and C1 controls (U+0080..U+009F, 0xc2 0x80..0x9f in
 * UTF-8, which jansson guarantees): none belongs in a name or a narration
 * and some terminals and bank files interpret them.
 */

int
ngx_payout_has_control(const char *s, size_t len)
{
    size_t          i;
    unsigned char   c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c == 0x7f) {
            return 1;
        }

        if (c == 0xc2 && i + 1 < len
            && (unsigned char) s[i + 1] >= 0x80
            && (unsigned char) s[i + 1] <= 0x9f)
        {
            return 1;
        }
    }

    return 0;
}


unsigned
ngx_payout_char_class(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return NGX_PAYOUT_C_LOWER;
    }

    if (c >= 'A' && c <= 'Z') {
        return NGX_PAYOUT_C_UPPER;
    }

    if (c >= '0' && c <= '9') {
        return NGX_PAYOUT_C_DIGIT;
    }

    switch (c) {
    case '-':
        return NGX_PAYOUT_C_DASH;
    case '_':
        return NGX_PAYOUT_C_UNDER;
    case ' ':
        return NGX_PAYOUT_C_SPACE;
    default:
        return 0;
    }
}


/*
 * Keys may hold NUL since jansson 2.14; the configure check asks only for
 * 2.10, where they cannot.
 */

size_t
ngx_payout_key_len(const char *key)
{
#if JANSSON_VERSION_HEX >= 0x020e00
    return json_object_iter_key_len(json_object_key_to_iter(key));
#else
    return strlen(key);
#endif
}


const char *
ngx_payout_json_type_name(json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}


/*
 * Input quoted in a message: at most NGX_PAYOUT_QUOTE_LEN bytes, cut at
 * a UTF-8 character boundary (a cut character would make the whole
 * message invalid JSON text), control characters replaced.  buf must
 * have room for NGX_PAYOUT_QUOTE_LEN + 4 bytes.
 */

void
ngx_payout_quote(const char *s, size_t len, char *buf)
{
    size_t          i, n;
    unsigned char   c;

    n = len;

    if (n > NGX_PAYOUT_QUOTE_LEN) {
        n = NGX_PAYOUT_QUOTE_LEN;

        while (n && ((unsigned char) s[n] & 0xc0) == 0x80) {
            n--;
        }
    }

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];
        buf[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
                 ? '?' : (char) c;
    }

    if (n < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';
}


/* the known field nearest to a misspelt one, if it is near enough */

static const char *
ngx_payout_suggest(const ngx_payout_field_t *fields, const char *key,
    size_t len)
{
    size_t                     d, best_d;
    const char                *best;
    const ngx_payout_field_t  *f;

    if (len > 64) {
        return NULL;
    }

    best = NULL;
    best_d = 3;

    for (f = fields; f->name; f++) {
        d = ngx_payout_distance(key, len, f->name, strlen(f->name));

        if (d < best_d) {
            best_d = d;
            best = f->name;
        }
    }

    /* "amout" -> "amount"; but "id" is not a typo of "tenant" */

    if (best && best_d * 3 > len) {
        return NULL;
    }

    return best;
}


/* Levenshtein distance, case-insensitive; both lengths at most 64 */

static size_t
ngx_payout_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i, j, prev, cur, sub, row[65];

    for (j = 0; j <= blen; j++) {
        row[j] = j;
    }

    for (i = 1; i <= alen; i++) {
        prev = row[0];
        row[0] = i;

        for (j = 1; j <= blen; j++) {
            sub = prev + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
            cur = row[j] + 1;

            if (row[j - 1] + 1 < cur) {
                cur = row[j - 1] + 1;
            }

            if (sub < cur) {
                cur = sub;
            }

            prev = row[j];
            row[j] = cur;
        }
    }

    return row[blen];
}


int
ngx_payout_type_error(ngx_payout_error_t *err, const char *name,
    const char *expected, json_t *value)
{
    return ngx_payout_fail(err, "invalid_parameter", name,
                           "%s must be %s, not %s.", name, expected,
                           ngx_payout_json_type_name(value));
}


int
ngx_payout_fail(ngx_payout_error_t *err, const char *code, const char *field,
    const char *fmt, ...)
{
    va_list  args;

    err->code = code;
    err->field = field;

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);

    return NGX_PAYOUT_ERROR;
}
