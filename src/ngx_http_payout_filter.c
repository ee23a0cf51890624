/*
 * The JSON error filter.  In API locations, an error nginx itself answers
 * (413 from client_max_body_size, 503 from limit_req, 400 for a bad
 * request, ...) is rewritten into the API's JSON error shape, so a client
 * never sees an HTML error page from the API.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_page.h"


static ngx_int_t ngx_http_payout_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_payout_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_payout_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_payout_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_payout_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_header_filter(ngx_http_request_t *r)
{
    char                        *json;
    size_t                       len;
    ngx_uint_t                   status;
    ngx_http_payout_ctx_t       *ctx;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);
    status = r->headers_out.status;

    /* nginx's own answers in a page location (limit_req's 429, 413...) */
    if (plcf->link_page && r == r->main
        && ngx_http_payout_page_foreign(r) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!plcf->api || r != r->main || status < NGX_HTTP_BAD_REQUEST) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (ctx && ctx->own_response) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_payout_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    json = ngx_payout_json_error(
                ngx_payout_error_code_for_status((int) status),
                ngx_payout_error_message_for_status((int) status),
                NULL, &len);
    if (json == NULL) {
        return NGX_ERROR;
    }

    ctx->error_body.data = ngx_pnalloc(r->pool, len);
    if (ctx->error_body.data == NULL) {
        free(json);
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->error_body.data, json, len);
    ctx->error_body.len = len;
    free(json);

    ctx->replaced = 1;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;
    r->headers_out.content_length_n = len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    if ((status == NGX_HTTP_SERVICE_UNAVAILABLE
         || status == NGX_HTTP_TOO_MANY_REQUESTS)
        && ngx_http_payout_set_retry_after(r) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_payout_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t              *b;
    ngx_chain_t            *cl, out;
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (ctx == NULL || !ctx->replaced) {
        return ngx_http_next_body_filter(r, in);
    }

    /* swallow nginx's own page */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;

        if (cl->buf->in_file) {
            cl->buf->file_pos = cl->buf->file_last;
        }
    }

    if (ctx->error_sent) {
        return NGX_OK;
    }

    ctx->error_sent = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->error_body.data;
    b->last = ctx->error_body.data + ctx->error_body.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
