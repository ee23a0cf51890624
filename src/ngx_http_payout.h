/*
 * The common header of the nginx glue: configuration, request context and
 * the prototypes each concern exports to the others.
 */

#ifndef NGX_HTTP_PAYOUT_H_INCLUDED_
#define NGX_HTTP_PAYOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <libpq-fe.h>
#include <jansson.h>

#include "core/ngx_payout_core.h"
#include "core/ngx_payout_crypto.h"


typedef struct ngx_http_payout_pg_pool_s   ngx_http_payout_pg_pool_t;
typedef struct ngx_http_payout_pg_query_s  ngx_http_payout_pg_query_t;
typedef struct ngx_http_payout_route_s     ngx_http_payout_route_t;


/* a payout_gateway: a named provider account and its connector */
typedef struct {
    ngx_str_t                    name;         /* "sandbox" */
    ngx_str_t                    connector;    /* "sandbox", "stripe" ... */
    /* its table (core/ngx_payout_connector.h), resolved by conf.c */
    const struct ngx_payout_connector_s  *actions;
    void                        *actions_conf;   /* its own settings */
    ngx_str_t                    url;          /* base URL, no slash */
    ngx_str_t                    secret;       /* API secret, from a file */
    ngx_str_t                    webhook_secret;
    ngx_str_t                    ca_file;
    ngx_msec_t                   timeout;
    ngx_int_t                    livemode;     /* mode=live; 0 for test */
    /* public_url + the payout_provider_webhook location + name, or
     * empty: where the provider calls back (ngx_http_payout_conf.c) */
    ngx_str_t                    callback_url;
} ngx_http_payout_gateway_t;


typedef struct {
    ngx_str_t                    database;
    ngx_uint_t                   pool_size;
    ngx_msec_t                   queue_timeout;
    ngx_msec_t                   connect_timeout;
    ngx_msec_t                   query_timeout;
    ngx_msec_t                   reconnect_min;
    ngx_msec_t                   reconnect_max;
    time_t                       retry_after;

    ngx_str_t                    master_key_file;
    ngx_payout_keys_t            keys;
    ngx_flag_t                   has_keys;

    ngx_array_t                 *gateways;    /* ngx_http_payout_gateway_t */

    /* this gateway as the internet reaches it, no trailing slash: the
     * base of callback URLs given to providers and of payout-link pages */
    ngx_str_t                    public_url;
    ngx_flag_t                   public_https;
    /* the first payout_provider_webhook location's prefix, "/hooks/" */
    ngx_str_t                    hooks_prefix;

    /* trusted CAs for provider and webhook TLS; empty: the system's */
    ngx_str_t                    ca_file;

    /* how long a worker trusts a key the database accepted; 0: never */
    ngx_msec_t                   api_key_cache;

    /* webhooks to merchants */
    ngx_msec_t                   webhook_timeout;
    ngx_flag_t                   webhook_allow_private;
    ngx_uint_t                   webhook_concurrency;
    ngx_msec_t                   webhook_poll;        /* retries come due */
    ngx_array_t                 *webhook_schedule;   /* long, seconds */

    /* the reconciler */
    ngx_msec_t                   reconcile_interval;
    ngx_uint_t                   reconcile_batch;
    ngx_msec_t                   reconcile_grace;
    time_t                       reconcile_window;
    ngx_msec_t                   reconcile_backoff;      /* first checks */
    ngx_msec_t                   reconcile_backoff_max;

    /* the built-in sandbox provider */
    ngx_str_t                    sandbox_webhook_url;
    ngx_msec_t                   sandbox_webhook_delay;
    ngx_flag_t                   sandbox_enabled;

    /* the payout-link page's compiled-in templates, compiled once */
    void                        *link_defaults;

    ngx_http_payout_pg_pool_t   *pg;          /* this worker's pool */

    void                        *metrics;     /* ngx_http_payout_metrics.c */
} ngx_http_payout_main_conf_t;


typedef struct {
    ngx_flag_t                   api;
    ngx_str_t                    api_prefix;

    /* payout_link_page (ngx_http_payout_page.c) */
    ngx_flag_t                   link_page;
    ngx_str_t                    link_prefix;          /* "/pay/" */
    ngx_str_t                    link_frame_ancestors; /* CSP sources */
    ngx_str_t                    link_csp;             /* the header */
    void                        *link_templates;       /* _page_set_t */
} ngx_http_payout_loc_conf_t;


typedef struct {
    ngx_int_t                    tenant_id;
    ngx_str_t                    tenant;
    ngx_str_t                    key_prefix;
    unsigned                     livemode:1;
} ngx_http_payout_auth_t;


typedef struct {
    ngx_http_request_t          *request;
    ngx_http_payout_route_t     *route;
    ngx_str_t                    path;         /* URI below the API prefix */
    ngx_str_t                    args[2];      /* {uuid}-style path params */
    json_t                      *body;
    ngx_http_payout_auth_t       auth;
    ngx_http_payout_pg_query_t  *query;
    void                        *page;         /* a payout-link page's */

    /* what the log and the metrics read (ngx_http_payout_variables.c) */
    ngx_http_payout_gateway_t   *gateway;
    ngx_str_t                    response;     /* the JSON answered */
    json_t                      *response_json;
    ngx_uint_t                   route_label;  /* NGX_HTTP_PAYOUT_ROUTE_* */

    /* the JSON error filter leaves our own responses alone */
    ngx_str_t                    error_body;
    unsigned                     own_response:1;
    unsigned                     replaced:1;
    unsigned                     error_sent:1;
} ngx_http_payout_ctx_t;


