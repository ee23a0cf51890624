/*
 * nestjs-paginate filters: the SQL and parameters of every operator, the
 * errors, LIKE escaping, limits, meta.filter, and that no input text ever
 * reaches the SQL.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_payout_filter.h"


#define FIRST  4     /* $1 tenant, $2 limit, $3 offset */


typedef struct {
    const char  *name;
    const char  *value;
    const char  *sql;
    const char  *params[4];     /* NULL-terminated */
} filter_case_t;


typedef struct {
    const char  *name;
    const char  *value;
    const char  *field;
    const char  *message;       /* a substring of err.message */
} filter_error_t;


static const ngx_payout_filter_column_t  columns[] = {
    { "status", "p.status", NGX_PAYOUT_FILTER_TEXT },
    { "amount", "p.amount", NGX_PAYOUT_FILTER_INT },
    { "recipient_uuid", "r.uuid", NGX_PAYOUT_FILTER_UUID },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { NULL, NULL, 0 }
};


#define UUID1  "123e4567-e89b-12d3-a456-426614174000"
#define UUID2  "76418B40-8E2D-47C3-AB2F-84E7347D9FCC"


static int add_len(ngx_payout_filter_t *f, const char *name,
    size_t name_len, const char *value, size_t value_len,
    ngx_payout_error_t *err);
static int add(ngx_payout_filter_t *f, const char *name, const char *value,
    ngx_payout_error_t *err);
static void assert_params(ngx_payout_filter_t *f, const char *const *want);
static void assert_meta(ngx_payout_filter_t *f, const char *json);
static void assert_unchanged(ngx_payout_filter_t *f, const char *sql,
    int nparams);
static void assert_error(ngx_payout_error_t *err, const char *field,
    const char *message);


/*
 * Exact-size heap copies, not NUL-terminated, as nginx's decoded args
 * are not: ASAN catches any read past either.
 */

static int
add_len(ngx_payout_filter_t *f, const char *name, size_t name_len,
    const char *value, size_t value_len, ngx_payout_error_t *err)
{
    int    rc;
    char  *n, *v;

    n = malloc(name_len ? name_len : 1);
    v = malloc(value_len ? value_len : 1);
    assert_non_null(n);
    assert_non_null(v);

    memcpy(n, name, name_len);
    memcpy(v, value, value_len);

    memset(err, 0, sizeof(*err));
    rc = ngx_payout_filter_add(f, n, name_len, v, value_len, err);

    free(n);
    free(v);

    return rc;
}


static int
add(ngx_payout_filter_t *f, const char *name, const char *value,
    ngx_payout_error_t *err)
{
    return add_len(f, name, strlen(name), value, strlen(value), err);
}


static void
assert_params(ngx_payout_filter_t *f, const char *const *want)
{
    int  i;

    for (i = 0; want[i]; i++) {
        assert_true(i < f->nparams);
        assert_non_null(f->params[i]);
        assert_string_equal(f->params[i], want[i]);
    }

    assert_int_equal(f->nparams, i);
}


static void
assert_meta(ngx_payout_filter_t *f, const char *json)
{
    json_t        *want;
    json_error_t   jerr;

    want = json_loads(json, 0, &jerr);
    assert_non_null(want);
    assert_non_null(f->meta);

    if (!json_equal(f->meta, want)) {
        char  *got;

        got = json_dumps(f->meta, JSON_SORT_KEYS);
        print_error("meta: got %s, want %s\n", got, json);
        free(got);
        fail();
    }

    json_decref(want);
}


static void
assert_unchanged(ngx_payout_filter_t *f, const char *sql, int nparams)
{
    int  i;

    assert_string_equal(f->sql, sql);
    assert_int_equal(f->sql_len, strlen(sql));
    assert_int_equal(f->nparams, nparams);

    for (i = nparams; i < NGX_PAYOUT_FILTER_MAX_PARAMS; i++) {
        assert_null(f->params[i]);
    }
}


static void
assert_error(ngx_payout_error_t *err, const char *field, const char *message)
{
    assert_non_null(err->code);

    /* a column not in the whitelist is an unknown parameter */
    assert_string_equal(err->code, strstr(message, "filterable columns")
                                   ? "unknown_parameter"
                                   : "invalid_parameter");
    assert_non_null(err->field);
    assert_string_equal(err->field, field);

    if (strstr(err->message, message) == NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", err->message, message);
        fail();
    }
}


static void
test_filter_empty(void **state)
{
    ngx_payout_filter_t  f;

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_string_equal(f.sql, "TRUE");
    assert_int_equal(f.sql_len, 4);
    assert_int_equal(f.nparams, 0);
    assert_int_equal(f.first_param, FIRST);
    assert_null(f.meta);

    ngx_payout_filter_free(&f);
    ngx_payout_filter_free(&f);    /* harmless twice */

    assert_string_equal(f.sql, "TRUE");
    assert_null(f.meta);
}


