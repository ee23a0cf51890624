/*
 * nestjs-paginate filters turned into a parameterised SQL condition.
 *
 * A value is "[$not:][$op[:operand]]" or a bare operand meaning $eq.  The
 * operand is everything after the operator, colons included, so a
 * timestamp such as 2024-01-31T13:45:00Z needs no quoting.  Operands are
 * checked here against the column's type, so a malformed value is a 400
 * naming the filter rather than a PostgreSQL error, and they reach the
 * server only as parameters: the SQL holds nothing but the whitelisted
 * column expression, the templates below and "$n::type" placeholders.
 *
 * Comparisons follow SQL's three-valued logic, negated or not: a row whose
 * column is NULL matches neither "$eq:x" nor "$not:$eq:x" (the latter is
 * "<>", as nestjs-paginate's TypeORM Not(x) is).  $null and $not:$null are
 * the way to select on NULL.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_payout_filter.h"
#include "ngx_payout_text.h"


/* the most values one $in may carry; NGX_PAYOUT_FILTER_MAX_PARAMS caps
   all the filters of a request together */
#define NGX_PAYOUT_FILTER_MAX_LIST     20

/* how many operands an operator takes */
#define NGX_PAYOUT_FILTER_ARITY_NONE   0       /* $null */
#define NGX_PAYOUT_FILTER_ARITY_ONE    1
#define NGX_PAYOUT_FILTER_ARITY_TWO    2       /* $btw:a,b */
#define NGX_PAYOUT_FILTER_ARITY_LIST   3       /* $in:a,b,... */

/* how an operand becomes a LIKE pattern */
#define NGX_PAYOUT_FILTER_LIKE_NONE    0
#define NGX_PAYOUT_FILTER_LIKE_PREFIX  1       /* $sw: "value%" */
#define NGX_PAYOUT_FILTER_LIKE_INFIX   2       /* $ilike: "%value%" */

/* sets of column types an operator applies to */
#define NGX_PAYOUT_FILTER_ON(t)        (1u << (t))
#define NGX_PAYOUT_FILTER_ON_TEXT      NGX_PAYOUT_FILTER_ON(                  \
                                           NGX_PAYOUT_FILTER_TEXT)
#define NGX_PAYOUT_FILTER_ON_ORDERED   (NGX_PAYOUT_FILTER_ON_TEXT             \
                                        | NGX_PAYOUT_FILTER_ON(               \
                                              NGX_PAYOUT_FILTER_INT)          \
                                        | NGX_PAYOUT_FILTER_ON(               \
                                              NGX_PAYOUT_FILTER_TIMESTAMP))
#define NGX_PAYOUT_FILTER_ON_ALL       (NGX_PAYOUT_FILTER_ON_ORDERED          \
                                        | NGX_PAYOUT_FILTER_ON(               \
                                              NGX_PAYOUT_FILTER_UUID))

/*
 * An operator: its SQL, plain and under $not, as a template in which {c}
 * is the column expression, {1} and {2} the first and second operand's
 * placeholder, and {L} the comma-separated placeholders of a list.
 */

typedef struct {
    const char  *name;
    const char  *sql;
    const char  *not_sql;
    unsigned     types;
    int          arity;
    int          like;
} ngx_payout_filter_op_t;


typedef struct {
    const char  *name;
    const char  *cast;
} ngx_payout_filter_type_t;


typedef struct {
    char        *buf;
    size_t       size;
    size_t       len;
    int          overflow;
} ngx_payout_filter_buf_t;


/* a value's prefixes and operator, and where its operand lies */
typedef struct {
    int                            or;
    int                            neg;
    const ngx_payout_filter_op_t  *op;
    const char                    *operand;
    const char                    *end;
} ngx_payout_filter_token_t;


/* what the timestamp check found */
#define NGX_PAYOUT_FILTER_TS_OK         0
#define NGX_PAYOUT_FILTER_TS_BAD        1
#define NGX_PAYOUT_FILTER_TS_PLUS       2     /* "+01:00" arrived " 01:00" */


static const ngx_payout_filter_column_t *ngx_payout_filter_column(
    ngx_payout_filter_t *f, const char *name, size_t len);
static int ngx_payout_filter_unknown(ngx_payout_filter_t *f,
    ngx_payout_error_t *err);
static int ngx_payout_filter_token(ngx_payout_filter_t *f, const char *value,
    size_t len, ngx_payout_filter_token_t *tok, ngx_payout_error_t *err);
static int ngx_payout_filter_applies(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const ngx_payout_filter_op_t *op,
    ngx_payout_error_t *err);
static int ngx_payout_filter_operands(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err);
static int ngx_payout_filter_unary(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err);
static int ngx_payout_filter_binary(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err);
static int ngx_payout_filter_list(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err);
static int ngx_payout_filter_value(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const ngx_payout_filter_op_t *op,
    const char *v, size_t len, int *n, ngx_payout_error_t *err);
static int ngx_payout_filter_operand(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const ngx_payout_filter_op_t *op,
    const char *v, size_t len, ngx_payout_error_t *err);
static int ngx_payout_filter_space(char c);
static int ngx_payout_filter_cond(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, int or, const char *tpl,
    int first, int n, ngx_payout_error_t *err);
static int ngx_payout_filter_store(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, int or, const char *piece,
    size_t len);
