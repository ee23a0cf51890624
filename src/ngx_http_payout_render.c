/*
 * A payout as the API shows it, from plain columns.  Two tables say which
 * key comes from which column and how it is shown; keep them in the order
 * of payout_json() and payout_recipient_json() (sql/functions/
 * api_json.sql), which remain the definition the lists use:
 * t/integration/test_payout_render.py compares the two.
 *
 * Written as JSON text (ngx_payout_json_writer.h), not as jansson
 * objects: building and dumping forty objects per payout cost nginx more
 * CPU than PostgreSQL spent finding the row.
 *
 * Timestamps and the webhook_urls array are read through to_json() and
 * array_to_json(), scalar casts PostgreSQL does in place, so that they
 * read exactly as the SQL functions show them (in the session's time
 * zone).
 */

#include "ngx_http_payout_render.h"
#include "ngx_http_payout_pg.h"

#include "core/ngx_payout_json_writer.h"


/* a payout's first guess at its JSON's size */
#define NGX_HTTP_PAYOUT_RENDER_ROOM  1536


/* the columns of NGX_HTTP_PAYOUT_RENDER_COLUMNS (ngx_http_payout_render.h) */
enum {
    NGX_HTTP_PAYOUT_RENDER_ID = 0,
    NGX_HTTP_PAYOUT_RENDER_UUID,
    NGX_HTTP_PAYOUT_RENDER_TENANT_ID,
    NGX_HTTP_PAYOUT_RENDER_AMOUNT,
    NGX_HTTP_PAYOUT_RENDER_CURRENCY,
    NGX_HTTP_PAYOUT_RENDER_GATEWAY,
    NGX_HTTP_PAYOUT_RENDER_STATUS,
    NGX_HTTP_PAYOUT_RENDER_SUB_STATUS,
    NGX_HTTP_PAYOUT_RENDER_NARRATION,
    NGX_HTTP_PAYOUT_RENDER_METADATA,
    NGX_HTTP_PAYOUT_RENDER_IDEMPOTENCY_KEY,
    NGX_HTTP_PAYOUT_RENDER_GATEWAY_PAYOUT_ID,
    NGX_HTTP_PAYOUT_RENDER_FAILURE_REASON,
    NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION,
    NGX_HTTP_PAYOUT_RENDER_WEBHOOK_URLS,
    NGX_HTTP_PAYOUT_RENDER_LIVEMODE,
    NGX_HTTP_PAYOUT_RENDER_CREATED_AT,
    NGX_HTTP_PAYOUT_RENDER_UPDATED_AT,
    NGX_HTTP_PAYOUT_RENDER_R_ID,
    NGX_HTTP_PAYOUT_RENDER_R_UUID,
    NGX_HTTP_PAYOUT_RENDER_R_TENANT_ID,
    NGX_HTTP_PAYOUT_RENDER_R_GATEWAY,
    NGX_HTTP_PAYOUT_RENDER_R_TYPE,
    NGX_HTTP_PAYOUT_RENDER_R_NAME,
    NGX_HTTP_PAYOUT_RENDER_R_EMAIL,
    NGX_HTTP_PAYOUT_RENDER_R_PHONE,
    NGX_HTTP_PAYOUT_RENDER_R_BANK_CODE,
    NGX_HTTP_PAYOUT_RENDER_R_BANK_NAME,
    NGX_HTTP_PAYOUT_RENDER_R_BANK_ACCOUNT_NAME,
    NGX_HTTP_PAYOUT_RENDER_R_ACCOUNT_LAST4,
    NGX_HTTP_PAYOUT_RENDER_R_MM_PROVIDER,
    NGX_HTTP_PAYOUT_RENDER_R_MM_LAST4,
    NGX_HTTP_PAYOUT_RENDER_R_ACCOUNT_ID,
    NGX_HTTP_PAYOUT_RENDER_R_BALANCE_ID,
    NGX_HTTP_PAYOUT_RENDER_R_COUNTRY,
    NGX_HTTP_PAYOUT_RENDER_R_RECIPIENT_CODE,
    NGX_HTTP_PAYOUT_RENDER_R_IDEMPOTENCY_KEY,
    NGX_HTTP_PAYOUT_RENDER_R_METADATA,
    NGX_HTTP_PAYOUT_RENDER_R_LIVEMODE,
    NGX_HTTP_PAYOUT_RENDER_R_CREATED_AT,
    NGX_HTTP_PAYOUT_RENDER_R_UPDATED_AT,
    NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION_URL
};


