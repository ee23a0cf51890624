/*
 * The built-in sandbox provider's API: a fake payment provider served by
 * the module itself, which the gateway side reaches through the outbound
 * HTTP client exactly as it reaches a real provider (SPEC §10,
 * docs/sandbox.md).
 *
 *   POST <base>/transfers                      initiate (idempotent)
 *   GET  <base>/transfers/{reference}          the transfer as it is now
 *   POST <base>/transfers/{reference}/cancel   cancel while pending
 *   POST <base>/recipients                     enroll a destination (its
 *                                              code follows from the
 *                                              reference: idempotent)
 *   GET  <base>/ledger[?reference=]            every transfer, for tests
 *
 * The provider's state lives in PostgreSQL (sql/sandbox/), one round trip
 * per request.  Its webhooks are sent by the event sender
 * (ngx_http_payout_sandbox_events.c).
 */

#include "ngx_http_payout_sandbox_events.h"
#include "ngx_http_payout_pg.h"
#include "connectors/ngx_payout_connector_sandbox.h"


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


typedef struct {
    ngx_payout_sandbox_outcome_e   outcome;
    const char                    *name;      /* outcome in sql/ */
} ngx_http_payout_sandbox_outcome_t;


/* a POST body's parser: NGX_OK, or NGX_ERROR with message and field */
typedef ngx_int_t (*ngx_http_payout_sandbox_parse_pt)(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field);


static ngx_int_t ngx_http_payout_sandbox_handler(ngx_http_request_t *r);

static ngx_int_t ngx_http_payout_sandbox_create(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_sandbox_request(ngx_http_request_t *r,
    json_t *body, ngx_http_payout_sandbox_parse_pt parse,
    ngx_http_payout_sandbox_transfer_t *t, ngx_int_t *rc);
static ngx_int_t ngx_http_payout_sandbox_parse(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field);
static ngx_int_t ngx_http_payout_sandbox_parse_destination(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field);
static ngx_int_t ngx_http_payout_sandbox_currency(json_t *body,
    ngx_uint_t required, u_char *currency);
static ngx_int_t ngx_http_payout_sandbox_string(json_t *obj,
    const char *key, ngx_uint_t required, ngx_str_t *out);
static ngx_int_t ngx_http_payout_sandbox_idempotency(ngx_http_request_t *r,
    ngx_str_t *reference);
static ngx_http_payout_pg_query_t *ngx_http_payout_sandbox_create_query(
    ngx_http_request_t *r, ngx_http_payout_sandbox_transfer_t *t);
static ngx_int_t ngx_http_payout_sandbox_param(
    ngx_http_payout_pg_query_t *q, ngx_str_t *v);
static void ngx_http_payout_sandbox_create_done(
    ngx_http_payout_pg_query_t *q, PGresult *res);
static ngx_int_t ngx_http_payout_sandbox_rejected(ngx_http_request_t *r,
    const char *reason);

static ngx_int_t ngx_http_payout_sandbox_enroll(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx);
static ngx_int_t ngx_http_payout_sandbox_enroll_parse(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field);
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
static ngx_int_t ngx_http_payout_sandbox_send(ngx_http_request_t *r,
    ngx_uint_t status, PGresult *res, int field);
static ngx_int_t ngx_http_payout_sandbox_not_found(ngx_http_request_t *r);

static void ngx_http_payout_sandbox_hold(
    ngx_http_payout_sandbox_init_t *init);
static void ngx_http_payout_sandbox_hold_expired(ngx_event_t *ev);
static void ngx_http_payout_sandbox_unhold(void *data);
static void ngx_http_payout_sandbox_release_held(void);


static ngx_http_payout_route_t  ngx_http_payout_sandbox_routes[] = {

    { NGX_HTTP_POST, "transfers", ngx_http_payout_sandbox_create, 1, 1 },
    { NGX_HTTP_GET, "transfers/{reference}", ngx_http_payout_sandbox_get,
      1, 0 },
    { NGX_HTTP_POST, "transfers/{reference}/cancel",
      ngx_http_payout_sandbox_cancel, 1, 0 },
    { NGX_HTTP_GET, "ledger", ngx_http_payout_sandbox_ledger, 1, 0 },
    { NGX_HTTP_POST, "recipients", ngx_http_payout_sandbox_enroll, 1, 1 },

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

enum {
    NGX_HTTP_PAYOUT_SANDBOX_CREATE_IS_NEW = 0,
    NGX_HTTP_PAYOUT_SANDBOX_CREATE_STATUS,
    NGX_HTTP_PAYOUT_SANDBOX_CREATE_REASON,
    NGX_HTTP_PAYOUT_SANDBOX_CREATE_BODY
};

/* get and ledger: one JSON value */
static const char  ngx_http_payout_sandbox_sql_get[] =
    "SELECT sandbox.sandbox_transfer_json(t) FROM sandbox.sandbox_transfers t "
    "WHERE t.reference = $1";

static const char  ngx_http_payout_sandbox_sql_ledger[] =
    "SELECT json_build_object('transfers', coalesce(json_agg("
           "sandbox.sandbox_transfer_json(s.t) ORDER BY (s.t).id), '[]')) "
    "FROM (SELECT t FROM sandbox.sandbox_transfers t "
          "WHERE $1::uuid IS NULL OR t.reference = $1::uuid "
          "ORDER BY t.id DESC LIMIT 1000) s";

enum {
    NGX_HTTP_PAYOUT_SANDBOX_GET_JSON = 0
};

static const char  ngx_http_payout_sandbox_sql_cancel[] =
    "SELECT transfer_status, body "
    "FROM sandbox.sandbox_transfer_cancel($1)";

enum {
    NGX_HTTP_PAYOUT_SANDBOX_CANCEL_STATUS = 0,
    NGX_HTTP_PAYOUT_SANDBOX_CANCEL_BODY
};


static const char  ngx_http_payout_sandbox_not_found_text[] =
    "No transfer with this reference.";

/* initiations held unanswered (0006), closed when the worker exits */
static ngx_queue_t  ngx_http_payout_sandbox_held;
static ngx_uint_t   ngx_http_payout_sandbox_started;


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
    ngx_http_payout_pg_query_t          *q;
    ngx_http_payout_sandbox_init_t      *init;
    ngx_http_payout_sandbox_transfer_t   t;

    if (ngx_http_payout_sandbox_request(r, ctx->body,
                                        ngx_http_payout_sandbox_parse, &t,
                                        &rc)
        != NGX_OK)
    {
        return rc;
    }

    init = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_sandbox_init_t));
    if (init == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    init->request = r;
    init->outcome = t.outcome;

    q = ngx_http_payout_sandbox_create_query(r, &t);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->handler = ngx_http_payout_sandbox_create_done;
    q->data = init;

    return ngx_http_payout_pg_start(r, q);
}


