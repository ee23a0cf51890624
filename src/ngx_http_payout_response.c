/*
 * Sending JSON responses.  Everything an API location answers goes
 * through here, marked as our own so the error filter leaves it alone.
 * And the request's side of it: its body, read whole.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"


static ngx_int_t ngx_http_payout_set_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);


ngx_http_payout_ctx_t *
ngx_http_payout_get_ctx(ngx_http_request_t *r)
{
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ctx->request = r;
        ngx_http_set_ctx(r, ctx, ngx_http_payout_module);
    }

    return ctx;
}


ngx_int_t
ngx_http_payout_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_http_payout_ctx_t  *ctx;

    static ngx_str_t  cache_control = ngx_string("Cache-Control");
    static ngx_str_t  no_store = ngx_string("no-store");

    ctx = ngx_http_payout_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->own_response = 1;
    ctx->response.data = body;
    ctx->response.len = len;

    if (ngx_http_payout_set_header(r, &cache_control, &no_store) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_body(r, status, "application/json", body,
                                     len);
}


/* a whole response in memory, of the given type (a static string) */

ngx_int_t
ngx_http_payout_send_body(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = len ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_payout_send_json_t(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    size_t   len;
    u_char  *body;

    len = json_dumpb(json, NULL, 0, JSON_COMPACT);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_dumpb(json, (char *) body, len, JSON_COMPACT);

    return ngx_http_payout_send_json(r, status, body, len);
}


ngx_int_t
ngx_http_payout_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message, const char *field)
{
    char    *json;
    size_t   len;
    u_char  *body;

    if (code == NULL) {
        code = ngx_payout_error_code_for_status((int) status);
    }

    if (message == NULL) {
        message = ngx_payout_error_message_for_status((int) status);
    }

    json = ngx_payout_json_error(code, message, field, &len);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        free(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body, json, len);
    free(json);

    return ngx_http_payout_send_json(r, status, body, len);
}


/*
 * An error whose object carries more than code and message (a rejected
 * payout's payout_uuid, sub_status, failure_reason): detail is that
 * object, taken over here.
 */

ngx_int_t
ngx_http_payout_send_error_detail(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message, json_t *detail)
{
    json_t     *root, *err;
    ngx_int_t   rc;

    /* code and message first, as in every other error */
    err = json_pack("{ssss}", "code", code, "message", message);
    root = json_object();

    if (err == NULL || root == NULL || detail == NULL
        || json_object_update(err, detail) != 0
        || json_object_set(root, "error", err) != 0)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    rc = ngx_http_payout_send_json_t(r, status, root);

done:

    json_decref(detail);
    json_decref(err);
    json_decref(root);

    return rc;
}


ngx_int_t
ngx_http_payout_set_retry_after(ngx_http_request_t *r)
{
    u_char                       *p;
    ngx_str_t                     value;
    ngx_http_payout_main_conf_t  *pmcf;

    static ngx_str_t  retry_after = ngx_string("Retry-After");

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%T", pmcf->retry_after) - p;

    return ngx_http_payout_set_header(r, &retry_after, &value);
}


ngx_int_t
ngx_http_payout_send_unavailable(ngx_http_request_t *r)
{
    if (ngx_http_payout_set_retry_after(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "database_unavailable",
                                      "The database is unavailable; "
                                      "retry later.", NULL);
}


/* finalize from an event that is not the request's own */

void
ngx_http_payout_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_payout_set_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_add_header(ngx_http_request_t *r, const char *key,
    const char *value)
{
    ngx_str_t  k, v;

    k.data = (u_char *) key;
    k.len = ngx_strlen(key);
    v.data = (u_char *) value;
    v.len = ngx_strlen(value);

    return ngx_http_payout_set_header(r, &k, &v);
}


/* start q for r: NGX_DONE, or the response to give at once */

ngx_int_t
ngx_http_payout_pg_start(ngx_http_request_t *r, ngx_http_payout_pg_query_t *q)
{
    ngx_int_t  rc;

    rc = ngx_http_payout_pg_run_for_request(r, q);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_send_unavailable(r);
    }

    return rc == NGX_OK ? NGX_DONE : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* the response to a query that failed: 503 if the database is away */

ngx_int_t
ngx_http_payout_pg_failure(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "payout pg: failed query answered %s",
                   q->status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE
                   ? "503" : "500");

    if (q->status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE) {
        return ngx_http_payout_send_unavailable(r);
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * A request's query has answered.  NGX_OK: it holds exactly one row.
 * NGX_DECLINED: the request has been finalized, with 503 when the
 * database is away, 404 "missing" when no row came back and "missing" is
 * given, and 500 otherwise.  Callbacks then just return.
 */

ngx_int_t
ngx_http_payout_query_row(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q, PGresult *res, const char *missing)
{
    ngx_int_t  rc;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        rc = ngx_http_payout_pg_failure(r, q);

    } else if (PQntuples(res) == 1) {
        return NGX_OK;

    } else if (missing && PQntuples(res) == 0) {
        rc = ngx_http_payout_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        missing, NULL);

    } else {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_payout_finalize(r, rc);

    return NGX_DECLINED;
}


/*
 * A request's next query, started outside its handler: rc is what
 * ngx_http_payout_pg_run_for_request() (or a function that ends in it)
 * returned.  NGX_OK: it runs, and its callback answers.  NGX_DECLINED:
 * the request has been finalized, with 503 when the database is away and
 * 500 otherwise.
 */

ngx_int_t
ngx_http_payout_query_started(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_OK) {
        return NGX_OK;
    }

    ngx_http_payout_finalize(r, rc == NGX_DECLINED
                                ? ngx_http_payout_send_unavailable(r)
                                : NGX_HTTP_INTERNAL_SERVER_ERROR);

    return NGX_DECLINED;
}


/* the whole body in one piece, from memory or from its temporary file */

ngx_int_t
ngx_http_payout_read_request_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    body->len = p - body->data;

    return NGX_OK;
}
