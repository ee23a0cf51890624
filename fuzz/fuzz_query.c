/*
 * List query strings, split and decoded as the list handler
 * (src/ngx_http_payout_payouts.c) does, through the core's limit, page,
 * sortBy (repeatable), search with searchBy and filter.<column> parsers;
 * select is taken as the handler takes it, and every name goes through
 * the quoting of client text.
 *
 * Invariants: a filter's SQL parses, by a grammar of its own here, as
 * ANDed terms, each a "(condition)", the "(search)" or a "(chain)" of
 * conditions joined by AND or OR, every condition an operator template
 * over a whitelisted column whose "$n::type" placeholders have the
 * column's type; the placeholders are exactly $first, $first+1, ...,
 * one per parameter, each used once but the search's, used once per
 * column searched; there are as many joins as conditions less one, and
 * as many ORs as "$or:" conditions less the one that starts the "$or:"
 * chain.  So no byte of the input (a quote least of all) reaches the SQL
 * text.  A failed filter or search leaves the filter as it was; numbers,
 * sort keys and searches are accepted exactly when an independent check
 * accepts them.
 */

#include "fuzz.h"

#include "ngx_payout_core.h"
#include "ngx_payout_filter.h"


#define FUZZ_FIRST_PARAM  4
#define FUZZ_MAX_COLUMNS  16
#define FUZZ_MAX_BY       8

/* up to this many conditions the SQL is checked after each one added */
#define FUZZ_SQL_EVERY    8


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
    { "broken", "p.broken", 9 },        /* no such type: always refused */
    { NULL, NULL, 0 }
};

/* and one with none: every filter is refused */

static const ngx_payout_filter_column_t  fuzz_no_columns[] = {
    { NULL, NULL, 0 }
};

/*
 * What searchBy may name: text columns, one shared with the filters, and
 * an integer one the core must refuse to search.  The first three are
 * searched when searchBy is not given.
 */

static const ngx_payout_filter_column_t  fuzz_search_columns[] = {
    { "narration", "p.narration", NGX_PAYOUT_FILTER_TEXT },
    { "name", "p.name", NGX_PAYOUT_FILTER_TEXT },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "amount", "p.amount", NGX_PAYOUT_FILTER_INT },
    { NULL, NULL, 0 }
};

#define FUZZ_SEARCH_DEFAULT  3


/* the operator templates, written out again: {c} column, {1} {2} {L} */

#define FUZZ_ON_ALL      0
#define FUZZ_ON_ORDERED  1    /* not UUID */
#define FUZZ_ON_TEXT     2

typedef struct {
    const char  *tpl;
    int          on;
} fuzz_tpl_t;

static const fuzz_tpl_t  fuzz_tpls[] = {
    { "{c} = {1}", FUZZ_ON_ALL },
    { "{c} <> {1}", FUZZ_ON_ALL },
    { "{c} IS NULL", FUZZ_ON_ALL },
    { "{c} IS NOT NULL", FUZZ_ON_ALL },
    { "{c} IN ({L})", FUZZ_ON_ALL },
    { "{c} NOT IN ({L})", FUZZ_ON_ALL },
    { "{c} > {1}", FUZZ_ON_ORDERED },
    { "{c} >= {1}", FUZZ_ON_ORDERED },
    { "{c} < {1}", FUZZ_ON_ORDERED },
    { "{c} <= {1}", FUZZ_ON_ORDERED },
    { "{c} BETWEEN {1} AND {2}", FUZZ_ON_ORDERED },
    { "{c} NOT BETWEEN {1} AND {2}", FUZZ_ON_ORDERED },
    { "{c} ILIKE {1} ESCAPE E'\\\\'", FUZZ_ON_TEXT },
    { "{c} NOT ILIKE {1} ESCAPE E'\\\\'", FUZZ_ON_TEXT },
    { "strpos({c}, {1}) > 0", FUZZ_ON_TEXT },
    { "strpos({c}, {1}) = 0", FUZZ_ON_TEXT },
    { NULL, 0 }
};

/* by NGX_PAYOUT_FILTER_TEXT ... NGX_PAYOUT_FILTER_TIMESTAMP */

static const char  *fuzz_casts[] = {
    "::text", "::bigint", "::uuid", "::timestamptz"
};


