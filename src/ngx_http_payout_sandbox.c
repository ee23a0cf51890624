/*
 * The built-in sandbox provider: a fake payment provider API served by the
 * module itself, which the gateway side reaches through the outbound HTTP
 * client exactly as it reaches a real provider (SPEC §10, docs/sandbox.md).
 *
 *   POST <base>/transfers                      initiate (idempotent)
 *   GET  <base>/transfers/{reference}          the transfer as it is now
 *   POST <base>/transfers/{reference}/cancel   cancel while pending
 *   GET  <base>/ledger[?reference=]            every transfer, for tests
 *
 * The provider's state lives in PostgreSQL (sql/004_sandbox.sql), one
 * round trip per request.  A per-worker timer applies the transfers'
 * scheduled status changes when they fall due and sends them as signed
 * webhooks; leases taken with SKIP LOCKED keep several workers and nodes
 * from sending one event twice at once.
 */

#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_http.h"
#include "connectors/ngx_payout_connector_sandbox.h"


/* how often the sender looks for due events */
#define NGX_HTTP_PAYOUT_SANDBOX_TICK         150

/* after a failed claim (e.g. sql/004 not applied): not every tick */
#define NGX_HTTP_PAYOUT_SANDBOX_PAUSE        5000

/* webhooks in flight per worker, at most */
#define NGX_HTTP_PAYOUT_SANDBOX_MAX_SENDS    20

#define NGX_HTTP_PAYOUT_SANDBOX_SEND_TIMEOUT 5000
#define NGX_HTTP_PAYOUT_SANDBOX_MAX_ATTEMPTS 20

/* how long a 0006 initiation is left unanswered before the socket closes */
#define NGX_HTTP_PAYOUT_SANDBOX_HOLD         30000

#define NGX_HTTP_PAYOUT_SANDBOX_MAX_STRING   255

/* nginx has no name for 422 Unprocessable Content */
#define NGX_HTTP_PAYOUT_SANDBOX_422          422


/* a POST /transfers body, checked */
typedef struct {
    ngx_str_t                      reference;
    int64_t                        amount;
    u_char                         currency[3];
    const char                    *type;
    ngx_str_t                      number;
    ngx_str_t                      bank_code;
    ngx_str_t                      provider;
    ngx_str_t                      narration;
    ngx_payout_sandbox_outcome_e   outcome;
} ngx_http_payout_sandbox_transfer_t;


/* an initiation in progress; a 0006 one is then held here, unanswered */
typedef struct {
    ngx_http_request_t            *request;
    ngx_payout_sandbox_outcome_e   outcome;
    ngx_event_t                    hold;
    ngx_queue_t                    queue;
    unsigned                       held:1;
} ngx_http_payout_sandbox_init_t;


/* one webhook send, in its own pool: it outlives the tick that made it */
typedef struct {
    ngx_pool_t                    *pool;
    ngx_http_payout_http_req_t     hr;
    int64_t                        id;
    ngx_int_t                      attempt;
    ngx_event_t                    free;
} ngx_http_payout_sandbox_send_t;


/* the worker's event sender */
typedef struct {
    ngx_http_payout_main_conf_t   *conf;
    ngx_log_t                     *log;
    ngx_event_t                    timer;
    ngx_queue_t                    held;      /* unanswered initiations */
    ngx_uint_t                     sending;   /* sends and their updates */
    ngx_msec_t                     paused_at;
    unsigned                       claiming:1;
    unsigned                       deliver:1;
    unsigned                       paused:1;
    unsigned                       started:1;
} ngx_http_payout_sandbox_sender_t;


typedef struct {
    ngx_payout_sandbox_outcome_e   outcome;
    const char                    *name;      /* outcome in sql/ */
} ngx_http_payout_sandbox_outcome_t;


static ngx_int_t ngx_http_payout_sandbox_handler(ngx_http_request_t *r);

static ngx_int_t ngx_http_payout_sandbox_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_sandbox_parse(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field);
static ngx_int_t ngx_http_payout_sandbox_parse_destination(json_t *dest,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field);
static ngx_int_t ngx_http_payout_sandbox_string(json_t *obj,
    const char *key, ngx_uint_t required, ngx_str_t *out);
static ngx_int_t ngx_http_payout_sandbox_idempotency(ngx_http_request_t *r,
    ngx_str_t *reference);
static ngx_int_t ngx_http_payout_sandbox_create_query(ngx_http_request_t *r,
    ngx_http_payout_sandbox_transfer_t *t,
    ngx_http_payout_sandbox_init_t *init);
static ngx_int_t ngx_http_payout_sandbox_param(
    ngx_http_payout_pg_query_t *q, ngx_str_t *v);
static void ngx_http_payout_sandbox_create_done(
    ngx_http_payout_pg_query_t *q, PGresult *res);
static ngx_int_t ngx_http_payout_sandbox_rejected(ngx_http_request_t *r,
    const char *reason);

