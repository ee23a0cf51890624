/*
 * Recipients, inline in POST /payouts or in POST /payout-recipients: the
 * destination's fields, normalised into the recipient's own buffers, and
 * seed 004's one-of rules between them.
 */

#include <string.h>

#include "ngx_payout_validate_field.h"


static int ngx_payout_phone_value(json_t *value,
    const ngx_payout_field_t *f, char *digits, const char **s,
    ngx_payout_error_t *err);
static int ngx_payout_msisdn(const char *s, size_t len, char *digits);
static int ngx_payout_email_valid(const char *s, size_t len);
static int ngx_payout_check_provider_id(json_t *value,
    const ngx_payout_field_t *f, void *p, const char *prefix,
    const char *what, const char *example, ngx_payout_error_t *err);
static int ngx_payout_validate_balance(ngx_payout_recipient_input_t *r,
    int requested, const int *given, const char **names,
    ngx_payout_error_t *err);


const ngx_payout_string_rule_t  ngx_payout_rule_bank_code = {
    NGX_PAYOUT_S_CLASS, 2, 32,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_DASH,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_DASH,
    "2 to 32 letters, digits or '-' (e.g. \"058\" or \"GTBINGLA\")"
};

const ngx_payout_string_rule_t  ngx_payout_rule_provider = {
    NGX_PAYOUT_S_CLASS, 1, 32,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_SPACE|NGX_PAYOUT_C_DASH
    |NGX_PAYOUT_C_UNDER,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_SPACE|NGX_PAYOUT_C_DASH
    |NGX_PAYOUT_C_UNDER,
    "1 to 32 letters, digits, spaces, '_' or '-' (e.g. \"MTN\")"
};


static const ngx_payout_field_t  ngx_payout_recipient_fields[] = {
    { "gateway", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_string,
      NGX_PAYOUT_RCPT(gateway), &ngx_payout_rule_gateway },

    { "bank_account_number", 0, ngx_payout_check_account_number, 0, NULL },
    { "bank_account_name", 0, ngx_payout_check_account_name, 0, NULL },
    { "bank_code", 0, ngx_payout_check_string,
      NGX_PAYOUT_RCPT(bank_code), &ngx_payout_rule_bank_code },
    { "bank_name", 0, ngx_payout_check_string,
      NGX_PAYOUT_RCPT(bank_name), &ngx_payout_rule_name },
    { "mobile_money_number", 0, ngx_payout_check_mobile_number, 0, NULL },
    { "mobile_money_provider", 0, ngx_payout_check_string,
      NGX_PAYOUT_RCPT(mobile_money_provider), &ngx_payout_rule_provider },
    { "account_id", 0, ngx_payout_check_account_id,
      NGX_PAYOUT_RCPT(account_id), NULL },
    { "balance_id", 0, ngx_payout_check_balance_id,
      NGX_PAYOUT_RCPT(balance_id), NULL },
    { "country", 0, ngx_payout_check_country, NGX_PAYOUT_RCPT(country),
      NULL },
    { "recipient_type", 0, ngx_payout_check_recipient_type,
      NGX_PAYOUT_RCPT(type), NULL },
    { "name", 0, ngx_payout_check_string,
      NGX_PAYOUT_RCPT(name), &ngx_payout_rule_name },
    { "email", 0, ngx_payout_check_email, NGX_PAYOUT_RCPT(email), NULL },
    { "phone", 0, ngx_payout_check_phone, NGX_PAYOUT_RCPT(phone), NULL },

    { "idempotency_key", 0, ngx_payout_check_string,
      NGX_PAYOUT_RCPT(idempotency_key), &ngx_payout_rule_idempotency_key },
    { "metadata", 0, ngx_payout_check_metadata,
      NGX_PAYOUT_RCPT(metadata), NULL },

    { NULL, 0, NULL, 0, NULL }
};