/* one list request: the core's state and what it should be */

typedef struct {
    ngx_payout_filter_t                 f;
    ngx_payout_page_t                   page;
    int                                 ncolumns;

    /* the sort keys an independent parser took */
    int                                 nsort;
    const char                         *sort_column[3];
    int                                 sort_desc[3];

    /* the conditions added, and how many of them started with "$or:" */
    int                                 nconds;
    int                                 nor;
    int                                 per_column[FUZZ_MAX_COLUMNS];
    int                                 first_or[FUZZ_MAX_COLUMNS];

    /* searchBy so far ("searchBy=" here: none at all), and the search */
    int                                 by_none;
    int                                 nby;
    const ngx_payout_filter_column_t   *by[FUZZ_MAX_BY];
    int                                 search_param;     /* 0: none */
    int                                 nsearched;
    const ngx_payout_filter_column_t   *searched[FUZZ_MAX_BY];
} fuzz_list_t;


/* what the SQL parser found */

typedef struct {
    const fuzz_list_t  *list;
    int                 uses[NGX_PAYOUT_FILTER_MAX_PARAMS];
    int                 joins;
    int                 ors;
    int                 searches;
    int                 per_column[FUZZ_MAX_COLUMNS];
} fuzz_parse_t;

#define FUZZ_MAX_PH  (NGX_PAYOUT_FILTER_MAX_PARAMS + 1)

typedef struct {
    int   n;
    int   num[FUZZ_MAX_PH];
    int   type;
    int   column;
} fuzz_cond_t;


static void fuzz_query(const ngx_payout_filter_column_t *columns,
    const uint8_t *data, size_t size);
static void fuzz_arg(fuzz_list_t *l, const unsigned char *name,
    size_t name_len, const unsigned char *value, size_t value_len);
static void fuzz_filter(fuzz_list_t *l, const unsigned char *name,
    size_t name_len, const unsigned char *value, size_t value_len);
static int fuzz_column(const fuzz_list_t *l, const unsigned char *name,
    size_t len);
static void fuzz_meta(const fuzz_list_t *l, int col,
    const unsigned char *value, size_t len);
static void fuzz_search_by(fuzz_list_t *l, const unsigned char *v,
    size_t len);
static void fuzz_search(fuzz_list_t *l, const unsigned char *term,
    size_t len);
static void fuzz_check_failed(fuzz_list_t *l, const char *sql, int nparams,
    int nconds, const char *meta, const ngx_payout_error_t *err);
static void fuzz_check_sql(const fuzz_list_t *l);
static const char *fuzz_group(fuzz_parse_t *ps, const char *p, int depth);
static const char *fuzz_search_sql(fuzz_parse_t *ps, const char *p);
static const char *fuzz_cond(fuzz_parse_t *ps, const char *p,
    fuzz_cond_t *c);
static const char *fuzz_tpl(const char *p, const char *tpl,
    const ngx_payout_filter_column_t *col, fuzz_cond_t *c);
static const char *fuzz_placeholder(const char *p, int type,
    fuzz_cond_t *c);
static void fuzz_check_param(const char *v, int type);
static size_t fuzz_match(const char *p, const char *s);
static void fuzz_check_long(const unsigned char *v, size_t len);
static void fuzz_check_sort(fuzz_list_t *l, const unsigned char *v,
    size_t len);
static void fuzz_check_quote(const unsigned char *s, size_t len);
static size_t fuzz_quote(char *dst, const unsigned char *s, size_t len);
static void fuzz_check_decode(const uint8_t *s, size_t len,
    const unsigned char *d, size_t dlen);


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
    int              i;
    size_t           name_len, value_len, n;
    fuzz_list_t     *l;
    unsigned char   *name, *value;
    const uint8_t   *p, *end, *amp, *eq;

    l = calloc(1, sizeof(fuzz_list_t));
    FUZZ_CHECK(l != NULL);

    ngx_payout_filter_init(&l->f, columns, FUZZ_FIRST_PARAM);

    for (l->ncolumns = 0; columns[l->ncolumns].name; l->ncolumns++) {
        l->first_or[l->ncolumns] = -1;
    }

    FUZZ_CHECK(l->ncolumns <= FUZZ_MAX_COLUMNS);

    p = data;
    end = data + size;

    for ( /* void */ ; p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            continue;   /* "a=1&&b=2": no parameter, as the handler */
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

        fuzz_arg(l, name, name_len, value, value_len);

        free(name);
        free(value);
    }

    fuzz_check_sql(l);

    for (i = 0; i < l->f.nparams; i++) {
        FUZZ_CHECK(l->f.params[i] != NULL);
        FUZZ_CHECK(fuzz_cstr_utf8(l->f.params[i]));
    }

    FUZZ_CHECK((l->f.meta != NULL) == (l->nconds > (l->search_param != 0)));

    ngx_payout_filter_free(&l->f);

    FUZZ_CHECK(l->f.nparams == 0 && l->f.meta == NULL);
    FUZZ_CHECK(strcmp(l->f.sql, "TRUE") == 0);

    free(l);
}


