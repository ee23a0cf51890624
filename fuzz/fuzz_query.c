/*
 * List query strings, split and decoded as the list handler does, through
 * the core's limit, page, sortBy and filter.<column> parsers.
 *
 * Invariants: a parsed filter's SQL is made only of whitelisted column
 * expressions, the operator templates and "$n::type" placeholders
 * numbered consecutively from the first one and matching the parameter
 * count, so no byte of the input (a quote least of all) reaches the SQL
 * text; a failed filter leaves the filter as it was; numbers and sort
 * orders are accepted exactly when an independent check accepts them.
 */

#include "fuzz.h"

#include "ngx_payout_core.h"
#include "ngx_payout_filter.h"


#define FUZZ_FIRST_PARAM  4


/*
 * A whitelist with a column of every type, one of them a subquery as the
 * payouts list has: the grammar, not the module's choice of columns, is
 * under test.  The names are the lists' own, so seeds read naturally.
 */

static const ngx_payout_filter_column_t  fuzz_columns[] = {
    { "status", "p.status", NGX_PAYOUT_FILTER_TEXT },
    { "currency", "p.currency::text", NGX_PAYOUT_FILTER_TEXT },
    { "name", "p.name", NGX_PAYOUT_FILTER_TEXT },
    { "amount", "p.amount", NGX_PAYOUT_FILTER_INT },
    { "recipient_uuid",
      "(SELECT r.uuid FROM recipients r WHERE r.id = p.recipient_id)",
      NGX_PAYOUT_FILTER_UUID },
    { "uuid", "p.uuid", NGX_PAYOUT_FILTER_UUID },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { NULL, NULL, 0 }
};

/* and one with none: every filter is refused */

static const ngx_payout_filter_column_t  fuzz_no_columns[] = {
    { NULL, NULL, 0 }
};


/* every other piece of text the SQL may hold; longer ones first */

static const char  *fuzz_sql_tokens[] = {
    "ESCAPE E'\\\\'", "BETWEEN", "strpos", "ILIKE", "NULL", "TRUE", "AND",
    "NOT", "IN", "IS", "<>", "<=", ">=", "<", ">", "=", "(", ")", ",", " ",
    "0", NULL
};

static const char  *fuzz_casts[] = {
    "::text", "::bigint", "::uuid", "::timestamptz", NULL
};


static void fuzz_check_sql(const ngx_payout_filter_t *f);
static size_t fuzz_match(const char *p, const char *s);
static void fuzz_check_long(const unsigned char *v, size_t len);
static void fuzz_check_sort(const unsigned char *v, size_t len);
static void fuzz_check_decode(const uint8_t *s, size_t len,
    const unsigned char *d, size_t dlen);
static void fuzz_filter(ngx_payout_filter_t *f, const unsigned char *name,
    size_t name_len, const unsigned char *value, size_t value_len);
static void fuzz_query(const ngx_payout_filter_column_t *columns,
    const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_query(fuzz_columns, data, size);
    fuzz_query(fuzz_no_columns, data, size);

    return 0;
}


static void
fuzz_query(const ngx_payout_filter_column_t *columns, const uint8_t *data,
    size_t size)
{
    int                  i;
    size_t               name_len, value_len, n;
    unsigned char       *name, *value;
    const uint8_t       *p, *end, *amp, *eq;
    ngx_payout_filter_t  f;

    ngx_payout_filter_init(&f, columns, FUZZ_FIRST_PARAM);

    p = data;
    end = data + size;

    while (p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', (size_t) (amp - p));

        n = (size_t) ((eq ? eq : amp) - p);
        name = malloc(n + 1);
        FUZZ_CHECK(name != NULL);
        name_len = ngx_payout_url_decode(p, n, name);
        fuzz_check_decode(p, n, name, name_len);

        n = eq ? (size_t) (amp - eq - 1) : 0;
        value = malloc(n + 1);
        FUZZ_CHECK(value != NULL);
        value_len = eq ? ngx_payout_url_decode(eq + 1, n, value) : 0;
        if (eq) {
            fuzz_check_decode(eq + 1, n, value, value_len);
        }

        if ((name_len == 5 && memcmp(name, "limit", 5) == 0)
            || (name_len == 4 && memcmp(name, "page", 4) == 0))
        {
            fuzz_check_long(value, value_len);

        } else if (name_len == 6 && memcmp(name, "sortBy", 6) == 0) {
            fuzz_check_sort(value, value_len);

        } else if (name_len > 7 && memcmp(name, "filter.", 7) == 0) {
            fuzz_filter(&f, name + 7, name_len - 7, value, value_len);
        }

        free(name);
        free(value);

        p = amp + 1;
    }

    fuzz_check_sql(&f);

    for (i = 0; i < f.nparams; i++) {
        FUZZ_CHECK(f.params[i] != NULL);
        FUZZ_CHECK(fuzz_cstr_utf8(f.params[i]));
    }

    FUZZ_CHECK(f.meta == NULL || f.nparams > 0 || f.sql_len > 4);

    ngx_payout_filter_free(&f);

    FUZZ_CHECK(f.nparams == 0 && f.meta == NULL);
    FUZZ_CHECK(strcmp(f.sql, "TRUE") == 0);
}


