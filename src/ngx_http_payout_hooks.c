/*
 * Provider webhooks in: POST /hooks/{gateway}, or GET with the event in
 * the query string (PaynetEasy's callbacks); the raw query string is then
 * what the connector verifies and reads.
 *
 * The signature is checked on the raw body, in constant time, before
 * anything is parsed; a bad one gets 401 and changes nothing.  The event
 * then goes through the state machine like any other source, so a
 * duplicate or out-of-order event never moves a payout backwards: it is
 * acknowledged (200) and ignored.
 *
 * An event that only names a payout, or whose word the connector does
 * not trust (follow_up LOOKUP: Mollie's), is settled by fetching the
 * payout from the provider, as live status does; only the fetched result
 * is applied.  The hook answers once that result is applied: a fetch
 * without a definite answer changes nothing and answers 503, so that the
 * provider sends the event again.
 */

#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_metrics.h"


/*
 * The payout an event is about: by our uuid when the event carries it,
 * else by the provider's id among the payouts of this gateway and its
 * mode.  Both give the same columns, with what a refetch needs.
 */
#define NGX_HTTP_PAYOUT_HOOK_FIND_SQL                                       \
    "SELECT p.id, p.sub_status, p.uuid, "                                   \
    NGX_HTTP_PAYOUT_TRANSFER_IDS_SQL " "                                    \
    "FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id "

static const char  ngx_http_payout_hook_find_sql[] =
    NGX_HTTP_PAYOUT_HOOK_FIND_SQL
    "WHERE p.uuid = $1::uuid AND p.gateway = $2";

static const char  ngx_http_payout_hook_find_id_sql[] =
    NGX_HTTP_PAYOUT_HOOK_FIND_SQL
    "WHERE p.gateway = $1 AND p.livemode = $2 AND p.gateway_payout_id = $3";

enum {
    NGX_HTTP_PAYOUT_HOOK_FIND_ID = 0,
    NGX_HTTP_PAYOUT_HOOK_FIND_SUB_STATUS,
    NGX_HTTP_PAYOUT_HOOK_FIND_UUID,
    NGX_HTTP_PAYOUT_HOOK_FIND_TRANSFER_IDS  /* NGX_HTTP_PAYOUT_TRANSFER_IDS_* */
};


typedef struct {
    ngx_http_request_t               *request;
    ngx_http_payout_gateway_t        *gateway;
    ngx_payout_event_t                event;
    int64_t                           payout_id;
    int                               state;        /* stored */
    char                              reference[37];
    ngx_http_payout_provider_call_t   call;         /* the refetch */
} ngx_http_payout_hook_t;


static ngx_int_t ngx_http_payout_hook_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_payout_hook_get(ngx_http_request_t *r);
static ngx_str_t ngx_http_payout_hook_name(ngx_http_request_t *r);
static void ngx_http_payout_hook_body(ngx_http_request_t *r);
static void ngx_http_payout_hook_verify(ngx_http_request_t *r,
    ngx_str_t *raw);
static ngx_http_payout_pg_query_t *ngx_http_payout_hook_find(
    ngx_http_request_t *r, ngx_http_payout_hook_t *hook);
