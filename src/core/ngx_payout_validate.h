/*
 * Request validation for payouts and recipients (seed 004's fields and
 * one-of rules), currencies with their ISO 4217 exponents.  Strings in the
 * results point into the json_t they came from, normalised copies into
 * the result's own buffers.
 */

#ifndef NGX_PAYOUT_VALIDATE_H_INCLUDED_
#define NGX_PAYOUT_VALIDATE_H_INCLUDED_

#include "ngx_payout_core.h"


/* what a failed validation reports: the API answers 400 with these */
typedef struct {
    const char  *code;           /* "invalid_parameter",
                                    "missing_parameter",
                                    "unknown_parameter",
                                    "conflicting_parameters" */
    const char  *field;          /* the offending field, or NULL; an
                                    unknown one points into the body */
    char         message[256];
} ngx_payout_error_t;


typedef struct {
    const char  *code;           /* "NGN" */
    int          exponent;       /* 2 */
} ngx_payout_currency_t;

const ngx_payout_currency_t *ngx_payout_currency_find(const char *code,
    size_t len);


#define NGX_PAYOUT_RECIPIENT_NONE    0   /* recipient_uuid given instead */
#define NGX_PAYOUT_RECIPIENT_BANK    1
#define NGX_PAYOUT_RECIPIENT_MOBILE  2
#define NGX_PAYOUT_RECIPIENT_CONNECTED  3  /* a provider's connected
                                             * account (acct_...) */
#define NGX_PAYOUT_RECIPIENT_BALANCE  4  /* a provider balance (Mollie
                                           * bal_...): paid to the bank
                                           * account set on it */

#define NGX_PAYOUT_MAX_AMOUNT        1000000000000000LL   /* 10^15 minor */
#define NGX_PAYOUT_MAX_WEBHOOK_URLS  5
#define NGX_PAYOUT_MAX_METADATA      8192    /* bytes, serialised */

/* every text the API stores has a maximum (docs/api.md, "Limits") */
#define NGX_PAYOUT_URL_LEN           2048    /* bytes */
#define NGX_PAYOUT_SECRET_LEN        256     /* a plain webhook_secret */
#define NGX_PAYOUT_WHSEC_MIN         24      /* decoded "whsec_" bytes */
#define NGX_PAYOUT_WHSEC_MAX         64
#define NGX_PAYOUT_PROVIDER_ID_MAX   64      /* after "acct_", "bal_" */
#define NGX_PAYOUT_ACCOUNT_ID_LEN    69      /* "acct_" + 1 to 64 */
#define NGX_PAYOUT_BALANCE_ID_LEN    68      /* "bal_" + 1 to 64 */
#define NGX_PAYOUT_COUNTRY_LEN       2       /* ISO 3166-1 alpha-2 */

/* what the caller allows: literal private addresses in webhook URLs */
#define NGX_PAYOUT_URL_ALLOW_PRIVATE 0x01


typedef struct {
    int           type;                     /* NGX_PAYOUT_RECIPIENT_* */
    const char   *recipient_uuid;           /* lower-cased copy below */
    char          uuid_buf[37];

    /* normalised: spaces and dashes removed, upper-cased */
    char          account_number[35];
    const char   *bank_account_name;        /* trimmed copy below */
    char          account_name_buf[129];
    const char   *bank_code;
    const char   *bank_name;

    /* normalised: digits only, no leading "+" */
    char          mobile_number[16];
    const char   *mobile_money_provider;

    /*
     * a provider's connected account, "acct_" and 1 to 64 letters or
     * digits: required for NGX_PAYOUT_RECIPIENT_CONNECTED; on a bank
     * account, optional, the connected account that owns it
     */
    const char   *account_id;
    /*
     * a provider balance, "bal_" and 1 to 64 letters or digits: only
     * with NGX_PAYOUT_RECIPIENT_BALANCE, optional (NULL: the gateway's
     * own balance=)
     */
    const char   *balance_id;
    /* optional, any type: ISO 3166-1 alpha-2, two upper-case letters */
    const char   *country;

    const char   *name;
    const char   *email;
    const char   *phone;
    const char   *gateway;                  /* recipients: required */
    const char   *idempotency_key;
    json_t       *metadata;                 /* borrowed, or NULL */
} ngx_payout_recipient_input_t;


typedef struct {
    int64_t                         amount;
    const ngx_payout_currency_t    *currency;
    const char                     *gateway;
    const char                     *tenant;          /* optional */
    const char                     *narration;
    const char                     *idempotency_key;
    json_t                         *metadata;        /* borrowed */
    json_t                         *webhook_urls;    /* borrowed array */
    const char                     *webhook_secret;
    int                             stage;
    unsigned                        flags;           /* NGX_PAYOUT_URL_* */
    ngx_payout_recipient_input_t    recipient;
} ngx_payout_create_t;


