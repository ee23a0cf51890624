/*
 * The list engine: GET /payouts and GET /payout-recipients in
 * nestjs-paginate's shape, {data, meta, links}.  A page of payouts is
 * rendered in C from plain columns (ngx_http_payout_render.c); other
 * rows, and rows cut by select, PostgreSQL renders as JSON (payout_json()
 * and payout_recipient_json() in sql/).  The engine parses the query over
 * the resource's whitelists, builds one statement for the page and its
 * count, and adds meta and links.
 *
 * The list grammar is nestjs-paginate's where it fits: limit, page,
 * sortBy (repeatable), search with searchBy, select, filter.<column>, and
 * cursor.  Every other parameter is a 400, as is a repeated limit, page,
 * cursor or search: nothing a client sends is silently ignored.
 *
 * What a page costs (docs/api.md): the total of an unfiltered list, or of
 * one filtered by status alone, is a sum of per-tenant counters
 * (tenant_counters, kept by triggers); any other filter or a search
 * counts its matching rows, and a deep page skips its offset.  A cursor
 * page ("cursor", nestjs-paginate's cursor pagination, by id) counts
 * nothing and starts at its cursor through the (tenant, mode, id) index,
 * so it costs the same at any depth.
 */

#include "ngx_http_payout_list.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_render.h"


#define NGX_HTTP_PAYOUT_LIST_MAX_SEARCH_BY  8
#define NGX_HTTP_PAYOUT_LIST_MAX_SELECT     32

/*
 * The tenant and mode of the pages rendered in C: the tenant is a
 * range, and leads their ORDER BY, so that one generic plan serves every
 * tenant (no planning per request, which cost as much as running the
 * page) and still reads the tenant's index.  Against "tenant_id = $1" a
 * generic plan may walk the primary key backwards past other tenants'
 * rows: 45 ms for a tenant with no payouts (or only older ones) beside
 * a tenant of 200,000.
 */
#define NGX_HTTP_PAYOUT_LIST_TENANT                                           \
    "p.tenant_id >= $1 AND p.tenant_id <= $1 AND p.livemode = $4"

/* the largest cursor: an id */
#define NGX_HTTP_PAYOUT_LIST_MAX_CURSOR     999999999999999999L


/*
 * What a list's table has beyond its ngx_http_payout_list_def_t (which
 * stays as it is, for the lists that do not know these): counters, and
 * a renderer in C.
 */
typedef struct {
    const char                        *table;

    /* tenant_counters' resource, whose sum is the unfiltered total (and
       by status, with status); NULL: the rows are counted */
    const char                        *counter;
    unsigned                           status:1;

    /* without select, the page rendered in C from these columns, of
       "p" and "r" (the recipient on p.recipient_id, joined by from to
       the rows it follows); NULL: by def->json */
    const char                        *columns;
    const char                        *from;
    ngx_int_t                        (*render)(ngx_pool_t *pool,
                                               PGresult *res, int base,
                                               ngx_uint_t array,
                                               ngx_str_t *out);
} ngx_http_payout_list_perf_t;


static const ngx_http_payout_list_perf_t  ngx_http_payout_list_perfs[] = {
    { "payouts", "payouts", 1, NGX_HTTP_PAYOUT_RENDER_COLUMNS,
      NGX_HTTP_PAYOUT_RENDER_JOIN, ngx_http_payout_render_payouts },
    { "recipients", "recipients", 0, NULL, NULL, NULL },
    { NULL, NULL, 0, NULL, NULL, NULL }
};


typedef struct {
    ngx_http_request_t                *request;
    const ngx_http_payout_list_def_t  *def;
    const ngx_http_payout_list_perf_t *perf;
    ngx_payout_page_t                  page;
    ngx_payout_filter_t                filter;

    ngx_str_t                          search;        /* data NULL: none */
    ngx_uint_t                         nsearch_by;
    const ngx_payout_filter_column_t  *search_by[
                                          NGX_HTTP_PAYOUT_LIST_MAX_SEARCH_BY];
    ngx_uint_t                         nselect;
    const char                        *select[NGX_HTTP_PAYOUT_LIST_MAX_SELECT];

    /* the filters as given, re-escaped, and all the links share but page */
    ngx_str_t                          filter_args;
    ngx_str_t                          options;

    /* the page answered: the one asked for, or the last if past it */
    long                               current;

    /* cursor pagination: the id the page starts after, as given */
    ngx_str_t                          cursor;
    long                               after;

    /* where list->options goes on after its sortBy */
    size_t                             options_rest;

    /* the only filter is filter.status=<value>: counters give the total */
    ngx_uint_t                         nfilters;
    ngx_str_t                          status;

    unsigned                           limit_given:1;
    unsigned                           page_given:1;
    unsigned                           search_by_given:1;
    unsigned                           cursor_given:1;
    unsigned                           count_status:1;

    /* the client's parameter name as a field: printable, cut short */
    char                               field[NGX_PAYOUT_QUERY_QUOTE_LEN + 4];
} ngx_http_payout_list_t;


typedef ngx_int_t (*ngx_http_payout_list_arg_pt)(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);

typedef struct {
    ngx_str_t                          name;
    ngx_http_payout_list_arg_pt        handler;
} ngx_http_payout_list_arg_t;


static u_char *ngx_http_payout_list_sql(ngx_http_payout_list_t *list);
static u_char *ngx_http_payout_list_count(u_char *p, u_char *last,
    ngx_http_payout_list_t *list);
static u_char *ngx_http_payout_list_cursor_sql(ngx_http_payout_list_t *list);
static u_char *ngx_http_payout_list_rows(u_char *p, u_char *last,
    ngx_http_payout_list_t *list);
static u_char *ngx_http_payout_list_order(u_char *p, u_char *last,
    ngx_payout_page_t *page, const char *prefix);