int
ngx_payout_validate_recipient(json_t *body,
    ngx_payout_recipient_input_t *out, ngx_payout_error_t *err)
{
    memset(out, 0, sizeof(ngx_payout_recipient_input_t));

    if (ngx_payout_validate_fields(body, ngx_payout_recipient_fields, out,
                                   err)
        != NGX_PAYOUT_OK
        || ngx_payout_validate_oneof(out, 0, err) != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    return NGX_PAYOUT_OK;
}


const char *
ngx_payout_last4(const char *number)
{
    size_t  len;

    if (number == NULL) {
        return "";
    }

    len = strlen(number);

    return len > 4 ? number + len - 4 : number;
}


/*
 * Seed 004's one-of rules: recipient_uuid, or a complete bank trio
 * (bank_name optional) with no mobile-money field, or mobile money
 * (mobile_money_number, provider optional) with no bank field; issue 8's
 * connected account is account_id alone, which a bank account may carry
 * too (the connected account that owns it); issue 9's balance is
 * recipient_type "balance" or balance_id, alone.  country goes with any.
 */

int
ngx_payout_validate_oneof(ngx_payout_recipient_input_t *r, int allow_uuid,
    ngx_payout_error_t *err)
{
    int          requested, type, given[9];
    size_t       i;
    const char  *missing;

    /* the bank fields first, then the mobile ones, in request order */
    static const char  *names[] = {
        "bank_account_number", "bank_account_name", "bank_code", "bank_name",
        "mobile_money_number", "mobile_money_provider", "account_id",
        "country", "balance_id"
    };

    given[0] = r->account_number[0] != '\0';
    given[1] = r->bank_account_name != NULL;
    given[2] = r->bank_code != NULL;
    given[3] = r->bank_name != NULL;
    given[4] = r->mobile_number[0] != '\0';
    given[5] = r->mobile_money_provider != NULL;
    given[6] = r->account_id != NULL;
    given[7] = r->country != NULL;
    given[8] = r->balance_id != NULL;

    /* the check of recipient_type stored the requested type here */
    requested = r->type;

    if (r->recipient_uuid) {
        for (i = 0; i < 9; i++) {
            if (given[i]) {
                return ngx_payout_fail(err, "conflicting_parameters",
                                       names[i],
                                       "recipient_uuid cannot be combined "
                                       "with inline recipient details such "
                                       "as %s; send one or the other.",
                                       names[i]);
            }
        }

        /* the stored recipient has its own; these are not used */
        r->name = NULL;
        r->email = NULL;
        r->phone = NULL;
        r->type = NGX_PAYOUT_RECIPIENT_NONE;

        return NGX_PAYOUT_OK;
    }

    if (requested == NGX_PAYOUT_RECIPIENT_BALANCE || given[8]) {
        return ngx_payout_validate_balance(r, requested, given, names, err);
    }

    /* a connected account has no other detail: name the one it needs */

    if (requested == NGX_PAYOUT_RECIPIENT_CONNECTED && !given[6]
        && !(given[0] || given[1] || given[2] || given[3] || given[4]
             || given[5]))
    {
        return ngx_payout_fail(err, "missing_parameter", names[6],
                               "account_id is required for a "
                               "connected_account recipient, such as "
                               "\"acct_1032D82eZvKYlo2C\".");
    }

    if (given[0] && given[1] && given[2]) {

        for (i = 4; i < 6; i++) {
            if (given[i]) {
                return ngx_payout_fail(err, "conflicting_parameters",
                                       names[i],
                                       "A complete bank account was sent "
                                       "together with %s; send either bank "
                                       "account or mobile money details, "
                                       "not both.", names[i]);
            }
        }

        type = NGX_PAYOUT_RECIPIENT_BANK;

    } else if (given[4]) {

        /*
         * with a mobile number, a stray bank field is a conflict rather
         * than an incomplete bank account: say so
         */

        for (i = 0; i < 4; i++) {
            if (given[i]) {
                return ngx_payout_fail(err, "conflicting_parameters",
                                       names[i],
                                       "Mobile money details were sent "
                                       "together with %s; send either "
                                       "mobile money or bank account "
                                       "details, not both.", names[i]);
            }
        }

        if (given[6]) {
            return ngx_payout_fail(err, "conflicting_parameters", names[6],
                                   "Mobile money details were sent "
                                   "together with account_id; account_id "
                                   "names a connected account, or the one "
                                   "that owns a bank account.");
        }

        type = NGX_PAYOUT_RECIPIENT_MOBILE;

    } else if (given[0] || given[1] || given[2] || given[3]) {

        missing = !given[0] ? names[0] : !given[1] ? names[1] : names[2];

        return ngx_payout_fail(err, "missing_parameter", missing,
                               "%s is missing: an inline bank account "
                               "needs bank_account_number, "
                               "bank_account_name and bank_code.", missing);

    } else if (given[5]) {

        return ngx_payout_fail(err, "missing_parameter", names[4],
                               "mobile_money_number is missing: "
                               "mobile_money_provider alone does not "
                               "identify a wallet.");

    } else if (given[6]) {

        type = NGX_PAYOUT_RECIPIENT_CONNECTED;

    } else if (allow_uuid) {

        return ngx_payout_fail(err, "missing_parameter", "recipient_uuid",
                               "A recipient is required: send "
                               "recipient_uuid, or bank_account_number, "
                               "bank_account_name and bank_code, or "
                               "mobile_money_number (mobile_money_provider "
                               "optional), or account_id.");

    } else {

        return ngx_payout_fail(err, "missing_parameter", names[0],
                               "Recipient details are required: send "
                               "bank_account_number, bank_account_name and "
                               "bank_code, or mobile_money_number "
                               "(mobile_money_provider optional), or "
                               "account_id.");
    }

    if (requested != NGX_PAYOUT_RECIPIENT_NONE && requested != type) {
        return ngx_payout_fail(err, "conflicting_parameters",
                               "recipient_type",
                               "recipient_type is \"%s\" but %s details "
                               "were sent.",
                               ngx_payout_recipient_type_name(requested),
                               type == NGX_PAYOUT_RECIPIENT_BANK
                               ? "bank account"
                               : type == NGX_PAYOUT_RECIPIENT_MOBILE
                               ? "mobile money" : "connected account");
    }

    r->type = type;

    return NGX_PAYOUT_OK;
}


/*
 * A balance (Mollie's bal_...) is paid to the bank account configured on
 * it: no destination detail goes with it, and balance_id is optional
 * (without it, the gateway's own balance= is used).
 */

static int
ngx_payout_validate_balance(ngx_payout_recipient_input_t *r, int requested,
    const int *given, const char **names, ngx_payout_error_t *err)
{
    size_t  i;

    if (requested != NGX_PAYOUT_RECIPIENT_NONE
        && requested != NGX_PAYOUT_RECIPIENT_BALANCE)
    {
        return ngx_payout_fail(err, "conflicting_parameters",
                               "recipient_type",
                               "recipient_type is \"%s\" but balance_id "
                               "was sent; balance_id goes with "
                               "recipient_type \"balance\" only.",
                               ngx_payout_recipient_type_name(requested));
    }

    for (i = 0; i < 7; i++) {
        if (given[i]) {
            return ngx_payout_fail(err, "conflicting_parameters", names[i],
                                   "A balance recipient was sent together "
                                   "with %s; a balance is paid to the bank "
                                   "account configured on it, so it takes "
                                   "no other destination detail.",
                                   names[i]);
        }
    }

    r->type = NGX_PAYOUT_RECIPIENT_BALANCE;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_uuid(json_t *value, const ngx_payout_field_t *f, void *p,
    ngx_payout_error_t *err)
{
    size_t                         i, len;
    const char                    *s;
    ngx_payout_recipient_input_t  *r;

    r = p;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (!ngx_payout_uuid_valid((const unsigned char *) s, len)) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be a UUID such as "
                               "\"76418b40-8e2d-47c3-ab2f-84e7347d9fcc\".",
                               f->name);
    }

    /* stored and compared lower case, whatever case the client used */

    for (i = 0; i < 36; i++) {
        r->uuid_buf[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char) (s[i] | 0x20)
                                                      : s[i];
    }

    r->uuid_buf[36] = '\0';
    r->recipient_uuid = r->uuid_buf;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_account_number(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t                         i, n, len;
    unsigned                       cls;
    const char                    *s;
    ngx_payout_recipient_input_t  *r;

    r = p;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_max_len(f->name, len, NGX_PAYOUT_NUMBER_LEN, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* "GB29 NWBK 6016 1331 9268 19" and "0123-456-789" are common forms */

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '-') {
            continue;
        }

        cls = ngx_payout_char_class((unsigned char) s[i]);

        if (!(cls & NGX_PAYOUT_C_ALNUM) || n == NGX_PAYOUT_ACCOUNT_MAX) {
            n = 0;
            break;
        }

        r->account_number[n++] = (cls & NGX_PAYOUT_C_LOWER)
                                 ? (char) (s[i] & ~0x20) : s[i];
    }

    if (n < NGX_PAYOUT_ACCOUNT_MIN) {
        r->account_number[0] = '\0';

        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be %d to %d letters or digits "
                               "(spaces and '-' are ignored).", f->name,
                               NGX_PAYOUT_ACCOUNT_MIN,
                               NGX_PAYOUT_ACCOUNT_MAX);
    }

    r->account_number[n] = '\0';

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_account_name(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t                         len;
    const char                    *s;
    ngx_payout_recipient_input_t  *r;

    r = p;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_has_control(s, len)) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must not contain control characters.",
                               f->name);
    }

    /* " JOHN SELLER " is the same account holder as "JOHN SELLER" */

    while (len && s[0] == ' ') {
        s++;
        len--;
    }

    while (len && s[len - 1] == ' ') {
        len--;
    }

    if (len == 0 || len > NGX_PAYOUT_NAME_LEN) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be 1 to %d bytes long, not counting "
                               "leading and trailing spaces.", f->name,
                               NGX_PAYOUT_NAME_LEN);
    }

    memcpy(r->account_name_buf, s, len);
    r->account_name_buf[len] = '\0';
    r->bank_account_name = r->account_name_buf;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_mobile_number(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    const char                    *s;
    ngx_payout_recipient_input_t  *r;

    r = p;

    return ngx_payout_phone_value(value, f, r->mobile_number, &s, err);
}


