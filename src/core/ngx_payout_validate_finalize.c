/*
 * POST /payouts/{uuid}/finalize: {"otp": "123456"}, the code a provider
 * sent the merchant (Paystack's transfer OTP).  The message of an error
 * never quotes the code.
 */

#include <string.h>

#include "ngx_payout_validate_field.h"


static const ngx_payout_string_rule_t  ngx_payout_rule_otp = {
    NGX_PAYOUT_S_CLASS, NGX_PAYOUT_OTP_MIN, NGX_PAYOUT_OTP_MAX,
    NGX_PAYOUT_C_DIGIT, NGX_PAYOUT_C_DIGIT, "4 to 10 digits"
};

static const ngx_payout_field_t  ngx_payout_finalize_fields[] = {
    { "otp", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_string,
      offsetof(ngx_payout_finalize_input_t, otp), &ngx_payout_rule_otp },

    { NULL, 0, NULL, 0, NULL }
};


int
ngx_payout_validate_finalize(json_t *body, ngx_payout_finalize_input_t *out,
    ngx_payout_error_t *err)
{
    memset(out, 0, sizeof(ngx_payout_finalize_input_t));

    return ngx_payout_validate_fields(body, ngx_payout_finalize_fields, out,
                                      err);
}