static ngx_int_t ngx_http_payout_sandbox_get(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_sandbox_cancel(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_sandbox_ledger(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_sandbox_run(ngx_http_request_t *r,
    const char *sql, ngx_str_t *reference,
    ngx_http_payout_pg_handler_pt handler);
static void ngx_http_payout_sandbox_get_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_sandbox_cancel_done(
    ngx_http_payout_pg_query_t *q, PGresult *res);
static ngx_int_t ngx_http_payout_sandbox_failed(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q, PGresult *res, ngx_uint_t nfields);
static ngx_int_t ngx_http_payout_sandbox_send(ngx_http_request_t *r,
    ngx_uint_t status, PGresult *res, int field);
static ngx_int_t ngx_http_payout_sandbox_not_found(ngx_http_request_t *r);

static void ngx_http_payout_sandbox_hold(
    ngx_http_payout_sandbox_init_t *init);
static void ngx_http_payout_sandbox_hold_expired(ngx_event_t *ev);
static void ngx_http_payout_sandbox_unhold(void *data);
static void ngx_http_payout_sandbox_release_held(void);

static void ngx_http_payout_sandbox_tick(ngx_event_t *ev);
static void ngx_http_payout_sandbox_claim(void);
static void ngx_http_payout_sandbox_claim_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_sandbox_deliver(PGresult *res, int row);
static u_char *ngx_http_payout_sandbox_event_body(ngx_pool_t *pool,
    PGresult *res, int row, size_t *len);
static ngx_int_t ngx_http_payout_sandbox_sign_headers(
    ngx_http_payout_sandbox_send_t *s);
static void ngx_http_payout_sandbox_delivered(ngx_http_payout_http_req_t *hr);
static const char *ngx_http_payout_sandbox_answer_text(
    ngx_http_payout_http_req_t *hr, char *buf);
static void ngx_http_payout_sandbox_settled(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static void ngx_http_payout_sandbox_send_free(ngx_event_t *ev);
static void ngx_http_payout_sandbox_send_done(
    ngx_http_payout_sandbox_send_t *s);


static ngx_http_payout_route_t  ngx_http_payout_sandbox_routes[] = {

    { NGX_HTTP_POST, "transfers", ngx_http_payout_sandbox_create, 1, 1 },
    { NGX_HTTP_GET, "transfers/{reference}", ngx_http_payout_sandbox_get,
      1, 0 },
    { NGX_HTTP_POST, "transfers/{reference}/cancel",
      ngx_http_payout_sandbox_cancel, 1, 0 },
    { NGX_HTTP_GET, "ledger", ngx_http_payout_sandbox_ledger, 1, 0 },

    { 0, NULL, NULL, 0, 0 }
};


static ngx_http_payout_sandbox_outcome_t  ngx_http_payout_sandbox_outcomes[]
    = {
    { NGX_PAYOUT_SANDBOX_SUCCEED, "succeed" },
    { NGX_PAYOUT_SANDBOX_INVALID_ACCOUNT, "invalid_account" },
    { NGX_PAYOUT_SANDBOX_NO_FUNDS, "insufficient_funds" },
    { NGX_PAYOUT_SANDBOX_FAIL_LATER, "fail_later" },
    { NGX_PAYOUT_SANDBOX_REVERSE, "reverse" },
    { NGX_PAYOUT_SANDBOX_NO_ANSWER, "no_answer" },
    { NGX_PAYOUT_SANDBOX_STAY_PENDING, "stay_pending" },
    { 0, NULL }
};


static const char  ngx_http_payout_sandbox_sql_create[] =
    "SELECT is_new, transfer_status, reason, body "
    "FROM sandbox.sandbox_transfer_create($1, $2, $3, $4, $5, $6, $7, $8, "
                                         "$9, $10)";

static const char  ngx_http_payout_sandbox_sql_get[] =
    "SELECT sandbox.sandbox_transfer_json(t) FROM sandbox.sandbox_transfers t "
    "WHERE t.reference = $1";

static const char  ngx_http_payout_sandbox_sql_cancel[] =
    "SELECT transfer_status, body "
    "FROM sandbox.sandbox_transfer_cancel($1)";

static const char  ngx_http_payout_sandbox_sql_ledger[] =
    "SELECT json_build_object('transfers', coalesce(json_agg("
           "sandbox.sandbox_transfer_json(s.t) ORDER BY (s.t).id), '[]')) "
    "FROM (SELECT t FROM sandbox.sandbox_transfers t "
          "WHERE $1::uuid IS NULL OR t.reference = $1::uuid "
          "ORDER BY t.id DESC LIMIT 1000) s";

static const char  ngx_http_payout_sandbox_sql_claim[] =
    "SELECT event_id, event_type, created, attempt, body "
    "FROM sandbox.sandbox_events_claim($1, $2)";

static const char  ngx_http_payout_sandbox_sql_delivered[] =
    "DELETE FROM sandbox.sandbox_events WHERE id = $1";

static const char  ngx_http_payout_sandbox_sql_retry[] =
    "SELECT sandbox.sandbox_event_retry($1)";


static ngx_http_payout_sandbox_sender_t  ngx_http_payout_sandbox_sender;

/* what the sender's timer names in debug logs, as nginx's cache manager */
static ngx_connection_t                  ngx_http_payout_sandbox_dumb;


char *
ngx_http_payout_sandbox(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);
    pmcf->sandbox_enabled = 1;

    return ngx_http_payout_set_location(cf, conf,
                                        ngx_http_payout_sandbox_handler);
}


static ngx_int_t
ngx_http_payout_sandbox_handler(ngx_http_request_t *r)
{
    return ngx_http_payout_route(r, ngx_http_payout_sandbox_routes);
}


static ngx_int_t
ngx_http_payout_sandbox_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_int_t                            rc;
    const char                          *message, *field;
    ngx_http_payout_sandbox_init_t      *init;
    ngx_http_payout_sandbox_transfer_t   t;

    ngx_memzero(&t, sizeof(ngx_http_payout_sandbox_transfer_t));

    if (ngx_http_payout_sandbox_parse(ctx->body, &t, &message, &field)
        != NGX_OK)
    {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_request", message, field);
    }

    if (ngx_http_payout_sandbox_idempotency(r, &t.reference) != NGX_OK) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "idempotency_key_mismatch",
                                          "The Idempotency-Key header must "
                                          "equal the reference.",
                                          "reference");
    }

    init = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_sandbox_init_t));
    if (init == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    init->request = r;
    init->outcome = t.outcome;

    rc = ngx_http_payout_sandbox_create_query(r, &t, init);

    if (rc == NGX_DECLINED) {
        return ngx_http_payout_send_unavailable(r);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


/* NGX_OK, or NGX_ERROR with message and field saying what is wrong */

static ngx_int_t
ngx_http_payout_sandbox_parse(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field)
{
    json_t      *amount, *dest;
    ngx_str_t    currency;
    ngx_uint_t   i;

    *field = "reference";
    *message = "reference must be our payout's UUID.";

    if (ngx_http_payout_sandbox_string(body, "reference", 1, &t->reference)
        != NGX_OK
        || !ngx_payout_uuid_valid(t->reference.data, t->reference.len))
    {
        return NGX_ERROR;
    }

    *field = "amount";
    *message = "amount must be a positive integer in minor units.";

    amount = json_object_get(body, "amount");

    if (!json_is_integer(amount) || json_integer_value(amount) <= 0) {
        return NGX_ERROR;
    }

    t->amount = json_integer_value(amount);

    *field = "currency";
    *message = "currency must be a three-letter ISO 4217 code.";

    if (ngx_http_payout_sandbox_string(body, "currency", 1, &currency)
        != NGX_OK
        || currency.len != 3)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        t->currency[i] = ngx_toupper(currency.data[i]);

        if (t->currency[i] < 'A' || t->currency[i] > 'Z') {
            return NGX_ERROR;
        }
    }

    *field = "narration";
    *message = "narration must be a string of at most 255 bytes.";

    if (ngx_http_payout_sandbox_string(body, "narration", 0, &t->narration)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    *field = "destination";
    *message = "destination must be an object.";

    dest = json_object_get(body, "destination");

    if (!json_is_object(dest)) {
        return NGX_ERROR;
    }

    return ngx_http_payout_sandbox_parse_destination(dest, t, message,
                                                     field);
}


static ngx_int_t
ngx_http_payout_sandbox_parse_destination(json_t *dest,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field)
{
    ngx_str_t  type, name;

    *field = "destination.type";
    *message = "destination.type must be \"bank_account\" or "
               "\"mobile_money\".";

    if (ngx_http_payout_sandbox_string(dest, "type", 0, &type) != NGX_OK) {
        return NGX_ERROR;
    }

    if (type.len == 0) {
        /* no type: whichever number is there says it */
        t->type = json_object_get(dest, "account_number") ? "bank_account"
                                                          : "mobile_money";

    } else if (type.len == 12
               && ngx_strncmp(type.data, "bank_account", 12) == 0)
    {
        t->type = "bank_account";

    } else if (type.len == 12
               && ngx_strncmp(type.data, "mobile_money", 12) == 0)
    {
        t->type = "mobile_money";

    } else {
        return NGX_ERROR;
    }

    if (t->type[0] == 'b') {
        *field = "destination.account_number";
        *message = "destination.account_number is required.";

        if (ngx_http_payout_sandbox_string(dest, "account_number", 1,
                                           &t->number)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        *field = "destination.mobile_number";
        *message = "destination.mobile_number is required.";

        if (ngx_http_payout_sandbox_string(dest, "mobile_number", 1,
                                           &t->number)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    *message = "must be a string of at most 255 bytes.";

    *field = "destination.bank_code";
    if (ngx_http_payout_sandbox_string(dest, "bank_code", 0, &t->bank_code)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    *field = "destination.provider";
    if (ngx_http_payout_sandbox_string(dest, "provider", 0, &t->provider)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    *field = "destination.account_name";
    if (ngx_http_payout_sandbox_string(dest, "account_name", 0, &name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    t->outcome = ngx_payout_sandbox_outcome((char *) t->number.data,
                                            t->number.len);

    return NGX_OK;
}


/*
 * A string member of at most NGX_HTTP_PAYOUT_SANDBOX_MAX_STRING bytes.
 * An absent or null optional member is an empty string; a required one
 * must be there and not empty.
 */

static ngx_int_t
ngx_http_payout_sandbox_string(json_t *obj, const char *key,
    ngx_uint_t required, ngx_str_t *out)
{
    json_t  *v;

    ngx_str_null(out);

    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        return required ? NGX_ERROR : NGX_OK;
    }

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    out->data = (u_char *) json_string_value(v);
    out->len = json_string_length(v);

    if (out->len > NGX_HTTP_PAYOUT_SANDBOX_MAX_STRING
        || (required && out->len == 0)
        || ngx_strlchr(out->data, out->data + out->len, '\0') != NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the Idempotency-Key header, when sent, must name the same transfer */

static ngx_int_t
ngx_http_payout_sandbox_idempotency(ngx_http_request_t *r,
    ngx_str_t *reference)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    static const char  name[] = "Idempotency-Key";

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_OK;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof(name) - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) name,
                               sizeof(name) - 1) != 0)
        {
            continue;
        }

        /* UUIDs: the case of their hex digits means nothing */
        if (h[i].value.len != reference->len
            || ngx_strncasecmp(h[i].value.data, reference->data,
                               reference->len) != 0)
        {
            return NGX_ERROR;
        }
    }
}


/* NGX_DECLINED: the database is unavailable */

static ngx_int_t
ngx_http_payout_sandbox_create_query(ngx_http_request_t *r,
    ngx_http_payout_sandbox_transfer_t *t,
    ngx_http_payout_sandbox_init_t *init)
{
    size_t                              n;
    const char                         *outcome;
    ngx_http_payout_pg_query_t         *q;
    ngx_http_payout_main_conf_t        *pmcf;
    ngx_http_payout_sandbox_outcome_t  *o;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    outcome = "succeed";

    for (o = ngx_http_payout_sandbox_outcomes; o->name; o++) {
        if (o->outcome == t->outcome) {
            outcome = o->name;
            break;
        }
    }

    /* the ledger keeps only the last four digits of a destination */
    n = ngx_min(t->number.len, 4);

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_sandbox_sql_create);
    if (q == NULL
        || ngx_http_payout_pg_param(q, t->reference.data, t->reference.len)
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, t->amount) != NGX_OK
        || ngx_http_payout_pg_param(q, t->currency, 3) != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) t->type,
                                    ngx_strlen(t->type))
           != NGX_OK
        || ngx_http_payout_pg_param(q, t->number.data + t->number.len - n, n)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_payout_sandbox_param(q, &t->bank_code) != NGX_OK
        || ngx_http_payout_sandbox_param(q, &t->provider) != NGX_OK
        || ngx_http_payout_sandbox_param(q, &t->narration) != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) outcome,
                                    ngx_strlen(outcome))
           != NGX_OK
        || ngx_http_payout_pg_param_int(q, pmcf->sandbox_webhook_delay)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    q->handler = ngx_http_payout_sandbox_create_done;
    q->data = init;

    return ngx_http_payout_pg_run_for_request(r, q);
}