static void
test_filter_operators(void **state)
{
    size_t               i;
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const filter_case_t  cases[] = {

        /* $eq, bare values, $not */

        { "status", "$eq:success", "(p.status = $4::text)",
          { "success", NULL } },
        { "status", "success", "(p.status = $4::text)",
          { "success", NULL } },
        { "status", "$not:$eq:success", "(p.status <> $4::text)",
          { "success", NULL } },
        { "status", "$not:success", "(p.status <> $4::text)",
          { "success", NULL } },

        /* an operand is everything after the operator */
        { "status", "$eq:a,b", "(p.status = $4::text)", { "a,b", NULL } },
        { "status", "$eq:a:b", "(p.status = $4::text)", { "a:b", NULL } },
        { "status", "$eq:$foo", "(p.status = $4::text)",
          { "$foo", NULL } },
        { "status", "$eq:$not", "(p.status = $4::text)",
          { "$not", NULL } },
        { "status", "$not:$eq:$null", "(p.status <> $4::text)",
          { "$null", NULL } },
        { "status", "$5 off", "(p.status = $4::text)", { "$5 off", NULL } },
        { "status", "$", "(p.status = $4::text)", { "$", NULL } },
        { "status", "a b", "(p.status = $4::text)", { "a b", NULL } },

        /* $null */

        { "status", "$null", "(p.status IS NULL)", { NULL } },
        { "status", "$not:$null", "(p.status IS NOT NULL)", { NULL } },
        { "amount", "$null", "(p.amount IS NULL)", { NULL } },
        { "recipient_uuid", "$not:$null", "(r.uuid IS NOT NULL)", { NULL } },
        { "created_at", "$null", "(p.created_at IS NULL)", { NULL } },

        /* $in */

        { "status", "$in:a", "(p.status IN ($4::text))", { "a", NULL } },
        { "status", "$in:a,b,c",
          "(p.status IN ($4::text, $5::text, $6::text))",
          { "a", "b", "c", NULL } },
        { "status", "$not:$in:a,b", "(p.status NOT IN ($4::text, $5::text))",
          { "a", "b", NULL } },
        { "amount", "$in:1,-2", "(p.amount IN ($4::bigint, $5::bigint))",
          { "1", "-2", NULL } },
        { "recipient_uuid", "$in:" UUID1 "," UUID2,
          "(r.uuid IN ($4::uuid, $5::uuid))", { UUID1, UUID2, NULL } },
        { "created_at", "$in:2024-01-01",
          "(p.created_at IN ($4::timestamptz))", { "2024-01-01", NULL } },

        /* comparisons */

        { "amount", "$gt:100", "(p.amount > $4::bigint)", { "100", NULL } },
        { "amount", "$gte:-5", "(p.amount >= $4::bigint)", { "-5", NULL } },
        { "amount", "$lt:0", "(p.amount < $4::bigint)", { "0", NULL } },
        { "amount", "$lte:999999999999999999", "(p.amount <= $4::bigint)",
          { "999999999999999999", NULL } },
        { "amount", "$not:$gt:100", "(p.amount <= $4::bigint)",
          { "100", NULL } },
        { "amount", "$not:$gte:100", "(p.amount < $4::bigint)",
          { "100", NULL } },
        { "amount", "$not:$lt:100", "(p.amount >= $4::bigint)",
          { "100", NULL } },
        { "amount", "$not:$lte:100", "(p.amount > $4::bigint)",
          { "100", NULL } },
        { "amount", "$eq:-999999999999999999", "(p.amount = $4::bigint)",
          { "-999999999999999999", NULL } },
        { "amount", "250000", "(p.amount = $4::bigint)", { "250000", NULL } },
        { "status", "$gt:m", "(p.status > $4::text)", { "m", NULL } },
        { "created_at", "$lt:2024-01-31T13:45:00Z",
          "(p.created_at < $4::timestamptz)",
          { "2024-01-31T13:45:00Z", NULL } },
        { "created_at", "2024-02-29T12:00",
          "(p.created_at = $4::timestamptz)", { "2024-02-29T12:00", NULL } },

        /* $btw */

        { "amount", "$btw:1,5", "(p.amount BETWEEN $4::bigint AND $5::bigint)",
          { "1", "5", NULL } },
        { "amount", "$not:$btw:1,5",
          "(p.amount NOT BETWEEN $4::bigint AND $5::bigint)",
          { "1", "5", NULL } },
        { "created_at",
          "$btw:2024-01-01T00:00:00Z,2024-01-31T23:59:59.999999+01:00",
          "(p.created_at BETWEEN $4::timestamptz AND $5::timestamptz)",
          { "2024-01-01T00:00:00Z", "2024-01-31T23:59:59.999999+01:00",
            NULL } },
        { "status", "$btw:a,m", "(p.status BETWEEN $4::text AND $5::text)",
          { "a", "m", NULL } },

        /* text matching */

        { "status", "$ilike:suc", "(p.status ILIKE $4::text ESCAPE E'\\\\')",
          { "%suc%", NULL } },
        { "status", "$not:$ilike:suc",
          "(p.status NOT ILIKE $4::text ESCAPE E'\\\\')",
          { "%suc%", NULL } },
        { "status", "$sw:pend", "(p.status ILIKE $4::text ESCAPE E'\\\\')",
          { "pend%", NULL } },
        { "status", "$not:$sw:pend",
          "(p.status NOT ILIKE $4::text ESCAPE E'\\\\')",
          { "pend%", NULL } },
        { "status", "$contains:end", "(strpos(p.status, $4::text) > 0)",
          { "end", NULL } },
        { "status", "$not:$contains:end", "(strpos(p.status, $4::text) = 0)",
          { "end", NULL } },

        /* UUIDs */

        { "recipient_uuid", "$eq:" UUID1, "(r.uuid = $4::uuid)",
          { UUID1, NULL } },
        { "recipient_uuid", UUID2, "(r.uuid = $4::uuid)", { UUID2, NULL } },
        { "recipient_uuid", "$not:" UUID1, "(r.uuid <> $4::uuid)",
          { UUID1, NULL } },
        { "recipient_uuid", "$not:$in:" UUID1,
          "(r.uuid NOT IN ($4::uuid))", { UUID1, NULL } },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        if (add(&f, cases[i].name, cases[i].value, &err) != NGX_PAYOUT_OK) {
            print_error("%s=%s: %s\n", cases[i].name, cases[i].value,
                        err.message);
            fail();
        }

        assert_string_equal(f.sql, cases[i].sql);
        assert_int_equal(f.sql_len, strlen(cases[i].sql));
        assert_params(&f, cases[i].params);

        ngx_payout_filter_free(&f);
        assert_int_equal(f.nparams, 0);
        assert_null(f.meta);
    }
}