/*
 * POST /payout-links: the payout's fields it will make (in payout; the
 * recipient hints name, email and phone in payout.recipient), the
 * methods the page offers and when the link expires.
 */

#define NGX_PAYOUT_LINK_EXPIRES_MIN      60              /* seconds */
#define NGX_PAYOUT_LINK_EXPIRES_MAX      (90 * 86400)
#define NGX_PAYOUT_LINK_EXPIRES_DEFAULT  (7 * 86400)

#define NGX_PAYOUT_LINK_BANK             0x01            /* methods */
#define NGX_PAYOUT_LINK_MOBILE           0x02

typedef struct {
    ngx_payout_create_t             payout;
    unsigned                        methods;   /* 0: not given */
    long                            expires_in;    /* 0: not given */
    long                            expires_at;    /* 0: not given */
    long                            expires;   /* unix seconds: the one */
} ngx_payout_link_input_t;


/* POST /webhook-endpoints */
typedef struct {
    const char                     *url;
    unsigned                        flags;           /* NGX_PAYOUT_URL_* */
} ngx_payout_endpoint_input_t;


/*
 * POST /payouts: NGX_PAYOUT_OK, or NGX_PAYOUT_ERROR with err filled in;
 * flags: NGX_PAYOUT_URL_*.  Without flags, the strict policy.
 */
int ngx_payout_validate_create_flags(json_t *body, unsigned flags,
    ngx_payout_create_t *out, ngx_payout_error_t *err);
int ngx_payout_validate_create(json_t *body, ngx_payout_create_t *out,
    ngx_payout_error_t *err);

/*
 * POST /payout-links, at unix time now: expires_in (seconds) or
 * expires_at (RFC 3339), not both, from now + NGX_PAYOUT_LINK_EXPIRES_MIN
 * to now + _MAX; out->expires is the one that applies (default
 * NGX_PAYOUT_LINK_EXPIRES_DEFAULT from now).  out->methods stays 0 when
 * methods is not given: the caller's default applies.
 */
int ngx_payout_validate_link(json_t *body, unsigned flags, long now,
    ngx_payout_link_input_t *out, ngx_payout_error_t *err);

/* the text[] literal "{bank_account,mobile_money}" of NGX_PAYOUT_LINK_* */
const char *ngx_payout_link_methods_text(unsigned methods, char *buf,
    size_t size);

/* RFC 3339 date-time to unix seconds (fraction dropped); -1 if not one */
long ngx_payout_parse_time(const char *s, size_t len);

/* POST /payouts/{uuid}/finalize: {"otp"}, digits only */
#define NGX_PAYOUT_OTP_MIN  4
#define NGX_PAYOUT_OTP_MAX  10

typedef struct {
    const char                     *otp;
} ngx_payout_finalize_input_t;

int ngx_payout_validate_finalize(json_t *body,
    ngx_payout_finalize_input_t *out, ngx_payout_error_t *err);

/* POST /webhook-endpoints: {"url"} */
int ngx_payout_validate_endpoint(json_t *body, unsigned flags,
    ngx_payout_endpoint_input_t *out, ngx_payout_error_t *err);

/*
 * A webhook_secret the signer can use: a "whsec_" secret is base64 of
 * NGX_PAYOUT_WHSEC_MIN to _MAX bytes, any other 1 to
 * NGX_PAYOUT_SECRET_LEN bytes.  NULL, or what is wrong ("must ...").
 */
const char *ngx_payout_secret_check(const char *s, size_t len);

/* POST /payout-recipients: the same one-of rules, gateway required */
int ngx_payout_validate_recipient(json_t *body,
    ngx_payout_recipient_input_t *out, ngx_payout_error_t *err);

/*
 * A URL webhooks may be sent to (ngx_payout_url.c, libcurl's parser):
 * NGX_PAYOUT_OK, or NGX_PAYOUT_ERROR with what is wrong ("must ...") in
 * why.  ngx_payout_url_valid(): the same, private literals allowed.
 */
int ngx_payout_url_check(const char *s, size_t len, unsigned flags,
    char *why, size_t size);
int ngx_payout_url_valid(const char *s, size_t len);

/* "bank_account", "mobile_money", "connected_account"; "none" */
const char *ngx_payout_recipient_type_name(int type);

/* the last four characters, for display: "******6789" */
const char *ngx_payout_last4(const char *number);


#endif /* NGX_PAYOUT_VALIDATE_H_INCLUDED_ */