/* an optional string: SQL NULL when empty */

static ngx_int_t
ngx_http_payout_sandbox_param(ngx_http_payout_pg_query_t *q, ngx_str_t *v)
{
    if (v->len == 0) {
        ngx_http_payout_pg_param_null(q);
        return NGX_OK;
    }

    return ngx_http_payout_pg_param(q, v->data, v->len);
}


static void
ngx_http_payout_sandbox_create_done(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_int_t                        rc;
    ngx_uint_t                       is_new;
    const char                      *status;
    ngx_http_request_t              *r;
    ngx_http_payout_sandbox_init_t  *init;

    init = q->data;
    r = init->request;

    rc = ngx_http_payout_sandbox_failed(r, q, res, 4);

    if (rc != NGX_DECLINED) {
        ngx_http_payout_finalize(r, rc);
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
                                 NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 NULL, NULL));
        return;
    }

    is_new = (PQgetvalue(res, 0, 0)[0] == 't');
    status = PQgetvalue(res, 0, 1);

    if (ngx_strcmp(status, "rejected") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_sandbox_rejected(r,
                                                   PQgetvalue(res, 0, 2)));
        return;
    }

    /* 0006: the transfer executed, but its initiator never hears it */
    if (is_new && init->outcome == NGX_PAYOUT_SANDBOX_NO_ANSWER) {
        ngx_http_payout_sandbox_hold(init);
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_sandbox_send(r,
                                    is_new ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                    res, 3));
}