/*
 * A POST body parsed by parse, and the Idempotency-Key checked against
 * its reference.  NGX_DECLINED: refused, *rc is what the handler returns.
 */

static ngx_int_t
ngx_http_payout_sandbox_request(ngx_http_request_t *r, json_t *body,
    ngx_http_payout_sandbox_parse_pt parse,
    ngx_http_payout_sandbox_transfer_t *t, ngx_int_t *rc)
{
    const char  *message, *field;

    ngx_memzero(t, sizeof(ngx_http_payout_sandbox_transfer_t));

    if (parse(body, t, &message, &field) != NGX_OK) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_request", message, field);
        return NGX_DECLINED;
    }

    if (ngx_http_payout_sandbox_idempotency(r, &t->reference) != NGX_OK) {
        *rc = ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "idempotency_key_mismatch",
                                         "The Idempotency-Key header must "
                                         "equal the reference.",
                                         "reference");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* NGX_OK, or NGX_ERROR with message and field saying what is wrong */

static ngx_int_t
ngx_http_payout_sandbox_parse(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field)
{
    json_t      *amount;

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

    if (ngx_http_payout_sandbox_currency(body, 1, t->currency) != NGX_OK) {
        return NGX_ERROR;
    }

    *field = "narration";
    *message = "narration must be a string of at most 255 bytes.";

    if (ngx_http_payout_sandbox_string(body, "narration", 0, &t->narration)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_payout_sandbox_parse_destination(body, t, message,
                                                     field);
}


/* the body's "destination" object */

static ngx_int_t
ngx_http_payout_sandbox_parse_destination(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field)
{
    json_t     *dest;
    ngx_str_t   type, name;

    *field = "destination";
    *message = "destination must be an object.";

    dest = json_object_get(body, "destination");

    if (!json_is_object(dest)) {
        return NGX_ERROR;
    }

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


/* three letters, upper-cased into currency; optional: absent is "" */

static ngx_int_t
ngx_http_payout_sandbox_currency(json_t *body, ngx_uint_t required,
    u_char *currency)
{
    ngx_str_t   v;
    ngx_uint_t  i;

    currency[0] = '\0';

    if (ngx_http_payout_sandbox_string(body, "currency", required, &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (v.len == 0 && !required) {
        return NGX_OK;
    }

    if (v.len != 3) {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        currency[i] = ngx_toupper(v.data[i]);

        if (currency[i] < 'A' || currency[i] > 'Z') {
            return NGX_ERROR;
        }
    }

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


/* sandbox_transfer_create()'s query, its handler not yet set */

static ngx_http_payout_pg_query_t *
ngx_http_payout_sandbox_create_query(ngx_http_request_t *r,
    ngx_http_payout_sandbox_transfer_t *t)
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
        return NULL;
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
        return NULL;
    }

    return q;
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
    ngx_str_t                        status, reason;
    ngx_uint_t                       is_new;
    ngx_http_request_t              *r;
    ngx_http_payout_sandbox_init_t  *init;

    init = q->data;
    r = init->request;

    if (ngx_http_payout_query_row(r, q, res, NULL) != NGX_OK) {
        return;
    }

    is_new = ngx_http_payout_pg_bool(res, 0,
                                     NGX_HTTP_PAYOUT_SANDBOX_CREATE_IS_NEW);
    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_SANDBOX_CREATE_STATUS,
                            &status);

    if (ngx_strcmp(status.data, "rejected") == 0) {
        ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_SANDBOX_CREATE_REASON,
                                &reason);
        ngx_http_payout_finalize(r, ngx_http_payout_sandbox_rejected(r,
                                                 (char *) reason.data));
        return;
    }

    /* 0006: the transfer executed, but its initiator never hears it */
    if (is_new && init->outcome == NGX_PAYOUT_SANDBOX_NO_ANSWER) {
        ngx_http_payout_sandbox_hold(init);
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_sandbox_send(r,
                                    is_new ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                                    res, NGX_HTTP_PAYOUT_SANDBOX_CREATE_BODY));
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


/*
 * POST /recipients {reference, currency?, destination}: a recipient code
 * for the destination.  It is derived from the reference alone, so every
 * call with the reference gets the same one and nothing is stored.  An
 * account ending in 0002 is refused, as its transfers are.
 */

static ngx_int_t
ngx_http_payout_sandbox_enroll(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx)
{
    char                                 code[sizeof("SBX_RCP_") + 20];
    char                                 last4[5], currency[4];
    size_t                               i, n;
    json_t                              *json;
    ngx_int_t                            rc;
    ngx_http_payout_sandbox_transfer_t   t;

    if (ngx_http_payout_sandbox_request(r, ctx->body,
                                        ngx_http_payout_sandbox_enroll_parse,
                                        &t, &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (t.outcome == NGX_PAYOUT_SANDBOX_INVALID_ACCOUNT) {
        return ngx_http_payout_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "invalid_account",
                                          "The destination account is "
                                          "invalid; no recipient was made.",
                                          "destination");
    }

    /* the reference's first 20 hex digits, upper-cased */
    n = ngx_cpymem(code, "SBX_RCP_", 8) - (u_char *) code;

    for (i = 0; i < t.reference.len && n < sizeof(code) - 1; i++) {
        if (t.reference.data[i] != '-') {
            code[n++] = ngx_toupper(t.reference.data[i]);
        }
    }

    code[n] = '\0';

    /* the sandbox shows only the last four digits of a destination */
    n = ngx_min(t.number.len, 4);
    ngx_memcpy(last4, t.number.data + t.number.len - n, n);
    last4[n] = '\0';

    ngx_memcpy(currency, t.currency, 3);
    currency[3] = '\0';

    json = json_pack("{s:s, s:s%, s:s, s:s, s:s?}", "recipient_code", code,
                     "reference", t.reference.data, t.reference.len,
                     "type", t.type, "last4", last4,
                     "currency", currency[0] ? currency : NULL);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_payout_send_json_t(r, NGX_HTTP_CREATED, json);
    json_decref(json);

    return rc;
}


static ngx_int_t
ngx_http_payout_sandbox_enroll_parse(json_t *body,
    ngx_http_payout_sandbox_transfer_t *t, const char **message,
    const char **field)
{
    *field = "reference";
    *message = "reference must be our recipient's UUID.";

    if (ngx_http_payout_sandbox_string(body, "reference", 1, &t->reference)
        != NGX_OK
        || !ngx_payout_uuid_valid(t->reference.data, t->reference.len))
    {
        return NGX_ERROR;
    }

    *field = "currency";
    *message = "currency must be a three-letter ISO 4217 code.";

    if (ngx_http_payout_sandbox_currency(body, 0, t->currency) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_payout_sandbox_parse_destination(body, t, message,
                                                     field);
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
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res,
                                  ngx_http_payout_sandbox_not_found_text)
        != NGX_OK)
    {
        return;
    }

    ngx_http_payout_finalize(r, ngx_http_payout_sandbox_send(r, NGX_HTTP_OK,
                                res, NGX_HTTP_PAYOUT_SANDBOX_GET_JSON));
}


static void
ngx_http_payout_sandbox_cancel_done(ngx_http_payout_pg_query_t *q,
    PGresult *res)
{
    u_char              *p;
    ngx_str_t            status;
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_payout_query_row(r, q, res,
                                  ngx_http_payout_sandbox_not_found_text)
        != NGX_OK)
    {
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_SANDBOX_CANCEL_STATUS,
                            &status);

    if (ngx_strcmp(status.data, "canceled") == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_sandbox_send(r,
                                    NGX_HTTP_OK, res,
                                    NGX_HTTP_PAYOUT_SANDBOX_CANCEL_BODY));
        return;
    }

    p = ngx_pnalloc(r->pool, sizeof("transfer is ") + status.len);
    if (p == NULL) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_sprintf(p, "transfer is %V%Z", &status);

    ngx_http_payout_finalize(r, ngx_http_payout_send_error(r,
                                NGX_HTTP_CONFLICT, "not_cancelable",
                                (char *) p, NULL));
}


