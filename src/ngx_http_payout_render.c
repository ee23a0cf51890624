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


typedef struct {
    const char                     *key;
    int                             col;
    ngx_http_payout_render_as_e     kind;
} ngx_http_payout_render_field_t;


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
    { "uuid", NGX_HTTP_PAYOUT_RENDER_R_UUID, NGX_HTTP_PAYOUT_AS_TEXT },
    { "tenant_id", NGX_HTTP_PAYOUT_RENDER_R_TENANT_ID,
      NGX_HTTP_PAYOUT_AS_INT },
    { "gateway", NGX_HTTP_PAYOUT_RENDER_R_GATEWAY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "recipient_type", NGX_HTTP_PAYOUT_RENDER_R_TYPE,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "name", NGX_HTTP_PAYOUT_RENDER_R_NAME, NGX_HTTP_PAYOUT_AS_TEXT },
    { "email", NGX_HTTP_PAYOUT_RENDER_R_EMAIL, NGX_HTTP_PAYOUT_AS_TEXT },
    { "phone", NGX_HTTP_PAYOUT_RENDER_R_PHONE, NGX_HTTP_PAYOUT_AS_TEXT },
    { "bank_code", NGX_HTTP_PAYOUT_RENDER_R_BANK_CODE,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "bank_name", NGX_HTTP_PAYOUT_RENDER_R_BANK_NAME,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "bank_account_name", NGX_HTTP_PAYOUT_RENDER_R_BANK_ACCOUNT_NAME,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "bank_account_number", NGX_HTTP_PAYOUT_RENDER_R_ACCOUNT_LAST4,
      NGX_HTTP_PAYOUT_AS_MASK },
    { "mobile_money_provider", NGX_HTTP_PAYOUT_RENDER_R_MM_PROVIDER,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "mobile_money_number", NGX_HTTP_PAYOUT_RENDER_R_MM_LAST4,
      NGX_HTTP_PAYOUT_AS_MASK },
    { "account_id", NGX_HTTP_PAYOUT_RENDER_R_ACCOUNT_ID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "balance_id", NGX_HTTP_PAYOUT_RENDER_R_BALANCE_ID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "country", NGX_HTTP_PAYOUT_RENDER_R_COUNTRY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "gateway_recipient_code", NGX_HTTP_PAYOUT_RENDER_R_RECIPIENT_CODE,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "idempotency_key", NGX_HTTP_PAYOUT_RENDER_R_IDEMPOTENCY_KEY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "metadata", NGX_HTTP_PAYOUT_RENDER_R_METADATA,
      NGX_HTTP_PAYOUT_AS_JSON },
    { "livemode", NGX_HTTP_PAYOUT_RENDER_R_LIVEMODE,
      NGX_HTTP_PAYOUT_AS_BOOL },
    { "created_at", NGX_HTTP_PAYOUT_RENDER_R_CREATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { "updated_at", NGX_HTTP_PAYOUT_RENDER_R_UPDATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { NULL, 0, 0 }
};


static const ngx_http_payout_render_field_t
    ngx_http_payout_render_payout_fields[] =
{
    { "id", NGX_HTTP_PAYOUT_RENDER_ID, NGX_HTTP_PAYOUT_AS_INT },
    { "uuid", NGX_HTTP_PAYOUT_RENDER_UUID, NGX_HTTP_PAYOUT_AS_TEXT },
    { "tenant_id", NGX_HTTP_PAYOUT_RENDER_TENANT_ID,
      NGX_HTTP_PAYOUT_AS_INT },
    { "amount", NGX_HTTP_PAYOUT_RENDER_AMOUNT, NGX_HTTP_PAYOUT_AS_INT },
    { "currency", NGX_HTTP_PAYOUT_RENDER_CURRENCY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "gateway", NGX_HTTP_PAYOUT_RENDER_GATEWAY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "status", NGX_HTTP_PAYOUT_RENDER_STATUS, NGX_HTTP_PAYOUT_AS_TEXT },
    { "sub_status", NGX_HTTP_PAYOUT_RENDER_SUB_STATUS,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "narration", NGX_HTTP_PAYOUT_RENDER_NARRATION,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "metadata", NGX_HTTP_PAYOUT_RENDER_METADATA,
      NGX_HTTP_PAYOUT_AS_JSON },
    { "idempotency_key", NGX_HTTP_PAYOUT_RENDER_IDEMPOTENCY_KEY,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "gateway_payout_id", NGX_HTTP_PAYOUT_RENDER_GATEWAY_PAYOUT_ID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "failure_reason", NGX_HTTP_PAYOUT_RENDER_FAILURE_REASON,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "next_action", NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION,
      NGX_HTTP_PAYOUT_AS_NEXT_ACTION },
    { "webhook_urls", NGX_HTTP_PAYOUT_RENDER_WEBHOOK_URLS,
      NGX_HTTP_PAYOUT_AS_JSON },
    { "livemode", NGX_HTTP_PAYOUT_RENDER_LIVEMODE,
      NGX_HTTP_PAYOUT_AS_BOOL },
    { "recipient_uuid", NGX_HTTP_PAYOUT_RENDER_R_UUID,
      NGX_HTTP_PAYOUT_AS_TEXT },
    { "recipient", NGX_HTTP_PAYOUT_RENDER_R_ID,
      NGX_HTTP_PAYOUT_AS_RECIPIENT },
    { "created_at", NGX_HTTP_PAYOUT_RENDER_CREATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { "updated_at", NGX_HTTP_PAYOUT_RENDER_UPDATED_AT,
      NGX_HTTP_PAYOUT_AS_JSON },
    { NULL, 0, 0 }
};


/*
 * Two runs over the rows: the first counts the bytes, the second writes
 * them into a buffer of that size, so the page is allocated once.
 */

ngx_int_t
ngx_http_payout_render_payouts(ngx_pool_t *pool, PGresult *res, int base,
    ngx_uint_t array, ngx_str_t *out)
{
    int                       pass;
    ngx_payout_json_writer_t  w;

    w.p = NULL;

    for (pass = 0; pass < 2; pass++) {
        w.len = 0;
        ngx_http_payout_render_rows(&w, res, base, array);

        if (pass == 0) {
            w.p = ngx_pnalloc(pool, w.len);
            if (w.p == NULL) {
                return NGX_ERROR;
            }
        }
    }

    out->data = w.p;
    out->len = w.len;

    return NGX_OK;
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

    for (f = fields; f->key; f++) {
        ngx_payout_jw_raw(w, f == fields ? "{\"" : ",\"", 2);
        ngx_payout_jw_raw(w, f->key, ngx_strlen(f->key));
        ngx_payout_jw_raw(w, "\":", 2);
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