/* one decoded parameter, by name as the handler dispatches it */

static void
fuzz_arg(fuzz_list_t *l, const unsigned char *name, size_t name_len,
    const unsigned char *value, size_t value_len)
{
    /* an unknown name is quoted into the error's field */
    fuzz_check_quote(name, name_len);

    if (name_len > 7 && memcmp(name, "filter.", 7) == 0) {
        fuzz_filter(l, name + 7, name_len - 7, value, value_len);

    } else if ((name_len == 5 && memcmp(name, "limit", 5) == 0)
               || (name_len == 4 && memcmp(name, "page", 4) == 0))
    {
        fuzz_check_long(value, value_len);

    } else if (name_len == 6 && memcmp(name, "sortBy", 6) == 0) {
        fuzz_check_sort(l, value, value_len);

    } else if (name_len == 8 && memcmp(name, "searchBy", 8) == 0) {
        fuzz_search_by(l, value, value_len);

    } else if (name_len == 6 && memcmp(name, "search", 6) == 0) {
        fuzz_search(l, value, value_len);

    } else if (name_len == 6 && memcmp(name, "select", 6) == 0) {
        /* the handler's alone; its value is quoted in no error */
        return;
    }
}


static void
fuzz_filter(fuzz_list_t *l, const unsigned char *name, size_t name_len,
    const unsigned char *value, size_t value_len)
{
    int                  rc, nparams, nconds, col;
    char                *meta, *sql, want[64], quoted[64];
    ngx_payout_error_t   err;

    sql = fuzz_strndup(l->f.sql, l->f.sql_len);
    nparams = l->f.nparams;
    nconds = l->f.nconds;
    meta = l->f.meta ? json_dumps(l->f.meta, JSON_COMPACT | JSON_SORT_KEYS)
                     : NULL;
    col = fuzz_column(l, name, name_len);

    memset(&err, 0, sizeof(err));

    rc = ngx_payout_filter_add(&l->f, (const char *) name, name_len,
                               (const char *) value, value_len, &err);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(col >= 0);
        FUZZ_CHECK(l->f.columns[col].type >= 0
                   && l->f.columns[col].type <= 3);
        FUZZ_CHECK(l->f.nparams >= nparams);
        FUZZ_CHECK(l->f.meta != NULL);

        l->nconds++;
        l->per_column[col]++;

        rc = value_len >= 4 && memcmp(value, "$or:", 4) == 0;
        l->nor += rc;

        if (l->first_or[col] < 0) {
            l->first_or[col] = rc;
        }

        fuzz_meta(l, col, value, value_len);

        /* every state while short, the last always (fuzz_query()) */
        if (l->nconds <= FUZZ_SQL_EVERY) {
            fuzz_check_sql(l);
        }

    } else {
        fuzz_check_failed(l, sql, nparams, nconds, meta, &err);

        /* an unknown column, and only that, is an unknown parameter */

        FUZZ_CHECK((col < 0) == (strcmp(err.code, "unknown_parameter") == 0));

        if (col < 0) {
            fuzz_quote(quoted, name, name_len);
            snprintf(want, sizeof(want), "filter.%s", quoted);
            FUZZ_CHECK(err.field != NULL && strcmp(err.field, want) == 0);
        }
    }

    free(sql);
    free(meta);
}