typedef enum {
    NGX_HTTP_PAYOUT_AS_TEXT = 0,
    NGX_HTTP_PAYOUT_AS_INT,
    NGX_HTTP_PAYOUT_AS_BOOL,
    NGX_HTTP_PAYOUT_AS_JSON,         /* jsonb, or a to_json() */
    NGX_HTTP_PAYOUT_AS_MASK,         /* payout_mask(): "******" last4 */
    NGX_HTTP_PAYOUT_AS_NEXT_ACTION,
    NGX_HTTP_PAYOUT_AS_RECIPIENT
} ngx_http_payout_render_as_e;


/* a key as written: quoted, with its colon */
#define ngx_http_payout_render_key(k)                                         \
    { sizeof("\"" k "\":") - 1, (u_char *) "\"" k "\":" }

typedef struct {
    ngx_str_t                       key;
    int                             col;
    ngx_http_payout_render_as_e     kind;
} ngx_http_payout_render_field_t;


static int ngx_http_payout_render_grow(ngx_payout_json_writer_t *w,
    size_t need);
static void ngx_http_payout_render_rows(ngx_payout_json_writer_t *w,
    PGresult *res, int base, ngx_uint_t array);
static void ngx_http_payout_render_row(ngx_payout_json_writer_t *w,
    PGresult *res, int row, int base);
static void ngx_http_payout_render_object(ngx_payout_json_writer_t *w,
    PGresult *res, int row, int base,
    const ngx_http_payout_render_field_t *fields);
static void ngx_http_payout_render_value(ngx_payout_json_writer_t *w,
    PGresult *res, int row, int base,
    const ngx_http_payout_render_field_t *f);
static void ngx_http_payout_render_next_action(ngx_payout_json_writer_t *w,
    PGresult *res, int row, int base);
static void ngx_http_payout_render_text(ngx_payout_json_writer_t *w,
    PGresult *res, int row, int col);


static const ngx_http_payout_render_field_t
    ngx_http_payout_render_recipient[] =
{
    { ngx_http_payout_render_key("uuid"),
      NGX_HTTP_PAYOUT_RENDER_R_UUID, NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("tenant_id"),
      NGX_HTTP_PAYOUT_RENDER_R_TENANT_ID,
      NGX_HTTP_PAYOUT_AS_INT },
    { ngx_http_payout_render_key("gateway"),
      NGX_HTTP_PAYOUT_RENDER_R_GATEWAY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("recipient_type"),
      NGX_HTTP_PAYOUT_RENDER_R_TYPE,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("name"),
      NGX_HTTP_PAYOUT_RENDER_R_NAME, NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("email"),
      NGX_HTTP_PAYOUT_RENDER_R_EMAIL, NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("phone"),
      NGX_HTTP_PAYOUT_RENDER_R_PHONE, NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("bank_code"),
      NGX_HTTP_PAYOUT_RENDER_R_BANK_CODE,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("bank_name"),
      NGX_HTTP_PAYOUT_RENDER_R_BANK_NAME,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("bank_account_name"),
      NGX_HTTP_PAYOUT_RENDER_R_BANK_ACCOUNT_NAME,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("bank_account_number"),
      NGX_HTTP_PAYOUT_RENDER_R_ACCOUNT_LAST4,
      NGX_HTTP_PAYOUT_AS_MASK },
    { ngx_http_payout_render_key("mobile_money_provider"),
      NGX_HTTP_PAYOUT_RENDER_R_MM_PROVIDER,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("mobile_money_number"),
      NGX_HTTP_PAYOUT_RENDER_R_MM_LAST4,
      NGX_HTTP_PAYOUT_AS_MASK },
    { ngx_http_payout_render_key("account_id"),
      NGX_HTTP_PAYOUT_RENDER_R_ACCOUNT_ID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("balance_id"),
      NGX_HTTP_PAYOUT_RENDER_R_BALANCE_ID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("country"),
      NGX_HTTP_PAYOUT_RENDER_R_COUNTRY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("gateway_recipient_code"),
      NGX_HTTP_PAYOUT_RENDER_R_RECIPIENT_CODE,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("idempotency_key"),
      NGX_HTTP_PAYOUT_RENDER_R_IDEMPOTENCY_KEY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("metadata"),
      NGX_HTTP_PAYOUT_RENDER_R_METADATA,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_http_payout_render_key("livemode"),
      NGX_HTTP_PAYOUT_RENDER_R_LIVEMODE,
      NGX_HTTP_PAYOUT_AS_BOOL },
    { ngx_http_payout_render_key("created_at"),
      NGX_HTTP_PAYOUT_RENDER_R_CREATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_http_payout_render_key("updated_at"),
      NGX_HTTP_PAYOUT_RENDER_R_UPDATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_null_string, 0, 0 }
};