static void
test_filter_repeat_and(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *params[] = { "100", "500", "x", "7", NULL };

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "amount", "$gte:100", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql, "(p.amount >= $4::bigint)");

    assert_int_equal(add(&f, "amount", "$lt:500", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "status", "$eq:x", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "status", "$not:$null", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "amount", "$not:7", &err), NGX_PAYOUT_OK);

    assert_unchanged(&f, "(p.amount >= $4::bigint) AND "
                         "(p.amount < $5::bigint) AND "
                         "(p.status = $6::text) AND "
                         "(p.status IS NOT NULL) AND "
                         "(p.amount <> $7::bigint)", 4);
    assert_params(&f, params);

    assert_meta(&f, "{\"amount\": [\"$gte:100\", \"$lt:500\", \"$not:7\"],"
                    " \"status\": [\"$eq:x\", \"$not:$null\"]}");

    ngx_payout_filter_free(&f);
}


static void
test_filter_first_param(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *params[] = { "a", "b", "1", "2", NULL };

    (void) state;

    ngx_payout_filter_init(&f, columns, 1);

    assert_int_equal(add(&f, "status", "$in:a,b", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "amount", "$btw:1,2", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "created_at", "$null", &err), NGX_PAYOUT_OK);

    assert_string_equal(f.sql, "(p.status IN ($1::text, $2::text)) AND "
                               "(p.amount BETWEEN $3::bigint AND $4::bigint)"
                               " AND (p.created_at IS NULL)");
    assert_params(&f, params);

    ngx_payout_filter_free(&f);

    ngx_payout_filter_init(&f, columns, 10);

    assert_int_equal(add(&f, "amount", "$in:1,2", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "status", "$eq:a", &err), NGX_PAYOUT_OK);

    assert_string_equal(f.sql, "(p.amount IN ($10::bigint, $11::bigint)) "
                               "AND (p.status = $12::text)");

    ngx_payout_filter_free(&f);
}


static void
test_filter_like_escape(void **state)
{
    size_t               i;
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const struct {
        const char  *value;
        const char  *param;
    } cases[] = {
        { "$ilike:50%_off\\x", "%50\\%\\_off\\\\x%" },
        { "$sw:50%_off\\x", "50\\%\\_off\\\\x%" },
        { "$not:$ilike:%", "%\\%%" },
        { "$sw:_", "\\_%" },
        { "$ilike:\\\\", "%\\\\\\\\%" },
        { "$ilike:%%%", "%\\%\\%\\%%" },
        /* only LIKE patterns are escaped */
        { "$contains:50%_off\\x", "50%_off\\x" },
        { "$eq:50%_off\\x", "50%_off\\x" },
        { "$in:%,_", "%" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        assert_int_equal(add(&f, "status", cases[i].value, &err),
                         NGX_PAYOUT_OK);
        assert_string_equal(f.params[0], cases[i].param);

        ngx_payout_filter_free(&f);
    }

    /* the longest: every byte escaped */

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$ilike:%%%%%%%%%%", &err),
                     NGX_PAYOUT_OK);
    assert_string_equal(f.params[0],
                        "%\\%\\%\\%\\%\\%\\%\\%\\%\\%\\%%");

    ngx_payout_filter_free(&f);
}