static ngx_int_t ngx_http_payout_list_args(ngx_http_request_t *r,
    ngx_http_payout_list_t *list, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_arg(ngx_http_payout_list_t *list,
    ngx_str_t *name, ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_limit(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_page(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_sort(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_search(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_search_by(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_search_by_fail(
    ngx_http_payout_list_t *list, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_select(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_cursor(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_cursor_check(
    ngx_http_payout_list_t *list, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_unknown(ngx_http_payout_list_t *list,
    ngx_str_t *name, ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_fail(ngx_payout_error_t *err,
    const char *code, const char *field, const char *fmt, ...);
static ngx_int_t ngx_http_payout_list_finish(ngx_http_payout_list_t *list,
    ngx_payout_error_t *err);
static ngx_int_t ngx_http_payout_list_options(ngx_http_payout_list_t *list);
static u_char *ngx_http_payout_list_escape(u_char *dst, u_char *src,
    size_t len);
static u_char *ngx_http_payout_list_names(u_char *p, const char *first,
    const char *sep, const char *const *names, ngx_uint_t n);
static void ngx_http_payout_list_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_list_cleanup(void *data);
static ngx_int_t ngx_http_payout_list_send(ngx_http_payout_list_t *list,
    int64_t total, const char *data, size_t data_len);
static ngx_int_t ngx_http_payout_list_body(ngx_http_payout_list_t *list,
    const char *data, size_t data_len, json_t *meta, json_t *links);
static json_t *ngx_http_payout_list_meta(ngx_http_payout_list_t *list,
    int64_t total, long pages);
static json_t *ngx_http_payout_list_link(ngx_http_payout_list_t *list,
    long page);
static ngx_int_t ngx_http_payout_list_render_send(
    ngx_http_payout_list_t *list, PGresult *res);
static ngx_int_t ngx_http_payout_list_cursor_send(
    ngx_http_payout_list_t *list, PGresult *res);
static json_t *ngx_http_payout_list_cursor_link(ngx_http_payout_list_t *list,
    ngx_str_t *cursor, ngx_uint_t desc);


static const ngx_http_payout_list_arg_t  ngx_http_payout_list_args_known[] = {
    { ngx_string("limit"), ngx_http_payout_list_limit },
    { ngx_string("page"), ngx_http_payout_list_page },
    { ngx_string("sortBy"), ngx_http_payout_list_sort },
    { ngx_string("search"), ngx_http_payout_list_search },
    { ngx_string("searchBy"), ngx_http_payout_list_search_by },
    { ngx_string("select"), ngx_http_payout_list_select },
    { ngx_string("cursor"), ngx_http_payout_list_cursor },
    { ngx_null_string, NULL }
};


ngx_int_t
ngx_http_payout_list(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const ngx_http_payout_list_def_t *def)
{
    int                          i;
    u_char                      *sql;
    size_t                       line;
    ngx_int_t                    rc;
    ngx_pool_cleanup_t          *cln;
    ngx_payout_error_t           err;
    ngx_http_payout_list_t      *list;
    ngx_http_core_srv_conf_t    *cscf;
    ngx_http_payout_pg_query_t  *q;

    list = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_list_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (list == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list->request = r;
    list->def = def;
    list->perf = ngx_http_payout_list_perfs;

    while (list->perf->table && ngx_strcmp(list->perf->table, def->table)) {
        list->perf++;
    }

    /* filters start after $1 tenant, $2 limit, $3 offset, $4 livemode */
    ngx_payout_filter_init(&list->filter, def->filters, 5);
    cln->handler = ngx_http_payout_list_cleanup;
    cln->data = &list->filter;

    rc = ngx_http_payout_list_args(r, list, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST, err.code,
                                          err.message, err.field);
    }

    if (rc != NGX_OK || ngx_http_payout_list_options(list) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A link is followed as a request line, which must fit in one of
     * this server's large header buffers: a link that would not is
     * refused now, before any query, rather than cut or left out later.
     */

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    line = sizeof("GET ?page= HTTP/1.1" CRLF) - 1 + r->uri.len
           + NGX_INT64_LEN + list->options.len
           + (list->cursor_given ? sizeof("cursor") - sizeof("page") : 0);

    if (line > cscf->large_client_header_buffers.size) {
        return ngx_http_payout_send_error(r, NGX_HTTP_REQUEST_URI_TOO_LARGE,
                   "uri_too_long",
                   "The query is too long for its pagination links to be "
                   "followed; shorten the filters or the search.", NULL);
    }

    sql = list->cursor_given ? ngx_http_payout_list_cursor_sql(list)
                             : ngx_http_payout_list_sql(list);
    if (sql == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* $3: the offset, or the id a cursor page starts after */
    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        (char *) sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, ctx->auth.tenant_id) != NGX_OK
        || ngx_http_payout_pg_param_int(q, list->page.limit) != NGX_OK
        || ngx_http_payout_pg_param_int(q, list->cursor_given ? list->after
                                           : (list->page.page - 1)
                                             * list->page.limit)
           != NGX_OK
        || ngx_http_payout_pg_param_bool(q, ctx->auth.livemode) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < list->filter.nparams; i++) {
        if (list->filter.params[i] == NULL) {
            ngx_http_payout_pg_param_null(q);
            continue;
        }

        if (ngx_http_payout_pg_param(q, (u_char *) list->filter.params[i],
                                     ngx_strlen(list->filter.params[i]))
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* the last parameter: the status whose counters give the total */
    if (list->count_status
        && ngx_http_payout_pg_param(q, list->status.data, list->status.len)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_list_done;
    q->data = list;

    return ngx_http_payout_pg_start(r, q);
}


/*
 * Columns, keys and directions come from whitelists, values are $n.  The
 * count is taken once; a page past the end answers the last page, as
 * nestjs-paginate's meta does, so the offset is clamped by the count.
 * The row: the count, then the page's items as a JSON array.
 */

enum {
    NGX_HTTP_PAYOUT_LIST_TOTAL = 0,
    NGX_HTTP_PAYOUT_LIST_ITEMS
};

static u_char *
ngx_http_payout_list_sql(ngx_http_payout_list_t *list)
{
    u_char                            *sql, *p, *last;
    size_t                             len;
    const ngx_http_payout_list_def_t  *def;

    def = list->def;

    len = 2048 + list->filter.sql_len * 2 + list->nselect * 64
          + (list->perf->render ? ngx_strlen(list->perf->columns)
                                  + ngx_strlen(list->perf->from) : 0);

    sql = ngx_pnalloc(list->request->pool, len);
    if (sql == NULL) {
        return NULL;
    }

    last = sql + len - 1;

    p = ngx_http_payout_list_count(sql, last, list);

    if (list->perf->render && list->nselect == 0) {
        /*
         * A row per item, each with the total; none for an empty page,
         * whose total is 0: the offset is clamped into the total, taken
         * in the same snapshot.  A plain join, which PostgreSQL runs at
         * the speed of the bare page query, where a join of the total
         * to the page as a subquery cost it twice as much.
         */
        p = ngx_slprintf(p, last,
                "SELECT (SELECT n FROM n), %s FROM %s p %s"
                "WHERE " NGX_HTTP_PAYOUT_LIST_TENANT " AND %s "
                "ORDER BY p.tenant_id %s, ",
                list->perf->columns, def->table, list->perf->from,
                list->filter.sql, list->page.sort[0].desc ? "DESC" : "ASC");
        p = ngx_http_payout_list_order(p, last, &list->page, "p.");
        p = ngx_slprintf(p, last,
                " LIMIT $2::bigint OFFSET (SELECT least($3::bigint, "
                    "greatest(n - 1, 0) / $2::bigint * $2::bigint) "
                    "FROM n)");
        goto done;
    }

    p = ngx_slprintf(p, last, "SELECT (SELECT n FROM n), coalesce(json_agg(");
    p = ngx_http_payout_list_rows(p, last, list);

    p = ngx_slprintf(p, last, " ORDER BY ");
    p = ngx_http_payout_list_order(p, last, &list->page, "(s.p).");

    p = ngx_slprintf(p, last,
            "), '[]') "
            "FROM (SELECT p FROM %s p "
            "WHERE p.tenant_id = $1 AND p.livemode = $4 AND %s "
                  "ORDER BY ",
            def->table, list->filter.sql);
    p = ngx_http_payout_list_order(p, last, &list->page, "p.");

    p = ngx_slprintf(p, last,
            " LIMIT $2::bigint OFFSET (SELECT least($3::bigint, "
                "greatest(n - 1, 0) / $2::bigint * $2::bigint) FROM n)) s");

done:

    if (p == last) {
        return NULL;   /* cannot happen: len has room for every piece */
    }

    *p = '\0';

    return sql;
}


/*
 * "WITH n AS (...) ": the list's total.  The counters answer an
 * unfiltered list, or one filtered by status alone (its value the last
 * parameter); anything else is counted.
 */

static u_char *
ngx_http_payout_list_count(u_char *p, u_char *last,
    ngx_http_payout_list_t *list)
{
    const ngx_http_payout_list_def_t  *def;

    def = list->def;

    if (list->perf->counter
        && (list->filter.nconds == 0 || list->count_status))
    {
        p = ngx_slprintf(p, last,
                "WITH n AS (SELECT coalesce(sum(c.n), 0)::bigint AS n "
                           "FROM tenant_counters c "
                           "WHERE c.tenant_id = $1 AND c.livemode = $4 "
                           "AND c.resource = '%s'",
                list->perf->counter);

        if (list->count_status) {
            p = ngx_slprintf(p, last, " AND c.status = $%d",
                             list->filter.first_param
                             + list->filter.nparams);
        }

        return ngx_slprintf(p, last, ") ");
    }

    return ngx_slprintf(p, last,
               "WITH n AS (SELECT count(*) AS n FROM %s p "
                          "WHERE p.tenant_id = $1 AND p.livemode = $4 "
                          "AND %s) ",
               def->table, list->filter.sql);
}


/* one row of s as JSON: the whole resource, or the keys selected */

static u_char *
ngx_http_payout_list_rows(u_char *p, u_char *last,
    ngx_http_payout_list_t *list)
{
    ngx_uint_t                         i;
    const ngx_http_payout_list_def_t  *def;

    def = list->def;

    if (list->nselect == 0) {
        return ngx_slprintf(p, last, "%s(s.p)", def->json);
    }

    /* only the selected keys, in the order asked for */

    p = ngx_slprintf(p, last, "(SELECT json_build_object(");

    for (i = 0; i < list->nselect; i++) {
        p = ngx_slprintf(p, last, "%s'%s', x.j->'%s'", i ? ", " : "",
                         list->select[i], list->select[i]);
    }

    return ngx_slprintf(p, last, ") FROM (SELECT %s(s.p) AS j) x)",
                        def->json);
}


/*
 * A cursor page: up to $2 rows after id $3 in the direction of the sort,
 * the page's first and last ids, and whether rows lie beyond either end
 * (for the links).  Nothing is counted, and the rows before the cursor
 * are never read: the (tenant, mode, id) index starts at the cursor.
 * "Beyond" is the nearest row by id, ORDER BY ... LIMIT 1, not EXISTS,
 * which PostgreSQL may answer with a scan of the table in its own order.
 */

enum {
    NGX_HTTP_PAYOUT_LIST_CURSOR_ITEMS = 0,
    NGX_HTTP_PAYOUT_LIST_CURSOR_FIRST,
    NGX_HTTP_PAYOUT_LIST_CURSOR_LAST,
    NGX_HTTP_PAYOUT_LIST_CURSOR_HAS_PREVIOUS,
    NGX_HTTP_PAYOUT_LIST_CURSOR_HAS_NEXT,
    NGX_HTTP_PAYOUT_LIST_CURSOR_ROWS      /* rendered in C: the rows' own */
};


static u_char *
ngx_http_payout_list_cursor_sql(ngx_http_payout_list_t *list)
{
    u_char                            *sql, *p, *last;
    size_t                             len;
    ngx_uint_t                         desc;
    const char                        *dir, *rev, *op, *back, *first, *end;
    const ngx_http_payout_list_def_t  *def;

    def = list->def;
    desc = list->page.sort[0].desc;
    dir = desc ? "DESC" : "ASC";
    rev = desc ? "ASC" : "DESC";
    op = desc ? "<" : ">";
    back = desc ? ">" : "<";
    first = desc ? "max" : "min";
    end = desc ? "min" : "max";

    len = 2048 + list->filter.sql_len * 3 + list->nselect * 64
          + (list->perf->render ? ngx_strlen(list->perf->columns)
                                  + ngx_strlen(list->perf->from) : 0);

    sql = ngx_pnalloc(list->request->pool, len);
    if (sql == NULL) {
        return NULL;
    }

    last = sql + len - 1;

    if (list->perf->render && list->nselect == 0) {
        /*
         * Rendered in C: the same columns (the items column NULL), then
         * the rows' own; an empty page is one row whose rows' columns
         * are NULL.
         */
        p = ngx_slprintf(sql, last,
                "WITH s AS (SELECT p.id FROM %s p "
                           "WHERE " NGX_HTTP_PAYOUT_LIST_TENANT " AND %s "
                           "AND p.id %s $3::bigint "
                           "ORDER BY p.tenant_id %s, p.id %s "
                           "LIMIT $2::bigint), "
                "b AS (SELECT %s(s.id) AS first, %s(s.id) AS last FROM s) "
                "SELECT NULL::text, b.first, b.last, "
                "(SELECT p.id FROM %s p "
                        "WHERE " NGX_HTTP_PAYOUT_LIST_TENANT " AND %s "
                        "AND p.id %s (SELECT coalesce(first, $3::bigint) "
                                     "FROM b) "
                        "ORDER BY p.tenant_id %s, p.id %s LIMIT 1) "
                    "IS NOT NULL, "
                "(SELECT p.id FROM %s p "
                        "WHERE " NGX_HTTP_PAYOUT_LIST_TENANT " AND %s "
                        "AND p.id %s (SELECT last FROM b) "
                        "ORDER BY p.tenant_id %s, p.id %s LIMIT 1) "
                    "IS NOT NULL, "
                "%s FROM b LEFT JOIN s ON true "
                "LEFT JOIN %s p ON p.id = s.id %s"
                "ORDER BY p.id %s",
                def->table, list->filter.sql, op, dir, dir,
                first, end,
                def->table, list->filter.sql, back, rev, rev,
                def->table, list->filter.sql, op, dir, dir,
                list->perf->columns, def->table, list->perf->from, dir);
        goto done;
    }

    p = ngx_slprintf(sql, last,
            "WITH s AS (SELECT p FROM %s p "
                       "WHERE p.tenant_id = $1 AND p.livemode = $4 AND %s "
                       "AND p.id %s $3::bigint "
                       "ORDER BY p.id %s LIMIT $2::bigint), "
            "b AS (SELECT %s((s.p).id) AS first, %s((s.p).id) AS last "
                  "FROM s) "
            "SELECT coalesce(json_agg(",
            def->table, list->filter.sql, op, dir, first, end);

    p = ngx_http_payout_list_rows(p, last, list);

    p = ngx_slprintf(p, last,
            " ORDER BY (s.p).id %s), '[]'), "
            "(SELECT first FROM b), (SELECT last FROM b), "
            "(SELECT p.id FROM %s p "
                    "WHERE p.tenant_id = $1 AND p.livemode = $4 AND %s "
                    "AND p.id %s (SELECT coalesce(first, $3::bigint) "
                                 "FROM b) "
                    "ORDER BY p.id %s LIMIT 1) IS NOT NULL, "
            "(SELECT p.id FROM %s p "
                    "WHERE p.tenant_id = $1 AND p.livemode = $4 AND %s "
                    "AND p.id %s (SELECT last FROM b) "
                    "ORDER BY p.id %s LIMIT 1) IS NOT NULL "
            "FROM s",
            dir, def->table, list->filter.sql, back, rev,
            def->table, list->filter.sql, op, dir);

done:

    if (p == last) {
        return NULL;   /* cannot happen: len has room for every piece */
    }

    *p = '\0';

    return sql;
}


/* the sort keys, then id in the first key's direction as a tie-break */

static u_char *
ngx_http_payout_list_order(u_char *p, u_char *last, ngx_payout_page_t *page,
    const char *prefix)
{
    int  i, id;

    id = 0;

    for (i = 0; i < page->nsort; i++) {
        p = ngx_slprintf(p, last, "%s%s%s %s", i ? ", " : "", prefix,
                         page->sort[i].column,
                         page->sort[i].desc ? "DESC" : "ASC");

        id |= (ngx_strcmp(page->sort[i].column, "id") == 0);
    }

    if (!id) {
        p = ngx_slprintf(p, last, ", %sid %s", prefix,
                         page->sort[0].desc ? "DESC" : "ASC");
    }

    return p;
}


static void
ngx_http_payout_list_cleanup(void *data)
{
    ngx_payout_filter_free(data);
}


/* NGX_DECLINED: a bad parameter, described in err */

static ngx_int_t
ngx_http_payout_list_args(ngx_http_request_t *r, ngx_http_payout_list_t *list,
    ngx_payout_error_t *err)
{
    u_char     *p, *end, *amp, *eq, *fa;
    size_t      name_len, value_len;
    ngx_int_t   rc;
    ngx_str_t   name, value;

    list->page.limit = NGX_PAYOUT_LIST_DEFAULT_LIMIT;
    list->page.page = 1;
    list->page.nsort = 0;

    err->code = "invalid_parameter";
    err->field = NULL;

    /*
     * The filters, escaped anew, are repeated in the links: at worst three
     * bytes a byte, and the "&" and "=" of each, every one at least
     * "filter.x=" long.
     */
    fa = ngx_pnalloc(r->pool, 4 * r->args.len + 1);
    if (fa == NULL) {
        return NGX_ERROR;
    }

    list->filter_args.data = fa;

    p = r->args.data;
    end = r->args.data + r->args.len;

    for ( /* void */ ; p < end; p = amp + 1) {
        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            continue;   /* "a=1&&b=2" or a trailing "&": no parameter */
        }

        eq = ngx_strlchr(p, amp, '=');

        name_len = (eq ? eq : amp) - p;
        name.data = ngx_pnalloc(r->pool, name_len + 1);
        value_len = eq ? (size_t) (amp - eq - 1) : 0;
        value.data = ngx_pnalloc(r->pool, value_len + 1);

        if (name.data == NULL || value.data == NULL) {
            return NGX_ERROR;
        }

        name.len = ngx_payout_url_decode(p, name_len, name.data);
        value.len = eq ? ngx_payout_url_decode(eq + 1, value_len, value.data)
                       : 0;

        if (name.len > 7 && ngx_strncmp(name.data, "filter.", 7) == 0) {
            if (ngx_payout_filter_add(&list->filter,
                                      (char *) name.data + 7, name.len - 7,
                                      (char *) value.data, value.len, err)
                != NGX_PAYOUT_OK)
            {
                return ngx_strcmp(err->code, "internal_error") == 0
                       ? NGX_ERROR : NGX_DECLINED;
            }

            list->nfilters++;

            if (name.len == 13
                && ngx_strncmp(name.data + 7, "status", 6) == 0)
            {
                list->status = value;
            }

            *fa++ = '&';
            fa = ngx_http_payout_list_escape(fa, name.data, name.len);
            *fa++ = '=';
            fa = ngx_http_payout_list_escape(fa, value.data, value.len);
            continue;
        }

        rc = ngx_http_payout_list_arg(list, &name, &value, err);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    list->filter_args.len = fa - list->filter_args.data;

    return ngx_http_payout_list_finish(list, err);
}


static ngx_int_t
ngx_http_payout_list_arg(ngx_http_payout_list_t *list, ngx_str_t *name,
    ngx_str_t *value, ngx_payout_error_t *err)
{
    const ngx_http_payout_list_arg_t  *a;

    for (a = ngx_http_payout_list_args_known; a->handler; a++) {
        if (a->name.len == name->len
            && ngx_strncmp(a->name.data, name->data, name->len) == 0)
        {
            return a->handler(list, value, err);
        }
    }

    return ngx_http_payout_list_unknown(list, name, err);
}


static ngx_int_t
ngx_http_payout_list_limit(ngx_http_payout_list_t *list, ngx_str_t *value,
    ngx_payout_error_t *err)
{
    if (list->limit_given) {
        return ngx_http_payout_list_fail(err, "conflicting_parameters",
                   "limit", "limit may be given only once.");
    }

    list->limit_given = 1;

    if (ngx_payout_parse_long(value->data, value->len, 1, 999999999,
                              &list->page.limit) != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_list_fail(err, "invalid_parameter", "limit",
                   "limit must be a positive integer.");
    }

    list->page.limit = ngx_min(list->page.limit, NGX_PAYOUT_LIST_MAX_LIMIT);

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_list_page(ngx_http_payout_list_t *list, ngx_str_t *value,
    ngx_payout_error_t *err)
{
    if (list->page_given) {
        return ngx_http_payout_list_fail(err, "conflicting_parameters",
                   "page", "page may be given only once.");
    }

    list->page_given = 1;

    if (ngx_payout_parse_long(value->data, value->len, 1, 999999999,
                              &list->page.page) != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_list_fail(err, "invalid_parameter", "page",
                   "page must be a positive integer.");
    }

    return NGX_OK;
}


/* each sortBy is one more key, applied in the order given */

static ngx_int_t
ngx_http_payout_list_sort(ngx_http_payout_list_t *list, ngx_str_t *value,
    ngx_payout_error_t *err)
{
    ngx_payout_page_t  *page;

    page = &list->page;

    if (ngx_payout_page_parse_sort(value->data, value->len, page)
        != NGX_PAYOUT_OK
        || (!list->def->amount
            && ngx_strcmp(page->sort[page->nsort - 1].column, "amount") == 0))
    {
        return ngx_http_payout_list_fail(err, "invalid_parameter", "sortBy",
                   "sortBy must be column:ASC or column:DESC, with column "
                   "one of id, created_at%s, each column at most once.",
                   list->def->amount ? ", amount" : "");
    }

    return NGX_OK;
}


/* kept until every parameter is in: searchBy may come after it */

static ngx_int_t
ngx_http_payout_list_search(ngx_http_payout_list_t *list, ngx_str_t *value,
    ngx_payout_error_t *err)
{
    if (list->search.data) {
        return ngx_http_payout_list_fail(err, "conflicting_parameters",
                   "search", "search may be given only once.");
    }

    list->search = *value;

    return NGX_OK;
}


/* "searchBy=a&searchBy=b", as nestjs-paginate takes it, or "a,b" */

static ngx_int_t
ngx_http_payout_list_search_by(ngx_http_payout_list_t *list,
    ngx_str_t *value, ngx_payout_error_t *err)
{
    u_char                            *p, *end, *comma;
    size_t                             len;
    ngx_uint_t                         i;
    const ngx_payout_filter_column_t  *c;

    list->search_by_given = 1;

    end = value->data + value->len;

    for (p = value->data; /* void */; p = comma + 1) {
        comma = ngx_strlchr(p, end, ',');
        len = (comma ? comma : end) - p;

        for (c = list->def->searchable; c->name; c++) {
            if (ngx_strlen(c->name) == len
                && ngx_strncmp(c->name, p, len) == 0)
            {
                break;
            }
        }

        if (c->name == NULL) {
            return ngx_http_payout_list_search_by_fail(list, err);
        }

        for (i = 0; i < list->nsearch_by && list->search_by[i] != c; i++) {
            /* void */
        }

        if (i == list->nsearch_by) {
            if (i == NGX_HTTP_PAYOUT_LIST_MAX_SEARCH_BY) {
                return NGX_ERROR;   /* more than the columns there are */
            }

            list->search_by[list->nsearch_by++] = c;
        }

        if (comma == NULL) {
            return NGX_OK;
        }
    }
}


/* names the searchable columns, which the whitelist keeps short */

static ngx_int_t
ngx_http_payout_list_search_by_fail(ngx_http_payout_list_t *list,
    ngx_payout_error_t *err)
{
    u_char                            *p, *last;
    const ngx_payout_filter_column_t  *c;

    p = (u_char *) err->message;
    last = p + sizeof(err->message) - 1;

    p = ngx_slprintf(p, last, "searchBy takes comma-separated columns of ");

    for (c = list->def->searchable; c->name; c++) {
        p = ngx_slprintf(p, last, "%s%s", c == list->def->searchable ? ""
                         : (c[1].name ? ", " : " and "), c->name);
    }

    p = ngx_slprintf(p, last, ".");
    *p = '\0';

    err->code = "invalid_parameter";
    err->field = "searchBy";

    return NGX_DECLINED;
}


/* "select=a,b", repeatable, as nestjs-paginate takes it */

static ngx_int_t
ngx_http_payout_list_select(ngx_http_payout_list_t *list, ngx_str_t *value,
    ngx_payout_error_t *err)
{
    u_char             *p, *end, *comma;
    size_t              len;
    ngx_uint_t          i;
    const char *const  *k;

    end = value->data + value->len;

    for (p = value->data; /* void */; p = comma + 1) {
        comma = ngx_strlchr(p, end, ',');
        len = (comma ? comma : end) - p;

        for (k = list->def->selectable; *k; k++) {
            if (ngx_strlen(*k) == len && ngx_strncmp(*k, p, len) == 0) {
                break;
            }
        }

        if (*k == NULL) {
            return ngx_http_payout_list_fail(err, "invalid_parameter",
                       "select", "%s", list->def->select_hint);
        }

        for (i = 0; i < list->nselect && list->select[i] != *k; i++) {
            /* void */
        }

        if (i == list->nselect) {
            if (i == NGX_HTTP_PAYOUT_LIST_MAX_SELECT) {
                return NGX_ERROR;   /* more than the keys there are */
            }

            list->select[list->nselect++] = *k;
        }

        if (comma == NULL) {
            return NGX_OK;
        }
    }
}


/* "cursor=" asks for the first page, "cursor=<id>" for the rows after it */

static ngx_int_t
ngx_http_payout_list_cursor(ngx_http_payout_list_t *list, ngx_str_t *value,
    ngx_payout_error_t *err)
{
    if (list->cursor_given) {
        return ngx_http_payout_list_fail(err, "conflicting_parameters",
                   "cursor", "cursor may be given only once.");
    }

    list->cursor_given = 1;
    list->cursor = *value;

    if (value->len == 0) {
        return NGX_OK;
    }

    if (ngx_payout_parse_long(value->data, value->len, 1,
                              NGX_HTTP_PAYOUT_LIST_MAX_CURSOR, &list->after)
        != NGX_PAYOUT_OK)
    {
        return ngx_http_payout_list_fail(err, "invalid_parameter", "cursor",
                   "cursor must be empty (the first page) or a cursor "
                   "from the list's links.");
    }

    return NGX_OK;
}


/* a cursor pages by id, and never by page number */

static ngx_int_t
ngx_http_payout_list_cursor_check(ngx_http_payout_list_t *list,
    ngx_payout_error_t *err)
{
    if (list->page_given) {
        return ngx_http_payout_list_fail(err, "conflicting_parameters",
                   "cursor", "Give page or cursor, not both.");
    }

    if (list->page.nsort != 1
        || ngx_strcmp(list->page.sort[0].column, "id") != 0)
    {
        return ngx_http_payout_list_fail(err, "invalid_parameter", "sortBy",
                   "Cursor pagination sorts by id alone: sortBy=id:DESC "
                   "(the default) or sortBy=id:ASC.");
    }

    /* the first page starts beyond every id */
    if (list->cursor.len == 0) {
        list->after = list->page.sort[0].desc
                      ? NGX_HTTP_PAYOUT_LIST_MAX_CURSOR + 1 : 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_list_unknown(ngx_http_payout_list_t *list, ngx_str_t *name,
    ngx_payout_error_t *err)
{
    const ngx_http_payout_list_arg_t  *a;

    ngx_payout_query_quote(list->field, sizeof(list->field),
                           (char *) name->data, name->len);

    if (name->len == 6 && ngx_strncmp(name->data, "filter", 6) == 0) {
        return ngx_http_payout_list_fail(err, "unknown_parameter",
                   list->field,
                   "filter= expressions are not supported; use "
                   "filter.<column>=$op:value, with $or: to OR "
                   "conditions.");
    }

    for (a = ngx_http_payout_list_args_known; a->handler; a++) {
        if (a->name.len == name->len
            && ngx_strncasecmp(a->name.data, name->data, name->len) == 0)
        {
            return ngx_http_payout_list_fail(err, "unknown_parameter",
                       list->field,
                       "Unknown parameter; names are case-sensitive: did "
                       "you mean %s?", a->name.data);
        }
    }

    if (name->len >= 7 && ngx_strncasecmp(name->data, (u_char *) "filter.", 7)
                          == 0)
    {
        return ngx_http_payout_list_fail(err, "unknown_parameter",
                   list->field,
                   "Unknown parameter; filters are written "
                   "filter.<column>.");
    }

    return ngx_http_payout_list_fail(err, "unknown_parameter", list->field,
               "Unknown parameter; the list takes limit, page, cursor, "
               "sortBy, search, searchBy, select and filter.<column>.");
}


static ngx_int_t
ngx_http_payout_list_fail(ngx_payout_error_t *err, const char *code,
    const char *field, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    err->code = code;
    err->field = field;

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *) err->message,
                      (u_char *) err->message + sizeof(err->message) - 1,
                      fmt, args);
    va_end(args);

    *p = '\0';

    return NGX_DECLINED;
}


/* what needs every parameter: the default sort, and the search */

static ngx_int_t
ngx_http_payout_list_finish(ngx_http_payout_list_t *list,
    ngx_payout_error_t *err)
{
    const ngx_payout_filter_column_t  *c;

    if (list->page.nsort == 0) {
        list->page.nsort = 1;
        list->page.sort[0].column = "id";
        list->page.sort[0].desc = 1;
    }

    if (list->cursor_given
        && ngx_http_payout_list_cursor_check(list, err) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* "filter.status=success" or "=$eq:success", nothing else */
    if (list->perf->status && list->nfilters == 1
        && list->search.data == NULL && list->status.data)
    {
        if (list->status.len > 4
            && ngx_strncmp(list->status.data, "$eq:", 4) == 0)
        {
            list->status.data += 4;
            list->status.len -= 4;
        }

        list->count_status = (list->status.len == 0
                              || list->status.data[0] != '$');
    }

    if (list->search.data == NULL) {
        if (list->search_by_given) {
            return ngx_http_payout_list_fail(err, "missing_parameter",
                       "search", "searchBy needs a search.");
        }

        return NGX_OK;
    }

    /* without searchBy, every searchable column */

    if (list->nsearch_by == 0) {
        for (c = list->def->searchable; c->name; c++) {
            list->search_by[list->nsearch_by++] = c;
        }
    }

    if (ngx_payout_filter_search(&list->filter, list->search_by,
                                 (int) list->nsearch_by,
                                 (char *) list->search.data,
                                 list->search.len, err)
        != NGX_PAYOUT_OK)
    {
        return ngx_strcmp(err->code, "internal_error") == 0
               ? NGX_ERROR : NGX_DECLINED;
    }

    return NGX_OK;
}


/* "&limit=..&sortBy=..[&search=..][&searchBy=..][&select=..][&filter...]" */

static ngx_int_t
ngx_http_payout_list_options(ngx_http_payout_list_t *list)
{
    int                  i;
    u_char              *p, *last;
    size_t               len;
    ngx_uint_t           k;
    const char          *names[NGX_HTTP_PAYOUT_LIST_MAX_SEARCH_BY];
    ngx_payout_page_t   *pg;

    pg = &list->page;

    len = sizeof("&limit=") - 1 + NGX_INT64_LEN
          + NGX_PAYOUT_LIST_MAX_SORT * sizeof("&sortBy=created_at:DESC")
          + sizeof("&search=") + 3 * list->search.len
          + list->filter_args.len;

    for (k = 0; k < list->nsearch_by; k++) {
        names[k] = list->search_by[k]->name;
        len += sizeof("&searchBy=") + ngx_strlen(names[k]);
    }

    len += sizeof("&select=");

    for (k = 0; k < list->nselect; k++) {
        len += ngx_strlen(list->select[k]) + 1;
    }

    p = ngx_pnalloc(list->request->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    list->options.data = p;
    last = p + len;

    p = ngx_slprintf(p, last, "&limit=%l", pg->limit);

    for (i = 0; i < pg->nsort; i++) {
        p = ngx_slprintf(p, last, "&sortBy=%s:%s", pg->sort[i].column,
                         pg->sort[i].desc ? "DESC" : "ASC");
    }

    list->options_rest = p - list->options.data;

    if (list->search.data) {
        p = ngx_cpymem(p, "&search=", sizeof("&search=") - 1);
        p = ngx_http_payout_list_escape(p, list->search.data,
                                        list->search.len);

        /* searchBy as given, like nestjs-paginate: not the default */

        if (list->search_by_given) {
            p = ngx_http_payout_list_names(p, "&searchBy=", "&searchBy=",
                                           names, list->nsearch_by);
        }
    }

    if (list->nselect) {
        p = ngx_http_payout_list_names(p, "&select=", ",", list->select,
                                       list->nselect);
    }

    p = ngx_cpymem(p, list->filter_args.data, list->filter_args.len);

    list->options.len = p - list->options.data;

    return NGX_OK;
}


/* percent-escapes all but unreserved characters and "$:,!*'()@/" */

static u_char *
ngx_http_payout_list_escape(u_char *dst, u_char *src, size_t len)
{
    u_char  c;

    static u_char  hex[] = "0123456789ABCDEF";

    while (len--) {
        c = *src++;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || (c != '\0' && ngx_strchr("-._~$:,!*'()@/", c) != NULL))
        {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0xf];
    }

    return dst;
}


static u_char *
ngx_http_payout_list_names(u_char *p, const char *first, const char *sep,
    const char *const *names, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, i ? sep : first, ngx_strlen(i ? sep : first));
        p = ngx_cpymem(p, names[i], ngx_strlen(names[i]));
    }

    return p;
}


static void
ngx_http_payout_list_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int64_t                  total;
    ngx_str_t                items;
    ngx_http_request_t      *r;
    ngx_http_payout_list_t  *list;

    list = q->data;
    r = list->request;

    /*
     * Rendered in C: a row per item, none for an empty page (a cursor
     * page: at least one, which also holds the links' columns)
     */
    if (list->perf->render && list->nselect == 0
        && q->status == NGX_HTTP_PAYOUT_PG_OK
        && (!list->cursor_given || PQntuples(res) > 0))
    {
        ngx_http_payout_finalize(r, list->cursor_given
                                    ? ngx_http_payout_list_cursor_send(list,
                                                                       res)
                                    : ngx_http_payout_list_render_send(list,
                                                                       res));
        return;
    }

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    if (list->cursor_given) {
        ngx_http_payout_finalize(r,
                                 ngx_http_payout_list_cursor_send(list, res));
        return;
    }


    total = ngx_http_payout_pg_int(res, 0, NGX_HTTP_PAYOUT_LIST_TOTAL);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LIST_ITEMS, &items);

    ngx_http_payout_finalize(r, ngx_http_payout_list_send(list, total,
                                    (char *) items.data, items.len));
}


static ngx_int_t
ngx_http_payout_list_send(ngx_http_payout_list_t *list, int64_t total,
    const char *data, size_t data_len)
{
    long                 pages;
    json_t              *meta, *links;
    ngx_payout_page_t   *pg;

    pg = &list->page;

    pages = (long) ((total + pg->limit - 1) / pg->limit);

    /* the SQL answered this page: past the end, the last one */
    list->current = ngx_max(1, ngx_min(pg->page, pages));

    meta = ngx_http_payout_list_meta(list, total, pages);
    links = json_object();

    if (meta == NULL || links == NULL) {
        json_decref(meta);
        json_decref(links);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* nestjs-paginate leaves out the links that lead nowhere */

    if (list->current > 1) {
        json_object_set_new(links, "first",
                            ngx_http_payout_list_link(list, 1));
        json_object_set_new(links, "previous",
                            ngx_http_payout_list_link(list,
                                                      list->current - 1));
    }

    json_object_set_new(links, "current",
                        ngx_http_payout_list_link(list, list->current));

    if (list->current < pages) {
        json_object_set_new(links, "next",
                            ngx_http_payout_list_link(list,
                                                      list->current + 1));
        json_object_set_new(links, "last",
                            ngx_http_payout_list_link(list, pages));
    }

    return ngx_http_payout_list_body(list, data, data_len, meta, links);
}


/* {"data":..., "meta":..., "links":...}, sent; meta and links released */

static ngx_int_t
ngx_http_payout_list_body(ngx_http_payout_list_t *list, const char *data,
    size_t data_len, json_t *meta, json_t *links)
{
    u_char              *body, *p;
    size_t               meta_len, links_len, len;
    ngx_http_request_t  *r;

    r = list->request;

    meta_len = json_dumpb(meta, NULL, 0, JSON_COMPACT);
    links_len = json_dumpb(links, NULL, 0, JSON_COMPACT);

    len = sizeof("{\"data\":,\"meta\":,\"links\":}") - 1
          + data_len + meta_len + links_len;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        json_decref(meta);
        json_decref(links);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"data\":", 8);
    p = ngx_cpymem(p, data, data_len);
    p = ngx_cpymem(p, ",\"meta\":", 8);
    p += json_dumpb(meta, (char *) p, meta_len, JSON_COMPACT);
    p = ngx_cpymem(p, ",\"links\":", 9);
    p += json_dumpb(links, (char *) p, links_len, JSON_COMPACT);
    *p++ = '}';

    json_decref(meta);
    json_decref(links);

    return ngx_http_payout_send_json(r, NGX_HTTP_OK, body, p - body);
}


/* nestjs-paginate's meta: sortBy, search, searchBy, select, filter */

static json_t *
ngx_http_payout_list_meta(ngx_http_payout_list_t *list, int64_t total,
    long pages)
{
    int                 i, rc;
    json_t             *meta, *a;
    ngx_uint_t          k;
    ngx_payout_page_t  *pg;

    pg = &list->page;

    if (list->cursor_given) {
        /* the cursor asked for; null for the first page */
        meta = json_pack("{sI so s[]}",
                         "itemsPerPage", (json_int_t) pg->limit,
                         "cursor", list->cursor.len
                                   ? json_stringn((char *) list->cursor.data,
                                                  list->cursor.len)
                                   : json_null(),
                         "sortBy");

    } else {
        meta = json_pack("{sI sI sI sI s[]}",
                         "itemsPerPage", (json_int_t) pg->limit,
                         "totalItems", (json_int_t) total,
                         "currentPage", (json_int_t) list->current,
                         "totalPages", (json_int_t) pages,
                         "sortBy");
    }
    if (meta == NULL) {
        return NULL;
    }

    rc = 0;
    a = json_object_get(meta, "sortBy");

    for (i = 0; i < pg->nsort; i++) {
        rc |= json_array_append_new(a, json_pack("[ss]", pg->sort[i].column,
                                                 pg->sort[i].desc
                                                 ? "DESC" : "ASC"));
    }

    if (list->search.data) {

        /* the search has been checked to be valid UTF-8 */

        rc |= json_object_set_new(meta, "search",
                                  json_stringn((char *) list->search.data,
                                               list->search.len));

        a = json_array();
        rc |= json_object_set_new(meta, "searchBy", a);

        for (k = 0; k < list->nsearch_by && a; k++) {
            rc |= json_array_append_new(a,
                      json_string(list->search_by[k]->name));
        }
    }

    if (list->nselect) {
        a = json_array();
        rc |= json_object_set_new(meta, "select", a);

        for (k = 0; k < list->nselect && a; k++) {
            rc |= json_array_append_new(a, json_string(list->select[k]));
        }
    }

    if (list->filter.meta) {
        rc |= json_object_set(meta, "filter", list->filter.meta);
    }

    if (rc != 0) {
        json_decref(meta);
        return NULL;
    }

    return meta;
}


/* never cut: its length was checked against a request line's before */

static json_t *
ngx_http_payout_list_link(ngx_http_payout_list_t *list, long page)
{
    u_char              *buf, *p;
    size_t               len;
    json_t              *link;
    ngx_http_request_t  *r;

    r = list->request;

    len = r->uri.len + sizeof("?page=") - 1 + NGX_INT64_LEN
          + list->options.len;

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NULL;
    }

    p = ngx_sprintf(buf, "%V?page=%l%V", &r->uri, page, &list->options);

    link = json_stringn((char *) buf, p - buf);

    ngx_pfree(r->pool, buf);

    return link;
}


/*
 * nestjs-paginate's cursor page: meta without totals, and the links
 * previous (the other direction, from the page's first row), current and
 * next (from its last row), each only when rows lie that way.
 */

static ngx_int_t
ngx_http_payout_list_cursor_send(ngx_http_payout_list_t *list,
    PGresult *res)
{
    int          rc;
    json_t      *meta, *links;
    ngx_str_t    items, first, last;
    ngx_uint_t   desc;

    desc = list->page.sort[0].desc;

    if (list->perf->render && list->nselect == 0) {
        if (list->perf->render(list->request->pool, res,
                               NGX_HTTP_PAYOUT_LIST_CURSOR_ROWS, 1, &items)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LIST_CURSOR_ITEMS,
                                &items);
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LIST_CURSOR_FIRST,
                            &first);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_LIST_CURSOR_LAST,
                            &last);

    meta = ngx_http_payout_list_meta(list, 0, 0);
    links = json_object();

    if (meta == NULL || links == NULL) {
        json_decref(meta);
        json_decref(links);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = 0;

    if (ngx_http_payout_pg_bool(res, 0,
                                NGX_HTTP_PAYOUT_LIST_CURSOR_HAS_PREVIOUS))
    {
        rc |= json_object_set_new(links, "previous",
                  ngx_http_payout_list_cursor_link(list,
                      first.len ? &first : &list->cursor, !desc));
    }

    rc |= json_object_set_new(links, "current",
              ngx_http_payout_list_cursor_link(list, &list->cursor, desc));

    if (ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_LIST_CURSOR_HAS_NEXT))
    {
        rc |= json_object_set_new(links, "next",
                  ngx_http_payout_list_cursor_link(list, &last, desc));
    }

    if (rc != 0) {
        json_decref(meta);
        json_decref(links);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_list_body(list, (char *) items.data, items.len,
                                     meta, links);
}


/* never cut: its length was checked against a request line's before */

static json_t *
ngx_http_payout_list_cursor_link(ngx_http_payout_list_t *list,
    ngx_str_t *cursor, ngx_uint_t desc)
{
    u_char              *buf, *p;
    size_t               len;
    json_t              *link;
    ngx_http_request_t  *r;

    r = list->request;

    len = r->uri.len + sizeof("?cursor=&limit=&sortBy=id:DESC") - 1
          + cursor->len + NGX_INT64_LEN + list->options.len;

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NULL;
    }

    p = ngx_sprintf(buf, "%V?cursor=%V&limit=%l&sortBy=id:%s%*s", &r->uri,
                    cursor, list->page.limit, desc ? "DESC" : "ASC",
                    list->options.len - list->options_rest,
                    list->options.data + list->options_rest);

    link = json_stringn((char *) buf, p - buf);
    ngx_pfree(r->pool, buf);

    return link;
}


/* the page's rows rendered in C: after the total, list->perf->columns */

static ngx_int_t
ngx_http_payout_list_render_send(ngx_http_payout_list_t *list,
    PGresult *res)
{
    int64_t    total;
    ngx_str_t  items;

    total = PQntuples(res)
            ? ngx_http_payout_pg_int(res, 0, NGX_HTTP_PAYOUT_LIST_TOTAL) : 0;

    if (list->perf->render(list->request->pool, res,
                           NGX_HTTP_PAYOUT_LIST_ITEMS, 1, &items)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_list_send(list, total, (char *) items.data,
                                     items.len);
}
