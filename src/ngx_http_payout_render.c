/*
 * A payout as the API shows it, from plain columns.  Two tables say which
 * key comes from which column and how it is shown; keep them in the order
 * of payout_json() and payout_recipient_json() (sql/functions/
 * api_json.sql), which remain the definition the lists use:
 * t/integration/test_payout_render.py compares the two.
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


static json_t *ngx_http_payout_render_object(PGresult *res, int row,
    int base, const ngx_http_payout_render_field_t *fields);
static json_t *ngx_http_payout_render_value(PGresult *res, int row,
    int base, const ngx_http_payout_render_field_t *f);
static json_t *ngx_http_payout_render_next_action(PGresult *res, int row,
    int base);


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


json_t *
ngx_http_payout_render_payout(PGresult *res, int row, int base)
{
    return ngx_http_payout_render_object(res, row, base,
                                         ngx_http_payout_render_payout_fields);
}


static json_t *
ngx_http_payout_render_object(PGresult *res, int row, int base,
    const ngx_http_payout_render_field_t *fields)
{
    json_t                                *obj, *v;
    const ngx_http_payout_render_field_t  *f;

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    for (f = fields; f->key; f++) {
        v = ngx_http_payout_render_value(res, row, base, f);

        if (v == NULL || json_object_set_new(obj, f->key, v) != 0) {
            json_decref(obj);
            return NULL;
        }
    }

    return obj;
}


static json_t *
ngx_http_payout_render_value(PGresult *res, int row, int base,
    const ngx_http_payout_render_field_t *f)
{
    int        col;
    u_char     buf[64];
    size_t     len;
    ngx_str_t  text;

    col = base + f->col;

    if (f->kind == NGX_HTTP_PAYOUT_AS_NEXT_ACTION) {
        return ngx_http_payout_render_next_action(res, row, base);
    }

    if (ngx_http_payout_pg_isnull(res, row, col)) {
        return json_null();
    }

    switch (f->kind) {

    case NGX_HTTP_PAYOUT_AS_INT:
        return json_integer(ngx_http_payout_pg_int(res, row, col));

    case NGX_HTTP_PAYOUT_AS_BOOL:
        return json_boolean(ngx_http_payout_pg_bool(res, row, col));

    case NGX_HTTP_PAYOUT_AS_JSON:
        ngx_http_payout_pg_text(res, row, col, &text);
        return json_loadb((char *) text.data, text.len, JSON_DECODE_ANY,
                          NULL);

    case NGX_HTTP_PAYOUT_AS_MASK:
        ngx_http_payout_pg_text(res, row, col, &text);

        if (text.len > sizeof(buf) - 6) {
            return NULL;
        }

        len = ngx_sprintf(buf, "******%V", &text) - buf;
        return json_stringn((char *) buf, len);

    case NGX_HTTP_PAYOUT_AS_RECIPIENT:
        return ngx_http_payout_render_object(res, row, base,
                                             ngx_http_payout_render_recipient);

    default: /* NGX_HTTP_PAYOUT_AS_TEXT */
        ngx_http_payout_pg_text(res, row, col, &text);
        return json_stringn((char *) text.data, text.len);
    }
}


/*
 * What the merchant must do next: payout_next_action_json(), null,
 * {"type": "otp_required"} or {"type": "redirect", "url": "..."}.  One
 * place, so that a change of its shape changes only this function and
 * the columns it reads.
 */

static json_t *
ngx_http_payout_render_next_action(PGresult *res, int row, int base)
{
    int         url;
    json_t     *obj;
    ngx_str_t   text;

    url = base + NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION_URL;

    if (ngx_http_payout_pg_isnull(res, row,
                                  base + NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION))
    {
        return json_null();
    }

    ngx_http_payout_pg_text(res, row,
                            base + NGX_HTTP_PAYOUT_RENDER_NEXT_ACTION, &text);

    obj = json_object();

    if (obj == NULL
        || json_object_set_new(obj, "type",
                               json_stringn((char *) text.data, text.len))
           != 0)
    {
        json_decref(obj);
        return NULL;
    }

    if (ngx_http_payout_pg_isnull(res, row, url)) {
        return obj;
    }

    ngx_http_payout_pg_text(res, row, url, &text);

    if (json_object_set_new(obj, "url",
                            json_stringn((char *) text.data, text.len))
        != 0)
    {
        json_decref(obj);
        return NULL;
    }

    return obj;
}