static ngx_int_t
ngx_http_payout_sandbox_rejected(ngx_http_request_t *r, const char *reason)
{
    const char  *message;

    if (ngx_strcmp(reason, "insufficient_funds") == 0) {
        message = "The balance is insufficient for this transfer; "
                  "nothing was sent.";

    } else {
        message = "The destination account is invalid; nothing was sent.";
    }

    return ngx_http_payout_send_error(r, NGX_HTTP_PAYOUT_SANDBOX_422,
                                      reason, message, NULL);
}


/* GET /transfers/{reference} */

static ngx_int_t
ngx_http_payout_sandbox_get(ngx_http_request_t *r, ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_sandbox_run(r, ngx_http_payout_sandbox_sql_get,
                                       &ctx->args[0],
                                       ngx_http_payout_sandbox_get_done);
}


/* POST /transfers/{reference}/cancel */

static ngx_int_t
ngx_http_payout_sandbox_cancel(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    return ngx_http_payout_sandbox_run(r, ngx_http_payout_sandbox_sql_cancel,
                                       &ctx->args[0],
                                       ngx_http_payout_sandbox_cancel_done);
}


/* GET /ledger[?reference=<uuid>] */

static ngx_int_t
ngx_http_payout_sandbox_ledger(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    ngx_str_t  reference;

    if (ngx_http_arg(r, (u_char *) "reference", 9, &reference) != NGX_OK) {
        ngx_str_null(&reference);

    } else if (!ngx_payout_uuid_valid(reference.data, reference.len)) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_parameter",
                                          "reference must be a UUID.",
                                          "reference");
    }

    return ngx_http_payout_sandbox_run(r, ngx_http_payout_sandbox_sql_ledger,
                                       &reference,
                                       ngx_http_payout_sandbox_get_done);
}