int
ngx_payout_check_phone(json_t *value, const ngx_payout_field_t *f, void *p,
    ngx_payout_error_t *err)
{
    char         digits[NGX_PAYOUT_MSISDN_MAX + 1];
    const char  *s;

    /* stored as sent: bound what is sent, separators included */

    if (ngx_payout_phone_value(value, f, digits, &s, err) != NGX_PAYOUT_OK) {
        return NGX_PAYOUT_ERROR;
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


/* a phone number's string *s, its digits normalised into digits[16] */

static int
ngx_payout_phone_value(json_t *value, const ngx_payout_field_t *f,
    char *digits, const char **s, ngx_payout_error_t *err)
{
    size_t  len;

    if (ngx_payout_string_value(value, f->name, s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_max_len(f->name, len, NGX_PAYOUT_PHONE_LEN, err)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_msisdn(*s, len, digits) != NGX_PAYOUT_OK) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be a phone number of %d to %d "
                               "digits, optionally starting with '+' "
                               "(spaces, '-' and parentheses are ignored).",
                               f->name, NGX_PAYOUT_MSISDN_MIN,
                               NGX_PAYOUT_MSISDN_MAX);
    }

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_email(json_t *value, const ngx_payout_field_t *f, void *p,
    ngx_payout_error_t *err)
{
    size_t       len;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_max_len(f->name, len, NGX_PAYOUT_EMAIL_LEN, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (!ngx_payout_email_valid(s, len)) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be an email address such as "
                               "\"ada@example.com\".", f->name);
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_recipient_type(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t       len;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* the one-of check compares this with the details actually sent */

    if (len == sizeof("bank_account") - 1
        && memcmp(s, "bank_account", len) == 0)
    {
        *(int *) p = NGX_PAYOUT_RECIPIENT_BANK;

    } else if (len == sizeof("mobile_money") - 1
               && memcmp(s, "mobile_money", len) == 0)
    {
        *(int *) p = NGX_PAYOUT_RECIPIENT_MOBILE;

    } else if (len == sizeof("connected_account") - 1
               && memcmp(s, "connected_account", len) == 0)
    {
        *(int *) p = NGX_PAYOUT_RECIPIENT_CONNECTED;

    } else if (len == sizeof("balance") - 1
               && memcmp(s, "balance", len) == 0)
    {
        *(int *) p = NGX_PAYOUT_RECIPIENT_BALANCE;

    } else {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be \"bank_account\" or "
                               "\"mobile_money\" (or \"connected_account\" "
                               "for a provider's connected account, "
                               "\"balance\" for a provider balance).",
                               f->name);
    }

    return NGX_PAYOUT_OK;
}


/* "acct_1032D82eZvKYlo2C": Stripe's form of a connected account's id */

int
ngx_payout_check_account_id(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    return ngx_payout_check_provider_id(value, f, p, "acct_",
                                        "a connected account id",
                                        "acct_1032D82eZvKYlo2C", err);
}


/* "bal_gVMhHKqSSRYJyPsuoPNFH": Mollie's form of a balance's id */

int
ngx_payout_check_balance_id(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    return ngx_payout_check_provider_id(value, f, p, "bal_",
                                        "a balance id",
                                        "bal_gVMhHKqSSRYJyPsuoPNFH", err);
}


/* prefix and 1 to 64 letters or digits, as sent (provider ids are cased) */

static int
ngx_payout_check_provider_id(json_t *value, const ngx_payout_field_t *f,
    void *p, const char *prefix, const char *what, const char *example,
    ngx_payout_error_t *err)
{
    size_t       i, len, plen;
    const char  *s;

    plen = strlen(prefix);

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_max_len(f->name, len,
                              plen + NGX_PAYOUT_PROVIDER_ID_MAX, err)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    for (i = plen; i < len; i++) {
        if (!(ngx_payout_char_class((unsigned char) s[i])
              & NGX_PAYOUT_C_ALNUM))
        {
            break;
        }
    }

    if (len <= plen || memcmp(s, prefix, plen) != 0 || i < len) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be %s: \"%s\" followed by 1 to %d "
                               "letters or digits, such as \"%s\".",
                               f->name, what, prefix,
                               NGX_PAYOUT_PROVIDER_ID_MAX, example);
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


/*
 * Two upper-case letters, as sent: a lower-case code is refused rather
 * than normalised, so what is stored is what the client will read back.
 */

int
ngx_payout_check_country(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    char         quoted[NGX_PAYOUT_QUOTE_LEN + 4];
    size_t       i, len;
    unsigned     cls;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_max_len(f->name, len, NGX_PAYOUT_COUNTRY_LEN, err)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    cls = 0;

    for (i = 0; i < len; i++) {
        cls |= ngx_payout_char_class((unsigned char) s[i]);
    }

    if (len == NGX_PAYOUT_COUNTRY_LEN && cls == NGX_PAYOUT_C_UPPER) {
        *(const char **) p = s;
        return NGX_PAYOUT_OK;
    }

    if (len == NGX_PAYOUT_COUNTRY_LEN
        && (cls & ~(NGX_PAYOUT_C_UPPER|NGX_PAYOUT_C_LOWER)) == 0)
    {
        ngx_payout_quote(s, len, quoted);

        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be upper case, as ISO 3166-1 "
                               "writes it: \"%c%c\", not \"%s\".", f->name,
                               s[0] & ~0x20, s[1] & ~0x20, quoted);
    }

    return ngx_payout_fail(err, "invalid_parameter", f->name,
                           "%s must be an ISO 3166-1 alpha-2 country code: "
                           "two upper-case letters such as \"NG\".",
                           f->name);
}


/* the API's name of a NGX_PAYOUT_RECIPIENT_* type */

const char *
ngx_payout_recipient_type_name(int type)
{
    switch (type) {
    case NGX_PAYOUT_RECIPIENT_BANK:
        return "bank_account";
    case NGX_PAYOUT_RECIPIENT_MOBILE:
        return "mobile_money";
    case NGX_PAYOUT_RECIPIENT_CONNECTED:
        return "connected_account";
    case NGX_PAYOUT_RECIPIENT_BALANCE:
        return "balance";
    default:
        return "none";
    }
}


/*
 * "+234 (803) 123-4567" -> "2348031234567": separators dropped, an
 * optional leading "+", then 7 to 15 digits (E.164's maximum).  digits
 * must have room for 16 bytes; it is left empty on failure.
 */

static int
ngx_payout_msisdn(const char *s, size_t len, char *digits)
{
    int     plus;
    size_t  i, n;

    n = 0;
    plus = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == ' ' || s[i] == '-' || s[i] == '(' || s[i] == ')') {
            continue;
        }

        if (s[i] == '+' && n == 0 && !plus) {
            plus = 1;
            continue;
        }

        if (s[i] < '0' || s[i] > '9' || n == NGX_PAYOUT_MSISDN_MAX) {
            digits[0] = '\0';
            return NGX_PAYOUT_ERROR;
        }

        digits[n++] = s[i];
    }

    digits[n] = '\0';

    if (n < NGX_PAYOUT_MSISDN_MIN) {
        digits[0] = '\0';
        return NGX_PAYOUT_ERROR;
    }

    return NGX_PAYOUT_OK;
}


/*
 * Deliberately loose (RFC 5322 allows far more than anyone uses): one
 * "@", something before it, and a dotted domain after it.
 */

static int
ngx_payout_email_valid(const char *s, size_t len)
{
    size_t  i, at, dot;

    at = len;
    dot = 0;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f) {
            return 0;
        }

        if (s[i] == '@') {
            if (at != len) {
                return 0;
            }

            at = i;

        } else if (s[i] == '.' && at != len) {
            dot = i;
        }
    }

    if (at == 0 || at == len || at + 1 == len || dot == 0) {
        return 0;
    }

    /* "a@.com" and "a@example." have no real domain */

    return s[at + 1] != '.' && s[len - 1] != '.';
}
