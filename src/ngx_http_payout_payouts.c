/*
 * The payouts resource.  GET /payouts lists the tenant's payouts in
 * nestjs-paginate's shape: {data, meta, links}.  PostgreSQL renders the
 * rows as JSON (payout_json() in sql/), we add meta and links around it.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"
#include "core/ngx_payout_filter.h"


/* what differs between the lists of payouts and of recipients */
typedef struct {
    const char                        *table;     /* FROM <table> p */
    const char                        *json;      /* <json>(p) per row */
    const ngx_payout_filter_column_t  *filters;
    unsigned                           amount:1;  /* sortable by amount */
} ngx_http_payout_list_def_t;


typedef struct {
    ngx_http_request_t                *request;
    ngx_payout_page_t                  page;
    ngx_payout_filter_t                filter;
    ngx_str_t                          filter_args;   /* for the links */
} ngx_http_payout_list_t;


static ngx_int_t ngx_http_payout_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const ngx_http_payout_list_def_t *def);
static ngx_int_t ngx_http_payout_list_args(ngx_http_request_t *r,
    ngx_http_payout_list_t *list, const ngx_http_payout_list_def_t *def,
    ngx_payout_error_t *err);
static void ngx_http_payout_list_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_list_cleanup(void *data);
static ngx_int_t ngx_http_payout_list_send(ngx_http_payout_list_t *list,
    int64_t total, const char *data, size_t data_len);
static json_t *ngx_http_payout_list_link(ngx_http_payout_list_t *list,
    long page);
static void ngx_http_payout_get_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);


static const char  ngx_http_payout_get_sql[] =
    "SELECT payout_json(p) FROM payouts p "
    "WHERE p.tenant_id = $1 AND p.livemode = $2 AND p.uuid = $3::uuid";


static const ngx_payout_filter_column_t  ngx_http_payout_payout_filters[] = {
    { "status", "p.status", NGX_PAYOUT_FILTER_TEXT },
    { "sub_status", "p.sub_status", NGX_PAYOUT_FILTER_TEXT },
    { "currency", "p.currency::text", NGX_PAYOUT_FILTER_TEXT },
    { "amount", "p.amount", NGX_PAYOUT_FILTER_INT },
    { "gateway", "p.gateway", NGX_PAYOUT_FILTER_TEXT },
    { "recipient_uuid",
      "(SELECT r.uuid FROM recipients r WHERE r.id = p.recipient_id)",
      NGX_PAYOUT_FILTER_UUID },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "updated_at", "p.updated_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "gateway_payout_id", "p.gateway_payout_id", NGX_PAYOUT_FILTER_TEXT },
    { "uuid", "p.uuid", NGX_PAYOUT_FILTER_UUID },
    { NULL, NULL, 0 }
};


static const ngx_payout_filter_column_t  ngx_http_payout_recipient_filters[] =
{
    { "recipient_type", "p.recipient_type", NGX_PAYOUT_FILTER_TEXT },
    { "gateway", "p.gateway", NGX_PAYOUT_FILTER_TEXT },
    { "name", "p.name", NGX_PAYOUT_FILTER_TEXT },
    { "email", "p.email", NGX_PAYOUT_FILTER_TEXT },
    { "bank_code", "p.bank_code", NGX_PAYOUT_FILTER_TEXT },
    { "idempotency_key", "p.idempotency_key", NGX_PAYOUT_FILTER_TEXT },
    { "created_at", "p.created_at", NGX_PAYOUT_FILTER_TIMESTAMP },
    { "uuid", "p.uuid", NGX_PAYOUT_FILTER_UUID },
    { NULL, NULL, 0 }
};


static const ngx_http_payout_list_def_t  ngx_http_payout_payouts_def = {
    "payouts", "payout_json", ngx_http_payout_payout_filters, 1
};

static const ngx_http_payout_list_def_t  ngx_http_payout_recipients_def = {
    "recipients", "payout_recipient_json",
    ngx_http_payout_recipient_filters, 0
};