/*
 * One query keyed by a reference, answered by handler.  A reference that
 * is no UUID names no transfer: 404 without asking the database (a NULL
 * reference is the ledger's "all").
 */

static ngx_int_t
ngx_http_payout_sandbox_run(ngx_http_request_t *r, const char *sql,
    ngx_str_t *reference, ngx_http_payout_pg_handler_pt handler)
{
    ngx_http_payout_pg_query_t  *q;

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log, sql);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (reference->data == NULL) {
        ngx_http_payout_pg_param_null(q);

    } else if (!ngx_payout_uuid_valid(reference->data, reference->len)) {
        return ngx_http_payout_sandbox_not_found(r);

    } else if (ngx_http_payout_pg_param(q, reference->data, reference->len)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = handler;
    q->data = r;

    return ngx_http_payout_pg_start(r, q);
}


/* one JSON value, or no row: 404 */

static void
ngx_http_payout_sandbox_get_done(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = q->data;

    rc = ngx_http_payout_sandbox_failed(r, q, res, 1);

    if (rc == NGX_DECLINED) {
        rc = (PQntuples(res) == 0)
             ? ngx_http_payout_sandbox_not_found(r)
             : ngx_http_payout_sandbox_send(r, NGX_HTTP_OK, res, 0);
    }

    ngx_http_payout_finalize(r, rc);
}


static void
ngx_http_payout_sandbox_cancel_done(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    u_char              *p;
    ngx_int_t            rc;
    const char          *status;
    ngx_http_request_t  *r;

    r = q->data;

    rc = ngx_http_payout_sandbox_failed(r, q, res, 2);

    if (rc != NGX_DECLINED) {
        ngx_http_payout_finalize(r, rc);
        return;
    }

    if (PQntuples(res) == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_sandbox_not_found(r));
        return;
    }

    status = PQgetvalue(res, 0, 0);

    if (ngx_strcmp(status, "canceled") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_sandbox_send(r,
                                                     NGX_HTTP_OK, res, 1));
        return;
    }

    p = ngx_pnalloc(r->pool, sizeof("transfer is ") + ngx_strlen(status));
    if (p == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_sprintf(p, "transfer is %s%Z", status);

    ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
                                NGX_HTTP_CONFLICT, "not_cancelable",
                                (char *) p, NULL));
}


/* NGX_OK when res holds rows of at least nfields; else the answer to send */

static ngx_int_t
ngx_http_payout_sandbox_failed(ngx_http_request_t *r,
    ngx_http_payout_pg_query_t *q, PGresult *res, ngx_uint_t nfields)
{
    if (q->status != NGX_HTTP_PAYOUT_PG_OK) {
        return ngx_http_payout_pg_failure(r, q);
    }

    if ((ngx_uint_t) PQnfields(res) < nfields) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* not a failure: the caller answers */
    return NGX_DECLINED;
}


/* the JSON in row 0's field, re-encoded compact */

static ngx_int_t
ngx_http_payout_sandbox_send(ngx_http_request_t *r, ngx_uint_t status,
    PGresult *res, int field)
{
    json_t     *json;
    ngx_int_t   rc;

    json = json_loadb(PQgetvalue(res, 0, field),
                      PQgetlength(res, 0, field), 0, NULL);
    if (json == NULL) {
        return ngx_http_payout_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          NULL, NULL, NULL);
    }

    rc = ngx_http_payout_send_json_t(r, status, json);
    json_decref(json);

    return rc;
}


