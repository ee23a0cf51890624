/*
 * POST /payouts: its own fields (amount, currency, tenant, narration,
 * stage) and the table that adds an inline recipient, metadata and
 * webhook URLs to them.
 */

#include <string.h>

#include "ngx_payout_validate_field.h"


static int ngx_payout_check_boolean(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);


static const ngx_payout_string_rule_t  ngx_payout_rule_tenant = {
    NGX_PAYOUT_S_CLASS, 1, 63,
    NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_DIGIT, NGX_PAYOUT_C_SLUG,
    "1 to 63 lower-case letters, digits, '_' or '-', starting with a "
    "letter or digit"
};

const ngx_payout_string_rule_t  ngx_payout_rule_narration = {
    NGX_PAYOUT_S_TEXT, 1, 255, 0, 0, NULL
};


static const ngx_payout_field_t  ngx_payout_create_fields[] = {
    { "amount", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_amount,
      NGX_PAYOUT_CREATE(amount), NULL },
    { "currency", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_currency,
      NGX_PAYOUT_CREATE(currency), NULL },
    { "gateway", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_string,
      NGX_PAYOUT_CREATE(gateway), &ngx_payout_rule_gateway },

    { "recipient_uuid", 0, ngx_payout_check_uuid,
      NGX_PAYOUT_CREATE_RCPT, NULL },
    { "bank_account_number", 0, ngx_payout_check_account_number,
      NGX_PAYOUT_CREATE_RCPT, NULL },
    { "bank_account_name", 0, ngx_payout_check_account_name,
      NGX_PAYOUT_CREATE_RCPT, NULL },
    { "bank_code", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE_R(bank_code), &ngx_payout_rule_bank_code },
    { "bank_name", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE_R(bank_name), &ngx_payout_rule_name },
    { "mobile_money_number", 0, ngx_payout_check_mobile_number,
      NGX_PAYOUT_CREATE_RCPT, NULL },
    { "mobile_money_provider", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE_R(mobile_money_provider), &ngx_payout_rule_provider },
    { "account_id", 0, ngx_payout_check_account_id,
      NGX_PAYOUT_CREATE_R(account_id), NULL },
    { "balance_id", 0, ngx_payout_check_balance_id,
      NGX_PAYOUT_CREATE_R(balance_id), NULL },
    { "country", 0, ngx_payout_check_country,
      NGX_PAYOUT_CREATE_R(country), NULL },
    { "recipient_type", 0, ngx_payout_check_recipient_type,
      NGX_PAYOUT_CREATE_R(type), NULL },
    { "name", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE_R(name), &ngx_payout_rule_name },
    { "email", 0, ngx_payout_check_email,
      NGX_PAYOUT_CREATE_R(email), NULL },
    { "phone", 0, ngx_payout_check_phone,
      NGX_PAYOUT_CREATE_R(phone), NULL },

    { "tenant", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE(tenant), &ngx_payout_rule_tenant },
    { "narration", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE(narration), &ngx_payout_rule_narration },
    { "idempotency_key", 0, ngx_payout_check_string,
      NGX_PAYOUT_CREATE(idempotency_key), &ngx_payout_rule_idempotency_key },
    { "webhook_urls", 0, ngx_payout_check_webhook_urls, 0, NULL },
    { "webhook_secret", 0, ngx_payout_check_secret,
      NGX_PAYOUT_CREATE(webhook_secret), NULL },
    { "metadata", 0, ngx_payout_check_metadata,
      NGX_PAYOUT_CREATE(metadata), NULL },
    { "stage", 0, ngx_payout_check_boolean,
      NGX_PAYOUT_CREATE(stage), NULL },

    { NULL, 0, NULL, 0, NULL }
};


int
ngx_payout_validate_create(json_t *body, ngx_payout_create_t *out,
    ngx_payout_error_t *err)
{
    return ngx_payout_validate_create_flags(body, 0, out, err);
}


int
ngx_payout_validate_create_flags(json_t *body, unsigned flags,
    ngx_payout_create_t *out, ngx_payout_error_t *err)
{
    memset(out, 0, sizeof(ngx_payout_create_t));
    out->flags = flags;

    if (ngx_payout_validate_fields(body, ngx_payout_create_fields, out, err)
        != NGX_PAYOUT_OK
        || ngx_payout_validate_oneof(&out->recipient, 1, err)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* an inline recipient is created at the payout's gateway */
    out->recipient.gateway = out->gateway;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_amount(json_t *value, const ngx_payout_field_t *f, void *p,
    ngx_payout_error_t *err)
{
    json_int_t  amount;

    if (json_is_real(value)) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be an integer number of minor "
                               "units (e.g. 250000 for NGN 2,500.00), not "
                               "a decimal number.", f->name);
    }

    if (!json_is_integer(value)) {
        return ngx_payout_type_error(err, f->name,
                                     "an integer number of minor units",
                                     value);
    }

    amount = json_integer_value(value);

    if (amount < 1 || amount > NGX_PAYOUT_MAX_AMOUNT) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be between 1 and %lld minor units.",
                               f->name, (long long) NGX_PAYOUT_MAX_AMOUNT);
    }

    *(int64_t *) p = (int64_t) amount;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_currency(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    char                          code[4];
    size_t                        i, len;
    const char                   *s;
    const ngx_payout_currency_t  *currency;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < len && i < 3; i++) {
        if (!(ngx_payout_char_class((unsigned char) s[i])
              & (NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_UPPER)))
        {
            break;
        }

        code[i] = (char) (s[i] & ~0x20);
    }

    if (len != 3 || i != 3) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be a 3-letter ISO 4217 code "
                               "such as \"NGN\".", f->name);
    }

    code[3] = '\0';

    currency = ngx_payout_currency_find(s, len);

    if (currency == NULL) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s \"%s\" is not a supported ISO 4217 "
                               "currency code.", f->name, code);
    }

    *(const ngx_payout_currency_t **) p = currency;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_check_boolean(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    if (!json_is_boolean(value)) {
        return ngx_payout_type_error(err, f->name, "a boolean", value);
    }

    *(int *) p = json_is_true(value);

    return NGX_PAYOUT_OK;
}
