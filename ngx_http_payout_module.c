/*
 * ngx_http_payout_module: a payout gateway in nginx.
 *
 * This file only defines the module: directives, configuration structures
 * and process hooks.  The work happens in src/.
 */

#include "src/ngx_http_payout.h"
#include "src/ngx_http_payout_pg.h"
#include "src/ngx_http_payout_http.h"
#include "src/ngx_http_payout_auth.h"
#include "src/ngx_http_payout_page.h"
#include "src/ngx_http_payout_links.h"
#include "src/ngx_http_payout_metrics.h"
#include "src/ngx_http_payout_prometheus.h"


static ngx_int_t ngx_http_payout_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_payout_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_payout_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_payout_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_payout_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_payout_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_payout_init_process(ngx_cycle_t *cycle);
static void ngx_http_payout_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_payout_pool_bounds = {
    ngx_conf_check_num_bounds, 1, 512
};


static ngx_command_t  ngx_http_payout_commands[] = {

    { ngx_string("payout_database"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, database),
      NULL },

    { ngx_string("payout_database_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, pool_size),
      &ngx_http_payout_pool_bounds },

    { ngx_string("payout_database_queue_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, queue_timeout),
      NULL },

    { ngx_string("payout_database_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, connect_timeout),
      NULL },

    { ngx_string("payout_database_query_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, query_timeout),
      NULL },

    { ngx_string("payout_database_reconnect_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, reconnect_max),
      NULL },

    { ngx_string("payout_retry_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, retry_after),
      NULL },

    { ngx_string("payout_master_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_payout_master_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_payout_public_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_gateway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_payout_gateway,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_ca_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, ca_file),
      NULL },

    { ngx_string("payout_api_key_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, api_key_cache),
      NULL },

    { ngx_string("payout_webhook_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, webhook_timeout),
      NULL },

    { ngx_string("payout_webhook_allow_private"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, webhook_allow_private),
      NULL },

    { ngx_string("payout_webhook_poll"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, webhook_poll),
      NULL },

    { ngx_string("payout_webhook_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, webhook_concurrency),
      &ngx_http_payout_pool_bounds },

    { ngx_string("payout_webhook_schedule"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_payout_webhook_schedule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_reconcile_batch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, reconcile_batch),
      &ngx_http_payout_pool_bounds },

    { ngx_string("payout_reconcile_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, reconcile_interval),
      NULL },

    { ngx_string("payout_reconcile_grace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, reconcile_grace),
      NULL },

    { ngx_string("payout_reconcile_window"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, reconcile_window),
      NULL },

    { ngx_string("payout_reconcile_backoff"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_payout_reconcile_backoff,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_sandbox_webhook_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, sandbox_webhook_url),
      NULL },

    { ngx_string("payout_sandbox_webhook_delay"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_payout_main_conf_t, sandbox_webhook_delay),
      NULL },

    { ngx_string("payout_sandbox"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_payout_sandbox,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_provider_webhook"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_payout_provider_webhook,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_link_page"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_payout_link_page,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_link_templates"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_payout_link_templates,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_link_frame_ancestors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_payout_link_frame_ancestors,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_payout_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("payout_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_payout_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_payout_module_ctx = {
    ngx_http_payout_preconfiguration,      /* preconfiguration */
    ngx_http_payout_postconfiguration,     /* postconfiguration */

    ngx_http_payout_create_main_conf,      /* create main configuration */
    ngx_http_payout_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_payout_create_loc_conf,       /* create location configuration */
    ngx_http_payout_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_payout_module = {
    NGX_MODULE_V1,
    &ngx_http_payout_module_ctx,           /* module context */
    ngx_http_payout_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_payout_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_payout_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_payout_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_payout_variables_add(cf);
}


static ngx_int_t
ngx_http_payout_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_payout_prometheus_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* payout_link_page masks its token before anything may log it */
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_payout_page_rewrite;

    return ngx_http_payout_filter_init(cf);
}


static void *
ngx_http_payout_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_payout_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    pmcf->pool_size = NGX_CONF_UNSET_UINT;
    pmcf->queue_timeout = NGX_CONF_UNSET_MSEC;
    pmcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    pmcf->query_timeout = NGX_CONF_UNSET_MSEC;
    pmcf->reconnect_max = NGX_CONF_UNSET_MSEC;
    pmcf->retry_after = NGX_CONF_UNSET;
    pmcf->sandbox_webhook_delay = NGX_CONF_UNSET_MSEC;
    pmcf->api_key_cache = NGX_CONF_UNSET_MSEC;
    pmcf->webhook_timeout = NGX_CONF_UNSET_MSEC;
    pmcf->webhook_allow_private = NGX_CONF_UNSET;
    pmcf->webhook_concurrency = NGX_CONF_UNSET_UINT;
    pmcf->webhook_poll = NGX_CONF_UNSET_MSEC;
    pmcf->reconcile_interval = NGX_CONF_UNSET_MSEC;
    pmcf->reconcile_batch = NGX_CONF_UNSET_UINT;
    pmcf->reconcile_grace = NGX_CONF_UNSET_MSEC;
    pmcf->reconcile_window = NGX_CONF_UNSET;
    pmcf->reconcile_backoff = NGX_CONF_UNSET_MSEC;
    pmcf->reconcile_backoff_max = NGX_CONF_UNSET_MSEC;

    return pmcf;
}


static char *
ngx_http_payout_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf = conf;

    ngx_conf_init_uint_value(pmcf->pool_size, 4);
    ngx_conf_init_msec_value(pmcf->queue_timeout, 3000);
    ngx_conf_init_msec_value(pmcf->connect_timeout, 3000);
    ngx_conf_init_msec_value(pmcf->query_timeout, 30000);

    if (pmcf->query_timeout == 0) {
        return "payout_database_query_timeout must be positive";
    }

    ngx_conf_init_msec_value(pmcf->reconnect_max, 1000);
    ngx_conf_init_value(pmcf->retry_after, 2);
    ngx_conf_init_msec_value(pmcf->sandbox_webhook_delay, 1000);
    ngx_conf_init_msec_value(pmcf->api_key_cache, 5000);

    /* it is also how long a revoked key may still work: keep it short */
    if (pmcf->api_key_cache > 60000) {
        return "payout_api_key_cache must be at most 60s";
    }

    ngx_conf_init_msec_value(pmcf->webhook_timeout, 10000);
    ngx_conf_init_value(pmcf->webhook_allow_private, 0);
    ngx_conf_init_uint_value(pmcf->webhook_concurrency, 32);
    ngx_conf_init_msec_value(pmcf->webhook_poll, 1000);

    if (pmcf->webhook_poll == 0) {
        return "payout_webhook_poll must be positive";
    }

    ngx_conf_init_msec_value(pmcf->reconcile_interval, 1000);
    ngx_conf_init_uint_value(pmcf->reconcile_batch, 16);

    if (pmcf->reconcile_interval == 0) {
        return "payout_reconcile_interval must be positive";
    }
    ngx_conf_init_msec_value(pmcf->reconcile_grace, 10000);
    ngx_conf_init_value(pmcf->reconcile_window, 86400);
    ngx_conf_init_msec_value(pmcf->reconcile_backoff, 3000);
    ngx_conf_init_msec_value(pmcf->reconcile_backoff_max, 3600000);

    if (ngx_http_payout_gateways_init(cf, pmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (pmcf->webhook_schedule == NULL) {
        static const long  standard[] = {
            0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400
        };

        pmcf->webhook_schedule = ngx_array_create(cf->pool, 10,
                                                  sizeof(long));
        if (pmcf->webhook_schedule == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_array_push_n(pmcf->webhook_schedule, 10), standard,
                   sizeof(standard));
    }

    pmcf->reconnect_min = ngx_min(100, pmcf->reconnect_max);

    if (pmcf->gateways) {
        ngx_uint_t                  i;
        ngx_http_payout_gateway_t  *gw;

        /* a gateway without its own ca_file= trusts payout_ca_file */
        gw = pmcf->gateways->elts;

        for (i = 0; i < pmcf->gateways->nelts; i++) {
            if (gw[i].ca_file.len == 0) {
                gw[i].ca_file = pmcf->ca_file;
            }
        }
    }

    if (pmcf->gateways && !pmcf->has_keys) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "payout_gateway needs payout_master_key_file: "
                           "account numbers are stored encrypted");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_payout_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_payout_loc_conf_t));
    if (plcf == NULL) {
        return NULL;
    }

    plcf->api = NGX_CONF_UNSET;
    plcf->link_page = NGX_CONF_UNSET;

    return plcf;
}


static char *
ngx_http_payout_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_payout_loc_conf_t  *prev = parent;
    ngx_http_payout_loc_conf_t  *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);
    ngx_conf_merge_str_value(conf->api_prefix, prev->api_prefix, "");

    return ngx_http_payout_page_merge(cf, prev, conf);
}


static ngx_int_t
ngx_http_payout_init_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_main_conf_t  *pmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_payout_module);

    if (pmcf == NULL || pmcf->database.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_payout_http_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    pmcf->pg = ngx_http_payout_pg_pool_create(cycle, pmcf);
    if (pmcf->pg == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_payout_auth_init_process(cycle, pmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (pmcf->sandbox_enabled
        && ngx_http_payout_sandbox_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_payout_deliver_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_payout_links_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (pmcf->gateways
        && ngx_http_payout_reconcile_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (pmcf->gateways
        && ngx_http_payout_stuck_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_payout_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_payout_module);

    if (pmcf && pmcf->sandbox_enabled) {
        ngx_http_payout_sandbox_exit_process(cycle);
    }

    ngx_http_payout_deliver_exit_process(cycle);
    ngx_http_payout_links_exit_process(cycle);
    ngx_http_payout_reconcile_exit_process(cycle);
    ngx_http_payout_stuck_exit_process(cycle);

    if (pmcf && pmcf->pg) {
        ngx_http_payout_pg_pool_destroy(pmcf->pg);
        pmcf->pg = NULL;
    }

    ngx_http_payout_http_done(cycle);
}