static void ngx_http_payout_hook_found(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_hook_fetch(ngx_http_payout_hook_t *hook,
    PGresult *res);
static void ngx_http_payout_hook_fetched(ngx_http_payout_provider_call_t *pc);
static ngx_int_t ngx_http_payout_hook_apply(ngx_http_payout_hook_t *hook);
static void ngx_http_payout_hook_applied(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_hook_ack(ngx_http_request_t *r,
    const char *outcome);


char *
ngx_http_payout_provider_webhook(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char                         *rv;
    ngx_http_payout_loc_conf_t   *plcf = conf;
    ngx_http_payout_main_conf_t  *pmcf;

    rv = ngx_http_payout_set_location(cf, conf,
                                      ngx_http_payout_hook_handler);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* the base of the callback URLs given to providers */
    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);

    if (pmcf->hooks_prefix.len == 0) {
        pmcf->hooks_prefix = plcf->api_prefix;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_payout_hook_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    /*
     * A GET's query string is its body, for a connector that takes GET
     * callbacks (NGX_PAYOUT_CAP_HOOK_GET: PaynetEasy's); its verify()
     * sees it as it would a POSTed body.
     */
    if (r->method == NGX_HTTP_GET && ngx_http_payout_hook_get(r)) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* as ngx_http_read_client_request_body() does for the POST */
        r->main->count++;

        ngx_http_payout_hook_verify(r, &r->args);

        return NGX_DONE;
    }

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_payout_add_header(r, "Allow", "POST") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_payout_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                          "method_not_allowed",
                                          "Webhooks are POSTed.", NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_payout_hook_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* /hooks/<gateway>: the gateway's name */

static ngx_str_t
ngx_http_payout_hook_name(ngx_http_request_t *r)
{
    ngx_str_t                    name;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    name = r->uri;

    if (name.len >= plcf->api_prefix.len) {
        name.data += plcf->api_prefix.len;
        name.len -= plcf->api_prefix.len;
    }

    return name;
}


static ngx_uint_t
ngx_http_payout_hook_get(ngx_http_request_t *r)
{
    ngx_str_t                     name;
    ngx_http_payout_gateway_t    *gw;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);
    name = ngx_http_payout_hook_name(r);

    gw = ngx_http_payout_find_gateway(pmcf, (char *) name.data, name.len);

    return gw && ngx_http_payout_provider_can(gw, HOOK_GET);
}


static void
ngx_http_payout_hook_body(ngx_http_request_t *r)
{
    ngx_str_t  body;

    if (ngx_http_payout_read_request_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_payout_hook_verify(r, &body);
}


static void
ngx_http_payout_hook_verify(ngx_http_request_t *r, ngx_str_t *raw)
{
    ngx_int_t                     rc;
    ngx_str_t                     name, body;
    ngx_http_payout_ctx_t        *ctx;
    ngx_http_payout_hook_t       *hook;
    ngx_http_payout_pg_query_t   *q;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    body = *raw;
    name = ngx_http_payout_hook_name(r);

    hook = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_hook_t));
    if (hook == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    hook->request = r;
    hook->gateway = ngx_http_payout_find_gateway(pmcf, (char *) name.data,
                                                 name.len);
    /* for the metrics and the variables */
    ctx = ngx_http_payout_get_ctx(r);
    if (ctx) {
        ctx->route_label = NGX_HTTP_PAYOUT_ROUTE_HOOKS;

        if (hook->gateway) {
            ctx->gateway = hook->gateway;
        }
    }

    if (hook->gateway == NULL) {
        ngx_http_finalize_request(r, ngx_http_payout_send_error(r,
            NGX_HTTP_NOT_FOUND, "not_found", "No such gateway.", NULL));
        return;
    }

    rc = ngx_http_payout_provider_verify(r, hook->gateway, &body);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "payout: webhook from gateway \"%V\" with a missing "
                      "or bad signature refused", &hook->gateway->name);
        ngx_http_payout_metric_hook(hook->gateway, "bad_signature");

        ngx_http_finalize_request(r, ngx_http_payout_send_error(r,
            NGX_HTTP_UNAUTHORIZED, "invalid_signature",
            "The webhook signature does not verify.", NULL));
        return;
    }

    rc = ngx_http_payout_provider_event(r, hook->gateway, &body,
                                        &hook->event);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc != NGX_OK) {
        /* signed but not an event we act on: acknowledge, ignore */
        ngx_http_finalize_request(r, ngx_http_payout_hook_ack(r, "ignored"));
        return;
    }

    q = ngx_http_payout_hook_find(r, hook);
    if (q == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    q->handler = ngx_http_payout_hook_found;
    q->data = hook;

    (void) ngx_http_payout_query_started(r,
                                  ngx_http_payout_pg_run_for_request(r, q));
}