static void
test_filter_errors(void **state)
{
    size_t               i;
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const filter_error_t  cases[] = {

        /* columns */

        { "nope", "$eq:x", "filter.nope",
          "Cannot filter by this column; the filterable columns are status, "
          "amount, recipient_uuid, created_at." },
        { "", "x", "filter.", "filterable columns are" },
        { "Status", "x", "filter.Status", "filterable columns are" },
        { "status ", "x", "filter.status ", "filterable columns are" },
        { "stat", "x", "filter.stat", "filterable columns are" },
        { "p.status", "x", "filter.p.status", "filterable columns are" },
        { "status\xff\n", "x", "filter.status??", "filterable columns" },

        /* operators */

        { "status", "$foo:x", "filter.status",
          "Unknown filter operator \"$foo\"; use $eq, $not, $null, $in, "
          "$gt, $gte, $lt, $lte, $btw, $ilike, $sw or $contains" },
        { "status", "$foo", "filter.status", "Unknown filter operator" },
        { "status", "$EQ:x", "filter.status", "\"$EQ\"" },
        { "status", "$not:$or:$eq:x", "filter.status",
          "$or or $and may appear only once, first, as in $or:$not:$eq:x." },
        { "status", "$or:$and:$eq:x", "filter.status", "only once, first" },
        { "status", "$and:$and:x", "filter.status", "only once, first" },
        { "status", "$or", "filter.status",
          "$or needs a condition after it, such as $or:$eq:x." },
        { "status", "$and", "filter.status", "$and needs a condition" },
        { "status", "$or:$not", "filter.status", "$not needs an operator" },
        { "status", "$any:x", "filter.status",
          "$any applies to array columns, and no column here is one." },
        { "status", "$or:$none:x", "filter.status", "array columns" },
        { "status", "$all", "filter.status", "array columns" },
        { "status", "$in:a, ,b", "filter.status",
          "$in values must not be empty." },
        { "status", "$in: ", "filter.status", "must not be empty" },
        { "status", "$not:$foo:x", "filter.status", "\"$foo\"" },
        { "status", "$not:$not:x", "filter.status",
          "$not may appear only once" },
        { "status", "$not", "filter.status", "$not needs an operator" },
        { "status", "$null:x", "filter.status", "$null takes no value." },
        { "status", "$null:", "filter.status", "$null takes no value." },
        { "status", "$not:$null:", "filter.status", "$null takes no value." },

        /* operators the column's type does not take */

        { "amount", "$ilike:5", "filter.amount",
          "$ilike does not apply to amount, an integer column; use $not, "
          "$eq, $null, $in, $gt, $gte, $lt, $lte, $btw." },
        { "amount", "$sw:5", "filter.amount", "$sw does not apply" },
        { "amount", "$not:$contains:5", "filter.amount",
          "$contains does not apply" },
        { "recipient_uuid", "$gt:" UUID1, "filter.recipient_uuid",
          "$gt does not apply to recipient_uuid, a UUID column; use $not, "
          "$eq, $null, $in." },
        { "recipient_uuid", "$btw:" UUID1 "," UUID2, "filter.recipient_uuid",
          "$btw does not apply" },
        { "recipient_uuid", "$lte:" UUID1, "filter.recipient_uuid",
          "$lte does not apply" },
        { "recipient_uuid", "$ilike:a", "filter.recipient_uuid",
          "$ilike does not apply" },
        { "created_at", "$ilike:2024", "filter.created_at",
          "$ilike does not apply to created_at, a timestamp column" },
        { "created_at", "$contains:2024", "filter.created_at",
          "$contains does not apply" },

        /* empty values */

        { "status", "", "filter.status",
          "filter.status needs a value, such as $eq:x or $null." },
        { "status", "$not:", "filter.status", "filter.status needs a value" },
        { "status", "$eq", "filter.status", "$eq needs a value." },
        { "status", "$eq:", "filter.status", "$eq needs a value." },
        { "status", "$not:$eq:", "filter.status", "$eq needs a value." },
        { "status", "$ilike:", "filter.status", "$ilike needs a value." },
        { "amount", "$gt", "filter.amount", "$gt needs a value." },
        { "amount", "$in:", "filter.amount",
          "$in needs one or more comma-separated values." },
        { "amount", "$in", "filter.amount", "$in needs one or more" },
        { "status", "$in:a,,b", "filter.status",
          "$in values must not be empty." },
        { "status", "$in:a,", "filter.status", "$in values must not be" },
        { "status", "$in:,a", "filter.status", "$in values must not be" },
        { "status", "$in:,", "filter.status", "$in values must not be" },

        /* $btw */

        { "amount", "$btw:1", "filter.amount",
          "$btw needs exactly two comma-separated values, such as "
          "$btw:1,5." },
        { "amount", "$btw:1,2,3", "filter.amount", "exactly two" },
        { "amount", "$btw:", "filter.amount",
          "$btw needs two comma-separated values." },
        { "amount", "$btw:1,", "filter.amount", "$btw values must not be" },
        { "amount", "$btw:,1", "filter.amount", "$btw values must not be" },
        { "amount", "$btw:1,x", "filter.amount", "not \"x\"" },

        /* integers */

        { "amount", "$eq:12a", "filter.amount",
          "amount takes an integer of 1 to 18 digits with an optional "
          "leading '-', not \"12a\"." },
        { "amount", "1.5", "filter.amount", "not \"1.5\"" },
        { "amount", "+5", "filter.amount", "not \"+5\"" },
        { "amount", "-", "filter.amount", "not \"-\"" },
        { "amount", "--5", "filter.amount", "not \"--5\"" },
        { "amount", " 5", "filter.amount", "not \" 5\"" },
        { "amount", "5 ", "filter.amount", "not \"5 \"" },
        { "amount", "0x10", "filter.amount", "not \"0x10\"" },
        { "amount", "1e3", "filter.amount", "not \"1e3\"" },
        { "amount", "1234567890123456789", "filter.amount",
          "1 to 18 digits" },
        { "amount", "$in:1,2,x", "filter.amount", "not \"x\"" },

        /* UUIDs */

        { "recipient_uuid", "$eq:nope", "filter.recipient_uuid",
          "recipient_uuid takes a UUID such as "
          "123e4567-e89b-12d3-a456-426614174000, not \"nope\"." },
        { "recipient_uuid", "123e4567e89b12d3a456426614174000",
          "filter.recipient_uuid", "takes a UUID" },
        { "recipient_uuid", "{" UUID1 "}", "filter.recipient_uuid",
          "takes a UUID" },
        { "recipient_uuid", "$in:" UUID1 ",x", "filter.recipient_uuid",
          "not \"x\"" },

        /* timestamps: the shapes are in test_filter_timestamps */

        { "created_at", "$gte:yesterday", "filter.created_at",
          "created_at takes an ISO 8601 date or date-time such as "
          "2024-01-31, 2024-01-31T13:45:00Z or 2024-01-31T13:45:00.5+01:00, "
          "not \"yesterday\"." },
        { "created_at", "$gte:2024-01-31T13:45:00 01:00", "filter.created_at",
          "created_at: the '+' of a time zone offset must be sent as %2B in "
          "a query string, not \"2024-01-31T13:45:00 01:00\"." },

        /* text */

        { "status", "$eq:a\xc3", "filter.status",
          "status values must be valid UTF-8." },
        { "status", "$in:ok,\xff", "filter.status", "valid UTF-8" },
        { "status", "$ilike:\xed\xa0\x80", "filter.status", "valid UTF-8" },

        /* limits */

        { "amount", "$in:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
                    "21", "filter.amount", "$in takes at most 20 values." },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        if (add(&f, cases[i].name, cases[i].value, &err)
            != NGX_PAYOUT_ERROR)
        {
            print_error("%s=%s was accepted\n", cases[i].name,
                        cases[i].value);
            fail();
        }

        assert_error(&err, cases[i].field, cases[i].message);

        /* a failed filter leaves nothing behind */
        assert_unchanged(&f, "TRUE", 0);
        assert_null(f.meta);

        ngx_payout_filter_free(&f);
    }
}


