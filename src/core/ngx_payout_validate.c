/*
 * Validation of POST /payouts and POST /payout-recipients bodies: seed
 * 004's fields, their types and formats, and its one-of recipient rules.
 *
 * Each request has a table of its fields; the table is both the list of
 * known fields (anything else is a typo we report) and the order in which
 * fields are checked, so the first problem reported is deterministic:
 * unknown fields, then every field in table order, then the one-of rules.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ngx_payout_validate.h"


/* character classes of the identifier-like fields */
#define NGX_PAYOUT_C_LOWER     0x01
#define NGX_PAYOUT_C_UPPER     0x02
#define NGX_PAYOUT_C_DIGIT     0x04
#define NGX_PAYOUT_C_DASH      0x08
#define NGX_PAYOUT_C_UNDER     0x10
#define NGX_PAYOUT_C_SPACE     0x20

#define NGX_PAYOUT_C_ALNUM     (NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_UPPER        \
                                |NGX_PAYOUT_C_DIGIT)
#define NGX_PAYOUT_C_SLUG      (NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_DIGIT        \
                                |NGX_PAYOUT_C_DASH|NGX_PAYOUT_C_UNDER)

/* how a string field's bytes are checked */
#define NGX_PAYOUT_S_TEXT      0    /* any UTF-8 but control characters */
#define NGX_PAYOUT_S_ASCII     1    /* printable ASCII, no space */
#define NGX_PAYOUT_S_CLASS     2    /* the rule's character classes */

#define NGX_PAYOUT_F_REQUIRED  1

#define NGX_PAYOUT_METADATA_KEYS       50
#define NGX_PAYOUT_METADATA_KEY_LEN    40
#define NGX_PAYOUT_METADATA_VALUE_LEN  500
#define NGX_PAYOUT_EMAIL_LEN           254
/* as sent, separators included; what is stored is normalised or this */
#define NGX_PAYOUT_NUMBER_LEN          64
#define NGX_PAYOUT_PHONE_LEN           32
#define NGX_PAYOUT_MSISDN_MIN          7
#define NGX_PAYOUT_MSISDN_MAX          15
#define NGX_PAYOUT_ACCOUNT_MIN         4
#define NGX_PAYOUT_ACCOUNT_MAX         34
#define NGX_PAYOUT_NAME_LEN            128

/* room for a quoted piece of input in a 256-byte message */
#define NGX_PAYOUT_QUOTE_LEN           48


typedef struct {
    int           kind;          /* NGX_PAYOUT_S_* */
    size_t        min;           /* bytes */
    size_t        max;
    unsigned      first;         /* classes of the first character */
    unsigned      rest;          /* classes of the others */
    const char   *what;          /* "must be ...", for S_CLASS and S_ASCII */
} ngx_payout_string_rule_t;


typedef struct ngx_payout_field_s  ngx_payout_field_t;

/*
 * A field's check: value is never NULL nor JSON null; p is the result
 * struct plus the field's offset.
 */
typedef int (*ngx_payout_check_pt)(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);

struct ngx_payout_field_s {
    const char                      *name;
    unsigned                         flags;
    ngx_payout_check_pt              check;
    /*
     * where the result goes: a member of its own type, or, for checks
     * that fill the recipient's buffers, the recipient struct itself
     */
    size_t                           offset;
    const ngx_payout_string_rule_t  *rule;
};


static int ngx_payout_validate_fields(json_t *body,
    const ngx_payout_field_t *fields, void *out, ngx_payout_error_t *err);
static int ngx_payout_validate_oneof(ngx_payout_recipient_input_t *r,
    int allow_uuid, ngx_payout_error_t *err);