static ngx_http_payout_pg_query_t *
ngx_http_payout_hook_find(ngx_http_request_t *r, ngx_http_payout_hook_t *hook)
{
    const char                  *id;
    ngx_http_payout_gateway_t   *gw;
    ngx_http_payout_pg_query_t  *q;

    gw = hook->gateway;

    if (hook->event.reference[0]) {
        q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                            ngx_http_payout_hook_find_sql);
        if (q == NULL
            || ngx_http_payout_pg_param(q, (u_char *) hook->event.reference,
                                        36)
               != NGX_OK
            || ngx_http_payout_pg_param(q, gw->name.data, gw->name.len)
               != NGX_OK)
        {
            return NULL;
        }

        return q;
    }

    /* no reference: the bridge let it through for its provider id */
    id = hook->event.result.gateway_id;

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_hook_find_id_sql);
    if (q == NULL
        || ngx_http_payout_pg_param(q, gw->name.data, gw->name.len)
           != NGX_OK
        || ngx_http_payout_pg_param_bool(q, gw->livemode) != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) id, ngx_strlen(id))
           != NGX_OK)
    {
        return NULL;
    }

    return q;
}


static void
ngx_http_payout_hook_found(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_int_t                rc;
    ngx_http_request_t      *r;
    ngx_http_payout_hook_t  *hook;

    hook = q->data;
    r = hook->request;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        /* 503: the provider retries later */
        ngx_http_payout_finalize(r, ngx_http_payout_pg_failure(r, q));
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_payout_finalize(r, ngx_http_payout_hook_ack(r, "unknown"));
        return;
    }

    hook->payout_id = ngx_http_payout_pg_int(res, 0,
                                             NGX_HTTP_PAYOUT_HOOK_FIND_ID);
    hook->state = ngx_http_payout_row_state(res, 0,
                                      NGX_HTTP_PAYOUT_HOOK_FIND_SUB_STATUS);

    /*
     * The provider repeating a status the payout already has (the same
     * callback again): nothing to confirm, no refetch
     */
    if (hook->event.follow_up == NGX_PAYOUT_FOLLOW_LOOKUP
        && hook->event.result.outcome == NGX_PAYOUT_OUTCOME_STATE
        && hook->event.result.state >= 0
        && hook->event.result.state == hook->state)
    {
        ngx_http_payout_finalize(r,
                                 ngx_http_payout_hook_ack(r, "duplicate"));
        return;
    }

    if (hook->event.follow_up == NGX_PAYOUT_FOLLOW_LOOKUP) {
        rc = ngx_http_payout_hook_fetch(hook, res);

        if (rc == NGX_DECLINED) {
            /* the connector cannot ask (no provider id yet): nothing */
            ngx_http_payout_finalize(r,
                                     ngx_http_payout_hook_ack(r, "ignored"));

        } else if (rc != NGX_OK) {
            ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    (void) ngx_http_payout_query_started(r, ngx_http_payout_hook_apply(hook));
}


/*
 * The refetch: LOOKUP with the payout's transfer ids, as live status
 * asks; the event's own provider id when the payout has none stored yet.
 */

static ngx_int_t
ngx_http_payout_hook_fetch(ngx_http_payout_hook_t *hook, PGresult *res)
{
    ngx_str_t                         uuid;
    ngx_http_request_t               *r;
    ngx_payout_transfer_t             t;
    ngx_http_payout_provider_call_t  *pc;

    r = hook->request;
    pc = &hook->call;

    ngx_memzero(&t, sizeof(ngx_payout_transfer_t));

    if (ngx_http_payout_provider_transfer_ids(r->pool, res, 0,
                                        NGX_HTTP_PAYOUT_HOOK_FIND_TRANSFER_IDS,
                                        &t)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_HOOK_FIND_UUID, &uuid);

    if (uuid.len != 36) {
        return NGX_ERROR;
    }

    ngx_memcpy(hook->reference, uuid.data, 36);
    hook->reference[36] = '\0';
    t.reference = hook->reference;

    if (t.gateway_id == NULL || t.gateway_id[0] == '\0') {
        t.gateway_id = hook->event.result.gateway_id[0]
                       ? hook->event.result.gateway_id : NULL;
    }

    pc->gateway = hook->gateway;
    pc->op = NGX_PAYOUT_OP_LOOKUP;
    pc->pool = r->pool;
    pc->log = r->connection->log;
    pc->request = r;
    pc->handler = ngx_http_payout_hook_fetched;
    pc->data = hook;

    return ngx_http_payout_provider_call(pc, &t);
}


static void
ngx_http_payout_hook_fetched(ngx_http_payout_provider_call_t *pc)
{
    ngx_http_request_t      *r;
    ngx_http_payout_hook_t  *hook;

    hook = pc->data;
    r = hook->request;

    if (pc->result.outcome == NGX_PAYOUT_OUTCOME_UNKNOWN
        || (pc->result.outcome == NGX_PAYOUT_OUTCOME_STATE
            && pc->result.state < 0))
    {
        /* nothing definite: nothing moves, and the provider sends again */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "payout: webhook of gateway \"%V\": the refetch had "
                      "no definite answer, answered 503", &hook->gateway->name);

        ngx_http_payout_finalize(r,
            ngx_http_payout_set_retry_after(r) != NGX_OK
            ? NGX_HTTP_INTERNAL_SERVER_ERROR
            : ngx_http_payout_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                  "gateway_unavailable",
                  "The gateway did not answer the refetch; send the event "
                  "again.", NULL));
        return;
    }

    if (pc->result.outcome != NGX_PAYOUT_OUTCOME_STATE) {
        /* the provider does not know it, or will not say: nothing moves */
        ngx_http_payout_finalize(r, ngx_http_payout_hook_ack(r, "ignored"));
        return;
    }

    /* the fetch's word, and nothing of the event's, is what applies */
    if (pc->result.gateway_id[0] == '\0') {
        ngx_memcpy(pc->result.gateway_id, hook->event.result.gateway_id,
                   sizeof(pc->result.gateway_id));
    }

    hook->event.result = pc->result;

    (void) ngx_http_payout_query_started(r, ngx_http_payout_hook_apply(hook));
}