static void
test_filter_error_nul_and_names(void **state)
{
    size_t               i;
    char                 name[200];
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    /* a NUL would cut the parameter short */

    assert_int_equal(add_len(&f, "status", 6, "$eq:a\0b", 7, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status",
                 "status values must not contain a NUL byte.");

    assert_int_equal(add_len(&f, "status", 6, "\0", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status", "NUL byte");

    assert_int_equal(add_len(&f, "amount", 6, "1\0", 2, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.amount", "not \"1?\"");

    assert_int_equal(add_len(&f, "status\0", 7, "x", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status?", "filterable columns");

    /* a long unknown name is cut in the field, which stays printable */

    for (i = 0; i < sizeof(name); i++) {
        name[i] = (i % 3) ? 'a' : '\x80';
    }

    assert_int_equal(add_len(&f, name, sizeof(name), "x", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.code, "unknown_parameter");
    assert_true(strlen(err.field) < sizeof(f.field));
    assert_memory_equal(err.field, "filter.?aa?aa?", 14);

    for (i = 0; err.field[i]; i++) {
        assert_true(err.field[i] >= 0x20 && err.field[i] < 0x7f);
    }

    /* so are operators quoted in a message */

    assert_int_equal(add(&f, "status", "$aaaaaaaaaaaaaaaaaaaaaaaaa"
                                       "aaaaaaaaaaaaaaaaaaaaaaaaa:x", &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status",
                 "\"$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");

    assert_unchanged(&f, "TRUE", 0);
    assert_null(f.meta);

    ngx_payout_filter_free(&f);
}


/* a failure after good filters, or midway through a list, undoes itself */

static void
test_filter_error_keeps_state(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *params[] = { "success", "1", "2", NULL };

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$eq:success", &err), NGX_PAYOUT_OK);

    assert_int_equal(add(&f, "amount", "$in:1,2,3,x", &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.amount", "not \"x\"");
    assert_unchanged(&f, "(p.status = $4::text)", 1);

    assert_int_equal(add(&f, "amount", "$btw:1,2,3", &err),
                     NGX_PAYOUT_ERROR);
    assert_unchanged(&f, "(p.status = $4::text)", 1);

    assert_int_equal(add(&f, "nope", "1", &err), NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.nope", "filterable columns");
    assert_unchanged(&f, "(p.status = $4::text)", 1);

    assert_meta(&f, "{\"status\": \"$eq:success\"}");

    /* and numbering carries on where the good filters left it */

    assert_int_equal(add(&f, "amount", "$in:1,2", &err), NGX_PAYOUT_OK);
    assert_unchanged(&f, "(p.status = $4::text) AND "
                         "(p.amount IN ($5::bigint, $6::bigint))", 3);
    assert_params(&f, params);

    assert_meta(&f, "{\"status\": \"$eq:success\", \"amount\": \"$in:1,2\"}");

    ngx_payout_filter_free(&f);
}


static void
test_filter_max_params(void **state)
{
    int                  i;
    char                 sql[NGX_PAYOUT_FILTER_MAX_SQL];
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    /* 20 in one $in, 4 more: NGX_PAYOUT_FILTER_MAX_PARAMS in all */

    assert_int_equal(add(&f, "amount", "$in:1,2,3,4,5,6,7,8,9,10,11,12,13,"
                                       "14,15,16,17,18,19,20", &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(f.nparams, 20);
    assert_string_equal(f.params[19], "20");

    assert_int_equal(add(&f, "status", "$btw:a,b", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "status", "$not:$in:c,d", &err), NGX_PAYOUT_OK);
    assert_int_equal(f.nparams, NGX_PAYOUT_FILTER_MAX_PARAMS);
    assert_non_null(strstr(f.sql, "$27::text"));
    assert_null(strstr(f.sql, "$28"));

    strcpy(sql, f.sql);

    assert_int_equal(add(&f, "status", "$eq:e", &err), NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status",
                 "Too many filter values; at most 24 in all.");
    assert_unchanged(&f, sql, NGX_PAYOUT_FILTER_MAX_PARAMS);

    /* $null takes no parameter */

    assert_int_equal(add(&f, "status", "$not:$null", &err), NGX_PAYOUT_OK);

    ngx_payout_filter_free(&f);

    /* failing midway through a list frees what it took */

    ngx_payout_filter_init(&f, columns, FIRST);

    for (i = 0; i < 4; i++) {
        assert_int_equal(add(&f, "amount", "$in:1,2,3,4,5", &err),
                         NGX_PAYOUT_OK);
    }

    assert_int_equal(add(&f, "amount", "$in:1,2,3,4,5", &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.amount", "Too many filter values");
    assert_int_equal(f.nparams, 20);
    assert_null(f.params[20]);

    ngx_payout_filter_free(&f);
}


static void
test_filter_sql_too_long(void **state)
{
    int                  i, rc;
    char                 sql[NGX_PAYOUT_FILTER_MAX_SQL];
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    strcpy(sql, f.sql);

    for (i = 0; i < NGX_PAYOUT_FILTER_MAX_SQL; i++) {
        rc = add(&f, "created_at", "$not:$null", &err);

        if (rc != NGX_PAYOUT_OK) {
            break;
        }

        assert_int_equal(f.sql_len, strlen(f.sql));
        assert_true(f.sql_len < NGX_PAYOUT_FILTER_MAX_SQL);
        strcpy(sql, f.sql);
    }

    assert_int_equal(rc, NGX_PAYOUT_ERROR);
    assert_true(i > 50);
    assert_error(&err, "filter.created_at", "Too many filters.");
    assert_unchanged(&f, sql, 0);

    /* one meta entry per filter that went in */
    assert_int_equal(json_array_size(json_object_get(f.meta, "created_at")),
                     i);

    ngx_payout_filter_free(&f);
}


/* nothing a client sends reaches the SQL, however it is dressed up */

static void
test_filter_injection(void **state)
{
    size_t               i, j;
    char                 value[256];
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *evil[] = {
        "'; DROP TABLE payouts; --",
        "x') OR ('1'='1",
        "x' OR 1=1 --",
        "$1",
        "$4::text OR TRUE",
        "1) OR (TRUE",
        "\\'; SELECT pg_sleep(10); --",
        "E'\\\\' OR TRUE",
        "*/ OR /*",
        "{c}",
        "{1}",
        "{L}",
    };

    static const char  *ops[] = {
        "", "$eq:", "$not:", "$not:$eq:", "$in:", "$gt:", "$lte:",
        "$ilike:", "$sw:", "$contains:", "$not:$ilike:", "$not:$in:",
    };

    static const char  *typed[] = { "amount", "recipient_uuid", "created_at" };

    (void) state;

    for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
        for (j = 0; j < sizeof(ops) / sizeof(ops[0]); j++) {
            snprintf(value, sizeof(value), "%s%s", ops[j], evil[i]);

            ngx_payout_filter_init(&f, columns, FIRST);

            assert_int_equal(add(&f, "status", value, &err), NGX_PAYOUT_OK);

            assert_null(strstr(f.sql, evil[i]));
            assert_null(strstr(f.sql, "DROP"));
            assert_null(strstr(f.sql, "OR"));
            assert_null(strstr(f.sql, "--"));
            assert_null(strstr(f.sql, "pg_sleep"));
            assert_null(strstr(f.sql, "{"));
            assert_int_equal(f.nparams, 1);

            /* the value travels whole, as a parameter */
            if (strstr(ops[j], "like") == NULL
                && strstr(ops[j], "sw") == NULL)
            {
                assert_string_equal(f.params[0], evil[i]);
            }

            ngx_payout_filter_free(&f);
        }

        /* typed columns refuse it outright */

        for (j = 0; j < sizeof(typed) / sizeof(typed[0]); j++) {
            ngx_payout_filter_init(&f, columns, FIRST);

            assert_int_equal(add(&f, typed[j], evil[i], &err),
                             NGX_PAYOUT_ERROR);
            assert_unchanged(&f, "TRUE", 0);

            ngx_payout_filter_free(&f);
        }

        /* and so does the whitelist, for names */

        ngx_payout_filter_init(&f, columns, FIRST);

        assert_int_equal(add(&f, evil[i], "x", &err), NGX_PAYOUT_ERROR);
        assert_unchanged(&f, "TRUE", 0);

        ngx_payout_filter_free(&f);
    }

    /* exactly, for the plain operators */

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$eq:'; DROP TABLE payouts; --",
                         &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql, "(p.status = $4::text)");
    assert_string_equal(f.params[0], "'; DROP TABLE payouts; --");

    ngx_payout_filter_free(&f);

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status = status OR 1=1 --", "x", &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status = status OR 1=1 --",
                 "filterable columns");
    assert_int_equal(add(&f, "amount", "1; DROP TABLE payouts", &err),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(add(&f, "amount", "$in:1,2) OR (1=1", &err),
                     NGX_PAYOUT_ERROR);

    assert_unchanged(&f, "TRUE", 0);

    ngx_payout_filter_free(&f);
}


static void
test_filter_meta(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    (void) state;

    /* one value per column: a string, as given */

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$eq:success", &err), NGX_PAYOUT_OK);
    assert_meta(&f, "{\"status\": \"$eq:success\"}");

    assert_int_equal(add(&f, "amount", "250000", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "created_at", "$not:$null", &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "recipient_uuid", "$in:" UUID1 "," UUID2, &err),
                     NGX_PAYOUT_OK);

    assert_meta(&f, "{\"status\": \"$eq:success\", \"amount\": \"250000\","
                    " \"created_at\": \"$not:$null\","
                    " \"recipient_uuid\": \"$in:" UUID1 "," UUID2 "\"}");

    /* a repeated column becomes an array, in order */

    assert_int_equal(add(&f, "status", "$not:$eq:b", &err), NGX_PAYOUT_OK);
    assert_meta(&f, "{\"status\": [\"$eq:success\", \"$not:$eq:b\"],"
                    " \"amount\": \"250000\","
                    " \"created_at\": \"$not:$null\","
                    " \"recipient_uuid\": \"$in:" UUID1 "," UUID2 "\"}");

    assert_int_equal(add(&f, "status", "$eq:success", &err), NGX_PAYOUT_OK);
    assert_meta(&f, "{\"status\": [\"$eq:success\", \"$not:$eq:b\","
                    " \"$eq:success\"],"
                    " \"amount\": \"250000\","
                    " \"created_at\": \"$not:$null\","
                    " \"recipient_uuid\": \"$in:" UUID1 "," UUID2 "\"}");

    ngx_payout_filter_free(&f);
    assert_null(f.meta);

    /* non-ASCII text survives into the meta */

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$ilike:caf\xc3\xa9", &err),
                     NGX_PAYOUT_OK);
    assert_meta(&f, "{\"status\": \"$ilike:caf\\u00e9\"}");

    ngx_payout_filter_free(&f);
}


static void
test_filter_timestamps(void **state)
{
    size_t               i;
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *good[] = {
        "2024-01-31",
        "0001-01-01",
        "9999-12-31",
        "2024-02-29",
        "2000-02-29",
        "2024-01-31T00:00",
        "2024-01-31T23:59",
        "2024-01-31T13:45:00",
        "2024-01-31T13:45:59Z",
        "2024-01-31T13:45Z",
        "2024-01-31T13:45:00.5",
        "2024-01-31T13:45:00.123456",
        "2024-01-31T13:45:00.123456Z",
        "2024-01-31T13:45:00+01:00",
        "2024-01-31T13:45:00-12:00",
        "2024-01-31T13:45+14:00",
        "2024-01-31T13:45:00.1-05:30",
        "2024-04-30",
    };

    static const char  *bad[] = {
        "",
        "2024",
        "2024-01",
        "2024-1-31",
        "24-01-31",
        "20240131",
        "2024/01/31",
        "0000-01-01",
        "2024-00-10",
        "2024-13-10",
        "2024-01-00",
        "2024-01-32",
        "2023-02-29",
        "1900-02-29",
        "2024-04-31",
        "2024-06-31",
        "2024-01-31T",
        "2024-01-31 13:45",
        "2024-01-31t13:45",
        "2024-01-31T1:45",
        "2024-01-31T13",
        "2024-01-31T24:00",
        "2024-01-31T13:60",
        "2024-01-31T13:45:60",
        "2024-01-31T13:45:0",
        "2024-01-31T13:45:00.",
        "2024-01-31T13:45:00.1234567",
        "2024-01-31T13:45.5",
        "2024-01-31T13:45:00z",
        "2024-01-31T13:45:00ZZ",
        "2024-01-31T13:45:00Z+01:00",
        "2024-01-31T13:45:00+1:00",
        "2024-01-31T13:45:00+0100",
        "2024-01-31T13:45:00+01",
        "2024-01-31T13:45:00+15:00",
        "2024-01-31T13:45:00+01:60",
        "2024-01-31T13:45:00+01:00:00",
        "2024-01-31Z",
        "2024-01-31x",
        "2024-01-31T13:45:00 1:00",
        "-2024-01-31",
        "2024-01-31T13:45:00.12a",
        "now",
        "infinity",
        "epoch",
        "2024-01-31\xc3\xa9",
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        if (add(&f, "created_at", good[i], &err) != NGX_PAYOUT_OK) {
            print_error("\"%s\": %s\n", good[i], err.message);
            fail();
        }

        assert_string_equal(f.sql, "(p.created_at = $4::timestamptz)");
        assert_string_equal(f.params[0], good[i]);

        ngx_payout_filter_free(&f);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        if (add(&f, "created_at", bad[i], &err) != NGX_PAYOUT_ERROR) {
            print_error("\"%s\" was accepted\n", bad[i]);
            fail();
        }

        assert_error(&err, "filter.created_at", bad[i][0] ? "ISO 8601"
                                                          : "needs a value");

        ngx_payout_filter_free(&f);
    }
}


static void
test_filter_text_utf8(void **state)
{
    size_t               i;
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *good[] = {
        "caf\xc3\xa9",
        "\xe6\x97\xa5\xe6\x9c\xac",
        "\xf0\x9f\x92\xb8",
        "\xc2\x80",
        "\xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "tab\there",
    };

    static const char  *bad[] = {
        "\x80",
        "\xbf",
        "\xc0\xaf",
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "\xe2\x82",
        "a\xe2\x82",
        "\xc3(",
        "\xe2\x28\xa1",
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        assert_int_equal(add(&f, "status", good[i], &err), NGX_PAYOUT_OK);
        assert_string_equal(f.params[0], good[i]);

        ngx_payout_filter_free(&f);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ngx_payout_filter_init(&f, columns, FIRST);

        assert_int_equal(add(&f, "status", bad[i], &err), NGX_PAYOUT_ERROR);
        assert_error(&err, "filter.status", "valid UTF-8");

        ngx_payout_filter_free(&f);
    }
}


/* a NULL-terminated whitelist with one column, and an empty one */

static void
test_filter_whitelists(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const ngx_payout_filter_column_t  one[] = {
        { "id", "p.id", NGX_PAYOUT_FILTER_INT },
        { NULL, NULL, 0 }
    };

    static const ngx_payout_filter_column_t  none[] = {
        { NULL, NULL, 0 }
    };

    (void) state;

    ngx_payout_filter_init(&f, one, 2);

    assert_int_equal(add(&f, "id", "$gt:5", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql, "(p.id > $2::bigint)");

    assert_int_equal(add(&f, "status", "x", &err), NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.status",
                 "Cannot filter by this column; the filterable columns are "
                 "id.");

    ngx_payout_filter_free(&f);

    ngx_payout_filter_init(&f, none, 2);

    assert_int_equal(add(&f, "id", "5", &err), NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.id", "the filterable columns are none.");

    ngx_payout_filter_free(&f);
}


/* "$or:" chains: nestjs-paginate's comparator, AND binding tighter */

static void
test_filter_or(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *params[] = { "a", "b", "5", "c", "9", NULL };

    (void) state;

    /* one column: status = a OR status = b */

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$or:$eq:a", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql, "((p.status = $4::text))");
    assert_int_equal(add(&f, "status", "$or:b", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql,
                        "((p.status = $4::text) OR (p.status = $5::text))");

    /* an AND-led column is a term of its own */

    assert_int_equal(add(&f, "amount", "$gt:5", &err), NGX_PAYOUT_OK);

    /* more of the "$or:" chain, which sits where it started */

    assert_int_equal(add(&f, "status", "$and:$not:c", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "created_at", "$or:$null", &err),
                     NGX_PAYOUT_OK);

    /* a column led by AND with an OR later: its own parenthesised chain */

    assert_int_equal(add(&f, "amount", "$or:$eq:9", &err), NGX_PAYOUT_OK);

    assert_unchanged(&f, "((p.status = $4::text) OR (p.status = $5::text) "
                         "AND (p.status <> $7::text) "
                         "OR (p.created_at IS NULL)) "
                         "AND ((p.amount > $6::bigint) "
                         "OR (p.amount = $8::bigint))", 5);
    assert_params(&f, params);
    assert_meta(&f, "{\"status\": [\"$or:$eq:a\", \"$or:b\", "
                    "\"$and:$not:c\"], \"amount\": [\"$gt:5\", "
                    "\"$or:$eq:9\"], \"created_at\": \"$or:$null\"}");

    ngx_payout_filter_free(&f);

    /* "$and:" is the default said aloud */

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "amount", "$and:$gte:1", &err), NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "amount", "$and:$lte:2", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql, "(p.amount >= $4::bigint) AND "
                               "(p.amount <= $5::bigint)");

    /* a failed "$or:" leaves the chains as they were */

    assert_int_equal(add(&f, "status", "$or:$gt", &err), NGX_PAYOUT_ERROR);
    assert_int_equal(add(&f, "amount", "$or:$in:1,x", &err),
                     NGX_PAYOUT_ERROR);
    assert_unchanged(&f, "(p.amount >= $4::bigint) AND "
                         "(p.amount <= $5::bigint)", 2);

    ngx_payout_filter_free(&f);
}


/* $in values are trimmed as nestjs-paginate trims them */

static void
test_filter_in_trim(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const char  *params[] = { "a", "b c", "d", "1", "2", NULL };

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "$in: a ,\tb c\r\n, d", &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(add(&f, "amount", "$not:$in:1, 2 ", &err),
                     NGX_PAYOUT_OK);
    assert_params(&f, params);

    /* the echo is what was sent */
    assert_meta(&f, "{\"status\": \"$in: a ,\\tb c\\r\\n, d\", "
                    "\"amount\": \"$not:$in:1, 2 \"}");

    /* only $in: "$eq: a" keeps its spaces, and 20 values at most still */
    assert_int_equal(add(&f, "status", "$eq: a ", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.params[5], " a ");

    ngx_payout_filter_free(&f);
    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "amount", "$in:1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "
                         "11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21", &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "filter.amount", "$in takes at most 20 values.");

    ngx_payout_filter_free(&f);
}


/* search: one parameter, ILIKE over every column, ORed, ANDed with the
   filters */

static void
test_filter_search(void **state)
{
    ngx_payout_error_t   err;
    ngx_payout_filter_t  f;

    static const ngx_payout_filter_column_t  narration = {
        "narration", "p.narration", NGX_PAYOUT_FILTER_TEXT
    };
    static const ngx_payout_filter_column_t  key = {
        "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT
    };
    static const ngx_payout_filter_column_t  amount = {
        "amount", "p.amount", NGX_PAYOUT_FILTER_INT
    };
    static const ngx_payout_filter_column_t *const  by[] = {
        &narration, &key
    };
    static const ngx_payout_filter_column_t *const  bad[] = {
        &narration, &amount
    };
    static const char  *params[] = { "x", "%50\\%\\_off\\\\%", NULL };

    (void) state;

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(add(&f, "status", "x", &err), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_filter_search(&f, by, 2, "50%_off\\", 8,
                                              &err), NGX_PAYOUT_OK);

    assert_string_equal(f.sql, "(p.status = $4::text) AND "
                        "(p.narration ILIKE $5::text ESCAPE E'\\\\' OR "
                        "p.idempotency_key ILIKE $5::text ESCAPE E'\\\\')");
    assert_params(&f, params);

    /* filters after the search come after it; the meta is the filters' */
    assert_int_equal(add(&f, "amount", "1", &err), NGX_PAYOUT_OK);
    assert_string_equal(f.sql + f.sql_len - 25, " AND (p.amount = $6::bigint)"
                        + 3);
    assert_meta(&f, "{\"status\": \"x\", \"amount\": \"1\"}");

    /* once only */
    assert_int_equal(ngx_payout_filter_search(&f, by, 1, "y", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "search", "search may be given only once.");
    assert_int_equal(f.nparams, 3);

    ngx_payout_filter_free(&f);

    ngx_payout_filter_init(&f, columns, FIRST);

    assert_int_equal(ngx_payout_filter_search(&f, by, 1, "", 0, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "search", "search must not be empty");
    assert_int_equal(ngx_payout_filter_search(&f, by, 1, "a\0b", 3, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "search", "NUL");
    assert_int_equal(ngx_payout_filter_search(&f, by, 1, "\xc3", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "search", "valid UTF-8");
    assert_int_equal(ngx_payout_filter_search(&f, bad, 2, "a", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_error(&err, "search", "amount is not a text column.");
    assert_int_equal(ngx_payout_filter_search(&f, by, 0, "a", 1, &err),
                     NGX_PAYOUT_ERROR);
    assert_unchanged(&f, "TRUE", 0);
    assert_null(f.meta);

    ngx_payout_filter_free(&f);
}


int
run_filter_tests(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_filter_empty),
        cmocka_unit_test(test_filter_operators),
        cmocka_unit_test(test_filter_repeat_and),
        cmocka_unit_test(test_filter_first_param),
        cmocka_unit_test(test_filter_like_escape),
        cmocka_unit_test(test_filter_errors),
        cmocka_unit_test(test_filter_error_nul_and_names),
        cmocka_unit_test(test_filter_error_keeps_state),
        cmocka_unit_test(test_filter_max_params),
        cmocka_unit_test(test_filter_sql_too_long),
        cmocka_unit_test(test_filter_injection),
        cmocka_unit_test(test_filter_meta),
        cmocka_unit_test(test_filter_timestamps),
        cmocka_unit_test(test_filter_text_utf8),
        cmocka_unit_test(test_filter_whitelists),
        cmocka_unit_test(test_filter_or),
        cmocka_unit_test(test_filter_in_trim),
        cmocka_unit_test(test_filter_search),
    };

    return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