static void ngx_payout_filter_uncond(ngx_payout_filter_t *f, int nparams);
static int ngx_payout_filter_build(ngx_payout_filter_t *f);
static int ngx_payout_filter_lead(ngx_payout_filter_t *f, int i);
static int ngx_payout_filter_has_or(ngx_payout_filter_t *f, int lead);
static void ngx_payout_filter_chain(ngx_payout_filter_t *f,
    ngx_payout_filter_buf_t *b, int i, int first);
static const ngx_payout_filter_op_t *ngx_payout_filter_op(const char *name,
    size_t len);
static size_t ngx_payout_filter_op_token(const char *p, const char *end);
static int ngx_payout_filter_check(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const char *v, size_t len,
    ngx_payout_error_t *err);
static int ngx_payout_filter_param(ngx_payout_filter_t *f,
    const ngx_payout_filter_op_t *op, const char *v, size_t len,
    ngx_payout_error_t *err);
static int ngx_payout_filter_expand(ngx_payout_filter_buf_t *b,
    const char *tpl, const ngx_payout_filter_column_t *col, int first,
    int n);
static int ngx_payout_filter_meta(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const char *value, size_t len);
static void ngx_payout_filter_rollback(ngx_payout_filter_t *f, int nparams);
static int ngx_payout_filter_int_valid(const char *s, size_t len);
static int ngx_payout_filter_timestamp_check(const char *s, size_t len);
static int ngx_payout_filter_digits(const char *s, size_t n, int *out);
static void ngx_payout_filter_append(ngx_payout_filter_buf_t *b,
    const char *s, size_t len);
