/*
 * The bridge: connector call -> HTTP client -> result.  Everything a
 * connector returns is allocated from the caller's pool; the connector
 * itself does no I/O and reads no clock, so the time of a webhook is
 * passed in here.
 */

#include <openssl/rand.h>

#include "ngx_http_payout_provider.h"
#include "ngx_http_payout_metrics.h"
#include "core/ngx_payout_validate.h"


static void ngx_http_payout_provider_account(ngx_http_payout_gateway_t *gw,
    ngx_pool_t *pool, ngx_payout_account_t *acct);
static void *ngx_http_payout_provider_alloc(void *data, size_t size);
static const char *ngx_http_payout_provider_nonce(ngx_pool_t *pool);
static void ngx_http_payout_provider_answer(ngx_http_payout_http_req_t *hr);
static const char *ngx_http_payout_provider_column(ngx_pool_t *pool,
    PGresult *res, int row, int col, ngx_int_t *rc);
static ngx_int_t ngx_http_payout_provider_hook(ngx_http_request_t *r,
    ngx_str_t *body, ngx_payout_hook_t *hook);


ngx_int_t
ngx_http_payout_provider_call(ngx_http_payout_provider_call_t *pc,
    const ngx_payout_transfer_t *t)
{
    int                          rc;
    u_char                      *url;
    size_t                       i, len;
    ngx_payout_call_t            call;
    ngx_payout_account_t         acct;
    ngx_payout_transfer_t        tt;
    ngx_http_payout_gateway_t   *gw;
    ngx_http_payout_http_req_t  *hr;

    gw = pc->gateway;
    hr = &pc->http;

    ngx_http_payout_provider_account(gw, pc->pool, &acct);

    /* what a connector may not make itself: the time and a fresh nonce */
    tt = *t;
    tt.now = (long) ngx_time();
    tt.nonce = ngx_http_payout_provider_nonce(pc->pool);

    if (tt.nonce == NULL) {
        return NGX_ERROR;
    }

    rc = gw->actions->build(&acct, pc->op, &tt, &call);

    if (rc == NGX_PAYOUT_DECLINED) {
        return NGX_DECLINED;
    }

    /* what the payout or recipient holds cannot be sent: nothing went */
    if (rc != NGX_PAYOUT_OK) {
        return NGX_ABORT;
    }

    len = ngx_strlen(call.path);

    url = ngx_pnalloc(pc->pool, gw->url.len + len + 1);
    if (url == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(url, "%V%*s%Z", &gw->url, len, call.path);

    hr->method = call.method;
    hr->url = (char *) url;
    hr->body = (u_char *) call.body;
    hr->body_len = call.body_len;
    hr->timeout = gw->timeout;
    hr->ca_file = gw->ca_file.len ? (char *) gw->ca_file.data : NULL;
    hr->handler = ngx_http_payout_provider_answer;
    hr->data = pc;
    hr->log = pc->log;

    for (i = 0; i < call.nheaders; i++) {
        if (ngx_http_payout_http_header(hr, "%s", call.headers[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (pc->request) {
        return ngx_http_payout_http_start_for_request(pc->request, hr);
    }

    return ngx_http_payout_http_start(hr);
}


static void
ngx_http_payout_provider_answer(ngx_http_payout_http_req_t *hr)
{
    ngx_payout_answer_t               a;
    ngx_payout_header_t               retry;
    ngx_payout_account_t              acct;
    ngx_http_payout_provider_call_t  *pc;

    pc = hr->data;

    ngx_memzero(&a, sizeof(ngx_payout_answer_t));
    a.status = hr->status;

    if (hr->status) {
        a.body = (char *) hr->response.data;
        a.body_len = hr->response.len;
    }

    /* the client keeps one response header */
    if (hr->retry_after.len) {
        retry.name = "Retry-After";
        retry.name_len = sizeof("Retry-After") - 1;
        retry.value = (char *) hr->retry_after.data;
        retry.value_len = hr->retry_after.len;
        a.headers = &retry;
        a.nheaders = 1;
    }

    ngx_http_payout_provider_account(pc->gateway, pc->pool, &acct);
    pc->gateway->actions->parse(&acct, pc->op, &a, &pc->result);
    ngx_http_payout_metric_provider(pc->gateway, pc->op, pc->result.outcome,
                                    hr->elapsed);

    pc->handler(pc);
}


ngx_int_t
ngx_http_payout_provider_verify(ngx_http_request_t *r,
    ngx_http_payout_gateway_t *gw, ngx_str_t *body)
{
    ngx_payout_hook_t     hook;
    ngx_payout_account_t  acct;

    if (ngx_http_payout_provider_hook(r, body, &hook) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_payout_provider_account(gw, r->pool, &acct);

    if (gw->actions->verify(&acct, &hook, (long) ngx_time())
        != NGX_PAYOUT_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_provider_event(ngx_http_request_t *r,
    ngx_http_payout_gateway_t *gw, ngx_str_t *body, ngx_payout_event_t *ev)
{
    ngx_payout_hook_t     hook;
    ngx_payout_account_t  acct;

    if (ngx_http_payout_provider_hook(r, body, &hook) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_payout_provider_account(gw, r->pool, &acct);

    if (gw->actions->event(&acct, &hook, ev) != NGX_PAYOUT_OK) {
        return NGX_DECLINED;
    }

    /*
     * Found by our reference, or by the provider's id alone (a Stripe
     * event may carry no metadata).  A FOLLOW_LOOKUP event (Mollie's)
     * goes through too: the hook fetches the payout and applies only
     * what the fetch says, never the event's own result.
     */
    if (ev->reference[0] == '\0' && ev->result.gateway_id[0] == '\0') {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_payout_provider_word(ngx_http_payout_gateway_t *gw, int current,
    ngx_payout_result_t *res)
{
    if (current < 0 || res->outcome != NGX_PAYOUT_OUTCOME_STATE
        || res->state < 0)
    {
        return;
    }

    res->state = ngx_payout_state_provider_word(current, res->state,
                     ngx_http_payout_provider_can(gw, FAILS_AFTER_PAID));
}


ngx_int_t
ngx_http_payout_provider_transfer_ids(ngx_pool_t *pool, PGresult *res,
    int row, int first, ngx_payout_transfer_t *t)
{
    ngx_int_t    rc;
    const char  *type;

    rc = NGX_OK;

    t->gateway_id = ngx_http_payout_provider_column(pool, res, row,
                        first + NGX_HTTP_PAYOUT_TRANSFER_IDS_GATEWAY_PAYOUT_ID,
                        &rc);
    type = ngx_http_payout_provider_column(pool, res, row,
                        first + NGX_HTTP_PAYOUT_TRANSFER_IDS_RECIPIENT_TYPE,
                        &rc);
    t->account_id = ngx_http_payout_provider_column(pool, res, row,
                        first + NGX_HTTP_PAYOUT_TRANSFER_IDS_ACCOUNT_ID,
                        &rc);
    t->recipient_code = ngx_http_payout_provider_column(pool, res, row,
                        first + NGX_HTTP_PAYOUT_TRANSFER_IDS_RECIPIENT_CODE,
                        &rc);
    t->balance_id = ngx_http_payout_provider_column(pool, res, row,
                        first + NGX_HTTP_PAYOUT_TRANSFER_IDS_BALANCE_ID,
                        &rc);

    /* as the send path: a payout without a recipient row is a bank's */
    if (type && ngx_strcmp(type, "connected_account") == 0) {
        t->type = NGX_PAYOUT_RECIPIENT_CONNECTED;

    } else if (type && ngx_strcmp(type, "balance") == 0) {
        t->type = NGX_PAYOUT_RECIPIENT_BALANCE;

    } else if (type && ngx_strcmp(type, "mobile_money") == 0) {
        t->type = NGX_PAYOUT_RECIPIENT_MOBILE;

    } else {
        t->type = NGX_PAYOUT_RECIPIENT_BANK;
    }

    return rc;
}


/* a copy of a column, or NULL when it is NULL (or the copy failed) */

static const char *
ngx_http_payout_provider_column(ngx_pool_t *pool, PGresult *res, int row,
    int col, ngx_int_t *rc)
{
    ngx_str_t  v;

    if (ngx_http_payout_pg_copy(pool, res, row, col, &v) != NGX_OK) {
        *rc = NGX_ERROR;
    }

    return (char *) v.data;
}


/* the request's headers, as a connector reads them */

static ngx_int_t
ngx_http_payout_provider_hook(ngx_http_request_t *r, ngx_str_t *body,
    ngx_payout_hook_t *hook)
{
    ngx_uint_t            i, n;
    ngx_list_part_t      *part;
    ngx_table_elt_t      *h;
    ngx_payout_header_t  *out;

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        n += part->nelts;
    }

    out = ngx_palloc(r->pool, (n ? n : 1) * sizeof(ngx_payout_header_t));
    if (out == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            out[n].name = (char *) h[i].key.data;
            out[n].name_len = h[i].key.len;
            out[n].value = (char *) h[i].value.data;
            out[n].value_len = h[i].value.len;
            n++;
        }
    }

    hook->headers = out;
    hook->nheaders = n;
    hook->body = body->data;
    hook->body_len = body->len;

    return NGX_OK;
}


static void
ngx_http_payout_provider_account(ngx_http_payout_gateway_t *gw,
    ngx_pool_t *pool, ngx_payout_account_t *acct)
{
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_payout_module);

    ngx_memzero(acct, sizeof(ngx_payout_account_t));

    acct->conf = gw->actions_conf;
    acct->secret = (char *) gw->secret.data;
    acct->secret_len = gw->secret.len;
    acct->webhook_secret = (char *) gw->webhook_secret.data;
    acct->webhook_secret_len = gw->webhook_secret.len;
    acct->keys = &pmcf->keys;
    acct->url = (char *) gw->url.data;
    acct->callback_url = gw->callback_url.len
                         ? (char *) gw->callback_url.data : NULL;
    acct->mem.alloc = ngx_http_payout_provider_alloc;
    acct->mem.data = pool;
}


static void *
ngx_http_payout_provider_alloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


/*
 * 32 of [A-Za-z0-9] from the CSPRNG (an OAuth nonce); 248 of 256 byte
 * values map evenly onto the 62 characters, the rest are drawn again.
 */

static const char *
ngx_http_payout_provider_nonce(ngx_pool_t *pool)
{
    u_char       rnd[64], *nonce;
    ngx_uint_t   i, n;

    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    nonce = ngx_pnalloc(pool, 33);
    if (nonce == NULL) {
        return NULL;
    }

    n = 0;

    while (n < 32) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return NULL;
        }

        for (i = 0; i < sizeof(rnd) && n < 32; i++) {
            if (rnd[i] < 248) {
                nonce[n++] = alphabet[rnd[i] % 62];
            }
        }
    }

    nonce[32] = '\0';

    return (char *) nonce;
}