static ngx_int_t
ngx_http_payout_sandbox_not_found(ngx_http_request_t *r)
{
    return ngx_http_payout_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "No transfer with this reference.",
                                      NULL);
}


/*
 * 0006: the transfer is in the ledger, and the initiator hears nothing.
 * The request stays open until the client gives up (test_reading notices
 * it), the hold timer runs out, or the worker shuts down: the timer is
 * not cancelable, so the sender's tick closes held requests at shutdown
 * instead of leaving their sockets open.
 */

static void
ngx_http_payout_sandbox_hold(ngx_http_payout_sandbox_init_t *init)
{
    ngx_connection_t                  *c;
    ngx_http_request_t                *r;
    ngx_pool_cleanup_t                *cln;
    ngx_http_payout_sandbox_sender_t  *s;

    r = init->request;
    c = r->connection;
    s = &ngx_http_payout_sandbox_sender;

    if (!s->started || ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_payout_finalize(r, NGX_HTTP_CLOSE);
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_CLOSE);
        return;
    }

    cln->handler = ngx_http_payout_sandbox_unhold;
    cln->data = init;

    init->hold.handler = ngx_http_payout_sandbox_hold_expired;
    init->hold.data = init;
    init->hold.log = c->log;
    ngx_add_timer(&init->hold, NGX_HTTP_PAYOUT_SANDBOX_HOLD);

    ngx_queue_insert_tail(&s->held, &init->queue);
    init->held = 1;

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "payout sandbox: transfer executed, leaving its "
                  "initiation unanswered (0006)");

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    /* the client may have gone already: look once now */
    ngx_post_event(c->read, &ngx_posted_events);
}


static void
ngx_http_payout_sandbox_hold_expired(ngx_event_t *ev)
{
    ngx_http_payout_sandbox_init_t  *init;

    init = ev->data;

    ngx_http_payout_finalize(init->request, NGX_HTTP_CLOSE);
}


/* the held request's pool goes away, however the request ended */

static void
ngx_http_payout_sandbox_unhold(void *data)
{
    ngx_http_payout_sandbox_init_t  *init = data;

    if (init->hold.timer_set) {
        ngx_del_timer(&init->hold);
    }

    if (init->held) {
        ngx_queue_remove(&init->queue);
        init->held = 0;
    }
}


static void
ngx_http_payout_sandbox_release_held(void)
{
    ngx_queue_t                     *q;
    ngx_http_payout_sandbox_init_t  *init;

    while (!ngx_queue_empty(&ngx_http_payout_sandbox_sender.held)) {
        q = ngx_queue_head(&ngx_http_payout_sandbox_sender.held);
        init = ngx_queue_data(q, ngx_http_payout_sandbox_init_t, queue);

        ngx_queue_remove(q);
        init->held = 0;

        ngx_http_payout_finalize(init->request, NGX_HTTP_CLOSE);
    }
}


/* the event sender */

ngx_int_t
ngx_http_payout_sandbox_init_process(ngx_cycle_t *cycle)
{
    ngx_str_t                         *url;
    ngx_http_payout_main_conf_t       *pmcf;
    ngx_http_payout_sandbox_sender_t  *s;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_payout_module);
    s = &ngx_http_payout_sandbox_sender;

    ngx_memzero(s, sizeof(ngx_http_payout_sandbox_sender_t));

    s->conf = pmcf;
    s->log = cycle->log;
    ngx_queue_init(&s->held);

    url = &pmcf->sandbox_webhook_url;

    if (url->len == 0) {
        s->deliver = 0;

    } else if (!pmcf->has_keys) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "payout sandbox: no payout_master_key_file to sign "
                      "webhooks with; they are not sent");

    } else if (ngx_strncasecmp(url->data, (u_char *) "http://", 7) != 0
               && ngx_strncasecmp(url->data, (u_char *) "https://", 8) != 0)
    {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "payout sandbox: payout_sandbox_webhook_url \"%V\" is "
                      "not an http(s) URL; webhooks are not sent", url);

    } else {
        s->deliver = 1;
    }

    /* cancelable: the sender never holds up a worker that is exiting */
    ngx_http_payout_sandbox_dumb.fd = (ngx_socket_t) -1;

    s->timer.handler = ngx_http_payout_sandbox_tick;
    s->timer.data = &ngx_http_payout_sandbox_dumb;
    s->timer.log = cycle->log;
    s->timer.cancelable = 1;

    ngx_add_timer(&s->timer, NGX_HTTP_PAYOUT_SANDBOX_TICK);

    s->started = 1;

    return NGX_OK;
}


void
ngx_http_payout_sandbox_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_payout_sandbox_sender_t  *s;

    s = &ngx_http_payout_sandbox_sender;

    if (!s->started) {
        return;
    }

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    ngx_http_payout_sandbox_release_held();

    s->started = 0;
}