static int ngx_payout_check_amount(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_currency(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_string(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_uuid(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_account_number(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_account_name(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_mobile_number(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_phone(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_email(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_recipient_type(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_webhook_urls(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_endpoint_url(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_secret(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_metadata(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_boolean(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);

static int ngx_payout_string_value(json_t *value, const char *name,
    const char **s, size_t *len, ngx_payout_error_t *err);
static int ngx_payout_string_valid(const ngx_payout_string_rule_t *rule,
    const char *name, const char *s, size_t len, ngx_payout_error_t *err);
static int ngx_payout_max_len(const char *name, size_t len, size_t max,
    ngx_payout_error_t *err);
static int ngx_payout_has_control(const char *s, size_t len);
static unsigned ngx_payout_char_class(unsigned char c);
static int ngx_payout_msisdn(const char *s, size_t len, char *digits);
static int ngx_payout_url_error(const char *name, long index,
    const char *s, size_t len, unsigned flags, ngx_payout_error_t *err);

static int ngx_payout_email_valid(const char *s, size_t len);
static size_t ngx_payout_key_len(const char *key);
static const char *ngx_payout_json_type_name(json_t *value);
static void ngx_payout_quote(const char *s, size_t len, char *buf);
static const char *ngx_payout_suggest(const ngx_payout_field_t *fields,
    const char *key, size_t len);
static size_t ngx_payout_distance(const char *a, size_t alen,
    const char *b, size_t blen);
static int ngx_payout_type_error(ngx_payout_error_t *err, const char *name,
    const char *expected, json_t *value);
static int ngx_payout_fail(ngx_payout_error_t *err, const char *code,
    const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;


static const ngx_payout_string_rule_t  ngx_payout_rule_gateway = {
    NGX_PAYOUT_S_CLASS, 1, 32,
    NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_DIGIT, NGX_PAYOUT_C_SLUG,
    "1 to 32 lower-case letters, digits, '_' or '-', starting with a "
    "letter or digit"
};

static const ngx_payout_string_rule_t  ngx_payout_rule_tenant = {
    NGX_PAYOUT_S_CLASS, 1, 63,
    NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_DIGIT, NGX_PAYOUT_C_SLUG,
    "1 to 63 lower-case letters, digits, '_' or '-', starting with a "
    "letter or digit"
};

static const ngx_payout_string_rule_t  ngx_payout_rule_bank_code = {
    NGX_PAYOUT_S_CLASS, 2, 32,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_DASH,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_DASH,
    "2 to 32 letters, digits or '-' (e.g. \"058\" or \"GTBINGLA\")"
};

static const ngx_payout_string_rule_t  ngx_payout_rule_provider = {
    NGX_PAYOUT_S_CLASS, 1, 32,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_SPACE|NGX_PAYOUT_C_DASH
    |NGX_PAYOUT_C_UNDER,
    NGX_PAYOUT_C_ALNUM|NGX_PAYOUT_C_SPACE|NGX_PAYOUT_C_DASH
    |NGX_PAYOUT_C_UNDER,
    "1 to 32 letters, digits, spaces, '_' or '-' (e.g. \"MTN\")"
};

static const ngx_payout_string_rule_t  ngx_payout_rule_name = {
    NGX_PAYOUT_S_TEXT, 0, NGX_PAYOUT_NAME_LEN, 0, 0, NULL
};

static const ngx_payout_string_rule_t  ngx_payout_rule_narration = {
    NGX_PAYOUT_S_TEXT, 1, 255, 0, 0, NULL
};

static const ngx_payout_string_rule_t  ngx_payout_rule_idempotency_key = {
    NGX_PAYOUT_S_ASCII, 1, 255, 0, 0,
    "1 to 255 printable ASCII characters without spaces"
};


#define NGX_PAYOUT_CREATE(m)     offsetof(ngx_payout_create_t, m)
#define NGX_PAYOUT_CREATE_R(m)   offsetof(ngx_payout_create_t, recipient.m)
#define NGX_PAYOUT_CREATE_RCPT   offsetof(ngx_payout_create_t, recipient)
#define NGX_PAYOUT_RCPT(m)       offsetof(ngx_payout_recipient_input_t, m)


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


static const ngx_payout_field_t  ngx_payout_endpoint_fields[] = {
    { "url", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_endpoint_url, 0, NULL },

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


int
ngx_payout_validate_endpoint(json_t *body, unsigned flags,
    ngx_payout_endpoint_input_t *out, ngx_payout_error_t *err)
{
    memset(out, 0, sizeof(ngx_payout_endpoint_input_t));
    out->flags = flags;

    return ngx_payout_validate_fields(body, ngx_payout_endpoint_fields, out,
                                      err);
}


/*
 * The signer's key (ngx_payout_webhook_key()) of a "whsec_" secret is its
 * base64 part decoded: strict base64 of 24 to 64 bytes, so every secret
 * accepted here signs, and verifies with Standard Webhooks libraries.
 */

const char *
ngx_payout_secret_check(const char *s, size_t len)
{
    size_t  i, pad;

    if (len < 6 || memcmp(s, "whsec_", 6) != 0) {
        if (len == 0 || len > NGX_PAYOUT_SECRET_LEN) {
            return "must be 1 to 256 bytes long";
        }

        return ngx_payout_has_control(s, len)
               ? "must not contain control characters" : NULL;
    }

    s += 6;
    len -= 6;
    pad = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '=' && i + 2 >= len) {
            pad++;
            continue;
        }

        if (pad || !(ngx_payout_char_class((unsigned char) s[i])
                     & NGX_PAYOUT_C_ALNUM
                     || s[i] == '+' || s[i] == '/'))
        {
            return "must be \"whsec_\" followed by base64 (standard "
                   "alphabet, padded)";
        }
    }

    if (len % 4) {
        return "must be \"whsec_\" followed by base64 (standard "
               "alphabet, padded)";
    }

    if (len / 4 * 3 - pad < NGX_PAYOUT_WHSEC_MIN
        || len / 4 * 3 - pad > NGX_PAYOUT_WHSEC_MAX)
    {
        return "must be \"whsec_\" followed by the base64 of 24 to 64 "
               "bytes";
    }

    return NULL;
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


static int
ngx_payout_validate_fields(json_t *body, const ngx_payout_field_t *fields,
    void *out, ngx_payout_error_t *err)
{
    char                      quoted[NGX_PAYOUT_QUOTE_LEN + 4];
    size_t                    key_len;
    json_t                   *value;
    const char               *key, *hint;
    const ngx_payout_field_t *f;

    if (!json_is_object(body)) {
        return ngx_payout_fail(err, "invalid_parameter", NULL,
                               "The request body must be a JSON object.");
    }

    /* unknown fields first: a misspelt optional field must not vanish */

    json_object_foreach(body, key, value) {
        key_len = ngx_payout_key_len(key);

        for (f = fields; f->name; f++) {
            if (strlen(f->name) == key_len
                && memcmp(f->name, key, key_len) == 0)
            {
                break;
            }
        }

        if (f->name) {
            continue;
        }

        ngx_payout_quote(key, key_len, quoted);
        hint = ngx_payout_suggest(fields, key, key_len);

        if (hint) {
            return ngx_payout_fail(err, "unknown_parameter", key,
                                   "Unknown parameter \"%s\"; "
                                   "did you mean \"%s\"?", quoted, hint);
        }

        return ngx_payout_fail(err, "unknown_parameter", key,
                               "Unknown parameter \"%s\".", quoted);
    }

    for (f = fields; f->name; f++) {
        value = json_object_get(body, f->name);

        /* null is how many clients say "not set" */

        if (value == NULL || json_is_null(value)) {
            if (f->flags & NGX_PAYOUT_F_REQUIRED) {
                return ngx_payout_fail(err, "missing_parameter", f->name,
                                       "%s is required.", f->name);
            }

            continue;
        }

        if (f->check(value, f, (char *) out + f->offset, err)
            != NGX_PAYOUT_OK)
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    return NGX_PAYOUT_OK;
}


/*
 * Seed 004's one-of rules: recipient_uuid, or a complete bank trio
 * (bank_name optional) with no mobile-money field, or mobile money
 * (mobile_money_number, provider optional) with no bank field.
 */

static int
ngx_payout_validate_oneof(ngx_payout_recipient_input_t *r, int allow_uuid,
    ngx_payout_error_t *err)
{
    int          requested, type, given[6];
    size_t       i;
    const char  *missing;

    /* the bank fields first, then the mobile ones, in request order */
    static const char  *names[] = {
        "bank_account_number", "bank_account_name", "bank_code", "bank_name",
        "mobile_money_number", "mobile_money_provider"
    };

    given[0] = r->account_number[0] != '\0';
    given[1] = r->bank_account_name != NULL;
    given[2] = r->bank_code != NULL;
    given[3] = r->bank_name != NULL;
    given[4] = r->mobile_number[0] != '\0';
    given[5] = r->mobile_money_provider != NULL;

    /* the check of recipient_type stored the requested type here */
    requested = r->type;

    if (r->recipient_uuid) {
        for (i = 0; i < 6; i++) {
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

    } else if (allow_uuid) {

        return ngx_payout_fail(err, "missing_parameter", "recipient_uuid",
                               "A recipient is required: send "
                               "recipient_uuid, or bank_account_number, "
                               "bank_account_name and bank_code, or "
                               "mobile_money_number (mobile_money_provider "
                               "optional).");

    } else {

        return ngx_payout_fail(err, "missing_parameter", names[0],
                               "Recipient details are required: send "
                               "bank_account_number, bank_account_name and "
                               "bank_code, or mobile_money_number "
                               "(mobile_money_provider optional).");
    }

    if (requested != NGX_PAYOUT_RECIPIENT_NONE && requested != type) {
        return ngx_payout_fail(err, "conflicting_parameters",
                               "recipient_type",
                               "recipient_type is \"%s\" but %s details "
                               "were sent.",
                               requested == NGX_PAYOUT_RECIPIENT_BANK
                               ? "bank_account" : "mobile_money",
                               type == NGX_PAYOUT_RECIPIENT_BANK
                               ? "bank account" : "mobile money");
    }

    r->type = type;

    return NGX_PAYOUT_OK;
}


static int
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


static int
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
ngx_payout_check_string(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t       len;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_string_valid(f->rule, f->name, s, len, err)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


static int
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


static int
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


static int
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


static int
ngx_payout_check_mobile_number(json_t *value, const ngx_payout_field_t *f,
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

    if (ngx_payout_max_len(f->name, len, NGX_PAYOUT_PHONE_LEN, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_msisdn(s, len, r->mobile_number) != NGX_PAYOUT_OK) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be a phone number of %d to %d "
                               "digits, optionally starting with '+' "
                               "(spaces, '-' and parentheses are ignored).",
                               f->name, NGX_PAYOUT_MSISDN_MIN,
                               NGX_PAYOUT_MSISDN_MAX);
    }

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_check_phone(json_t *value, const ngx_payout_field_t *f, void *p,
    ngx_payout_error_t *err)
{
    char         digits[NGX_PAYOUT_MSISDN_MAX + 1];
    size_t       len;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* stored as sent: bound what is sent, separators included */

    if (ngx_payout_max_len(f->name, len, NGX_PAYOUT_PHONE_LEN, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_msisdn(s, len, digits) != NGX_PAYOUT_OK) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be a phone number of %d to %d "
                               "digits, optionally starting with '+' "
                               "(spaces, '-' and parentheses are ignored).",
                               f->name, NGX_PAYOUT_MSISDN_MIN,
                               NGX_PAYOUT_MSISDN_MAX);
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


static int
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


static int
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

    } else {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be \"bank_account\" or "
                               "\"mobile_money\".", f->name);
    }

    return NGX_PAYOUT_OK;
}


/* p: the create request itself, for its flags */

static int
ngx_payout_check_webhook_urls(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t                i;
    json_t               *url;
    ngx_payout_create_t  *c;

    c = p;

    if (!json_is_array(value)) {
        return ngx_payout_type_error(err, f->name, "an array of URLs", value);
    }

    if (json_array_size(value) > NGX_PAYOUT_MAX_WEBHOOK_URLS) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s may list at most %d URLs.", f->name,
                               NGX_PAYOUT_MAX_WEBHOOK_URLS);
    }

    json_array_foreach(value, i, url) {

        if (!json_is_string(url)) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s[%zu] must be a string, not %s.",
                                   f->name, i,
                                   ngx_payout_json_type_name(url));
        }

        if (ngx_payout_url_error(f->name, (long) i, json_string_value(url),
                                 json_string_length(url), c->flags, err))
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    /* an empty list is the same as none */

    c->webhook_urls = json_array_size(value) ? value : NULL;

    return NGX_PAYOUT_OK;
}


/* p: the endpoint request itself, for its flags */

static int
ngx_payout_check_endpoint_url(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t                        len;
    const char                   *s;
    ngx_payout_endpoint_input_t  *e;

    e = p;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_url_error(f->name, -1, s, len, e->flags, err))
    {
        return NGX_PAYOUT_ERROR;
    }

    e->url = s;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_check_secret(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t       len;
    const char  *s, *why;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* never quoted: it is a secret */

    why = ngx_payout_secret_check(s, len);

    if (why) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s %s.", f->name, why);
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_check_metadata(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    char         quoted[NGX_PAYOUT_QUOTE_LEN + 4];
    size_t       key_len, size;
    json_t      *v;
    const char  *key;

    if (!json_is_object(value)) {
        return ngx_payout_type_error(err, f->name, "an object", value);
    }

    if (json_object_size(value) > NGX_PAYOUT_METADATA_KEYS) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s may have at most %d keys.", f->name,
                               NGX_PAYOUT_METADATA_KEYS);
    }

    json_object_foreach(value, key, v) {
        key_len = ngx_payout_key_len(key);
        ngx_payout_quote(key, key_len, quoted);

        if (key_len == 0 || key_len > NGX_PAYOUT_METADATA_KEY_LEN) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s keys must be 1 to %d bytes long; "
                                   "\"%s\" is not.", f->name,
                                   NGX_PAYOUT_METADATA_KEY_LEN, quoted);
        }

        /* PostgreSQL's jsonb refuses \u0000: refuse it here, as a 400 */

        if (strlen(key) != key_len
            || (json_is_string(v)
                && strlen(json_string_value(v)) != json_string_length(v)))
        {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s must not contain NUL characters "
                                   "(in \"%s\").", f->name, quoted);
        }

        if (json_is_object(v) || json_is_array(v)) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s values must be strings, numbers, "
                                   "booleans or null; \"%s\" is %s.",
                                   f->name, quoted,
                                   ngx_payout_json_type_name(v));
        }

        if (json_is_string(v)
            && json_string_length(v) > NGX_PAYOUT_METADATA_VALUE_LEN)
        {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s value \"%s\" must be at most %d "
                                   "bytes long.", f->name, quoted,
                                   NGX_PAYOUT_METADATA_VALUE_LEN);
        }
    }

    /* what is stored is the compact serialisation: bound that */

    size = json_dumpb(value, NULL, 0, JSON_COMPACT);

    if (size == 0 || size > NGX_PAYOUT_MAX_METADATA) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be at most %d bytes long as "
                               "compact JSON.", f->name,
                               NGX_PAYOUT_MAX_METADATA);
    }

    *(json_t **) p = value;

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


static int
ngx_payout_string_value(json_t *value, const char *name, const char **s,
    size_t *len, ngx_payout_error_t *err)
{
    if (!json_is_string(value)) {
        return ngx_payout_type_error(err, name, "a string", value);
    }

    *s = json_string_value(value);
    *len = json_string_length(value);

    /* the rest of the system sees C strings: "a\u0000b" would be cut */

    if (strlen(*s) != *len) {
        return ngx_payout_fail(err, "invalid_parameter", name,
                               "%s must not contain NUL characters.", name);
    }

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_string_valid(const ngx_payout_string_rule_t *rule,
    const char *name, const char *s, size_t len, ngx_payout_error_t *err)
{
    size_t    i;
    unsigned  cls;

    switch (rule->kind) {

    case NGX_PAYOUT_S_CLASS:

        for (i = 0; i < len; i++) {
            cls = ngx_payout_char_class((unsigned char) s[i]);

            if (!(cls & (i == 0 ? rule->first : rule->rest))) {
                break;
            }
        }

        if (i < len || len < rule->min || len > rule->max) {
            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must be %s.", name, rule->what);
        }

        return NGX_PAYOUT_OK;

    case NGX_PAYOUT_S_ASCII:

        for (i = 0; i < len; i++) {
            if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e) {
                break;
            }
        }

        if (i < len || len < rule->min || len > rule->max) {
            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must be %s.", name, rule->what);
        }

        return NGX_PAYOUT_OK;

    default: /* NGX_PAYOUT_S_TEXT */

        if (len < rule->min || len > rule->max) {
            if (len == 0) {
                return ngx_payout_fail(err, "invalid_parameter", name,
                                       "%s must not be empty.", name);
            }

            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must be at most %zu bytes long.",
                                   name, rule->max);
        }

        if (ngx_payout_has_control(s, len)) {
            return ngx_payout_fail(err, "invalid_parameter", name,
                                   "%s must not contain control "
                                   "characters.", name);
        }

        return NGX_PAYOUT_OK;
    }
}


static int
ngx_payout_max_len(const char *name, size_t len, size_t max,
    ngx_payout_error_t *err)
{
    if (len > max) {
        return ngx_payout_fail(err, "invalid_parameter", name,
                               "%s must be at most %zu bytes long.", name,
                               max);
    }

    return NGX_PAYOUT_OK;
}


/*
 * C0 controls, DEL, and C1 controls (U+0080..U+009F, 0xc2 0x80..0x9f in
 * UTF-8, which jansson guarantees): none belongs in a name or a narration
 * and some terminals and bank files interpret them.
 */

static int
ngx_payout_has_control(const char *s, size_t len)
{
    size_t          i;
    unsigned char   c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c == 0x7f) {
            return 1;
        }

        if (c == 0xc2 && i + 1 < len
            && (unsigned char) s[i + 1] >= 0x80
            && (unsigned char) s[i + 1] <= 0x9f)
        {
            return 1;
        }
    }

    return 0;
}


static unsigned
ngx_payout_char_class(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return NGX_PAYOUT_C_LOWER;
    }

    if (c >= 'A' && c <= 'Z') {
        return NGX_PAYOUT_C_UPPER;
    }

    if (c >= '0' && c <= '9') {
        return NGX_PAYOUT_C_DIGIT;
    }

    switch (c) {
    case '-':
        return NGX_PAYOUT_C_DASH;
    case '_':
        return NGX_PAYOUT_C_UNDER;
    case ' ':
        return NGX_PAYOUT_C_SPACE;
    default:
        return 0;
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


/* a failed ngx_payout_url_check() as a 400 on name, or name[index] */

static int
ngx_payout_url_error(const char *name, long index, const char *s,
    size_t len, unsigned flags, ngx_payout_error_t *err)
{
    char  why[192];

    if (ngx_payout_url_check(s, len, flags, why, sizeof(why))
        == NGX_PAYOUT_OK)
    {
        return 0;
    }

    if (index < 0) {
        ngx_payout_fail(err, "invalid_parameter", name, "%s %s.", name, why);

    } else {
        ngx_payout_fail(err, "invalid_parameter", name, "%s[%ld] %s.", name,
                        index, why);
    }

    return 1;
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


/*
 * Keys may hold NUL since jansson 2.14; the configure check asks only for
 * 2.10, where they cannot.
 */

static size_t
ngx_payout_key_len(const char *key)
{
#if JANSSON_VERSION_HEX >= 0x020e00
    return json_object_iter_key_len(json_object_key_to_iter(key));
#else
    return strlen(key);
#endif
}


static const char *
ngx_payout_json_type_name(json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}


/*
 * Input quoted in a message: at most NGX_PAYOUT_QUOTE_LEN bytes, cut at
 * a UTF-8 character boundary (a cut character would make the whole
 * message invalid JSON text), control characters replaced.  buf must
 * have room for NGX_PAYOUT_QUOTE_LEN + 4 bytes.
 */

static void
ngx_payout_quote(const char *s, size_t len, char *buf)
{
    size_t          i, n;
    unsigned char   c;

    n = len;

    if (n > NGX_PAYOUT_QUOTE_LEN) {
        n = NGX_PAYOUT_QUOTE_LEN;

        while (n && ((unsigned char) s[n] & 0xc0) == 0x80) {
            n--;
        }
    }

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];
        buf[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
                 ? '?' : (char) c;
    }

    if (n < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';
}


/* the known field nearest to a misspelt one, if it is near enough */

static const char *
ngx_payout_suggest(const ngx_payout_field_t *fields, const char *key,
    size_t len)
{
    size_t                     d, best_d;
    const char                *best;
    const ngx_payout_field_t  *f;

    if (len > 64) {
        return NULL;
    }

    best = NULL;
    best_d = 3;

    for (f = fields; f->name; f++) {
        d = ngx_payout_distance(key, len, f->name, strlen(f->name));

        if (d < best_d) {
            best_d = d;
            best = f->name;
        }
    }

    /* "amout" -> "amount"; but "id" is not a typo of "tenant" */

    if (best && best_d * 3 > len) {
        return NULL;
    }

    return best;
}


/* Levenshtein distance, case-insensitive; both lengths at most 64 */

static size_t
ngx_payout_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i, j, prev, cur, sub, row[65];

    for (j = 0; j <= blen; j++) {
        row[j] = j;
    }

    for (i = 1; i <= alen; i++) {
        prev = row[0];
        row[0] = i;

        for (j = 1; j <= blen; j++) {
            sub = prev + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
            cur = row[j] + 1;

            if (row[j - 1] + 1 < cur) {
                cur = row[j - 1] + 1;
            }

            if (sub < cur) {
                cur = sub;
            }

            prev = row[j];
            row[j] = cur;
        }
    }

    return row[blen];
}


static int
ngx_payout_type_error(ngx_payout_error_t *err, const char *name,
    const char *expected, json_t *value)
{
    return ngx_payout_fail(err, "invalid_parameter", name,
                           "%s must be %s, not %s.", name, expected,
                           ngx_payout_json_type_name(value));
}


static int
ngx_payout_fail(ngx_payout_error_t *err, const char *code, const char *field,
    const char *fmt, ...)
{
    va_list  args;

    err->code = code;
    err->field = field;

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);

    return NGX_PAYOUT_ERROR;
}