static void
fuzz_filter(ngx_payout_filter_t *f, const unsigned char *name,
    size_t name_len, const unsigned char *value, size_t value_len)
{
    int                 rc, nparams;
    char               *meta, *sql, *after;
    ngx_payout_error_t  err;

    sql = fuzz_strndup(f->sql, f->sql_len);
    nparams = f->nparams;
    meta = f->meta ? json_dumps(f->meta, JSON_COMPACT | JSON_SORT_KEYS)
                   : NULL;

    memset(&err, 0, sizeof(err));

    rc = ngx_payout_filter_add(f, (const char *) name, name_len,
                               (const char *) value, value_len, &err);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(f->nparams >= nparams);
        FUZZ_CHECK(f->sql_len > 0 && strcmp(f->sql, "TRUE") != 0);
        FUZZ_CHECK(f->meta != NULL);
        fuzz_check_sql(f);

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_ERROR);
        FUZZ_CHECK(err.code != NULL);
        FUZZ_CHECK(strcmp(err.code, "invalid_parameter") == 0
                   || strcmp(err.code, "internal_error") == 0);
        FUZZ_CHECK(fuzz_terminated(err.message, sizeof(err.message)));
        FUZZ_CHECK(err.message[0] != '\0');

        /* the message and the field go into a JSON error body */
        FUZZ_CHECK(fuzz_cstr_utf8(err.message));

        if (err.field) {
            FUZZ_CHECK(fuzz_terminated(err.field, sizeof(f->field)));
            FUZZ_CHECK(strncmp(err.field, "filter.", 7) == 0);
            FUZZ_CHECK(fuzz_cstr_utf8(err.field));
        }

        /* a failed filter leaves the filter as it was */
        FUZZ_CHECK(f->nparams == nparams);
        FUZZ_CHECK(f->sql_len == strlen(sql));
        FUZZ_CHECK(strcmp(f->sql, sql) == 0);
        FUZZ_CHECK((meta == NULL) == (f->meta == NULL));

        if (meta) {
            after = json_dumps(f->meta, JSON_COMPACT | JSON_SORT_KEYS);
            FUZZ_CHECK(after != NULL && strcmp(after, meta) == 0);
            free(after);
        }
    }

    free(sql);
    free(meta);
}


/*
 * The SQL, token by token: whitelisted text only, the placeholders
 * $first, $first+1, ... each once and in order, one per parameter.
 */