static int ngx_payout_filter_fail(ngx_payout_filter_t *f,
    ngx_payout_error_t *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
static int ngx_payout_filter_nomem(ngx_payout_error_t *err);


/*
 * E'\\' is one backslash whatever standard_conforming_strings says, and
 * the operand is escaped with it before it is sent (see _param() below).
 */

static const ngx_payout_filter_op_t  ngx_payout_filter_ops[] = {

    { "$eq", "{c} = {1}", "{c} <> {1}",
      NGX_PAYOUT_FILTER_ON_ALL, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$null", "{c} IS NULL", "{c} IS NOT NULL",
      NGX_PAYOUT_FILTER_ON_ALL, NGX_PAYOUT_FILTER_ARITY_NONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$in", "{c} IN ({L})", "{c} NOT IN ({L})",
      NGX_PAYOUT_FILTER_ON_ALL, NGX_PAYOUT_FILTER_ARITY_LIST,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$gt", "{c} > {1}", "{c} <= {1}",
      NGX_PAYOUT_FILTER_ON_ORDERED, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$gte", "{c} >= {1}", "{c} < {1}",
      NGX_PAYOUT_FILTER_ON_ORDERED, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$lt", "{c} < {1}", "{c} >= {1}",
      NGX_PAYOUT_FILTER_ON_ORDERED, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$lte", "{c} <= {1}", "{c} > {1}",
      NGX_PAYOUT_FILTER_ON_ORDERED, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { "$btw", "{c} BETWEEN {1} AND {2}", "{c} NOT BETWEEN {1} AND {2}",
      NGX_PAYOUT_FILTER_ON_ORDERED, NGX_PAYOUT_FILTER_ARITY_TWO,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    /* nestjs-paginate's $ilike is ILike('%value%'), its $sw ILike('value%') */

    { "$ilike", "{c} ILIKE {1} ESCAPE E'\\\\'",
      "{c} NOT ILIKE {1} ESCAPE E'\\\\'",
      NGX_PAYOUT_FILTER_ON_TEXT, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_INFIX },

    { "$sw", "{c} ILIKE {1} ESCAPE E'\\\\'",
      "{c} NOT ILIKE {1} ESCAPE E'\\\\'",
      NGX_PAYOUT_FILTER_ON_TEXT, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_PREFIX },

    /*
     * nestjs-paginate's $contains is array containment (@>); our columns
     * are scalars, so it is a case-sensitive substring match, which
     * strpos() does without any pattern characters to escape
     */

    { "$contains", "strpos({c}, {1}) > 0", "strpos({c}, {1}) = 0",
      NGX_PAYOUT_FILTER_ON_TEXT, NGX_PAYOUT_FILTER_ARITY_ONE,
      NGX_PAYOUT_FILTER_LIKE_NONE },

    { NULL, NULL, NULL, 0, 0, 0 }
};


/* indexed by NGX_PAYOUT_FILTER_TEXT ... NGX_PAYOUT_FILTER_TIMESTAMP */

static const ngx_payout_filter_type_t  ngx_payout_filter_types[] = {
    { "a text", "::text" },
    { "an integer", "::bigint" },
    { "a UUID", "::uuid" },
    { "a timestamp", "::timestamptz" },
};

#define NGX_PAYOUT_FILTER_NTYPES                                              \
    (int) (sizeof(ngx_payout_filter_types)                                    \
           / sizeof(ngx_payout_filter_types[0]))


static const char  ngx_payout_filter_op_list[] =
    "$eq, $not, $null, $in, $gt, $gte, $lt, $lte, $btw, $ilike, $sw or "
    "$contains";



void
ngx_payout_filter_init(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *columns, int first_param)
{
    int  i;

    f->columns = columns;

    memcpy(f->sql, "TRUE", sizeof("TRUE"));
    f->sql_len = sizeof("TRUE") - 1;

    f->first_param = first_param;
    f->nparams = 0;

    for (i = 0; i < NGX_PAYOUT_FILTER_MAX_PARAMS; i++) {
        f->params[i] = NULL;
    }

    f->meta = NULL;
    f->field[0] = '\0';

    f->nconds = 0;
    f->pieces_len = 0;
}


int
ngx_payout_filter_add(ngx_payout_filter_t *f, const char *name,
    size_t name_len, const char *value, size_t value_len,
    ngx_payout_error_t *err)
{
    int                                 nparams, n;
    ngx_payout_filter_token_t           tok;
    const ngx_payout_filter_column_t   *col;

    col = ngx_payout_filter_column(f, name, name_len);

    if (col == NULL) {
        return ngx_payout_filter_unknown(f, err);
    }

    /* the field is set now, so every error below names the column */

    if (col->type < 0 || col->type >= NGX_PAYOUT_FILTER_NTYPES) {
        return ngx_payout_filter_fail(f, err, "%s has no filterable type.",
                                      col->name);
    }

    if (ngx_payout_filter_token(f, value, value_len, &tok, err)
        != NGX_PAYOUT_OK
        || ngx_payout_filter_applies(f, col, tok.op, err) != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    nparams = f->nparams;

    if (ngx_payout_filter_operands(f, col, &tok, &n, err) != NGX_PAYOUT_OK
        || ngx_payout_filter_cond(f, col, tok.or,
                                  tok.neg ? tok.op->not_sql : tok.op->sql,
                                  f->first_param + nparams, n, err)
           != NGX_PAYOUT_OK)
    {
        ngx_payout_filter_rollback(f, nparams);
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_filter_meta(f, col, value, value_len) != NGX_PAYOUT_OK) {
        ngx_payout_filter_uncond(f, nparams);
        return ngx_payout_filter_nomem(err);
    }

    return NGX_PAYOUT_OK;
}


int
ngx_payout_filter_search(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *const *by, int n, const char *term,
    size_t len, ngx_payout_error_t *err)
{
    int                                 i, nparams;
    char                                piece[NGX_PAYOUT_FILTER_MAX_SQL];
    ngx_payout_filter_buf_t             b;
    const ngx_payout_filter_op_t       *ilike;

    static const ngx_payout_filter_column_t  search = {
        "search", NULL, NGX_PAYOUT_FILTER_TEXT
    };

    snprintf(f->field, sizeof(f->field), "search");

    for (i = 0; i < f->nconds; i++) {
        if (f->conds[i].column == NULL) {
            return ngx_payout_filter_fail(f, err,
                                          "search may be given only once.");
        }
    }

    if (n < 1) {
        return ngx_payout_filter_fail(f, err, "There is nothing to search.");
    }

    if (len == 0) {
        return ngx_payout_filter_fail(f, err,
                   "search must not be empty; leave it out to list all.");
    }

    ilike = ngx_payout_filter_op("$ilike", sizeof("$ilike") - 1);
    nparams = f->nparams;

    if (ngx_payout_filter_check(f, &search, term, len, err) != NGX_PAYOUT_OK
        || ngx_payout_filter_param(f, ilike, term, len, err) != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* one parameter, matched against every column */

    b.buf = piece;
    b.size = sizeof(piece);
    b.len = 0;
    b.overflow = 0;

    for (i = 0; i < n; i++) {
        if (by[i]->type != NGX_PAYOUT_FILTER_TEXT) {
            ngx_payout_filter_fail(f, err, "%s is not a text column.",
                                   by[i]->name);
            ngx_payout_filter_rollback(f, nparams);
            return NGX_PAYOUT_ERROR;
        }

        if (i) {
            ngx_payout_filter_append(&b, " OR ", 4);
        }

        ngx_payout_filter_expand(&b, ilike->sql, by[i],
                                 f->first_param + nparams, 1);
    }

    if (b.overflow
        || ngx_payout_filter_store(f, NULL, 0, piece, b.len) != NGX_PAYOUT_OK)
    {
        ngx_payout_filter_fail(f, err, "Too many filters.");
        ngx_payout_filter_rollback(f, nparams);
        return NGX_PAYOUT_ERROR;
    }

    return NGX_PAYOUT_OK;
}


/* the error for an unknown column, which lists the known ones */

static int
ngx_payout_filter_unknown(ngx_payout_filter_t *f, ngx_payout_error_t *err)
{
    char                               list[160];
    ngx_payout_filter_buf_t            b;
    const ngx_payout_filter_column_t  *c;

    b.buf = list;
    b.size = sizeof(list);
    b.len = 0;
    b.overflow = 0;

    for (c = f->columns; c && c->name; c++) {
        if (c != f->columns) {
            ngx_payout_filter_append(&b, ", ", 2);
        }

        ngx_payout_filter_append(&b, c->name, strlen(c->name));
    }

    ngx_payout_filter_fail(f, err,
        "Cannot filter by this column; the filterable columns are %s.",
        b.len ? list : "none");

    err->code = "unknown_parameter";

    return NGX_PAYOUT_ERROR;
}


/*
 * "[$or:|$and:][$not:]$op[:operand]" or a bare operand: the prefixes, the
 * operator ($eq when there is none) and where the operand starts.
 */

static int
ngx_payout_filter_token(ngx_payout_filter_t *f, const char *value,
    size_t len, ngx_payout_filter_token_t *tok, ngx_payout_error_t *err)
{
    int           comparator;
    char          quoted[NGX_PAYOUT_QUERY_QUOTE_LEN + 4];
    size_t        t;
    const char   *p, *end;

    p = value;
    end = value + len;
    comparator = 0;

    tok->or = 0;
    tok->neg = 0;
    tok->op = NULL;
    tok->operand = p;
    tok->end = end;

    for ( ;; ) {
        t = ngx_payout_filter_op_token(p, end);

        if (t == 0) {
            break;   /* a bare operand */
        }

        if ((t == 3 && memcmp(p, "$or", 3) == 0)
            || (t == 4 && memcmp(p, "$and", 4) == 0))
        {
            if (comparator || tok->neg) {
                return ngx_payout_filter_fail(f, err,
                           "$or or $and may appear only once, first, as in "
                           "$or:$not:$eq:x.");
            }

            if (p + t == end) {
                return ngx_payout_filter_fail(f, err,
                           "%.*s needs a condition after it, such as "
                           "%.*s:$eq:x.", (int) t, p, (int) t, p);
            }

            comparator = 1;
            tok->or = (t == 3);
            p += t + 1;
            continue;
        }

        if (t == 4 && memcmp(p, "$not", 4) == 0) {

            if (tok->neg) {
                return ngx_payout_filter_fail(f, err,
                           "$not may appear only once in a filter.");
            }

            if (p + t == end) {
                return ngx_payout_filter_fail(f, err,
                           "$not needs an operator or a value after it, "
                           "such as $not:$eq:x or $not:$null.");
            }

            tok->neg = 1;
            p += t + 1;
            continue;
        }

        tok->op = ngx_payout_filter_op(p, t);

        if (tok->op != NULL) {
            p += t;
            break;
        }

        ngx_payout_query_quote(quoted, sizeof(quoted), p, t);

        if ((t == 4 && memcmp(p, "$any", 4) == 0)
            || (t == 4 && memcmp(p, "$all", 4) == 0)
            || (t == 5 && memcmp(p, "$none", 5) == 0))
        {
            return ngx_payout_filter_fail(f, err,
                       "%s applies to array columns, and no column here "
                       "is one.", quoted);
        }

        return ngx_payout_filter_fail(f, err,
                   "Unknown filter operator \"%s\"; use %s (a value "
                   "that starts with '$' is written $eq:value).",
                   quoted, ngx_payout_filter_op_list);
    }

    if (tok->op == NULL) {
        if (p == end) {
            return ngx_payout_filter_fail(f, err,
                       "%s needs a value, such as $eq:x or $null.",
                       f->field);
        }

        tok->op = &ngx_payout_filter_ops[0];   /* $eq */

    } else if (tok->op->arity == NGX_PAYOUT_FILTER_ARITY_NONE) {
        if (p != end) {
            return ngx_payout_filter_fail(f, err, "%s takes no value.",
                                          tok->op->name);
        }

    } else if (p != end) {
        p++;   /* the ":" */
    }

    tok->operand = p;
    tok->end = end;

    return NGX_PAYOUT_OK;
}


/* whether the operator applies to the column's type */

static int
ngx_payout_filter_applies(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const ngx_payout_filter_op_t *op,
    ngx_payout_error_t *err)
{
    char                           list[160];
    ngx_payout_filter_buf_t        b;
    const ngx_payout_filter_op_t  *o;

    if (op->types & NGX_PAYOUT_FILTER_ON(col->type)) {
        return NGX_PAYOUT_OK;
    }

    b.buf = list;
    b.size = sizeof(list);
    b.len = 0;
    b.overflow = 0;

    ngx_payout_filter_append(&b, "$not", 4);

    for (o = ngx_payout_filter_ops; o->name; o++) {
        if (o->types & NGX_PAYOUT_FILTER_ON(col->type)) {
            ngx_payout_filter_append(&b, ", ", 2);
            ngx_payout_filter_append(&b, o->name, strlen(o->name));
        }
    }

    return ngx_payout_filter_fail(f, err,
               "%s does not apply to %s, %s column; use %s.",
               op->name, col->name,
               ngx_payout_filter_types[col->type].name, list);
}


/* the operands, each checked and kept as a parameter; *n is their count */

static int
ngx_payout_filter_operands(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err)
{
    *n = 0;

    switch (tok->op->arity) {

    case NGX_PAYOUT_FILTER_ARITY_NONE:
        return NGX_PAYOUT_OK;

    case NGX_PAYOUT_FILTER_ARITY_ONE:
        return ngx_payout_filter_unary(f, col, tok, n, err);

    case NGX_PAYOUT_FILTER_ARITY_TWO:
        return ngx_payout_filter_binary(f, col, tok, n, err);

    default: /* NGX_PAYOUT_FILTER_ARITY_LIST */
        return ngx_payout_filter_list(f, col, tok, n, err);
    }
}


/* commas are part of a single operand: "$eq:a,b" is "a,b" */

static int
ngx_payout_filter_unary(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err)
{
    if (tok->operand == tok->end) {
        return ngx_payout_filter_fail(f, err, "%s needs a value.",
                                      tok->op->name);
    }

    return ngx_payout_filter_value(f, col, tok->op, tok->operand,
                                   (size_t) (tok->end - tok->operand), n,
                                   err);
}


/* "$btw:1,5": exactly two, as sent */

static int
ngx_payout_filter_binary(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err)
{
    const char                    *p, *end, *comma;
    const ngx_payout_filter_op_t  *op;

    op = tok->op;
    p = tok->operand;
    end = tok->end;

    if (p == end) {
        return ngx_payout_filter_fail(f, err,
                                      "%s needs two comma-separated values.",
                                      op->name);
    }

    comma = memchr(p, ',', (size_t) (end - p));

    if (comma == NULL
        || memchr(comma + 1, ',', (size_t) (end - comma - 1)))
    {
        return ngx_payout_filter_fail(f, err,
                   "%s needs exactly two comma-separated values, such "
                   "as %s:1,5.", op->name, op->name);
    }

    if (ngx_payout_filter_value(f, col, op, p, (size_t) (comma - p), n, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    return ngx_payout_filter_value(f, col, op, comma + 1,
                                   (size_t) (end - comma - 1), n, err);
}


/* "$in:a, b": up to NGX_PAYOUT_FILTER_MAX_LIST values, each trimmed */

static int
ngx_payout_filter_list(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col,
    const ngx_payout_filter_token_t *tok, int *n, ngx_payout_error_t *err)
{
    size_t                         len;
    const char                    *end, *v, *comma;
    const ngx_payout_filter_op_t  *op;

    op = tok->op;
    end = tok->end;

    if (tok->operand == end) {
        return ngx_payout_filter_fail(f, err,
                                      "%s needs one or more comma-separated "
                                      "values.", op->name);
    }

    for (v = tok->operand; /* void */; v = comma + 1) {
        comma = memchr(v, ',', (size_t) (end - v));
        len = (size_t) ((comma ? comma : end) - v);

        /* nestjs-paginate trims the values of $in: "$in:a, b" is a and b */

        while (len && ngx_payout_filter_space(*v)) {
            v++;
            len--;
        }

        while (len && ngx_payout_filter_space(v[len - 1])) {
            len--;
        }

        if (len && *n == NGX_PAYOUT_FILTER_MAX_LIST) {
            return ngx_payout_filter_fail(f, err,
                                          "%s takes at most %d values.",
                                          op->name,
                                          NGX_PAYOUT_FILTER_MAX_LIST);
        }

        if (ngx_payout_filter_value(f, col, op, v, len, n, err)
            != NGX_PAYOUT_OK)
        {
            return NGX_PAYOUT_ERROR;
        }

        if (comma == NULL) {
            return NGX_PAYOUT_OK;
        }
    }
}


/* one operand, not empty, checked and kept; *n counts it */

static int
ngx_payout_filter_value(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const ngx_payout_filter_op_t *op,
    const char *v, size_t len, int *n, ngx_payout_error_t *err)
{
    if (len == 0) {
        return ngx_payout_filter_fail(f, err, "%s values must not be empty.",
                                      op->name);
    }

    if (ngx_payout_filter_operand(f, col, op, v, len, err) != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    (*n)++;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_filter_operand(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const ngx_payout_filter_op_t *op,
    const char *v, size_t len, ngx_payout_error_t *err)
{
    if (ngx_payout_filter_check(f, col, v, len, err) != NGX_PAYOUT_OK) {
        return NGX_PAYOUT_ERROR;
    }

    return ngx_payout_filter_param(f, op, v, len, err);
}


/* JavaScript's trim() for ASCII: what nestjs-paginate strips from $in */

static int
ngx_payout_filter_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}


/* the condition from its template, stored and assembled into f->sql */

static int
ngx_payout_filter_cond(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, int or, const char *tpl,
    int first, int n, ngx_payout_error_t *err)
{
    char                     piece[NGX_PAYOUT_FILTER_MAX_SQL];
    ngx_payout_filter_buf_t  b;

    b.buf = piece;
    b.size = sizeof(piece);
    b.len = 0;
    b.overflow = 0;

    if (ngx_payout_filter_expand(&b, tpl, col, first, n) != NGX_PAYOUT_OK
        || ngx_payout_filter_store(f, col, or, piece, b.len) != NGX_PAYOUT_OK)
    {
        return ngx_payout_filter_fail(f, err, "Too many filters.");
    }

    return NGX_PAYOUT_OK;
}


/* keeps a condition and rebuilds f->sql; undone if that does not fit */

static int
ngx_payout_filter_store(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, int or, const char *piece,
    size_t len)
{
    ngx_payout_filter_cond_t  *c;

    if (f->nconds == NGX_PAYOUT_FILTER_MAX_CONDS
        || len >= sizeof(f->pieces) - f->pieces_len)
    {
        return NGX_PAYOUT_ERROR;
    }

    c = &f->conds[f->nconds++];
    c->column = col;
    c->or = or;
    c->off = f->pieces_len;
    c->len = len;

    memcpy(f->pieces + f->pieces_len, piece, len);
    f->pieces_len += len;

    if (ngx_payout_filter_build(f) != NGX_PAYOUT_OK) {
        f->nconds--;
        f->pieces_len = c->off;
        return NGX_PAYOUT_ERROR;
    }

    return NGX_PAYOUT_OK;
}


/* drops the last condition and its parameters */

static void
ngx_payout_filter_uncond(ngx_payout_filter_t *f, int nparams)
{
    f->nconds--;
    f->pieces_len = f->conds[f->nconds].off;

    (void) ngx_payout_filter_build(f);   /* it fitted before */

    ngx_payout_filter_rollback(f, nparams);
}


/*
 * f->sql from the conditions, terms ANDed in the order given: one term
 * per condition of a column chained by AND alone, the whole chain of a
 * column with an OR, and one chain of the columns led by "$or:", where
 * the first of them came; the search is a term of its own.
 */

static int
ngx_payout_filter_build(ngx_payout_filter_t *f)
{
    int                        i, j, lead, terms, ors;
    char                       sql[NGX_PAYOUT_FILTER_MAX_SQL];
    ngx_payout_filter_buf_t    b;
    ngx_payout_filter_cond_t  *c;

    b.buf = sql;
    b.size = sizeof(sql);
    b.len = 0;
    b.overflow = 0;

    terms = 0;
    ors = 0;

    for (i = 0; i < f->nconds; i++) {
        c = &f->conds[i];
        lead = ngx_payout_filter_lead(f, i);

        if (c->column != NULL && f->conds[lead].or) {

            /* the "$or:" chain, once, at its first column */

            if (ors++) {
                continue;
            }

            if (terms++) {
                ngx_payout_filter_append(&b, " AND ", 5);
            }

            ngx_payout_filter_append(&b, "(", 1);

            for (j = i; j < f->nconds; j++) {
                if (f->conds[j].column != NULL
                    && f->conds[ngx_payout_filter_lead(f, j)].or)
                {
                    ngx_payout_filter_chain(f, &b, j, j == i);
                }
            }

            ngx_payout_filter_append(&b, ")", 1);
            continue;
        }

        if (c->column != NULL && ngx_payout_filter_has_or(f, lead)) {

            /* a column's chain with an OR, once, at its first condition */

            if (lead != i) {
                continue;
            }

            if (terms++) {
                ngx_payout_filter_append(&b, " AND ", 5);
            }

            ngx_payout_filter_append(&b, "(", 1);

            for (j = i; j < f->nconds; j++) {
                if (f->conds[j].column == c->column) {
                    ngx_payout_filter_chain(f, &b, j, j == i);
                }
            }

            ngx_payout_filter_append(&b, ")", 1);
            continue;
        }

        if (terms++) {
            ngx_payout_filter_append(&b, " AND ", 5);
        }

        ngx_payout_filter_chain(f, &b, i, 1);
    }

    if (terms == 0) {
        ngx_payout_filter_append(&b, "TRUE", 4);
    }

    if (b.overflow) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(f->sql, sql, b.len + 1);
    f->sql_len = b.len;

    return NGX_PAYOUT_OK;
}


/* the first condition on the column of condition i */

static int
ngx_payout_filter_lead(ngx_payout_filter_t *f, int i)
{
    int  j;

    for (j = 0; j < i; j++) {
        if (f->conds[j].column == f->conds[i].column) {
            return j;
        }
    }

    return i;
}


static int
ngx_payout_filter_has_or(ngx_payout_filter_t *f, int lead)
{
    int  j;

    for (j = lead + 1; j < f->nconds; j++) {
        if (f->conds[j].column == f->conds[lead].column && f->conds[j].or) {
            return 1;
        }
    }

    return 0;
}


/* "(piece)", after " AND " or " OR " unless it starts a chain */

static void
ngx_payout_filter_chain(ngx_payout_filter_t *f, ngx_payout_filter_buf_t *b,
    int i, int first)
{
    ngx_payout_filter_cond_t  *c;

    c = &f->conds[i];

    if (!first) {
        if (c->or) {
            ngx_payout_filter_append(b, " OR ", 4);

        } else {
            ngx_payout_filter_append(b, " AND ", 5);
        }
    }

    ngx_payout_filter_append(b, "(", 1);
    ngx_payout_filter_append(b, f->pieces + c->off, c->len);
    ngx_payout_filter_append(b, ")", 1);
}


void
ngx_payout_filter_free(ngx_payout_filter_t *f)
{
    ngx_payout_filter_rollback(f, 0);

    json_decref(f->meta);
    f->meta = NULL;

    memcpy(f->sql, "TRUE", sizeof("TRUE"));
    f->sql_len = sizeof("TRUE") - 1;

    f->nconds = 0;
    f->pieces_len = 0;
}


/* looks the column up, and sets f->field for the errors that follow */

static const ngx_payout_filter_column_t *
ngx_payout_filter_column(ngx_payout_filter_t *f, const char *name,
    size_t len)
{
    char                               quoted[NGX_PAYOUT_QUERY_QUOTE_LEN
                                              + 4];
    const ngx_payout_filter_column_t  *col;

    for (col = f->columns; col && col->name; col++) {
        if (strlen(col->name) == len
            && (len == 0 || memcmp(col->name, name, len) == 0))
        {
            snprintf(f->field, sizeof(f->field), "filter.%s", col->name);
            return col;
        }
    }

    /* the name is the client's: printable ASCII only, and cut short */

    ngx_payout_query_quote(quoted, sizeof(quoted), name, len);
    snprintf(f->field, sizeof(f->field), "filter.%s", quoted);

    return NULL;
}


/* the length of "$letters" at p if it ends at ":" or at end, else 0 */

static size_t
ngx_payout_filter_op_token(const char *p, const char *end)
{
    const char  *q;

    if (p == end || *p != '$') {
        return 0;
    }

    for (q = p + 1; q < end; q++) {
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))) {
            break;
        }
    }

    if (q == p + 1 || (q < end && *q != ':')) {
        return 0;
    }

    return (size_t) (q - p);
}


static const ngx_payout_filter_op_t *
ngx_payout_filter_op(const char *name, size_t len)
{
    const ngx_payout_filter_op_t  *op;

    for (op = ngx_payout_filter_ops; op->name; op++) {
        if (strlen(op->name) == len && memcmp(op->name, name, len) == 0) {
            return op;
        }
    }

    return NULL;
}


/* an operand against the column's type, before PostgreSQL ever sees it */

static int
ngx_payout_filter_check(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const char *v, size_t len,
    ngx_payout_error_t *err)
{
    char  quoted[NGX_PAYOUT_QUERY_QUOTE_LEN + 4];

    ngx_payout_query_quote(quoted, sizeof(quoted), v, len);

    switch (col->type) {

    case NGX_PAYOUT_FILTER_INT:
        if (ngx_payout_filter_int_valid(v, len)) {
            return NGX_PAYOUT_OK;
        }

        return ngx_payout_filter_fail(f, err,
                   "%s takes an integer of 1 to 18 digits with an optional "
                   "leading '-', not \"%s\".", col->name, quoted);

    case NGX_PAYOUT_FILTER_UUID:
        if (ngx_payout_uuid_valid((const unsigned char *) v, len)) {
            return NGX_PAYOUT_OK;
        }

        return ngx_payout_filter_fail(f, err,
                   "%s takes a UUID such as "
                   "123e4567-e89b-12d3-a456-426614174000, not \"%s\".",
                   col->name, quoted);

    case NGX_PAYOUT_FILTER_TIMESTAMP:
        switch (ngx_payout_filter_timestamp_check(v, len)) {

        case NGX_PAYOUT_FILTER_TS_OK:
            return NGX_PAYOUT_OK;

        case NGX_PAYOUT_FILTER_TS_PLUS:
            return ngx_payout_filter_fail(f, err,
                       "%s: the '+' of a time zone offset must be sent as "
                       "%%2B in a query string, not \"%s\".",
                       col->name, quoted);

        default:
            return ngx_payout_filter_fail(f, err,
                       "%s takes an ISO 8601 date or date-time such as "
                       "2024-01-31, 2024-01-31T13:45:00Z or "
                       "2024-01-31T13:45:00.5+01:00, not \"%s\".",
                       col->name, quoted);
        }

    default: /* NGX_PAYOUT_FILTER_TEXT */

        /* a NUL would cut the C string short; bad UTF-8 fails the query */

        if (memchr(v, '\0', len) != NULL) {
            return ngx_payout_filter_fail(f, err,
                       "%s values must not contain a NUL byte.", col->name);
        }

        if (!ngx_payout_utf8_valid(v, len)) {
            return ngx_payout_filter_fail(f, err,
                       "%s values must be valid UTF-8.", col->name);
        }

        return NGX_PAYOUT_OK;
    }
}


/* a checked operand as the next parameter, made a LIKE pattern if needed */

static int
ngx_payout_filter_param(ngx_payout_filter_t *f,
    const ngx_payout_filter_op_t *op, const char *v, size_t len,
    ngx_payout_error_t *err)
{
    char    *s, *d;
    size_t   i;

    if (f->nparams == NGX_PAYOUT_FILTER_MAX_PARAMS) {
        return ngx_payout_filter_fail(f, err,
                   "Too many filter values; at most %d in all.",
                   NGX_PAYOUT_FILTER_MAX_PARAMS);
    }

    /* at worst every byte escaped, two "%" and the NUL */

    s = malloc(2 * len + 3);
    if (s == NULL) {
        return ngx_payout_filter_nomem(err);
    }

    d = s;

    if (op->like == NGX_PAYOUT_FILTER_LIKE_NONE) {
        memcpy(d, v, len);
        d += len;

    } else {
        if (op->like == NGX_PAYOUT_FILTER_LIKE_INFIX) {
            *d++ = '%';
        }

        /* the operand matches literally: its own %, _ and \ are escaped */

        for (i = 0; i < len; i++) {
            if (v[i] == '%' || v[i] == '_' || v[i] == '\\') {
                *d++ = '\\';
            }

            *d++ = v[i];
        }

        *d++ = '%';
    }

    *d = '\0';

    f->params[f->nparams++] = s;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_filter_expand(ngx_payout_filter_buf_t *b, const char *tpl,
    const ngx_payout_filter_column_t *col, int first, int n)
{
    int          i, from, to;
    char         num[32];
    const char  *p, *cast;

    cast = ngx_payout_filter_types[col->type].cast;

    for (p = tpl; *p; p++) {

        if (p[0] != '{' || p[1] == '\0' || p[2] != '}') {
            ngx_payout_filter_append(b, p, 1);
            continue;
        }

        switch (p[1]) {

        case 'c':
            ngx_payout_filter_append(b, col->sql, strlen(col->sql));
            p += 2;
            continue;

        case '1':
            from = first;
            to = first + 1;
            break;

        case '2':
            from = first + 1;
            to = first + 2;
            break;

        default: /* 'L' */
            from = first;
            to = first + n;
            break;
        }

        for (i = from; i < to; i++) {
            snprintf(num, sizeof(num), "%s$%d%s", i == from ? "" : ", ", i,
                     cast);
            ngx_payout_filter_append(b, num, strlen(num));
        }

        p += 2;
    }

    return b->overflow ? NGX_PAYOUT_ERROR : NGX_PAYOUT_OK;
}


/* meta.filter: the value as given, an array of them if the column repeats */

static int
ngx_payout_filter_meta(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *col, const char *value, size_t len)
{
    json_t  *s, *prev, *a;

    if (f->meta == NULL) {
        f->meta = json_object();
        if (f->meta == NULL) {
            return NGX_PAYOUT_ERROR;
        }
    }

    /* checked operands and ASCII operators make the value valid UTF-8 */

    s = json_stringn(value, len);
    if (s == NULL) {
        goto failed;
    }

    prev = json_object_get(f->meta, col->name);

    if (prev == NULL) {
        if (json_object_set_new(f->meta, col->name, s) != 0) {
            goto failed;
        }

        return NGX_PAYOUT_OK;
    }

    if (json_is_array(prev)) {
        if (json_array_append_new(prev, s) != 0) {
            goto failed;
        }

        return NGX_PAYOUT_OK;
    }

    a = json_array();

    if (a == NULL || json_array_append(a, prev) != 0) {
        json_decref(a);
        json_decref(s);
        goto failed;
    }

    /* the _new calls take the reference even when they fail */

    if (json_array_append_new(a, s) != 0) {
        json_decref(a);
        goto failed;
    }

    if (json_object_set_new(f->meta, col->name, a) != 0) {
        goto failed;
    }

    return NGX_PAYOUT_OK;

failed:

    /* a meta created for a filter that failed would pass for a filter */

    if (json_object_size(f->meta) == 0) {
        json_decref(f->meta);
        f->meta = NULL;
    }

    return NGX_PAYOUT_ERROR;
}


/* a failed add leaves the filter as it was */

static void
ngx_payout_filter_rollback(ngx_payout_filter_t *f, int nparams)
{
    while (f->nparams > nparams) {
        f->nparams--;
        free(f->params[f->nparams]);
        f->params[f->nparams] = NULL;
    }
}


/* what a bigint parameter takes: "-" and up to 18 digits never overflow */

static int
ngx_payout_filter_int_valid(const char *s, size_t len)
{
    size_t  i;

    if (len && s[0] == '-') {
        s++;
        len--;
    }

    if (len == 0 || len > 18) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/*
 * YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.ffffff]] with an optional Z or
 * +HH:MM / -HH:MM, with every field in range, days per month included:
 * what timestamptz would reject must be a 400 here, not a failed query.
 */

static int
ngx_payout_filter_timestamp_check(const char *s, size_t len)
{
    int          year, month, day, hour, min, sec, mday;
    size_t       n;
    const char  *e;

    static const int  days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (len < 10
        || !ngx_payout_filter_digits(s, 4, &year) || s[4] != '-'
        || !ngx_payout_filter_digits(s + 5, 2, &month) || s[7] != '-'
        || !ngx_payout_filter_digits(s + 8, 2, &day))
    {
        return NGX_PAYOUT_FILTER_TS_BAD;
    }

    /* PostgreSQL has no year 0 */

    if (year < 1 || month < 1 || month > 12 || day < 1) {
        return NGX_PAYOUT_FILTER_TS_BAD;
    }

    mday = days[month - 1];

    if (month == 2
        && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
    {
        mday = 29;
    }

    if (day > mday) {
        return NGX_PAYOUT_FILTER_TS_BAD;
    }

    if (len == 10) {
        return NGX_PAYOUT_FILTER_TS_OK;
    }

    e = s + len;
    s += 10;

    if (e - s < 6
        || s[0] != 'T'
        || !ngx_payout_filter_digits(s + 1, 2, &hour) || s[3] != ':'
        || !ngx_payout_filter_digits(s + 4, 2, &min)
        || hour > 23 || min > 59)
    {
        return NGX_PAYOUT_FILTER_TS_BAD;
    }

    s += 6;

    if (s < e && *s == ':') {
        if (e - s < 3 || !ngx_payout_filter_digits(s + 1, 2, &sec)
            || sec > 59)
        {
            return NGX_PAYOUT_FILTER_TS_BAD;
        }

        s += 3;

        if (s < e && *s == '.') {
            s++;

            for (n = 0; s < e && *s >= '0' && *s <= '9'; s++, n++) {
                /* void */
            }

            if (n < 1 || n > 6) {
                return NGX_PAYOUT_FILTER_TS_BAD;
            }
        }
    }

    if (s == e) {
        return NGX_PAYOUT_FILTER_TS_OK;
    }

    if (*s == 'Z') {
        return s + 1 == e ? NGX_PAYOUT_FILTER_TS_OK : NGX_PAYOUT_FILTER_TS_BAD;
    }

    /* real offsets run from -12:00 to +14:00 */

    if ((*s != '+' && *s != '-' && *s != ' ')
        || e - s != 6
        || !ngx_payout_filter_digits(s + 1, 2, &hour) || s[3] != ':'
        || !ngx_payout_filter_digits(s + 4, 2, &min)
        || hour > 14 || min > 59)
    {
        return NGX_PAYOUT_FILTER_TS_BAD;
    }

    /* a query string's "+" arrives as a space */

    return *s == ' ' ? NGX_PAYOUT_FILTER_TS_PLUS : NGX_PAYOUT_FILTER_TS_OK;
}


static int
ngx_payout_filter_digits(const char *s, size_t n, int *out)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }

        v = v * 10 + (s[i] - '0');
    }

    *out = v;

    return 1;
}


static void
ngx_payout_filter_append(ngx_payout_filter_buf_t *b, const char *s,
    size_t len)
{
    if (b->overflow || len >= b->size - b->len) {
        b->overflow = 1;
        return;
    }

    memcpy(b->buf + b->len, s, len);
    b->len += len;
    b->buf[b->len] = '\0';
}


static int
ngx_payout_filter_fail(ngx_payout_filter_t *f, ngx_payout_error_t *err,
    const char *fmt, ...)
{
    va_list  args;

    err->code = "invalid_parameter";
    err->field = f->field;

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);

    return NGX_PAYOUT_ERROR;
}


static int
ngx_payout_filter_nomem(ngx_payout_error_t *err)
{
    err->code = "internal_error";
    err->field = NULL;
    snprintf(err->message, sizeof(err->message), "Out of memory.");

    return NGX_PAYOUT_ERROR;
}