static void
ngx_http_payout_sandbox_tick(ngx_event_t *ev)
{
    ngx_http_payout_sandbox_sender_t  *s;

    s = &ngx_http_payout_sandbox_sender;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_payout_sandbox_release_held();
        return;
    }

    if (s->paused
        && ngx_current_msec - s->paused_at >= NGX_HTTP_PAYOUT_SANDBOX_PAUSE)
    {
        s->paused = 0;
    }

    if (!s->claiming && !s->paused
        && s->sending < NGX_HTTP_PAYOUT_SANDBOX_MAX_SENDS)
    {
        ngx_http_payout_sandbox_claim();
    }

    ngx_add_timer(ev, NGX_HTTP_PAYOUT_SANDBOX_TICK);
}


static void
ngx_http_payout_sandbox_claim(void)
{
    ngx_pool_t                        *pool;
    ngx_http_payout_pg_query_t        *q;
    ngx_http_payout_sandbox_sender_t  *s;

    s = &ngx_http_payout_sandbox_sender;

    pool = ngx_create_pool(1024, s->log);
    if (pool == NULL) {
        return;
    }

    q = ngx_http_payout_pg_query_create(pool, s->log,
                                        ngx_http_payout_sandbox_sql_claim);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, NGX_HTTP_PAYOUT_SANDBOX_MAX_SENDS
                                           - s->sending)
           != NGX_OK
        || ngx_http_payout_pg_param(q, (u_char *) (s->deliver ? "t" : "f"),
                                    1)
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return;
    }

    q->handler = ngx_http_payout_sandbox_claim_done;
    q->data = pool;

    /* NGX_DECLINED: no database now; the next tick tries again */
    if (ngx_http_payout_pg_run(s->conf->pg, q) != NGX_OK) {
        ngx_destroy_pool(pool);
        return;
    }

    s->claiming = 1;
}


static void
ngx_http_payout_sandbox_claim_done(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    int                                row;
    ngx_pool_t                        *pool;
    ngx_http_payout_sandbox_sender_t  *s;

    pool = q->data;
    s = &ngx_http_payout_sandbox_sender;

    s->claiming = 0;

    if (q->status == NGX_HTTP_PAYOUT_PG_OK && PQnfields(res) == 5) {
        for (row = 0; row < PQntuples(res); row++) {
            ngx_http_payout_sandbox_deliver(res, row);
        }

    } else if (q->status == NGX_HTTP_PAYOUT_PG_SQL_ERROR) {
        /* the pool logged why; say it again in a while, not every tick */
        s->paused = 1;
        s->paused_at = ngx_current_msec;
    }

    /* the pool is done with q: it ends here, and so does q */
    ngx_destroy_pool(pool);
}


/*
 * Sends one claimed event.  On any failure here the event just stays
 * leased, and is sent again when its lease runs out.
 */