static void
fuzz_check_sql(const ngx_payout_filter_t *f)
{
    int                                 depth, next;
    long                                num;
    size_t                              n, best;
    const char                         *p, *end, **t;
    const ngx_payout_filter_column_t   *c;

    FUZZ_CHECK(f->sql_len < sizeof(f->sql));
    FUZZ_CHECK(strlen(f->sql) == f->sql_len);
    FUZZ_CHECK(f->nparams >= 0 && f->nparams <= NGX_PAYOUT_FILTER_MAX_PARAMS);

    if (strcmp(f->sql, "TRUE") == 0) {
        FUZZ_CHECK(f->nparams == 0);
        return;
    }

    FUZZ_CHECK(f->sql[0] == '(' && f->sql[f->sql_len - 1] == ')');

    p = f->sql;
    end = f->sql + f->sql_len;
    depth = 0;
    next = f->first_param;

    while (p < end) {

        if (*p == '$') {
            num = 0;

            for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
                num = num * 10 + (*p - '0');
                FUZZ_CHECK(num < 1000);
            }

            FUZZ_CHECK(num == next);
            next++;

            for (t = fuzz_casts; *t; t++) {
                n = fuzz_match(p, *t);
                if (n) {
                    break;
                }
            }

            FUZZ_CHECK(*t != NULL);
            p += n;
            continue;
        }

        /* the longest whitelisted text that matches here */

        best = 0;

        for (c = f->columns; c->name; c++) {
            n = fuzz_match(p, c->sql);
            if (n > best) {
                best = n;
            }
        }

        if (best == 0) {
            for (t = fuzz_sql_tokens; *t; t++) {
                n = fuzz_match(p, *t);
                if (n) {
                    best = n;
                    break;
                }
            }

            if (*p == '(') {
                depth++;

            } else if (*p == ')') {
                FUZZ_CHECK(--depth >= 0);
            }
        }

        if (best == 0) {
            fprintf(stderr, "unexpected SQL at \"%s\" in \"%s\"\n", p,
                    f->sql);
        }

        FUZZ_CHECK(best > 0);
        p += best;
    }

    FUZZ_CHECK(depth == 0);
    FUZZ_CHECK(next - f->first_param == f->nparams);
}


static size_t
fuzz_match(const char *p, const char *s)
{
    size_t  n;

    n = strlen(s);

    return strncmp(p, s, n) == 0 ? n : 0;
}


/* limit and page: 1 to 18 digits, 1 to 999999999, as the list handler */

static void
fuzz_check_long(const unsigned char *v, size_t len)
{
    int     rc, digits;
    long    out, want;
    size_t  i;
    char    buf[32];

    out = -1;
    rc = ngx_payout_parse_long(v, len, 1, 999999999, &out);

    digits = len > 0 && len <= 18;
    want = 0;

    for (i = 0; digits && i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            digits = 0;
            break;
        }

        want = want * 10 + (v[i] - '0');
    }

    if (digits && want >= 1 && want <= 999999999) {
        FUZZ_CHECK(rc == NGX_PAYOUT_OK);
        FUZZ_CHECK(out == want);

        /* parse(format(x)) == x */
        snprintf(buf, sizeof(buf), "%ld", out);
        FUZZ_CHECK(ngx_payout_parse_long((unsigned char *) buf, strlen(buf),
                                         1, 999999999, &want)
                   == NGX_PAYOUT_OK);
        FUZZ_CHECK(want == out);

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_ERROR);
        FUZZ_CHECK(out == -1);
    }
}


static void
fuzz_check_sort(const unsigned char *v, size_t len)
{
    int                 rc, i, want;
    char                buf[64];
    ngx_payout_page_t   page;

    static const char  *cols[] = { "id", "created_at", "amount" };
    static const char  *dirs[] = { "ASC", "DESC" };

    memset(&page, 0, sizeof(page));
    rc = ngx_payout_page_parse_sort(v, len, &page);

    want = -1;

    for (i = 0; i < 6; i++) {
        snprintf(buf, sizeof(buf), "%s:%s", cols[i / 2], dirs[i % 2]);

        if (strlen(buf) == len && memcmp(buf, v, len) == 0) {
            want = i;
        }
    }

    if (want < 0) {
        FUZZ_CHECK(rc == NGX_PAYOUT_ERROR);
        return;
    }

    FUZZ_CHECK(rc == NGX_PAYOUT_OK);
    FUZZ_CHECK(page.sort_column != NULL);
    FUZZ_CHECK(strcmp(page.sort_column, cols[want / 2]) == 0);
    FUZZ_CHECK(page.sort_desc == want % 2);
}


/* percent-decoding never grows, and leaves plain text alone */

static void
fuzz_check_decode(const uint8_t *s, size_t len, const unsigned char *d,
    size_t dlen)
{
    FUZZ_CHECK(dlen <= len);

    if (memchr(s, '%', len) == NULL && memchr(s, '+', len) == NULL) {
        FUZZ_CHECK(dlen == len);
        FUZZ_CHECK(len == 0 || memcmp(s, d, len) == 0);
    }
}