static int
fuzz_column(const fuzz_list_t *l, const unsigned char *name, size_t len)
{
    int  i;

    for (i = 0; i < l->ncolumns; i++) {
        if (strlen(l->f.columns[i].name) == len
            && memcmp(l->f.columns[i].name, name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


/* meta.filter: the value as given, an array once the column repeats */

static void
fuzz_meta(const fuzz_list_t *l, int col, const unsigned char *value,
    size_t len)
{
    int      i;
    size_t   n;
    json_t  *m;

    n = 0;

    for (i = 0; i < l->ncolumns; i++) {
        if (l->per_column[i] == 0) {
            continue;
        }

        n++;
        m = json_object_get(l->f.meta, l->f.columns[i].name);
        FUZZ_CHECK(m != NULL);

        if (l->per_column[i] == 1) {
            FUZZ_CHECK(json_is_string(m));

        } else {
            FUZZ_CHECK(json_is_array(m));
            FUZZ_CHECK(json_array_size(m) == (size_t) l->per_column[i]);
        }
    }

    FUZZ_CHECK(json_object_size(l->f.meta) == n);

    /* the value just added, as given, is its column's last */

    m = json_object_get(l->f.meta, l->f.columns[col].name);

    if (json_is_array(m)) {
        m = json_array_get(m, json_array_size(m) - 1);
    }

    FUZZ_CHECK(json_is_string(m) && json_string_length(m) == len);
    FUZZ_CHECK(len == 0 || memcmp(json_string_value(m), value, len) == 0);
}


/* "a,b", repeatable: known names are kept once each, in order */

static void
fuzz_search_by(fuzz_list_t *l, const unsigned char *v, size_t len)
{
    int                                 i, nby;
    size_t                              n;
    const unsigned char                *p, *end, *comma;
    const ngx_payout_filter_column_t   *c, *by[FUZZ_MAX_BY];

    if (len == 0) {
        l->by_none = 1;     /* not the handler's: the core's n of 0 */
        return;
    }

    nby = l->nby;
    memcpy(by, l->by, sizeof(by));
    end = v + len;

    for (p = v; /* void */; p = comma + 1) {
        comma = memchr(p, ',', (size_t) (end - p));
        n = (size_t) ((comma ? comma : end) - p);

        for (c = fuzz_search_columns; c->name; c++) {
            if (strlen(c->name) == n && memcmp(c->name, p, n) == 0) {
                break;
            }
        }

        if (c->name == NULL) {
            return;     /* the handler's 400: nothing taken */
        }

        for (i = 0; i < nby && by[i] != c; i++) { /* void */ }

        if (i == nby) {
            FUZZ_CHECK(nby < FUZZ_MAX_BY);
            by[nby++] = c;
        }

        if (comma == NULL) {
            break;
        }
    }

    l->nby = nby;
    memcpy(l->by, by, sizeof(by));
}


/*
 * Each search is tried where it comes, with the columns of searchBy so
 * far (the handler adds its one search last): filters after it, and a
 * second search, are under test too.
 */

static void
fuzz_search(fuzz_list_t *l, const unsigned char *term, size_t len)
{
    int                                 i, n, rc, nparams, nconds, ok;
    char                               *sql, *meta, *want, *w;
    size_t                              k;
    ngx_payout_error_t                  err;
    const ngx_payout_filter_column_t   *by[FUZZ_MAX_BY];

    n = l->nby;

    if (n || l->by_none) {
        memcpy(by, l->by, n * sizeof(by[0]));

    } else {
        for (n = 0; n < FUZZ_SEARCH_DEFAULT; n++) {
            by[n] = &fuzz_search_columns[n];
        }
    }

    /* what the search may take, checked here again */

    ok = l->search_param == 0 && n > 0 && len > 0
         && memchr(term, '\0', len) == NULL && fuzz_utf8_valid(term, len);

    for (i = 0; i < n; i++) {
        ok = ok && by[i]->type == NGX_PAYOUT_FILTER_TEXT;
    }

    sql = fuzz_strndup(l->f.sql, l->f.sql_len);
    nparams = l->f.nparams;
    nconds = l->f.nconds;
    meta = l->f.meta ? json_dumps(l->f.meta, JSON_COMPACT | JSON_SORT_KEYS)
                     : NULL;

    memset(&err, 0, sizeof(err));

    rc = ngx_payout_filter_search(&l->f, by, n, (const char *) term, len,
                                  &err);

    if (rc != NGX_PAYOUT_OK) {
        fuzz_check_failed(l, sql, nparams, nconds, meta, &err);
        FUZZ_CHECK(strcmp(err.code, "invalid_parameter") == 0);
        FUZZ_CHECK(err.field && strcmp(err.field, "search") == 0);

        /* refused what it may take only when the filter is full */
        FUZZ_CHECK(!ok || nparams == NGX_PAYOUT_FILTER_MAX_PARAMS
                   || strncmp(err.message, "Too many", 8) == 0);

        free(sql);
        free(meta);
        return;
    }

    FUZZ_CHECK(ok);
    FUZZ_CHECK(l->f.nparams == nparams + 1);
    FUZZ_CHECK(l->f.nconds == nconds + 1);

    /* the one parameter: "%term%" with the term's %, _ and \ escaped */

    want = malloc(2 * len + 3);
    FUZZ_CHECK(want != NULL);
    w = want;
    *w++ = '%';

    for (k = 0; k < len; k++) {
        if (term[k] == '%' || term[k] == '_' || term[k] == '\\') {
            *w++ = '\\';
        }

        *w++ = (char) term[k];
    }

    *w++ = '%';
    *w = '\0';

    FUZZ_CHECK(strcmp(l->f.params[nparams], want) == 0);
    free(want);

    l->nconds++;
    l->search_param = l->f.first_param + nparams;
    l->nsearched = n;
    memcpy(l->searched, by, n * sizeof(by[0]));

    if (l->nconds <= FUZZ_SQL_EVERY) {
        fuzz_check_sql(l);
    }

    free(sql);
    free(meta);
}


/* a failed add or search: a precise error, and the filter as it was */

static void
fuzz_check_failed(fuzz_list_t *l, const char *sql, int nparams, int nconds,
    const char *meta, const ngx_payout_error_t *err)
{
    char  *after;

    FUZZ_CHECK(err->code != NULL);
    FUZZ_CHECK(strcmp(err->code, "invalid_parameter") == 0
               || strcmp(err->code, "unknown_parameter") == 0
               || strcmp(err->code, "internal_error") == 0);
    FUZZ_CHECK(fuzz_terminated(err->message, sizeof(err->message)));
    FUZZ_CHECK(err->message[0] != '\0');

    /* the message and the field go into a JSON error body */
    FUZZ_CHECK(fuzz_cstr_utf8(err->message));

    if (err->field) {
        FUZZ_CHECK(err->field == l->f.field);
        FUZZ_CHECK(fuzz_terminated(err->field, sizeof(l->f.field)));
        FUZZ_CHECK(strncmp(err->field, "filter.", 7) == 0
                   || strcmp(err->field, "search") == 0);
        FUZZ_CHECK(fuzz_cstr_utf8(err->field));
    }

    FUZZ_CHECK(l->f.nparams == nparams);
    FUZZ_CHECK(l->f.nconds == nconds);
    FUZZ_CHECK(l->f.sql_len == strlen(sql));
    FUZZ_CHECK(strcmp(l->f.sql, sql) == 0);
    FUZZ_CHECK((meta == NULL) == (l->f.meta == NULL));

    if (meta) {
        after = json_dumps(l->f.meta, JSON_COMPACT | JSON_SORT_KEYS);
        FUZZ_CHECK(after != NULL && strcmp(after, meta) == 0);
        free(after);
    }
}


/*
 * The SQL by its grammar:
 *   sql   = "TRUE" | term { " AND " term }
 *   term  = "(" ( cond | search | chain ) ")"
 *   chain = group { ( " AND " | " OR " ) group }
 *   group = "(" ( cond | search ) ")"
 */

static void
fuzz_check_sql(const fuzz_list_t *l)
{
    int            i, want, lead_or;
    const char    *p, *end, *q;
    fuzz_parse_t   ps;

    FUZZ_CHECK(l->f.sql_len < sizeof(l->f.sql));
    FUZZ_CHECK(strlen(l->f.sql) == l->f.sql_len);
    FUZZ_CHECK(l->f.nparams >= 0
               && l->f.nparams <= NGX_PAYOUT_FILTER_MAX_PARAMS);
    FUZZ_CHECK(l->f.nconds == l->nconds);

    if (strcmp(l->f.sql, "TRUE") == 0) {
        FUZZ_CHECK(l->f.nparams == 0 && l->nconds == 0);
        return;
    }

    /* quotes come only with the templates' ESCAPE E'\\' */

    for (q = l->f.sql; (q = strchr(q, '\'')) != NULL; q += 4) {
        FUZZ_CHECK(q > l->f.sql && strncmp(q - 1, "E'\\\\'", 5) == 0);
    }

    memset(&ps, 0, sizeof(ps));
    ps.list = l;

    p = l->f.sql;
    end = l->f.sql + l->f.sql_len;

    for ( ;; ) {
        p = fuzz_group(&ps, p, 0);

        if (p == NULL) {
            fprintf(stderr, "unexpected SQL: \"%s\"\n", l->f.sql);
        }

        FUZZ_CHECK(p != NULL);

        if (p == end) {
            break;
        }

        FUZZ_CHECK(fuzz_match(p, " AND "));
        p += 5;
        ps.joins++;
    }

    /* every condition once, joined to the one before */

    FUZZ_CHECK(ps.joins == l->nconds - 1);
    FUZZ_CHECK(ps.searches == (l->search_param != 0));

    lead_or = 0;

    for (i = 0; i < l->ncolumns; i++) {
        FUZZ_CHECK(ps.per_column[i] == l->per_column[i]);
        lead_or |= (l->first_or[i] == 1);
    }

    FUZZ_CHECK(ps.ors == l->nor - lead_or);

    /* each parameter used, once, but the search's */

    for (i = 0; i < l->f.nparams; i++) {
        want = (l->f.first_param + i == l->search_param) ? l->nsearched : 1;
        FUZZ_CHECK(ps.uses[i] == want);
    }
}


static const char *
fuzz_group(fuzz_parse_t *ps, const char *p, int depth)
{
    int           i;
    const char   *q;
    fuzz_cond_t   c;

    if (*p != '(') {
        return NULL;
    }

    p++;

    q = depth ? NULL : fuzz_search_sql(ps, p);

    if (q && *q == ')') {
        ps->uses[ps->list->search_param - ps->list->f.first_param]
            += ps->list->nsearched;
        ps->searches++;
        return q + 1;
    }

    q = fuzz_cond(ps, p, &c);

    if (q) {
        for (i = 0; i < c.n; i++) {
            FUZZ_CHECK(c.num[i] >= ps->list->f.first_param);
            FUZZ_CHECK(c.num[i] < ps->list->f.first_param
                                  + ps->list->f.nparams);

            /* consecutive within a condition */
            FUZZ_CHECK(c.num[i] == c.num[0] + i);

            ps->uses[c.num[i] - ps->list->f.first_param]++;
            fuzz_check_param(ps->list->f.params[c.num[i]
                                                - ps->list->f.first_param],
                             c.type);
        }

        ps->per_column[c.column]++;

        return q + 1;
    }

    if (depth > 0) {
        return NULL;
    }

    /* a chain, of conditions only */

    for ( ;; ) {
        p = fuzz_group(ps, p, depth + 1);

        if (p == NULL) {
            return NULL;
        }

        if (fuzz_match(p, " AND ")) {
            p += 5;

        } else if (fuzz_match(p, " OR ")) {
            p += 4;
            ps->ors++;

        } else {
            break;
        }

        ps->joins++;
    }

    return *p == ')' ? p + 1 : NULL;
}


/* "col ILIKE $n::text ESCAPE E'\\' OR ..." over the columns searched */

static const char *
fuzz_search_sql(fuzz_parse_t *ps, const char *p)
{
    int                  i;
    char                 want[256];
    size_t               n;
    const fuzz_list_t   *l;

    l = ps->list;

    if (l->search_param == 0) {
        return NULL;
    }

    for (i = 0; i < l->nsearched; i++) {
        snprintf(want, sizeof(want), "%s%s ILIKE $%d::text ESCAPE E'\\\\'",
                 i ? " OR " : "", l->searched[i]->sql, l->search_param);

        n = fuzz_match(p, want);

        if (n == 0) {
            return NULL;
        }

        p += n;
    }

    return p;
}


/* a template over a whitelisted column, up to the ")" after it */

static const char *
fuzz_cond(fuzz_parse_t *ps, const char *p, fuzz_cond_t *c)
{
    int                                 i;
    const char                         *q;
    const fuzz_tpl_t                   *t;
    const ngx_payout_filter_column_t   *col;

    for (i = 0; i < ps->list->ncolumns; i++) {
        col = &ps->list->f.columns[i];

        if (col->type < 0 || col->type > 3) {
            continue;
        }

        /* every template starts with the column, or strpos( and it */

        q = fuzz_match(p, "strpos(") ? p + 7 : p;

        if (!fuzz_match(q, col->sql)) {
            continue;
        }

        for (t = fuzz_tpls; t->tpl; t++) {
            if ((t->on == FUZZ_ON_ORDERED
                 && col->type == NGX_PAYOUT_FILTER_UUID)
                || (t->on == FUZZ_ON_TEXT
                    && col->type != NGX_PAYOUT_FILTER_TEXT))
            {
                continue;
            }

            c->n = 0;
            c->type = col->type;
            c->column = i;

            q = fuzz_tpl(p, t->tpl, col, c);

            if (q && *q == ')') {
                return q;
            }
        }
    }

    return NULL;
}


static const char *
fuzz_tpl(const char *p, const char *tpl, const ngx_payout_filter_column_t *col,
    fuzz_cond_t *c)
{
    size_t  n;

    while (*tpl) {

        if (strncmp(tpl, "{c}", 3) == 0) {
            n = fuzz_match(p, col->sql);
            if (n == 0) {
                return NULL;
            }

            p += n;

        } else if (strncmp(tpl, "{1}", 3) == 0
                   || strncmp(tpl, "{2}", 3) == 0)
        {
            p = fuzz_placeholder(p, col->type, c);

        } else if (strncmp(tpl, "{L}", 3) == 0) {
            p = fuzz_placeholder(p, col->type, c);

            while (p && fuzz_match(p, ", $")) {
                p = fuzz_placeholder(p + 2, col->type, c);
            }

        } else {
            if (*p != *tpl) {
                return NULL;
            }

            p++;
            tpl++;
            continue;
        }

        if (p == NULL) {
            return NULL;
        }

        tpl += 3;
    }

    return p;
}


/* "$n::cast" with the column's cast */

static const char *
fuzz_placeholder(const char *p, int type, fuzz_cond_t *c)
{
    int     num;
    size_t  n;

    if (*p != '$' || p[1] < '1' || p[1] > '9') {
        return NULL;
    }

    num = 0;

    for (p++; *p >= '0' && *p <= '9'; p++) {
        num = num * 10 + (*p - '0');

        if (num > 999) {
            return NULL;
        }
    }

    n = fuzz_match(p, fuzz_casts[type]);

    if (n == 0 || c->n == FUZZ_MAX_PH) {
        return NULL;
    }

    c->num[c->n++] = num;

    return p + n;
}


/* a parameter is what its placeholder's type takes */

static void
fuzz_check_param(const char *v, int type)
{
    size_t  i, len;

    FUZZ_CHECK(v != NULL);
    len = strlen(v);

    switch (type) {

    case NGX_PAYOUT_FILTER_INT:
        if (*v == '-') {
            v++;
            len--;
        }

        FUZZ_CHECK(len >= 1 && len <= 18);
        FUZZ_CHECK(strspn(v, "0123456789") == len);
        break;

    case NGX_PAYOUT_FILTER_UUID:
        FUZZ_CHECK(len == 36);

        for (i = 0; i < len; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                FUZZ_CHECK(v[i] == '-');

            } else {
                FUZZ_CHECK(strchr("0123456789abcdefABCDEF", v[i]) != NULL
                           && v[i] != '\0');
            }
        }

        break;

    case NGX_PAYOUT_FILTER_TIMESTAMP:
        FUZZ_CHECK(len >= 10 && strspn(v, "0123456789") == 4 && v[4] == '-');
        FUZZ_CHECK(strspn(v, "0123456789-:.TZ+") == len);
        break;

    default:
        FUZZ_CHECK(fuzz_cstr_utf8(v));
    }
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


/*
 * One more sortBy key, against a parser of its own: "column:DIR" split
 * at the first colon, a sortable column not sorted by yet, ASC or DESC.
 */

static void
fuzz_check_sort(fuzz_list_t *l, const unsigned char *v, size_t len)
{
    int                  rc, i, col, desc;
    size_t               col_len, dir_len;
    const char          *colon, *dir;

    static const char  *cols[] = { "id", "created_at", "amount" };

    colon = memchr(v, ':', len);
    col = -1;
    desc = -1;

    if (colon) {
        col_len = (size_t) (colon - (const char *) v);
        dir = colon + 1;
        dir_len = len - col_len - 1;

        for (i = 0; i < 3; i++) {
            if (strlen(cols[i]) == col_len
                && memcmp(cols[i], v, col_len) == 0)
            {
                col = i;
            }
        }

        if (dir_len == 3 && memcmp(dir, "ASC", 3) == 0) {
            desc = 0;

        } else if (dir_len == 4 && memcmp(dir, "DESC", 4) == 0) {
            desc = 1;
        }
    }

    /* each column once: so the keys never outnumber the columns */

    for (i = 0; col >= 0 && i < l->nsort; i++) {
        if (strcmp(l->sort_column[i], cols[col]) == 0) {
            col = -1;
        }
    }

    FUZZ_CHECK(col < 0 || l->nsort < 3);

    rc = ngx_payout_page_parse_sort(v, len, &l->page);

    if (col >= 0 && desc >= 0) {
        FUZZ_CHECK(rc == NGX_PAYOUT_OK);
        l->sort_column[l->nsort] = cols[col];
        l->sort_desc[l->nsort] = desc;
        l->nsort++;

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_ERROR);
    }

    /* the page holds the keys taken, in order; a refused one changed none */

    FUZZ_CHECK(l->page.nsort == l->nsort);

    for (i = 0; i < l->nsort; i++) {
        FUZZ_CHECK(l->page.sort[i].column != NULL);
        FUZZ_CHECK(strcmp(l->page.sort[i].column, l->sort_column[i]) == 0);
        FUZZ_CHECK(l->page.sort[i].desc == l->sort_desc[i]);
    }
}


/*
 * Client text quoted into a field or message, into buffers of every size
 * up to the one callers use: within size, NUL-terminated, printable, the
 * start of the text with "?" for the rest and "..." when it is cut.
 */

static void
fuzz_check_quote(const unsigned char *s, size_t len)
{
    char    buf[NGX_PAYOUT_QUERY_QUOTE_LEN + 4 + 16], want[64];
    size_t  size, n, i, k, wlen;

    /* the sizes about the ends: no "...", its first byte, a cut text */

    static const size_t  sizes[] = {
        0, 1, 3, 4, 5, 8, 20, NGX_PAYOUT_QUERY_QUOTE_LEN + 3,
        NGX_PAYOUT_QUERY_QUOTE_LEN + 4
    };

    wlen = fuzz_quote(want, s, len);

    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size = sizes[k];
        memset(buf, 0x5a, sizeof(buf));
        ngx_payout_query_quote(buf, size, (const char *) s, len);

        for (i = size; i < sizeof(buf); i++) {
            FUZZ_CHECK(buf[i] == 0x5a);
        }

        if (size == 0) {
            continue;
        }

        FUZZ_CHECK(fuzz_terminated(buf, size));
        n = strlen(buf);

        if (size == NGX_PAYOUT_QUERY_QUOTE_LEN + 4) {
            FUZZ_CHECK(n == wlen && strcmp(buf, want) == 0);
            continue;
        }

        /* a shorter buffer: less of the text, but "..." when it is cut */

        if (n >= 3 && strcmp(buf + n - 3, "...") == 0 && n - 3 < len) {
            n -= 3;

        } else {
            FUZZ_CHECK(n == len || size < 4);
        }

        FUZZ_CHECK(n <= len && strncmp(buf, want, n) == 0);
    }
}


/* the quote as the field of an error must read */

static size_t
fuzz_quote(char *dst, const unsigned char *s, size_t len)
{
    size_t  i, n;

    n = len < NGX_PAYOUT_QUERY_QUOTE_LEN ? len : NGX_PAYOUT_QUERY_QUOTE_LEN;

    for (i = 0; i < n; i++) {
        dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char) s[i] : '?';
    }

    if (n < len) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }

    dst[n] = '\0';

    return n;
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
