/*
 * The payouts resource.  GET /payouts lists the tenant's payouts in
 * nestjs-paginate's shape: {data, meta, links}.  PostgreSQL renders the
 * rows as JSON (payout_json() in sql/), we add meta and links around it.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"


typedef struct {
    ngx_http_request_t  *request;
    ngx_payout_page_t    page;
} ngx_http_payout_list_t;


static ngx_int_t ngx_http_payout_list_args(ngx_http_request_t *r,
    ngx_payout_page_t *page, const char **message, const char **field);
static void ngx_http_payout_list_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_list_send(ngx_http_payout_list_t *list,
    int64_t total, const char *data, size_t data_len);
static json_t *ngx_http_payout_list_link(ngx_http_payout_list_t *list,
    long page);


ngx_int_t
ngx_http_payout_payouts_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    u_char                      *sql, *last;
    size_t                       len;
    ngx_int_t                    rc;
    const char                  *dir, *message, *field;
    ngx_http_payout_list_t      *list;
    ngx_http_payout_pg_query_t  *q;

    list = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_list_t));
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list->request = r;

    rc = ngx_http_payout_list_args(r, &list->page, &message, &field);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_parameter", message,
                                          field);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* the column and direction come from a whitelist, never from input */

    dir = list->page.sort_desc ? "DESC" : "ASC";
    len = 512;

    sql = ngx_pnalloc(r->pool, len);
    if (sql == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_snprintf(sql, len - 1,
        "SELECT (SELECT count(*) FROM payouts WHERE tenant_id = $1), "
        "coalesce(json_agg(payout_json(s.p) "
                 "ORDER BY (s.p).%s %s, (s.p).id %s), '[]') "
        "FROM (SELECT p FROM payouts p WHERE p.tenant_id = $1 "
              "ORDER BY p.%s %s, p.id %s LIMIT $2 OFFSET $3) s",
        list->page.sort_column, dir, dir,
        list->page.sort_column, dir, dir);
    *last = '\0';

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        (char *) sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, ctx->auth.tenant_id) != NGX_OK
        || ngx_http_payout_pg_param_int(q, list->page.limit) != NGX_OK
        || ngx_http_payout_pg_param_int(q, (list->page.page - 1)
                                           * list->page.limit)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_list_done;
    q->data = list;

    rc = ngx_http_payout_pg_run_for_request(r, q);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_send_unavailable(r);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


/* NGX_DECLINED: a bad parameter, described by message and field */

static ngx_int_t
ngx_http_payout_list_args(ngx_http_request_t *r, ngx_payout_page_t *page,
    const char **message, const char **field)
{
    u_char     *p, *end, *amp, *eq, *value;
    size_t      name_len, value_len;
    ngx_str_t   name;

    page->limit = NGX_PAYOUT_LIST_DEFAULT_LIMIT;
    page->page = 1;
    page->sort_column = "id";
    page->sort_desc = 1;

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
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        name.len = ngx_payout_url_decode(p, name_len, name.data);
        value_len = eq ? ngx_payout_url_decode(eq + 1, value_len, value) : 0;

        p = amp + 1;

        if (name.len == 5 && ngx_strncmp(name.data, "limit", 5) == 0) {
            if (ngx_payout_parse_long(value, value_len, 1, 999999999,
                                      &page->limit) != NGX_PAYOUT_OK)
            {
                *message = "limit must be a positive integer.";
                *field = "limit";
                return NGX_DECLINED;
            }

            page->limit = ngx_min(page->limit, NGX_PAYOUT_LIST_MAX_LIMIT);

        } else if (name.len == 4 && ngx_strncmp(name.data, "page", 4) == 0) {
            if (ngx_payout_parse_long(value, value_len, 1, 999999999,
                                      &page->page) != NGX_PAYOUT_OK)
            {
                *message = "page must be a positive integer.";
                *field = "page";
                return NGX_DECLINED;
            }

        } else if (name.len == 6
                   && ngx_strncmp(name.data, "sortBy", 6) == 0)
        {
            if (ngx_payout_page_parse_sort(value, value_len, page)
                != NGX_PAYOUT_OK)
            {
                *message = "sortBy must be column:ASC or column:DESC, with "
                           "column one of id, created_at, amount.";
                *field = "sortBy";
                return NGX_DECLINED;
            }

        } else if (name.len > 7
                   && ngx_strncmp(name.data, "filter.", 7) == 0)
        {
            *message = "Filtering is not available yet.";
            *field = "filter";
            return NGX_DECLINED;
        }
    }

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

    if (q->status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_unavailable(r));
        return;
    }

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1) {
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
    char                 buf[512];
    ngx_http_request_t  *r;

    r = list->request;

    ngx_memzero(buf, sizeof(buf));
    ngx_snprintf((u_char *) buf, sizeof(buf) - 1,
                 "%V?page=%l&limit=%l&sortBy=%s:%s", &r->uri, page,
                 list->page.limit, list->page.sort_column,
                 list->page.sort_desc ? "DESC" : "ASC");

    return json_string(buf);
}