static void
ngx_http_payout_sandbox_deliver(PGresult *res, int row)
{
    size_t                             len;
    u_char                            *body, *url;
    ngx_pool_t                        *pool;
    ngx_str_t                         *u;
    ngx_http_payout_sandbox_send_t    *s;
    ngx_http_payout_sandbox_sender_t  *sender;

    sender = &ngx_http_payout_sandbox_sender;
    u = &sender->conf->sandbox_webhook_url;

    pool = ngx_create_pool(2048, sender->log);
    if (pool == NULL) {
        return;
    }

    s = ngx_pcalloc(pool, sizeof(ngx_http_payout_sandbox_send_t));
    url = ngx_pnalloc(pool, u->len + 1);
    body = ngx_http_payout_sandbox_event_body(pool, res, row, &len);

    if (s == NULL || url == NULL || body == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_memcpy(url, u->data, u->len);
    url[u->len] = '\0';

    s->pool = pool;
    s->id = ngx_atoof((u_char *) PQgetvalue(res, row, 0),
                      PQgetlength(res, row, 0));
    s->attempt = ngx_atoi((u_char *) PQgetvalue(res, row, 3),
                          PQgetlength(res, row, 3));

    s->hr.method = "POST";
    s->hr.url = (char *) url;
    s->hr.body = body;
    s->hr.body_len = len;
    s->hr.timeout = NGX_HTTP_PAYOUT_SANDBOX_SEND_TIMEOUT;
    s->hr.max_response = 64 * 1024;
    s->hr.handler = ngx_http_payout_sandbox_delivered;
    s->hr.data = s;
    s->hr.log = sender->log;

    /* the operator's own URL, usually loopback: no SSRF guard */
    s->hr.guard_ssrf = 0;

    if (ngx_http_payout_sandbox_sign_headers(s) != NGX_OK
        || ngx_http_payout_http_start(&s->hr) != NGX_OK)
    {
        if (s->hr.headers) {
            curl_slist_free_all(s->hr.headers);
        }

        ngx_destroy_pool(pool);
        return;
    }

    sender->sending++;
}


/* {"id":"evt_..","type":..,"created":..,"data":{the transfer}} */

static u_char *
ngx_http_payout_sandbox_event_body(ngx_pool_t *pool, PGresult *res,
    int row, size_t *len)
{
    u_char  *body, id[NGX_INT64_LEN + sizeof("evt_")];
    json_t  *data, *event;

    data = json_loadb(PQgetvalue(res, row, 4), PQgetlength(res, row, 4), 0,
                      NULL);
    if (data == NULL) {
        return NULL;
    }

    ngx_sprintf(id, "evt_%*s%Z", (size_t) PQgetlength(res, row, 0),
                PQgetvalue(res, row, 0));

    event = json_pack("{s:s, s:s, s:I, s:o}",
                      "id", (char *) id,
                      "type", PQgetvalue(res, row, 1),
                      "created",
                      (json_int_t) ngx_atoof((u_char *) PQgetvalue(res, row,
                                                                   2),
                                             PQgetlength(res, row, 2)),
                      "data", data);
    if (event == NULL) {
        return NULL;
    }

    *len = json_dumpb(event, NULL, 0, JSON_COMPACT);

    body = ngx_pnalloc(pool, *len);
    if (body != NULL) {
        json_dumpb(event, (char *) body, *len, JSON_COMPACT);
    }

    json_decref(event);

    return body;
}


static ngx_int_t
ngx_http_payout_sandbox_sign_headers(ngx_http_payout_sandbox_send_t *s)
{
    char    sig[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    size_t  n;

    n = ngx_payout_sandbox_sign(&ngx_http_payout_sandbox_sender.conf->keys,
                                (long) ngx_time(), s->hr.body,
                                s->hr.body_len, sig);
    if (n == 0) {
        return NGX_ERROR;
    }

    if (ngx_http_payout_http_header(&s->hr, "Content-Type: application/json")
        != NGX_OK
        || ngx_http_payout_http_header(&s->hr, "Sandbox-Signature: %s", sig)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The receiver answered (or not).  2xx: the event is done; otherwise it
 * is sent again later, until it has had its attempts.  The send's memory
 * goes when that bookkeeping query ends, never in here: the HTTP client
 * may still be looking at hr.
 */

static void
ngx_http_payout_sandbox_delivered(ngx_http_payout_http_req_t *hr)
{
    char                             buf[32];
    const char                      *sql;
    ngx_uint_t                       ok;
    ngx_http_payout_pg_query_t      *q;
    ngx_http_payout_sandbox_send_t  *s;

    s = hr->data;

    ok = (hr->status >= 200 && hr->status < 300);

    if (ok) {
        sql = ngx_http_payout_sandbox_sql_delivered;

    } else if (s->attempt >= NGX_HTTP_PAYOUT_SANDBOX_MAX_ATTEMPTS) {
        ngx_log_error(NGX_LOG_WARN, s->hr.log, 0,
                      "payout sandbox: webhook evt_%L dropped after %i "
                      "attempts (last: %s)", s->id, s->attempt,
                      ngx_http_payout_sandbox_answer_text(hr, buf));
        sql = ngx_http_payout_sandbox_sql_delivered;

    } else {
        ngx_log_error(NGX_LOG_INFO, s->hr.log, 0,
                      "payout sandbox: webhook evt_%L attempt %i failed "
                      "(%s); will retry", s->id, s->attempt,
                      ngx_http_payout_sandbox_answer_text(hr, buf));
        sql = ngx_http_payout_sandbox_sql_retry;
    }

    q = ngx_http_payout_pg_query_create(s->pool, s->hr.log, sql);

    if (q != NULL && ngx_http_payout_pg_param_int(q, s->id) == NGX_OK) {
        q->handler = ngx_http_payout_sandbox_settled;
        q->data = s;

        if (ngx_http_payout_pg_run(ngx_http_payout_sandbox_sender.conf->pg,
                                   q)
            == NGX_OK)
        {
            return;
        }
    }

    /* no database: the lease runs out and the event is sent again */
    s->free.handler = ngx_http_payout_sandbox_send_free;
    s->free.data = s;
    s->free.log = s->hr.log;
    ngx_post_event(&s->free, &ngx_posted_events);
}


/* "HTTP 500" or why there was no answer, for the log */

static const char *
ngx_http_payout_sandbox_answer_text(ngx_http_payout_http_req_t *hr,
    char *buf)
{
    if (hr->status) {
        ngx_sprintf((u_char *) buf, "HTTP %l%Z", hr->status);
        return buf;
    }

    return hr->error_text ? hr->error_text : "no response";
}


static void
ngx_http_payout_sandbox_settled(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    ngx_http_payout_sandbox_send_done(q->data);
}


static void
ngx_http_payout_sandbox_send_free(ngx_event_t *ev)
{
    ngx_http_payout_sandbox_send_done(ev->data);
}


static void
ngx_http_payout_sandbox_send_done(ngx_http_payout_sandbox_send_t *s)
{
    ngx_http_payout_sandbox_sender.sending--;
    ngx_destroy_pool(s->pool);
}
