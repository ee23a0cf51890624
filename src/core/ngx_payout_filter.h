/*
 * nestjs-paginate filters, "filter.<column>=$op:value", turned into a
 * parameterised SQL condition over a whitelist of columns.  No input text
 * ever reaches the SQL: column names come from the whitelist, values
 * travel as parameters.
 */

#ifndef NGX_PAYOUT_FILTER_H_INCLUDED_
#define NGX_PAYOUT_FILTER_H_INCLUDED_

#include "ngx_payout_core.h"
#include "ngx_payout_validate.h"


#define NGX_PAYOUT_FILTER_TEXT       0
#define NGX_PAYOUT_FILTER_INT        1    /* bigint */
#define NGX_PAYOUT_FILTER_UUID       2
#define NGX_PAYOUT_FILTER_TIMESTAMP  3    /* timestamptz, ISO 8601 input */

typedef struct {
    const char  *name;        /* as in "filter.<name>" */
    const char  *sql;         /* SQL expression, e.g. "p.amount" */
    int          type;        /* NGX_PAYOUT_FILTER_* */
} ngx_payout_filter_column_t;


#define NGX_PAYOUT_FILTER_MAX_PARAMS  24
#define NGX_PAYOUT_FILTER_MAX_SQL     4096
#define NGX_PAYOUT_FILTER_MAX_CONDS   64

/* one condition as added: the search is one without a column */
typedef struct {
    const ngx_payout_filter_column_t  *column;
    int                                or;         /* "$or:" */
    size_t                             off;        /* in pieces */
    size_t                             len;
} ngx_payout_filter_cond_t;

typedef struct {
    const ngx_payout_filter_column_t  *columns;   /* NULL-name terminated */

    /* the condition, "TRUE" when empty, else "(...) AND (...)" */
    char          sql[NGX_PAYOUT_FILTER_MAX_SQL];
    size_t        sql_len;

    /* parameter values, NUL-terminated copies; NULL for SQL NULL */
    int           first_param;                    /* e.g. 4 -> "$4" */
    int           nparams;
    char         *params[NGX_PAYOUT_FILTER_MAX_PARAMS];

    /* for meta.filter in the list response: {"status": "$eq:success"} or
       {"status": ["$eq:a", "$not:$eq:b"]} when a column repeats;
       NULL until a filter has been added */
    json_t       *meta;

    /* "filter.<column>": ngx_payout_error_t.field points here */
    char          field[64];

    /* the conditions sql is assembled from, each its SQL in pieces */
    int                        nconds;
    ngx_payout_filter_cond_t   conds[NGX_PAYOUT_FILTER_MAX_CONDS];
    char                       pieces[NGX_PAYOUT_FILTER_MAX_SQL];
    size_t                     pieces_len;
} ngx_payout_filter_t;


void ngx_payout_filter_init(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *columns, int first_param);

/*
 * Adds one "filter.<column>" parameter: name is the part after "filter.",
 * value the URL-decoded value ("$eq:success", "$in:a,b", "$not:$null",
 * "$btw:1,5", "$or:$eq:x", or a bare value meaning $eq).
 *
 * How conditions combine, as nestjs-paginate's $or comparator does: the
 * conditions of one column are chained in the order given, each joined to
 * the one before by AND, or by OR when it starts with "$or:" (AND binding
 * tighter, as in SQL); the columns whose first condition starts with
 * "$or:" make one such chain together; the chains are ANDed.
 *
 * err->code is "unknown_parameter" for a column not in the whitelist,
 * "invalid_parameter" for a bad value, "internal_error" when out of memory.
 */
int ngx_payout_filter_add(ngx_payout_filter_t *f, const char *name,
    size_t name_len, const char *value, size_t value_len,
    ngx_payout_error_t *err);

/*
 * ANDs a case-insensitive substring search for the URL-decoded term over
 * the n columns of by (text columns), ORed, as nestjs-paginate's search:
 * "col ILIKE '%term%'" with the term's %, _ and \ matching literally.
 * Errors name the field "search"; a second search is an error.
 */
int ngx_payout_filter_search(ngx_payout_filter_t *f,
    const ngx_payout_filter_column_t *const *by, int n, const char *term,
    size_t len, ngx_payout_error_t *err);

void ngx_payout_filter_free(ngx_payout_filter_t *f);


#endif /* NGX_PAYOUT_FILTER_H_INCLUDED_ */