ngx_int_t
ngx_http_payout_payouts_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_list(r, ctx, &ngx_http_payout_payouts_def);
}


ngx_int_t
ngx_http_payout_recipients_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_list(r, ctx, &ngx_http_payout_recipients_def);
}


static ngx_int_t
ngx_http_payout_list(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const ngx_http_payout_list_def_t *def)
{
    int                          i;
    u_char                      *sql, *last;
    size_t                       len;
    ngx_int_t                    rc;
    const char                  *dir;
    ngx_pool_cleanup_t          *cln;
    ngx_payout_error_t           err;
    ngx_http_payout_list_t      *list;
    ngx_http_payout_pg_query_t  *q;

    list = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_list_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (list == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list->request = r;

    /* filters start after $1 tenant, $2 limit, $3 offset, $4 livemode */
    ngx_payout_filter_init(&list->filter, def->filters, 5);
    cln->handler = ngx_http_payout_list_cleanup;
    cln->data = &list->filter;

    rc = ngx_http_payout_list_args(r, list, def, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST, err.code,
                                          err.message, err.field);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* columns and directions come from whitelists, values are $n */

    dir = list->page.sort_desc ? "DESC" : "ASC";
    len = 1024 + list->filter.sql_len * 2;

    sql = ngx_pnalloc(r->pool, len);
    if (sql == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_snprintf(sql, len - 1,
        "SELECT (SELECT count(*) FROM %s p "
                "WHERE p.tenant_id = $1 AND p.livemode = $4 AND %s), "
        "coalesce(json_agg(%s(s.p) "
                 "ORDER BY (s.p).%s %s, (s.p).id %s), '[]') "
        "FROM (SELECT p FROM %s p "
              "WHERE p.tenant_id = $1 AND p.livemode = $4 AND %s "
              "ORDER BY p.%s %s, p.id %s LIMIT $2 OFFSET $3) s",
        def->table, list->filter.sql, def->json,
        list->page.sort_column, dir, dir,
        def->table, list->filter.sql,
        list->page.sort_column, dir, dir);
    *last = '\0';

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        (char *) sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, ctx->auth.tenant_id) != NGX_OK
        || ngx_http_payout_pg_param_int(q, list->page.limit) != NGX_OK
        || ngx_http_payout_pg_param_int(q, (list->page.page - 1)
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

    q->handler = ngx_http_payout_list_done;
    q->data = list;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_list_cleanup(void *data)
{
    ngx_payout_filter_free(data);
}


/* NGX_DECLINED: a bad parameter, described in err */

static ngx_int_t
ngx_http_payout_list_args(ngx_http_request_t *r, ngx_http_payout_list_t *list,
    const ngx_http_payout_list_def_t *def, ngx_payout_error_t *err)
{
    u_char             *p, *end, *amp, *eq, *value, *fa;
    size_t              name_len, value_len;
    ngx_str_t           name;
    ngx_payout_page_t  *page;

    page = &list->page;
    page->limit = NGX_PAYOUT_LIST_DEFAULT_LIMIT;
    page->page = 1;
    page->sort_column = "id";
    page->sort_desc = 1;

    err->code = "invalid_parameter";
    err->field = NULL;

    /* the filters, as given, are repeated in the links */
    fa = ngx_pnalloc(r->pool, r->args.len + 1);
    if (fa == NULL) {
        return NGX_ERROR;
    }

    list->filter_args.data = fa;

    p = r->args.data;
    end = r->args.data + r->args.len;

    while (p < end) {
        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(p, amp, '=');

        name_len = (eq ? eq : amp) - p;
        name.data = ngx_pnalloc(r->pool, name_len + 1);
        value_len = eq ? (size_t) (amp - eq - 1) : 0;
        value = ngx_pnalloc(r->pool, value_len + 1);

        if (name.data == NULL || value == NULL) {
            return NGX_ERROR;
        }

        name.len = ngx_payout_url_decode(p, name_len, name.data);
        value_len = eq ? ngx_payout_url_decode(eq + 1, value_len, value) : 0;

        if (name.len > 7 && ngx_strncmp(name.data, "filter.", 7) == 0) {
            fa = ngx_cpymem(fa, "&", 1);
            fa = ngx_cpymem(fa, p, amp - p);
        }

        p = amp + 1;

        if (name.len == 5 && ngx_strncmp(name.data, "limit", 5) == 0) {
            if (ngx_payout_parse_long(value, value_len, 1, 999999999,
                                      &page->limit) != NGX_PAYOUT_OK)
            {
                ngx_sprintf((u_char *) err->message,
                            "limit must be a positive integer.%Z");
                err->field = "limit";
                return NGX_DECLINED;
            }

            page->limit = ngx_min(page->limit, NGX_PAYOUT_LIST_MAX_LIMIT);

        } else if (name.len == 4 && ngx_strncmp(name.data, "page", 4) == 0) {
            if (ngx_payout_parse_long(value, value_len, 1, 999999999,
                                      &page->page) != NGX_PAYOUT_OK)
            {
                ngx_sprintf((u_char *) err->message,
                            "page must be a positive integer.%Z");
                err->field = "page";
                return NGX_DECLINED;
            }

        } else if (name.len == 6
                   && ngx_strncmp(name.data, "sortBy", 6) == 0)
        {
            if (ngx_payout_page_parse_sort(value, value_len, page)
                != NGX_PAYOUT_OK
                || (!def->amount
                    && ngx_strcmp(page->sort_column, "amount") == 0))
            {
                ngx_sprintf((u_char *) err->message,
                            "sortBy must be column:ASC or column:DESC, with "
                            "column one of id, created_at%s.%Z",
                            def->amount ? ", amount" : "");
                err->field = "sortBy";
                return NGX_DECLINED;
            }

        } else if (name.len > 7
                   && ngx_strncmp(name.data, "filter.", 7) == 0)
        {
            if (ngx_payout_filter_add(&list->filter,
                                      (char *) name.data + 7, name.len - 7,
                                      (char *) value, value_len, err)
                != NGX_PAYOUT_OK)
            {
                return ngx_strcmp(err->code, "invalid_parameter") == 0
                       ? NGX_DECLINED : NGX_ERROR;
            }
        }
    }

    list->filter_args.len = fa - list->filter_args.data;

    return NGX_OK;
}


static void
ngx_http_payout_list_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    int64_t                  total;
    ngx_http_request_t      *r;
    ngx_http_payout_list_t  *list;

    list = q->data;
    r = list->request;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        ngx_http_payout_finalize(r, ngx_http_payout_pg_failure(r, q));
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    total = ngx_atoof((u_char *) PQgetvalue(res, 0, 0),
                      PQgetlength(res, 0, 0));

    ngx_http_payout_finalize(r, ngx_http_payout_list_send(list, total,
                                    PQgetvalue(res, 0, 1),
                                    PQgetlength(res, 0, 1)));
}


static ngx_int_t
ngx_http_payout_list_send(ngx_http_payout_list_t *list, int64_t total,
    const char *data, size_t data_len)
{
    long                 pages;
    u_char              *body, *p;
    size_t               meta_len, links_len, len;
    json_t              *meta, *links, *sort;
    ngx_http_request_t  *r;
    ngx_payout_page_t   *pg;

    r = list->request;
    pg = &list->page;

    pages = (long) ((total + pg->limit - 1) / pg->limit);

    sort = json_pack("[[ss]]", pg->sort_column,
                     pg->sort_desc ? "DESC" : "ASC");

    meta = json_pack("{sI sI sI sI so}",
                     "itemsPerPage", (json_int_t) pg->limit,
                     "totalItems", (json_int_t) total,
                     "currentPage", (json_int_t) pg->page,
                     "totalPages", (json_int_t) pages,
                     "sortBy", sort);

    links = json_object();

    if (meta && list->filter.meta) {
        json_object_set(meta, "filter", list->filter.meta);
    }

    if (meta == NULL || links == NULL) {
        json_decref(meta);
        json_decref(links);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* nestjs-paginate leaves out the links that lead nowhere */

    if (pg->page > 1) {
        json_object_set_new(links, "first",
                            ngx_http_payout_list_link(list, 1));
        json_object_set_new(links, "previous",
                            ngx_http_payout_list_link(list, pg->page - 1));
    }

    json_object_set_new(links, "current",
                        ngx_http_payout_list_link(list, pg->page));

    if (pg->page < pages) {
        json_object_set_new(links, "next",
                            ngx_http_payout_list_link(list, pg->page + 1));
        json_object_set_new(links, "last",
                            ngx_http_payout_list_link(list, pages));
    }

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


static json_t *
ngx_http_payout_list_link(ngx_http_payout_list_t *list, long page)
{
    char                 buf[4096];
    ngx_http_request_t  *r;

    r = list->request;

    ngx_memzero(buf, sizeof(buf));
    ngx_snprintf((u_char *) buf, sizeof(buf) - 1,
                 "%V?page=%l&limit=%l&sortBy=%s:%s%V", &r->uri, page,
                 list->page.limit, list->page.sort_column,
                 list->page.sort_desc ? "DESC" : "ASC", &list->filter_args);

    return json_string(buf);
}


ngx_int_t
ngx_http_payout_payouts_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_get_json(r, ctx, ngx_http_payout_get_sql);
}


ngx_int_t
ngx_http_payout_pg_param_scope(ngx_http_payout_pg_query_t *q,
    ngx_http_payout_ctx_t *ctx)
{
    if (ngx_http_payout_pg_param_int(q, ctx->auth.tenant_id) != NGX_OK
        || ngx_http_payout_pg_param_bool(q, ctx->auth.livemode) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A query about the resource named by the {uuid} in the path: $1 is the
 * tenant, $2 the key's livemode, $3 the uuid.  NULL when there is none,
 * with *rc the response already given or to give (400 for a malformed
 * uuid).
 */

ngx_http_payout_pg_query_t *
ngx_http_payout_uuid_query(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const char *sql, ngx_int_t *rc)
{
    ngx_http_payout_pg_query_t  *q;

    if (!ngx_payout_uuid_valid(ctx->args[0].data, ctx->args[0].len)) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_parameter", "Not a valid UUID.", "uuid");
        return NULL;
    }

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log, sql);
    if (q == NULL
        || ngx_http_payout_pg_param_scope(q, ctx) != NGX_OK
        || ngx_http_payout_pg_param(q, ctx->args[0].data, ctx->args[0].len)
           != NGX_OK)
    {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    return q;
}


/*
 * GET of one resource: $1 tenant, $2 livemode, $3 uuid; the SQL returns
 * its JSON.  Another tenant's or mode's resource answers exactly like an
 * unknown one.
 */

ngx_int_t
ngx_http_payout_get_json(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx,
    const char *sql)
{
    ngx_int_t                    rc;
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_uuid_query(r, ctx, sql, &rc);
    if (q == NULL) {
        return rc;
    }

    q->handler = ngx_http_payout_get_done;
    q->data = r;

    return ngx_http_payout_pg_start(r, q);
}


static void
ngx_http_payout_get_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    u_char              *body;
    size_t               len;
    ngx_http_request_t  *r;

    r = q->data;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        ngx_http_payout_finalize(r, ngx_http_payout_pg_failure(r, q));
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
            NGX_HTTP_NOT_FOUND, "not_found", "No such resource.", NULL));
        return;
    }

    len = PQgetlength(res, 0, 0);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(body, PQgetvalue(res, 0, 0), len);

    ngx_http_payout_finalize(r, ngx_http_payout_send_json(r, NGX_HTTP_OK,
                                                          body, len));
}
