/*
 * The outbound HTTP client: libcurl's multi interface driven by nginx's
 * events and timers.  Used for provider calls and webhook deliveries,
 * from requests and from timers alike; webhooks (guard_ssrf) have a
 * multi handle, and so a connection cache, of their own.
 */

#ifndef NGX_HTTP_PAYOUT_HTTP_H_INCLUDED_
#define NGX_HTTP_PAYOUT_HTTP_H_INCLUDED_


#include <curl/curl.h>

#include "ngx_http_payout.h"


typedef struct ngx_http_payout_http_req_s  ngx_http_payout_http_req_t;

typedef void (*ngx_http_payout_http_handler_pt)(
    ngx_http_payout_http_req_t *hr);


struct ngx_http_payout_http_req_s {
    /* the request: set by the caller */
    const char                        *method;      /* "POST" */
    const char                        *url;         /* NUL-terminated */
    struct curl_slist                 *headers;     /* freed by the client */
    u_char                            *body;
    size_t                             body_len;
    ngx_msec_t                         timeout;
    size_t                             max_response;
    const char                        *ca_file;     /* NULL: system CAs */

    /*
     * Webhook profile: its own connection cache; and unless
     * allow_private is set, every address that is not normal unicast
     * is refused, after resolution and on every request's connection.
     */
    unsigned                           guard_ssrf:1;
    unsigned                           allow_private:1;

    ngx_http_payout_http_handler_pt    handler;
    void                              *data;
    ngx_log_t                         *log;

    /* the outcome, valid while the handler runs */
    long                               status;      /* 0: no response */
    CURLcode                           error;
    char                              *error_text;
    ngx_str_t                          response;
    ngx_str_t                          retry_after;  /* response header */
    ngx_msec_t                         elapsed;

    /* private */
    CURL                              *easy;
    u_char                            *buf;
    size_t                             buf_size;
    size_t                             buf_cap;
    ngx_msec_t                         started;
    char                               errbuf[CURL_ERROR_SIZE];
    u_char                             retry_after_buf[32];
    unsigned                           too_large:1;
    unsigned                           refused:1;
};


ngx_int_t ngx_http_payout_http_init(ngx_cycle_t *cycle);
void ngx_http_payout_http_done(ngx_cycle_t *cycle);

ngx_int_t ngx_http_payout_http_start(ngx_http_payout_http_req_t *hr);
void ngx_http_payout_http_cancel(ngx_http_payout_http_req_t *hr);
ngx_int_t ngx_http_payout_http_start_for_request(ngx_http_request_t *r,
    ngx_http_payout_http_req_t *hr);

ngx_int_t ngx_http_payout_http_header(ngx_http_payout_http_req_t *hr,
    const char *fmt, ...);


#endif /* NGX_HTTP_PAYOUT_HTTP_H_INCLUDED_ */