/* the JSON in row 0's field, re-encoded compact */

static ngx_int_t
ngx_http_payout_sandbox_send(ngx_http_request_t *r, ngx_uint_t status,
    PGresult *res, int field)
{
    json_t     *json;
    ngx_int_t   rc;
    ngx_str_t   text;

    ngx_http_payout_pg_text(res, 0, field, &text);

    json = json_loadb((char *) text.data, text.len, 0, NULL);
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
                                      ngx_http_payout_sandbox_not_found_text,
                                      NULL);
}


/*
 * 0006: the transfer is in the ledger, and the initiator hears nothing.
 * The request stays open until the client gives up (test_reading notices
 * it), the hold timer runs out, or the worker exits.  The timer is
 * cancelable, so a held request never holds up a worker that is exiting:
 * exit_process closes it instead of leaving its socket open.
 */

static void
ngx_http_payout_sandbox_hold(ngx_http_payout_sandbox_init_t *init)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_pool_cleanup_t  *cln;

    r = init->request;
    c = r->connection;

    if (!ngx_http_payout_sandbox_started
        || ngx_exiting || ngx_quit || ngx_terminate)
    {
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
    init->hold.cancelable = 1;
    ngx_add_timer(&init->hold, NGX_HTTP_PAYOUT_SANDBOX_HOLD);

    ngx_queue_insert_tail(&ngx_http_payout_sandbox_held, &init->queue);
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

    while (!ngx_queue_empty(&ngx_http_payout_sandbox_held)) {
        q = ngx_queue_head(&ngx_http_payout_sandbox_held);
        init = ngx_queue_data(q, ngx_http_payout_sandbox_init_t, queue);

        ngx_queue_remove(q);
        init->held = 0;

        ngx_http_payout_finalize(init->request, NGX_HTTP_CLOSE);
    }
}


ngx_int_t
ngx_http_payout_sandbox_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_payout_sandbox_held);
    ngx_http_payout_sandbox_started = 1;

    return ngx_http_payout_sandbox_events_start(cycle);
}


void
ngx_http_payout_sandbox_exit_process(ngx_cycle_t *cycle)
{
    if (!ngx_http_payout_sandbox_started) {
        return;
    }

    ngx_http_payout_sandbox_events_stop();
    ngx_http_payout_sandbox_release_held();

    ngx_http_payout_sandbox_started = 0;
}