static const ngx_http_payout_render_field_t
    ngx_http_payout_render_payout_fields[] =
{
    { ngx_http_payout_render_key("id"),
      NGX_HTTP_PAYOUT_RENDER_ID, NGX_HTTP_PAYOUT_AS_INT },
    { ngx_http_payout_render_key("uuid"),
      NGX_HTTP_PAYOUT_RENDER_UUID, NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("tenant_id"),
      NGX_HTTP_PAYOUT_RENDER_TENANT_ID,
      NGX_HTTP_PAYOUT_AS_INT },
    { ngx_http_payout_render_key("amount"),
      NGX_HTTP_PAYOUT_RENDER_AMOUNT, NGX_HTTP_PAYOUT_AS_INT },
    { ngx_http_payout_render_key("currency"),
      NGX_HTTP_PAYOUT_RENDER_CURRENCY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("gateway"),
      NGX_HTTP_PAYOUT_RENDER_GATEWAY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("status"),
      NGX_HTTP_PAYOUT_RENDER_STATUS, NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("sub_status"),
      NGX_HTTP_PAYOUT_RENDER_SUB_STATUS,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("narration"),
      NGX_HTTP_PAYOUT_RENDER_NARRATION,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("metadata"),
      NGX_HTTP_PAYOUT_RENDER_METADATA,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_http_payout_render_key("idempotency_key"),
      NGX_HTTP_PAYOUT_RENDER_IDEMPOTENCY_KEY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("gateway_payout_id"),
      NGX_HTTP_PAYOUT_RENDER_GATEWAY_PAYOUT_ID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("failure_reason"),
      NGX_HTTP_PAYOUT_RENDER_FAILURE_REASON,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("next_action"),
      NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION,
      NGX_HTTP_PAYOUT_AS_NEXT_ACTION },
    { ngx_http_payout_render_key("webhook_urls"),
      NGX_HTTP_PAYOUT_RENDER_WEBHOOK_URLS,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_http_payout_render_key("livemode"),
      NGX_HTTP_PAYOUT_RENDER_LIVEMODE,
      NGX_HTTP_PAYOUT_AS_BOOL },
    { ngx_http_payout_render_key("recipient_uuid"),
      NGX_HTTP_PAYOUT_RENDER_R_UUID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { ngx_http_payout_render_key("recipient"),
      NGX_HTTP_PAYOUT_RENDER_R_ID,
      NGX_HTTP_PAYOUT_AS_RECIPIENT },
    { ngx_http_payout_render_key("created_at"),
      NGX_HTTP_PAYOUT_RENDER_CREATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_http_payout_render_key("updated_at"),
      NGX_HTTP_PAYOUT_RENDER_UPDATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { ngx_null_string, 0, 0 }
};


/*
 * One run over the rows into a buffer from the pool, of a size that
 * usually holds the page (a payout with its recipient is about 1 KB),
 * and that doubles when it does not.
 */

ngx_int_t
ngx_http_payout_render_payouts(ngx_pool_t *pool, PGresult *res, int base,
    ngx_uint_t array, ngx_str_t *out)
{
    ngx_payout_json_writer_t  w;

    ngx_memzero(&w, sizeof(ngx_payout_json_writer_t));

    w.size = NGX_HTTP_PAYOUT_RENDER_ROOM * (PQntuples(res) + 1);
    w.grow = ngx_http_payout_render_grow;
    w.data = pool;

    w.p = ngx_pnalloc(pool, w.size);
    if (w.p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_payout_render_rows(&w, res, base, array);

    if (w.failed) {
        return NGX_ERROR;
    }

    out->data = w.p;
    out->len = w.len;

    return NGX_OK;
}


static int
ngx_http_payout_render_grow(ngx_payout_json_writer_t *w, size_t need)
{
    u_char  *p;
    size_t   size;

    size = ngx_max(2 * w->size, w->len + need);

    p = ngx_pnalloc(w->data, size);
    if (p == NULL) {
        return -1;
    }

    ngx_memcpy(p, w->p, w->len);
    ngx_pfree(w->data, w->p);

    w->p = p;
    w->size = size;

    return 0;
}


static void
ngx_http_payout_render_rows(ngx_payout_json_writer_t *w, PGresult *res,
    int base, ngx_uint_t array)
{
    int  i, n, first;

    if (!array) {
        ngx_http_payout_render_row(w, res, 0, base);
        return;
    }

    n = PQntuples(res);
    first = 1;

    ngx_payout_jw_raw(w, "[", 1);

    /* an empty page is one row of NULLs beside the total */
    for (i = 0; i < n; i++) {
        if (ngx_http_payout_pg_isnull(res, i, base)) {
            continue;
        }

        if (!first) {
            ngx_payout_jw_raw(w, ",", 1);
        }

        first = 0;
        ngx_http_payout_render_row(w, res, i, base);
    }

    ngx_payout_jw_raw(w, "]", 1);
}


static void
ngx_http_payout_render_row(ngx_payout_json_writer_t *w, PGresult *res,
    int row, int base)
{
    ngx_http_payout_render_object(w, res, row, base,
                                  ngx_http_payout_render_payout_fields);
}


static void
ngx_http_payout_render_object(ngx_payout_json_writer_t *w, PGresult *res,
    int row, int base, const ngx_http_payout_render_field_t *fields)
{
    const ngx_http_payout_render_field_t  *f;

    for (f = fields; f->key.len; f++) {
        ngx_payout_jw_raw(w, f == fields ? "{" : ",", 1);
        ngx_payout_jw_raw(w, (char *) f->key.data, f->key.len);
        ngx_http_payout_render_value(w, res, row, base, f);
    }

    ngx_payout_jw_raw(w, "}", 1);
}


static void
ngx_http_payout_render_value(ngx_payout_json_writer_t *w, PGresult *res,
    int row, int base, const ngx_http_payout_render_field_t *f)
{
    int        col;
    u_char     buf[64];
    size_t     len;
    ngx_str_t  text;

    col = base + f->col;

    if (f->kind == NGX_HTTP_PAYOUT_AS_NEXT_ACTION) {
        ngx_http_payout_render_next_action(w, res, row, base);
        return;
    }

    if (ngx_http_payout_pg_isnull(res, row, col)) {
        ngx_payout_jw_raw(w, "null", 4);
        return;
    }

    switch (f->kind) {

    case NGX_HTTP_PAYOUT_AS_INT:
        ngx_payout_jw_int(w, ngx_http_payout_pg_int(res, row, col));
        return;

    case NGX_HTTP_PAYOUT_AS_BOOL:
        if (ngx_http_payout_pg_bool(res, row, col)) {
            ngx_payout_jw_raw(w, "true", 4);

        } else {
            ngx_payout_jw_raw(w, "false", 5);
        }

        return;

    case NGX_HTTP_PAYOUT_AS_JSON:
        ngx_http_payout_pg_text(res, row, col, &text);
        ngx_payout_jw_compact(w, (char *) text.data, text.len);
        return;

    case NGX_HTTP_PAYOUT_AS_MASK:
        ngx_http_payout_pg_text(res, row, col, &text);

        /* the column holds four digits; a longer one is cut, not sent */
        len = ngx_min(text.len, sizeof(buf) - 6);
        len = ngx_sprintf(buf, "******%*s", len, text.data) - buf;
        ngx_payout_jw_string(w, (char *) buf, len);
        return;

    case NGX_HTTP_PAYOUT_AS_RECIPIENT:
        ngx_http_payout_render_object(w, res, row, base,
                                      ngx_http_payout_render_recipient);
        return;

    default: /* NGX_HTTP_PAYOUT_AS_TEXT */
        ngx_http_payout_render_text(w, res, row, col);
        return;
    }
}


/*
 * What the merchant must do next: payout_next_action_json(), null,
 * {"type": "otp_required"} or {"type": "redirect", "url": "..."}.  One
 * place, so that a change of its shape changes only this function and
 * the columns it reads.
 */

static void
ngx_http_payout_render_next_action(ngx_payout_json_writer_t *w,
    PGresult *res, int row, int base)
{
    int  type, url;

    type = base + NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION;
    url = base + NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION_URL;

    if (ngx_http_payout_pg_isnull(res, row, type)) {
        ngx_payout_jw_raw(w, "null", 4);
        return;
    }

    ngx_payout_jw_raw(w, "{\"type\":", 8);
    ngx_http_payout_render_text(w, res, row, type);

    if (!ngx_http_payout_pg_isnull(res, row, url)) {
        ngx_payout_jw_raw(w, ",\"url\":", 7);
        ngx_http_payout_render_text(w, res, row, url);
    }

    ngx_payout_jw_raw(w, "}", 1);
}


static void
ngx_http_payout_render_text(ngx_payout_json_writer_t *w, PGresult *res,
    int row, int col)
{
    ngx_str_t  text;

    ngx_http_payout_pg_text(res, row, col, &text);
    ngx_payout_jw_string(w, (char *) text.data, text.len);
}