typedef ngx_int_t (*ngx_http_payout_route_pt)(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

/* authentication succeeded and ctx->auth is filled in: serve the request */
typedef void (*ngx_http_payout_auth_done_pt)(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

struct ngx_http_payout_route_s {
    ngx_uint_t                   method;       /* NGX_HTTP_GET ... */
    const char                  *pattern;      /* "payouts/{uuid}" */
    ngx_http_payout_route_pt     handler;
    unsigned                     public:1;     /* no API key needed */
    unsigned                     json_body:1;  /* takes a JSON body */
};


extern ngx_module_t  ngx_http_payout_module;


/* the JSON error filter (ngx_http_payout_filter.c) */
ngx_int_t ngx_http_payout_filter_init(ngx_conf_t *cf);

/* nginx has no name for 422 Unprocessable Content */
#define NGX_HTTP_PAYOUT_422  422

/* requests and responses (ngx_http_payout_response.c) */
ngx_int_t ngx_http_payout_read_request_body(ngx_http_request_t *r,
    ngx_str_t *body);
ngx_int_t ngx_http_payout_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len);
ngx_int_t ngx_http_payout_send_body(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len);
ngx_int_t ngx_http_payout_send_json_t(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_payout_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    const char *field);
/* an error object with more fields (detail: taken over) */
ngx_int_t ngx_http_payout_send_error_detail(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message,
    json_t *detail);
ngx_int_t ngx_http_payout_send_unavailable(ngx_http_request_t *r);
ngx_int_t ngx_http_payout_set_retry_after(ngx_http_request_t *r);
ngx_int_t ngx_http_payout_add_header(ngx_http_request_t *r, const char *key,
    const char *value);
void ngx_http_payout_finalize(ngx_http_request_t *r, ngx_int_t rc);
ngx_http_payout_ctx_t *ngx_http_payout_get_ctx(ngx_http_request_t *r);

/* the API router (ngx_http_payout_api.c) */
extern ngx_http_payout_route_t  ngx_http_payout_routes[];
char *ngx_http_payout_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_payout_set_location(ngx_conf_t *cf,
    ngx_http_payout_loc_conf_t *plcf, ngx_http_handler_pt handler);
ngx_int_t ngx_http_payout_route(ngx_http_request_t *r,
    ngx_http_payout_route_t *routes);

/* configuration (ngx_http_payout_conf.c) */
char *ngx_http_payout_master_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_payout_gateway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_payout_public_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* the checks of every gateway that need the whole configuration */
char *ngx_http_payout_gateways_init(ngx_conf_t *cf,
    ngx_http_payout_main_conf_t *pmcf);
ngx_http_payout_gateway_t *ngx_http_payout_find_gateway(
    ngx_http_payout_main_conf_t *pmcf, const char *name, size_t len);
char *ngx_http_payout_reconcile_backoff(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the sandbox provider (ngx_http_payout_sandbox.c) */
char *ngx_http_payout_sandbox(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_payout_sandbox_init_process(ngx_cycle_t *cycle);
void ngx_http_payout_sandbox_exit_process(ngx_cycle_t *cycle);

/* webhooks to merchants (ngx_http_payout_deliver.c) */
char *ngx_http_payout_webhook_schedule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_payout_deliver_init_process(ngx_cycle_t *cycle);
void ngx_http_payout_deliver_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_payout_webhooks_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_webhooks_redeliver(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

/* tenant webhook endpoints (ngx_http_payout_endpoints.c) */
ngx_int_t ngx_http_payout_endpoints_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_endpoints_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_endpoints_rotate(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_endpoints_disable(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

/* the reconciler (ngx_http_payout_reconcile.c) */
ngx_int_t ngx_http_payout_reconcile_init_process(ngx_cycle_t *cycle);
void ngx_http_payout_reconcile_exit_process(ngx_cycle_t *cycle);

/* provider webhooks in (ngx_http_payout_hooks.c) */
char *ngx_http_payout_provider_webhook(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* endpoints */
ngx_int_t ngx_http_payout_health(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_transfer(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_status(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_cancel(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_finalize(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_payouts_events(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_recipients_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_recipients_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
ngx_int_t ngx_http_payout_recipients_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
/* POST /payout-recipients/{uuid}/accounts (ngx_http_payout_enroll.c) */
ngx_int_t ngx_http_payout_recipients_enroll(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);

/*
 * a socket libpq or libcurl owns: nginx stops watching it and lets the
 * connection go, never closing it; closed: the descriptor is gone already
 * (ngx_http_payout_http.c)
 */
void ngx_http_payout_forget_socket(ngx_connection_t *c, ngx_uint_t closed);

/* one resource as JSON by uuid (ngx_http_payout_payouts.c) */
ngx_int_t ngx_http_payout_get_json(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const char *sql);


#endif /* NGX_HTTP_PAYOUT_H_INCLUDED_ */