static ngx_int_t
ngx_http_payout_hook_apply(ngx_http_payout_hook_t *hook)
{
    ngx_http_request_t  *r;

    r = hook->request;

    /* e.g. Stripe's failure of a paid payout: its reversal */
    ngx_http_payout_provider_word(hook->gateway, hook->state,
                                  &hook->event.result);

    return ngx_http_payout_apply_result(r->pool, r->connection->log, r,
                                        hook->payout_id, &hook->event.result,
                                        "webhook",
                                        ngx_http_payout_hook_applied, hook);
}


static void
ngx_http_payout_hook_applied(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_http_request_t      *r;
    ngx_http_payout_hook_t  *hook;

    hook = q->data;
    r = hook->request;

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_hook_ack(r,
                                ngx_http_payout_pg_bool(res, 0,
                                    NGX_HTTP_PAYOUT_RESULT_APPLIED)
                                ? "applied" : "ignored"));
}


static ngx_int_t
ngx_http_payout_hook_ack(ngx_http_request_t *r, const char *outcome)
{
    u_char                 *body, *last;
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (ctx) {
        ngx_http_payout_metric_hook(ctx->gateway, outcome);
    }

    body = ngx_pnalloc(r->pool, 64);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = ngx_sprintf(body, "{\"received\":true,\"outcome\":\"%s\"}",
                       outcome);

    return ngx_http_payout_send_json(r, NGX_HTTP_OK, body, last - body);
}
