/*
 * Validation of create-payout, create-recipient and webhook-endpoint
 * bodies (seed 004's fields and one-of rules, webhook URLs through
 * libcurl's parser, signable secrets) and the ISO 4217 currency table.
 *
 * Most tests are tables of cases: a base body, fields removed from it, a
 * JSON patch merged into it, and the expected outcome.  Bodies are written
 * with single quotes, turned into double quotes before parsing, so that
 * the tables stay readable; \u0027 is an apostrophe when one is needed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "unit.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_webhook.h"


#define countof(a)  (sizeof(a) / sizeof((a)[0]))


/* seed 004's create example, verbatim */
#define SEED                                                                  \
    "{'amount': 250000, 'currency': 'NGN', 'gateway': 'mygateway',"           \
    " 'narration': 'Weekly seller settlement',"                               \
    " 'idempotency_key': 'settlement-seller-1042-week-15',"                   \
    " 'bank_account_number': '0123456789',"                                   \
    " 'bank_account_name': 'JOHN SELLER', 'bank_code': '058',"                \
    " 'bank_name': 'Guaranty Trust Bank',"                                    \
    " 'webhook_urls': ['https://your-domain.com/webhooks/payouts'],"          \
    " 'webhook_secret': 'your-webhook-secret'}"

#define MOBILE                                                                \
    "{'amount': 5000, 'currency': 'GHS', 'gateway': 'sandbox',"               \
    " 'mobile_money_number': '+233 24 123 4567',"                             \
    " 'mobile_money_provider': 'MTN'}"

#define UUID                                                                  \
    "{'amount': 100, 'currency': 'USD', 'gateway': 'stripe',"                 \
    " 'recipient_uuid': '76418B40-8E2D-47C3-AB2F-84E7347D9FCC'}"

/* a payout with no recipient at all: the one-of cases add one */
#define BARE                                                                  \
    "{'amount': 100, 'currency': 'NGN', 'gateway': 'sandbox'}"

#define TRIO                                                                  \
    "'bank_account_number': '0123456789', 'bank_account_name': 'J S',"        \
    " 'bank_code': '058'"

#define RCPT                                                                  \
    "{'gateway': 'paystack', " TRIO "}"

#define MOVE_TO_MOBILE                                                        \
    "bank_account_number bank_account_name bank_code bank_name"

#define RCPT_TO_MOBILE                                                        \
    "bank_account_number bank_account_name bank_code"


typedef struct {
    const char  *remove;     /* space-separated fields deleted from base */
    const char  *patch;      /* a JSON object merged into base, or NULL */
    const char  *code;       /* the expected error code; NULL: valid */
    const char  *field;      /* the expected error field */
    const char  *message;    /* a part of the expected message, or NULL */
} unit_case_t;


typedef struct {
    const char  *base;
    const char  *field;
    char         fill;
    size_t       min;
    size_t       max;
} unit_limit_t;


static json_t *unit_json(const char *text);
static json_t *unit_body(const char *base, const char *remove,
    const char *patch);
static int unit_validate(int recipient, json_t *body,
    ngx_payout_create_t *c, ngx_payout_recipient_input_t *r,
    ngx_payout_error_t *err);
static int unit_mismatch(int rc, const ngx_payout_error_t *err,
    const char *code, const char *field, const char *message);
static void unit_run_cases(int recipient, const char *base,
    const unit_case_t *cases, size_t n);
static void unit_expect(int recipient, json_t *body, const char *code,
    const char *field, const char *message);
static json_t *unit_with_string(const char *base, const char *field,
    char fill, size_t len);
static char *unit_long_url(size_t len);


/*
 * "https://example.com/ppp...", len bytes, NUL-terminated, with room
 * for one more byte and its NUL
 */

static char *
unit_long_url(size_t len)
{
    char  *url;

    url = calloc(1, len + 2);
    assert_non_null(url);
    memcpy(url, "https://example.com/", 20);
    memset(url + 20, 'p', len - 20);

    return url;
}


/* single quotes to double quotes, then a strict parse */

static json_t *
unit_json(const char *text)
{
    char          *copy, *p;
    json_t        *json;
    json_error_t   jerr;

    copy = strdup(text);
    assert_non_null(copy);

    for (p = copy; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }

    json = json_loads(copy, JSON_REJECT_DUPLICATES, &jerr);

    if (json == NULL) {
        print_error("bad test JSON: %s: %s\n", copy, jerr.text);
    }

    free(copy);
    assert_non_null(json);

    return json;
}


static json_t *
unit_body(const char *base, const char *remove, const char *patch)
{
    char    name[64];
    size_t  n;
    json_t  *body, *p;

    body = unit_json(base);

    while (remove && *remove) {
        n = strcspn(remove, " ");

        if (n) {
            assert_true(n < sizeof(name));
            memcpy(name, remove, n);
            name[n] = '\0';
            assert_int_equal(json_object_del(body, name), 0);
        }

        remove += n + (remove[n] == ' ');
    }

    if (patch) {
        p = unit_json(patch);
        assert_int_equal(json_object_update(body, p), 0);
        json_decref(p);
    }

    return body;
}


static int
unit_validate(int recipient, json_t *body, ngx_payout_create_t *c,
    ngx_payout_recipient_input_t *r, ngx_payout_error_t *err)
{
    memset(err, 0, sizeof(ngx_payout_error_t));

    return recipient ? ngx_payout_validate_recipient(body, r, err)
                     : ngx_payout_validate_create(body, c, err);
}


/* whether an outcome differs from the expected one; says how if so */

static int
unit_mismatch(int rc, const ngx_payout_error_t *err, const char *code,
    const char *field, const char *message)
{
    int  bad;

    if (code == NULL) {
        bad = (rc != NGX_PAYOUT_OK);

    } else {
        bad = rc != NGX_PAYOUT_ERROR
              || err->code == NULL
              || strcmp(err->code, code) != 0
              || (field == NULL) != (err->field == NULL)
              || (field && strcmp(field, err->field) != 0)
              || (message && strstr(err->message, message) == NULL);
    }

    if (bad) {
        print_error("want %s/%s/\"%s\", got %s/%s/\"%s\"\n",
                    code ? code : "ok", field ? field : "-",
                    message ? message : "",
                    rc == NGX_PAYOUT_OK ? "ok"
                    : err->code ? err->code : "(null)",
                    rc != NGX_PAYOUT_OK && err->field ? err->field : "-",
                    rc != NGX_PAYOUT_OK ? err->message : "");
    }

    return bad;
}


/*
 * Runs every case, reporting each mismatch with the case that caused it,
 * then fails once: one broken rule shows all the cases it breaks.
 */

static void
unit_run_cases(int recipient, const char *base, const unit_case_t *cases,
    size_t n)
{
    int                           rc, failed;
    size_t                        i;
    json_t                       *body;
    ngx_payout_error_t            err;
    ngx_payout_create_t           c;
    ngx_payout_recipient_input_t  r;

    failed = 0;

    for (i = 0; i < n; i++) {
        body = unit_body(base, cases[i].remove, cases[i].patch);
        rc = unit_validate(recipient, body, &c, &r, &err);

        if (unit_mismatch(rc, &err, cases[i].code, cases[i].field,
                          cases[i].message))
        {
            print_error("  in case %zu: -[%s] +%s\n", i,
                        cases[i].remove ? cases[i].remove : "",
                        cases[i].patch ? cases[i].patch : "{}");
            failed++;
        }

        json_decref(body);
    }

    assert_int_equal(failed, 0);
}


static void
unit_expect(int recipient, json_t *body, const char *code,
    const char *field, const char *message)
{
    int                           rc;
    char                         *text;
    ngx_payout_error_t            err;
    ngx_payout_create_t           c;
    ngx_payout_recipient_input_t  r;

    rc = unit_validate(recipient, body, &c, &r, &err);

    if (unit_mismatch(rc, &err, code, field, message)) {
        text = json_dumps(body, JSON_COMPACT);
        print_error("  in body %.300s\n", text ? text : "?");
        free(text);
        fail();
    }
}


/* base with field set to len copies of fill */

static json_t *
unit_with_string(const char *base, const char *field, char fill, size_t len)
{
    char    *s;
    json_t  *body;

    s = malloc(len + 1);
    assert_non_null(s);
    memset(s, fill, len);
    s[len] = '\0';

    body = unit_json(base);
    assert_int_equal(json_object_set_new(body, field, json_string(s)), 0);
    free(s);

    return body;
}


static void
test_seed_example(void **state)
{
    json_t               *body;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    body = unit_json(SEED);

    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);

    assert_int_equal(c.amount, 250000);
    assert_non_null(c.currency);
    assert_string_equal(c.currency->code, "NGN");
    assert_int_equal(c.currency->exponent, 2);
    assert_string_equal(c.gateway, "mygateway");
    assert_null(c.tenant);
    assert_string_equal(c.narration, "Weekly seller settlement");
    assert_string_equal(c.idempotency_key, "settlement-seller-1042-week-15");
    assert_null(c.metadata);
    assert_true(json_is_array(c.webhook_urls));
    assert_int_equal(json_array_size(c.webhook_urls), 1);
    assert_string_equal(json_string_value(json_array_get(c.webhook_urls, 0)),
                        "https://your-domain.com/webhooks/payouts");
    assert_string_equal(c.webhook_secret, "your-webhook-secret");
    assert_int_equal(c.stage, 0);

    assert_int_equal(c.recipient.type, NGX_PAYOUT_RECIPIENT_BANK);
    assert_null(c.recipient.recipient_uuid);
    assert_string_equal(c.recipient.account_number, "0123456789");
    assert_string_equal(c.recipient.bank_account_name, "JOHN SELLER");
    assert_string_equal(c.recipient.bank_code, "058");
    assert_string_equal(c.recipient.bank_name, "Guaranty Trust Bank");
    assert_string_equal(c.recipient.mobile_number, "");
    assert_null(c.recipient.mobile_money_provider);
    assert_null(c.recipient.name);
    assert_null(c.recipient.email);
    assert_null(c.recipient.phone);
    /* an inline recipient belongs to the payout's gateway */
    assert_string_equal(c.recipient.gateway, "mygateway");
    assert_null(c.recipient.idempotency_key);
    assert_null(c.recipient.metadata);

    /* borrowed strings point into the body */
    assert_ptr_equal(c.gateway,
                     json_string_value(json_object_get(body, "gateway")));

    json_decref(body);
}


static void
test_normalisation(void **state)
{
    json_t               *body;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    body = unit_json("{'amount': 1, 'currency': 'ngn', 'gateway': 'gw',"
                     " 'bank_account_number': 'gb29 nwbk-6016 1331 9268 19',"
                     " 'bank_account_name': '  Jos\u00e9  M\u00fcller ',"
                     " 'bank_code': '20-00-00', 'name': 'Jos\u00e9',"
                     " 'email': 'jose@example.com',"
                     " 'phone': '+44 (20) 7946-0018', 'stage': true}");

    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);

    /* "ngn" is answered as "NGN" */
    assert_string_equal(c.currency->code, "NGN");
    assert_string_equal(c.recipient.account_number,
                        "GB29NWBK60161331926819");
    /* outer spaces trimmed, inner ones kept; UTF-8 untouched */
    assert_string_equal(c.recipient.bank_account_name,
                        "Jos\xc3\xa9  M\xc3\xbcller");
    assert_string_equal(c.recipient.bank_code, "20-00-00");
    assert_string_equal(c.recipient.name, "Jos\xc3\xa9");
    assert_string_equal(c.recipient.email, "jose@example.com");
    /* the phone number is kept as sent */
    assert_string_equal(c.recipient.phone, "+44 (20) 7946-0018");
    assert_int_equal(c.stage, 1);

    json_decref(body);

    body = unit_json(MOBILE);
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(c.recipient.type, NGX_PAYOUT_RECIPIENT_MOBILE);
    assert_string_equal(c.recipient.mobile_number, "233241234567");
    assert_string_equal(c.recipient.mobile_money_provider, "MTN");
    assert_string_equal(c.recipient.account_number, "");
    assert_null(c.recipient.bank_account_name);
    json_decref(body);

    body = unit_body(MOBILE, "mobile_money_provider",
                     "{'mobile_money_number': '(024) 123-4567'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_string_equal(c.recipient.mobile_number, "0241234567");
    assert_null(c.recipient.mobile_money_provider);
    json_decref(body);

    /* the UUID is stored lower case; name, email, phone are not used */
    body = unit_body(UUID, NULL, "{'name': 'Ada', 'email': 'a@b.co',"
                                 " 'phone': '+15550100200'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(c.recipient.type, NGX_PAYOUT_RECIPIENT_NONE);
    assert_string_equal(c.recipient.recipient_uuid,
                        "76418b40-8e2d-47c3-ab2f-84e7347d9fcc");
    assert_ptr_equal(c.recipient.recipient_uuid, c.recipient.uuid_buf);
    assert_null(c.recipient.name);
    assert_null(c.recipient.email);
    assert_null(c.recipient.phone);
    json_decref(body);
}


static void
test_oneof(void **state)
{
    static const unit_case_t  cases[] = {
        /* a complete bank trio, bank_name optional */
        { NULL, "{" TRIO "}", NULL, NULL, NULL },
        { NULL, "{" TRIO ", 'bank_name': 'GTB'}", NULL, NULL, NULL },

        /* partial bank sets name the first missing field */
        { NULL, "{'bank_account_number': '0123456789'}",
          "missing_parameter", "bank_account_name", "bank_code" },
        { NULL, "{'bank_account_name': 'J S'}",
          "missing_parameter", "bank_account_number", NULL },
        { NULL, "{'bank_code': '058'}",
          "missing_parameter", "bank_account_number", NULL },
        { NULL, "{'bank_account_number': '0123456789',"
                " 'bank_account_name': 'J S'}",
          "missing_parameter", "bank_code", NULL },
        { NULL, "{'bank_account_name': 'J S', 'bank_code': '058'}",
          "missing_parameter", "bank_account_number", NULL },
        { NULL, "{'bank_name': 'GTB'}",
          "missing_parameter", "bank_account_number", NULL },

        /* mobile money, provider optional */
        { NULL, "{'mobile_money_number': '0241234567'}", NULL, NULL, NULL },
        { NULL, "{'mobile_money_number': '0241234567',"
                " 'mobile_money_provider': 'MTN'}", NULL, NULL, NULL },
        { NULL, "{'mobile_money_provider': 'MTN'}",
          "missing_parameter", "mobile_money_number", NULL },

        /* no mixing */
        { NULL, "{" TRIO ", 'mobile_money_number': '0241234567'}",
          "conflicting_parameters", "mobile_money_number", "not both" },
        { NULL, "{" TRIO ", 'mobile_money_provider': 'MTN'}",
          "conflicting_parameters", "mobile_money_provider", NULL },
        { NULL, "{'mobile_money_number': '0241234567', 'bank_code': '058'}",
          "conflicting_parameters", "bank_code", "not both" },
        { NULL, "{'mobile_money_number': '0241234567',"
                " 'bank_name': 'GTB'}",
          "conflicting_parameters", "bank_name", NULL },
        { NULL, "{'mobile_money_number': '0241234567',"
                " 'bank_account_number': '0123456789',"
                " 'bank_account_name': 'J S'}",
          "conflicting_parameters", "bank_account_number", NULL },

        /* neither: the message lists the three ways */
        { NULL, NULL, "missing_parameter", "recipient_uuid",
          "send recipient_uuid, or bank_account_number, bank_account_name"
          " and bank_code, or mobile_money_number" },
        { NULL, "{'recipient_type': 'bank_account'}",
          "missing_parameter", "recipient_uuid", NULL },

        /* recipient_uuid excludes every inline account field */
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc'}",
          NULL, NULL, NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " " TRIO "}",
          "conflicting_parameters", "bank_account_number",
          "recipient_uuid cannot be combined" },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'bank_code': '058'}",
          "conflicting_parameters", "bank_code", NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'bank_name': 'GTB'}",
          "conflicting_parameters", "bank_name", NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'mobile_money_number': '0241234567'}",
          "conflicting_parameters", "mobile_money_number", NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'mobile_money_provider': 'MTN'}",
          "conflicting_parameters", "mobile_money_provider", NULL },
        /* ... but not the recipient's contact details, nor its type */
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'name': 'Ada', 'email': 'ada@example.com',"
                " 'phone': '+2348031234567',"
                " 'recipient_type': 'mobile_money'}", NULL, NULL, NULL },
        /* which are still validated */
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'email': 'nope'}",
          "invalid_parameter", "email", NULL },

        /* recipient_type must agree with the details */
        { NULL, "{" TRIO ", 'recipient_type': 'bank_account'}",
          NULL, NULL, NULL },
        { NULL, "{'mobile_money_number': '0241234567',"
                " 'recipient_type': 'mobile_money'}", NULL, NULL, NULL },
        { NULL, "{" TRIO ", 'recipient_type': 'mobile_money'}",
          "conflicting_parameters", "recipient_type", "bank account" },
        { NULL, "{'mobile_money_number': '0241234567',"
                " 'recipient_type': 'bank_account'}",
          "conflicting_parameters", "recipient_type", "mobile money" },

        /* contact details go with inline details too */
        { NULL, "{" TRIO ", 'name': 'Ada', 'email': 'ada@example.com',"
                " 'phone': '08031234567'}", NULL, NULL, NULL },

        /* null is absent, whichever side it is on */
        { NULL, "{" TRIO ", 'mobile_money_number': null,"
                " 'mobile_money_provider': null, 'recipient_uuid': null}",
          NULL, NULL, NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'bank_account_number': null, 'bank_code': null,"
                " 'recipient_type': null}", NULL, NULL, NULL },
        { NULL, "{'bank_account_number': '0123456789',"
                " 'bank_account_name': null, 'bank_code': '058'}",
          "missing_parameter", "bank_account_name", NULL },
    };

    (void) state;

    unit_run_cases(0, BARE, cases, countof(cases));
}


static void
test_types(void **state)
{
    static const unit_case_t  cases[] = {
        { NULL, "{'amount': '250000'}", "invalid_parameter", "amount",
          "amount must be an integer number of minor units, not a string" },
        { NULL, "{'amount': 2500.0}", "invalid_parameter", "amount",
          "not a decimal number" },
        { NULL, "{'amount': 2500.5}", "invalid_parameter", "amount", NULL },
        { NULL, "{'amount': true}", "invalid_parameter", "amount",
          "not a boolean" },
        { NULL, "{'amount': [1]}", "invalid_parameter", "amount",
          "not an array" },
        { NULL, "{'currency': 566}", "invalid_parameter", "currency",
          "currency must be a string, not an integer" },
        { NULL, "{'gateway': ['x']}", "invalid_parameter", "gateway",
          "not an array" },
        { NULL, "{'gateway': {}}", "invalid_parameter", "gateway",
          "not an object" },
        { NULL, "{'bank_account_number': 123456789}",
          "invalid_parameter", "bank_account_number",
          "bank_account_number must be a string, not an integer." },
        { NULL, "{'bank_account_name': {}}",
          "invalid_parameter", "bank_account_name", NULL },
        { NULL, "{'bank_code': 58}", "invalid_parameter", "bank_code",
          NULL },
        { NULL, "{'bank_name': false}", "invalid_parameter", "bank_name",
          NULL },
        { MOVE_TO_MOBILE, "{'mobile_money_number': 233241234567}",
          "invalid_parameter", "mobile_money_number", "must be a string" },
        { MOVE_TO_MOBILE, "{'mobile_money_number': '0241234567',"
                          " 'mobile_money_provider': 1}",
          "invalid_parameter", "mobile_money_provider", NULL },
        { MOVE_TO_MOBILE, "{'recipient_uuid': 1}",
          "invalid_parameter", "recipient_uuid", NULL },
        { NULL, "{'recipient_type': 1}", "invalid_parameter",
          "recipient_type", NULL },
        { NULL, "{'name': 1}", "invalid_parameter", "name", NULL },
        { NULL, "{'email': ['a@b.co']}", "invalid_parameter", "email",
          NULL },
        { NULL, "{'phone': 2348031234567}", "invalid_parameter", "phone",
          NULL },
        { NULL, "{'tenant': 1}", "invalid_parameter", "tenant", NULL },
        { NULL, "{'narration': 1}", "invalid_parameter", "narration",
          NULL },
        { NULL, "{'idempotency_key': 42}", "invalid_parameter",
          "idempotency_key", NULL },
        { NULL, "{'webhook_urls': 'https://example.com/hook'}",
          "invalid_parameter", "webhook_urls",
          "webhook_urls must be an array of URLs, not a string" },
        { NULL, "{'webhook_urls': {}}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_secret': true}", "invalid_parameter",
          "webhook_secret", NULL },
        { NULL, "{'metadata': []}", "invalid_parameter", "metadata",
          "metadata must be an object, not an array" },
        { NULL, "{'metadata': 'x'}", "invalid_parameter", "metadata",
          NULL },
        { NULL, "{'stage': 'true'}", "invalid_parameter", "stage",
          "stage must be a boolean, not a string" },
        { NULL, "{'stage': 1}", "invalid_parameter", "stage", NULL },
    };

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));
}


static void
test_required_and_null(void **state)
{
    static const unit_case_t  cases[] = {
        { "amount", NULL, "missing_parameter", "amount",
          "amount is required" },
        { "currency", NULL, "missing_parameter", "currency", NULL },
        { "gateway", NULL, "missing_parameter", "gateway", NULL },
        /* null for a required field is missing, not a type error */
        { NULL, "{'amount': null}", "missing_parameter", "amount", NULL },
        { NULL, "{'currency': null}", "missing_parameter", "currency",
          NULL },
        { NULL, "{'gateway': null}", "missing_parameter", "gateway", NULL },
        /* the first required field missing is reported */
        { "gateway currency amount", NULL, "missing_parameter", "amount",
          NULL },
        /* optional fields: null is absent */
        { NULL, "{'tenant': null, 'narration': null,"
                " 'idempotency_key': null, 'webhook_urls': null,"
                " 'webhook_secret': null, 'metadata': null, 'stage': null,"
                " 'name': null, 'email': null, 'phone': null,"
                " 'bank_name': null, 'recipient_type': null}",
          NULL, NULL, NULL },
        { "narration idempotency_key webhook_urls webhook_secret bank_name",
          NULL, NULL, NULL, NULL },
    };

    json_t               *body;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));

    body = unit_body(SEED, NULL, "{'narration': null, 'webhook_urls': null,"
                                 " 'metadata': null, 'stage': null,"
                                 " 'bank_name': null}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_null(c.narration);
    assert_null(c.webhook_urls);
    assert_null(c.metadata);
    assert_int_equal(c.stage, 0);
    assert_null(c.recipient.bank_name);
    json_decref(body);
}


static void
test_formats(void **state)
{
    static const unit_case_t  cases[] = {
        /* amount: 1 to 10^15 minor units */
        { NULL, "{'amount': 1}", NULL, NULL, NULL },
        { NULL, "{'amount': 1000000000000000}", NULL, NULL, NULL },
        { NULL, "{'amount': 1000000000000001}", "invalid_parameter",
          "amount", "between 1 and 1000000000000000" },
        { NULL, "{'amount': 0}", "invalid_parameter", "amount", NULL },
        { NULL, "{'amount': -250000}", "invalid_parameter", "amount",
          NULL },
        { NULL, "{'amount': 9223372036854775807}", "invalid_parameter",
          "amount", NULL },

        /* currency */
        { NULL, "{'currency': 'ngn'}", NULL, NULL, NULL },
        { NULL, "{'currency': 'Jpy'}", NULL, NULL, NULL },
        { NULL, "{'currency': 'XYZ'}", "invalid_parameter", "currency",
          "currency \"XYZ\" is not a supported ISO 4217" },
        { NULL, "{'currency': 'xyz'}", "invalid_parameter", "currency",
          "\"XYZ\"" },
        { NULL, "{'currency': 'XAU'}", "invalid_parameter", "currency",
          NULL },
        { NULL, "{'currency': 'XXX'}", "invalid_parameter", "currency",
          NULL },
        { NULL, "{'currency': 'HRK'}", "invalid_parameter", "currency",
          NULL },
        { NULL, "{'currency': 'NG'}", "invalid_parameter", "currency",
          "3-letter ISO 4217 code" },
        { NULL, "{'currency': 'NGNN'}", "invalid_parameter", "currency",
          NULL },
        { NULL, "{'currency': 'N1N'}", "invalid_parameter", "currency",
          NULL },
        { NULL, "{'currency': ''}", "invalid_parameter", "currency", NULL },
        { NULL, "{'currency': ' NGN'}", "invalid_parameter", "currency",
          NULL },
        { NULL, "{'currency': '566'}", "invalid_parameter", "currency",
          NULL },

        /* gateway: ^[a-z0-9][a-z0-9_-]{0,31}$ */
        { NULL, "{'gateway': 'a'}", NULL, NULL, NULL },
        { NULL, "{'gateway': '0-my_gw'}", NULL, NULL, NULL },
        { NULL, "{'gateway': ''}", "invalid_parameter", "gateway",
          "lower-case" },
        { NULL, "{'gateway': 'MyGateway'}", "invalid_parameter", "gateway",
          NULL },
        { NULL, "{'gateway': '-gw'}", "invalid_parameter", "gateway",
          NULL },
        { NULL, "{'gateway': '_gw'}", "invalid_parameter", "gateway",
          NULL },
        { NULL, "{'gateway': 'my gateway'}", "invalid_parameter",
          "gateway", NULL },
        { NULL, "{'gateway': 'pay.stack'}", "invalid_parameter", "gateway",
          NULL },
        { NULL, "{'gateway': 'stripe\u00e9'}", "invalid_parameter",
          "gateway", NULL },

        /* bank_account_number: separators dropped, 4 to 34 alphanumerics */
        { NULL, "{'bank_account_number': '1234'}", NULL, NULL, NULL },
        { NULL, "{'bank_account_number': '0123-456 789'}", NULL, NULL,
          NULL },
        { NULL, "{'bank_account_number': '123'}", "invalid_parameter",
          "bank_account_number", "4 to 34 letters or digits" },
        { NULL, "{'bank_account_number': '1 2-3'}", "invalid_parameter",
          "bank_account_number", NULL },
        { NULL, "{'bank_account_number': ''}", "invalid_parameter",
          "bank_account_number", NULL },
        { NULL, "{'bank_account_number': '0123456789.'}",
          "invalid_parameter", "bank_account_number", NULL },
        { NULL, "{'bank_account_number': '0123/456'}",
          "invalid_parameter", "bank_account_number", NULL },
        { NULL, "{'bank_account_number': '\u00c41234'}",
          "invalid_parameter", "bank_account_number", NULL },
        { NULL, "{'bank_account_number': '01234\\t56789'}",
          "invalid_parameter", "bank_account_number", NULL },

        /* bank_account_name: 1 to 128 bytes once trimmed, no controls */
        { NULL, "{'bank_account_name': 'O\\u0027Brien & Sons Ltd.'}",
          NULL, NULL, NULL },
        { NULL, "{'bank_account_name': ''}", "invalid_parameter",
          "bank_account_name", NULL },
        { NULL, "{'bank_account_name': '   '}", "invalid_parameter",
          "bank_account_name", "1 to 128 bytes" },
        { NULL, "{'bank_account_name': 'JOHN\\nSELLER'}",
          "invalid_parameter", "bank_account_name", "control characters" },
        { NULL, "{'bank_account_name': 'JOHN\\u007f'}",
          "invalid_parameter", "bank_account_name", NULL },
        { NULL, "{'bank_account_name': 'JOHN\\u0085'}",
          "invalid_parameter", "bank_account_name", NULL },

        /* bank_code: ^[A-Za-z0-9-]{2,32}$ */
        { NULL, "{'bank_code': 'GTBINGLA'}", NULL, NULL, NULL },
        { NULL, "{'bank_code': '20-00-00'}", NULL, NULL, NULL },
        { NULL, "{'bank_code': '0'}", "invalid_parameter", "bank_code",
          "2 to 32 letters, digits or '-'" },
        { NULL, "{'bank_code': '05 8'}", "invalid_parameter", "bank_code",
          NULL },
        { NULL, "{'bank_code': '058!'}", "invalid_parameter", "bank_code",
          NULL },
        { NULL, "{'bank_code': 'GTB_NG'}", "invalid_parameter",
          "bank_code", NULL },

        /* bank_name, name: at most 128 bytes, no controls */
        { NULL, "{'bank_name': ''}", NULL, NULL, NULL },
        { NULL, "{'bank_name': 'Soci\u00e9t\u00e9 G\u00e9n\u00e9rale'}",
          NULL, NULL, NULL },
        { NULL, "{'bank_name': 'GT\\tBank'}", "invalid_parameter",
          "bank_name", "control characters" },
        { NULL, "{'name': 'Ada\\u0001'}", "invalid_parameter", "name",
          NULL },

        /* recipient_type */
        { NULL, "{'recipient_type': 'bank'}", "invalid_parameter",
          "recipient_type", "\"bank_account\" or \"mobile_money\"" },
        { NULL, "{'recipient_type': 'BANK_ACCOUNT'}", "invalid_parameter",
          "recipient_type", NULL },
        { NULL, "{'recipient_type': ''}", "invalid_parameter",
          "recipient_type", NULL },

        /* email */
        { NULL, "{'email': 'a.b+c@mail.example.co.uk'}", NULL, NULL, NULL },
        { NULL, "{'email': 'ada'}", "invalid_parameter", "email",
          "email address" },
        { NULL, "{'email': 'ada@'}", "invalid_parameter", "email", NULL },
        { NULL, "{'email': '@example.com'}", "invalid_parameter", "email",
          NULL },
        { NULL, "{'email': 'ada@example'}", "invalid_parameter", "email",
          NULL },
        { NULL, "{'email': 'a@b@example.com'}", "invalid_parameter",
          "email", NULL },
        { NULL, "{'email': 'ada @example.com'}", "invalid_parameter",
          "email", NULL },
        { NULL, "{'email': 'ada@.com'}", "invalid_parameter", "email",
          NULL },
        { NULL, "{'email': 'ada@example.'}", "invalid_parameter", "email",
          NULL },
        { NULL, "{'email': 'ada@exa\\nmple.com'}", "invalid_parameter",
          "email", NULL },
        { NULL, "{'email': ''}", "invalid_parameter", "email", NULL },

        /* phone: a phone number, kept as sent */
        { NULL, "{'phone': '+234 803 123 4567'}", NULL, NULL, NULL },
        { NULL, "{'phone': 'call me'}", "invalid_parameter", "phone",
          "7 to 15 digits" },
        { NULL, "{'phone': '123456'}", "invalid_parameter", "phone", NULL },
        { NULL, "{'phone': '+1 (555) 010-02OO'}", "invalid_parameter",
          "phone", NULL },

        /* tenant: ^[a-z0-9][a-z0-9_-]{0,62}$ */
        { NULL, "{'tenant': 'acme'}", NULL, NULL, NULL },
        { NULL, "{'tenant': 'acme_2-b'}", NULL, NULL, NULL },
        { NULL, "{'tenant': ''}", "invalid_parameter", "tenant", NULL },
        { NULL, "{'tenant': 'Acme'}", "invalid_parameter", "tenant", NULL },
        { NULL, "{'tenant': '-acme'}", "invalid_parameter", "tenant",
          NULL },
        { NULL, "{'tenant': 'acme corp'}", "invalid_parameter", "tenant",
          NULL },

        /* narration: 1 to 255 bytes, no controls */
        { NULL, "{'narration': 'Payout \u20ac 12'}", NULL, NULL, NULL },
        { NULL, "{'narration': ''}", "invalid_parameter", "narration",
          "must not be empty" },
        { NULL, "{'narration': 'a\\r\\nb'}", "invalid_parameter",
          "narration", NULL },

        /* idempotency_key: printable ASCII, no spaces */
        { NULL, "{'idempotency_key': 'a'}", NULL, NULL, NULL },
        { NULL, "{'idempotency_key': '!~{}[]<>\\\"'}", NULL, NULL, NULL },
        { NULL, "{'idempotency_key': ''}", "invalid_parameter",
          "idempotency_key", "printable ASCII" },
        { NULL, "{'idempotency_key': 'has space'}", "invalid_parameter",
          "idempotency_key", NULL },
        { NULL, "{'idempotency_key': 'tab\\t'}", "invalid_parameter",
          "idempotency_key", NULL },
        { NULL, "{'idempotency_key': 'caf\u00e9'}", "invalid_parameter",
          "idempotency_key", NULL },
        { NULL, "{'idempotency_key': 'del\\u007f'}", "invalid_parameter",
          "idempotency_key", NULL },

        /* webhook_secret: 1 to 256 bytes, no controls */
        { NULL, "{'webhook_secret': 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2'}",
          "invalid_parameter", "webhook_secret", "followed by base64" },
        { NULL, "{'webhook_secret': ''}", "invalid_parameter",
          "webhook_secret", NULL },
        { NULL, "{'webhook_secret': 'a\\nb'}", "invalid_parameter",
          "webhook_secret", NULL },

        /* recipient_uuid: canonical form */
        { MOVE_TO_MOBILE, "{'recipient_uuid': 'not-a-uuid'}",
          "invalid_parameter", "recipient_uuid", "must be a UUID" },
        { MOVE_TO_MOBILE,
          "{'recipient_uuid': '76418b408e2d47c3ab2f84e7347d9fcc'}",
          "invalid_parameter", "recipient_uuid", NULL },
        { MOVE_TO_MOBILE,
          "{'recipient_uuid': '{76418b40-8e2d-47c3-ab2f-84e7347d9fcc}'}",
          "invalid_parameter", "recipient_uuid", NULL },
        { MOVE_TO_MOBILE, "{'recipient_uuid': ''}",
          "invalid_parameter", "recipient_uuid", NULL },
    };

    static const unit_case_t  mobile[] = {
        { NULL, "{'mobile_money_number': '1234567'}", NULL, NULL, NULL },
        { NULL, "{'mobile_money_number': '+123456789012345'}", NULL, NULL,
          NULL },
        { NULL, "{'mobile_money_number': '(+233) 24-123-4567'}", NULL, NULL,
          NULL },
        { NULL, "{'mobile_money_number': '123456'}", "invalid_parameter",
          "mobile_money_number", "7 to 15 digits" },
        { NULL, "{'mobile_money_number': '1234567890123456'}",
          "invalid_parameter", "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': '+'}", "invalid_parameter",
          "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': ''}", "invalid_parameter",
          "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': '++233241234567'}",
          "invalid_parameter", "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': '233+241234567'}",
          "invalid_parameter", "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': '0241234567x'}",
          "invalid_parameter", "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': '024.123.4567'}",
          "invalid_parameter", "mobile_money_number", NULL },
        { NULL, "{'mobile_money_number': '\u0660\u0662\u0664\u0661\u0662"
                "\u0663\u0664\u0665\u0666\u0667'}",
          "invalid_parameter", "mobile_money_number", NULL },

        { NULL, "{'mobile_money_provider': 'MTN Ghana'}", NULL, NULL, NULL },
        { NULL, "{'mobile_money_provider': 'airtel_tigo-1'}", NULL, NULL,
          NULL },
        { NULL, "{'mobile_money_provider': ''}", "invalid_parameter",
          "mobile_money_provider", "1 to 32 letters" },
        { NULL, "{'mobile_money_provider': 'M.T.N'}", "invalid_parameter",
          "mobile_money_provider", NULL },
        { NULL, "{'mobile_money_provider': 'M-Pesa\u00ae'}",
          "invalid_parameter", "mobile_money_provider", NULL },
    };

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));
    unit_run_cases(0, MOBILE, mobile, countof(mobile));
}


/* every length-limited field: min and max pass, one outside fails */

static void
test_length_limits(void **state)
{
    size_t   i;
    json_t  *body;

    static const unit_limit_t  limits[] = {
        { SEED, "gateway", 'g', 1, 32 },
        { SEED, "tenant", 't', 1, 63 },
        { SEED, "bank_account_number", '7', 4, 34 },
        { SEED, "bank_account_name", 'N', 1, 128 },
        { SEED, "bank_code", '0', 2, 32 },
        { SEED, "bank_name", 'B', 0, 128 },
        { SEED, "name", 'N', 0, 128 },
        { SEED, "phone", '5', 7, 15 },
        { SEED, "narration", 'x', 1, 255 },
        { SEED, "idempotency_key", 'k', 1, 255 },
        { SEED, "webhook_secret", 's', 1, 256 },
        { MOBILE, "mobile_money_number", '2', 7, 15 },
        { MOBILE, "mobile_money_provider", 'P', 1, 32 },
    };

    (void) state;

    for (i = 0; i < countof(limits); i++) {
        body = unit_with_string(limits[i].base, limits[i].field,
                                limits[i].fill, limits[i].min);
        unit_expect(0, body, NULL, NULL, NULL);
        json_decref(body);

        body = unit_with_string(limits[i].base, limits[i].field,
                                limits[i].fill, limits[i].max);
        unit_expect(0, body, NULL, NULL, NULL);
        json_decref(body);

        body = unit_with_string(limits[i].base, limits[i].field,
                                limits[i].fill, limits[i].max + 1);
        unit_expect(0, body, "invalid_parameter", limits[i].field, NULL);
        json_decref(body);

        if (limits[i].min == 0) {
            continue;
        }

        body = unit_with_string(limits[i].base, limits[i].field,
                                limits[i].fill, limits[i].min - 1);
        unit_expect(0, body, "invalid_parameter", limits[i].field, NULL);
        json_decref(body);
    }
}


/* limits count bytes, and a multi-byte character is never cut */

static void
test_utf8_lengths(void **state)
{
    int      i;
    char     s[256];
    json_t  *body;

    (void) state;

    /* 64 x U+00E9 is 128 bytes */
    for (i = 0; i < 64; i++) {
        memcpy(s + 2 * i, "\xc3\xa9", 2);
    }

    s[128] = '\0';

    body = unit_json(SEED);
    json_object_set_new(body, "name", json_string(s));
    unit_expect(0, body, NULL, NULL, NULL);

    /* 129 bytes */
    memcpy(s + 128, "a", 2);
    json_object_set_new(body, "name", json_string(s));
    unit_expect(0, body, "invalid_parameter", "name", "128 bytes");

    /* trimming makes an overlong account name fit */
    s[0] = ' ';
    memset(s + 1, 'A', 128);
    memcpy(s + 129, "   ", 4);
    json_object_set_new(body, "bank_account_name", json_string(s));
    json_object_del(body, "name");
    unit_expect(0, body, NULL, NULL, NULL);

    json_decref(body);
}


/* "a\u0000b" is valid JSON; C strings would silently cut it */

static void
test_embedded_nul(void **state)
{
    size_t                i;
    json_t               *body;
    json_error_t          jerr;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    static const char  *fields[] = {
        "gateway", "bank_account_number", "bank_account_name", "bank_code",
        "bank_name", "name", "email", "phone", "narration",
        "idempotency_key", "webhook_secret", "currency", "tenant",
    };

    (void) state;

    for (i = 0; i < countof(fields); i++) {
        body = unit_json(SEED);
        json_object_set_new(body, fields[i],
                            json_stringn("ab\0cdefgh@x.io", 14));

        assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                         NGX_PAYOUT_ERROR);
        assert_string_equal(err.code, "invalid_parameter");
        assert_string_equal(err.field, fields[i]);
        json_decref(body);
    }

    body = json_loads("{\"amount\": 1, \"currency\": \"NGN\", \"gateway\":"
                      " \"gw\", \"mobile_money_number\": \"0241234567\","
                      " \"narration\": \"pay\\u0000day\"}", JSON_ALLOW_NUL,
                      &jerr);
    assert_non_null(body);
    unit_expect(0, body, "invalid_parameter", "narration",
                "narration must not contain NUL characters.");
    json_decref(body);
}


static void
test_unknown_fields(void **state)
{
    static const unit_case_t  cases[] = {
        { NULL, "{'ammount': 1}", "unknown_parameter", "ammount",
          "Unknown parameter \"ammount\"; did you mean \"amount\"?" },
        { NULL, "{'webhook_url': 'https://example.com'}",
          "unknown_parameter", "webhook_url", "did you mean \"webhook_urls\"" },
        { NULL, "{'Currency': 'NGN'}", "unknown_parameter", "Currency",
          "did you mean \"currency\"" },
        { NULL, "{'reference': 'x'}", "unknown_parameter", "reference",
          "Unknown parameter \"reference\"." },
        { NULL, "{'id': 1}", "unknown_parameter", "id",
          "Unknown parameter \"id\"." },
        { NULL, "{'': 1}", "unknown_parameter", "", NULL },
        /* even a null unknown field is reported: it is still a typo */
        { NULL, "{'naration': null}", "unknown_parameter", "naration",
          "narration" },
        /* before any other problem */
        { "amount", "{'currency': 'XYZ', 'extra': true}",
          "unknown_parameter", "extra", NULL },
    };

    static const unit_case_t  recipient[] = {
        { NULL, NULL, NULL, NULL, NULL },
        { NULL, "{'amount': 100}", "unknown_parameter", "amount", NULL },
        { NULL, "{'currency': 'NGN'}", "unknown_parameter", "currency",
          NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc'}",
          "unknown_parameter", "recipient_uuid", NULL },
        { NULL, "{'narration': 'x'}", "unknown_parameter", "narration",
          NULL },
        { NULL, "{'webhook_urls': []}", "unknown_parameter",
          "webhook_urls", NULL },
        { NULL, "{'stage': true}", "unknown_parameter", "stage", NULL },
    };

    char                  key[400];
    size_t                i;
    json_t               *body, *msg;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));
    unit_run_cases(1, RCPT, recipient, countof(recipient));

    /*
     * A long multi-byte name is quoted shortened at a character boundary:
     * the message must stay valid UTF-8 to be sent as JSON.
     */

    for (i = 0; i < 199; i++) {
        memcpy(key + 2 * i, "\xc3\xa9", 2);
    }

    key[2 * i] = 'x';
    key[2 * i + 1] = '\0';

    body = unit_json(SEED);
    json_object_set_new(body, key, json_true());

    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.code, "unknown_parameter");
    assert_string_equal(err.field, key);
    assert_non_null(strstr(err.message, "...\""));

    msg = json_string(err.message);
    assert_non_null(msg);
    json_decref(msg);
    json_decref(body);
}


static void
test_first_problem(void **state)
{
    static const unit_case_t  cases[] = {
        /* in table order: amount, currency, gateway, recipient, rest */
        { NULL, "{'amount': 0, 'currency': 'XYZ'}", "invalid_parameter",
          "amount", NULL },
        { NULL, "{'currency': 'XYZ', 'gateway': 'BAD'}",
          "invalid_parameter", "currency", NULL },
        { NULL, "{'email': 'bad', 'bank_code': '!'}", "invalid_parameter",
          "bank_code", NULL },
        { NULL, "{'stage': 1, 'tenant': 'BAD'}", "invalid_parameter",
          "tenant", NULL },
        /* formats are checked before the one-of rules */
        { NULL, "{'mobile_money_number': '0241234567', 'stage': 'yes'}",
          "invalid_parameter", "stage", NULL },
    };

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));
}


static void
test_not_an_object(void **state)
{
    json_t  *body;

    (void) state;

    body = json_array();
    unit_expect(0, body, "invalid_parameter", NULL, "JSON object");
    unit_expect(1, body, "invalid_parameter", NULL, "JSON object");
    json_decref(body);

    body = json_object();
    unit_expect(0, body, "missing_parameter", "amount", NULL);
    unit_expect(1, body, "missing_parameter", "gateway", NULL);
    json_decref(body);
}


static void
test_webhook_urls(void **state)
{
    static const unit_case_t  cases[] = {
        { NULL, "{'webhook_urls': ['https://example.com']}", NULL, NULL,
          NULL },
        { NULL, "{'webhook_urls': ['http://localhost:8080/hook']}", NULL,
          NULL, NULL },
        { NULL, "{'webhook_urls': ['https://u:p@example.com/x?y=1#z']}",
          "invalid_parameter", "webhook_urls", "user name or password" },
        { NULL, "{'webhook_urls': ['https://[::1]:8443/hooks']}",
          "invalid_parameter", "webhook_urls",
          "webhook_urls[0] must not point at a private" },
        { NULL, "{'webhook_urls': ['https://[2001:db9::1]:8443/hooks']}",
          NULL, NULL, NULL },
        { NULL, "{'webhook_urls': ['https://93.184.215.14/x#z']}", NULL,
          NULL, NULL },
        { NULL, "{'webhook_urls': ['HTTPS://EXAMPLE.COM?a=b']}", NULL,
          NULL, NULL },
        { NULL, "{'webhook_urls': ['https://a.io', 'https://b.io',"
                " 'https://c.io', 'https://d.io', 'https://e.io']}",
          NULL, NULL, NULL },
        { NULL, "{'webhook_urls': ['https://a.io', 'https://b.io',"
                " 'https://c.io', 'https://d.io', 'https://e.io',"
                " 'https://f.io']}",
          "invalid_parameter", "webhook_urls", "at most 5 URLs" },
        { NULL, "{'webhook_urls': [1]}", "invalid_parameter",
          "webhook_urls", "webhook_urls[0] must be a string, not an" },
        { NULL, "{'webhook_urls': ['https://ok.io', 'ftp://example.com']}",
          "invalid_parameter", "webhook_urls",
          "webhook_urls[1] must be an http:// or https:// URL" },
        { NULL, "{'webhook_urls': ['example.com/hook']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://']}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https:///path']}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://?x']}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['http://:80/']}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://user@/x']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://exa mple.com']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://example.com/a b']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://example.com/\\u0001']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': [' https://example.com']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://example.com:0/']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://example.com:65536/']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://example.com:/']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://example.com:8a/']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://[]/']}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://[::1/']}", "invalid_parameter",
          "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['https://[::1]x/']}",
          "invalid_parameter", "webhook_urls", NULL },
        { NULL, "{'webhook_urls': ['javascript:alert(1)']}",
          "invalid_parameter", "webhook_urls", NULL },
    };

    char                 *url;
    json_t               *body, *urls;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));

    /* an empty list means none */
    body = unit_body(SEED, NULL, "{'webhook_urls': []}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_null(c.webhook_urls);
    json_decref(body);

    /* 2048 bytes pass, 2049 do not */
    url = unit_long_url(2048);

    body = unit_json(SEED);
    urls = json_array();
    json_array_append_new(urls, json_string(url));
    json_object_set_new(body, "webhook_urls", urls);
    unit_expect(0, body, NULL, NULL, NULL);

    url[2048] = 'p';
    json_array_set_new(urls, 0, json_string(url));
    unit_expect(0, body, "invalid_parameter", "webhook_urls",
                "at most 2048 bytes");

    free(url);
    json_decref(body);
}


/*
 * Webhook URLs through libcurl's parser: what it refuses, what we refuse
 * beyond it, and private literals refused unless the caller allows them.
 */

static void
test_url_check(void **state)
{
    int     failed;
    char    why[192];
    size_t  i;

    static const struct {
        const char  *url;
        unsigned     flags;
        const char  *why;       /* NULL: accepted */
    } cases[] = {
        { "https://example.com/hook", 0, NULL },
        { "HTTPS://EXAMPLE.COM?a=b", 0, NULL },
        { "http://example.com:8080/a?b#c", 0, NULL },
        { "https://[2001:db9::1]:8443/x", 0, NULL },
        { "http://localhost:8080/hook", 0, NULL },   /* a name: resolved */

        /* libcurl's parser refuses them; they failed on every attempt */
        { "http://a@b@c/", 0, "not a valid URL (Bad hostname)" },
        { "http://a@b@c/", NGX_PAYOUT_URL_ALLOW_PRIVATE, "not a valid URL" },
        { "http://[:::1]/", 0, "not a valid URL (Bad IPv6 address)" },
        { "http://[::1/", 0, "not a valid URL" },
        { "http://[v1.x]/", 0, "not a valid URL" },
        { "http://[]/", 0, "not a valid URL" },
        { "http://ex;ample.com/", 0, "not a valid URL" },
        { "http://ex\\ample.com/", 0, "not a valid URL" },
        { "http://example.com:65536/", 0, "not a valid URL" },
        { "http://example.com:8a/", 0, "not a valid URL" },

        /* what libcurl takes and we do not */
        { "http:/example.com/", 0, "http:// or https://" },
        { "http:///example.com/", 0, "http:// or https://" },
        { "ftp://example.com/", 0, "http:// or https://" },
        { "file:///etc/passwd", 0, "http:// or https://" },
        { "example.com/hook", 0, "http:// or https://" },
        { "http://example.com:0/", 0, "port from 1 to 65535" },
        { "http://example.com:/", 0, "empty port" },
        { "http://example.com:", 0, "empty port" },
        { "http://u:p@example.com/", 0, "user name or password" },
        { "http://u@example.com/", 0, "user name or password" },
        { "http://:p@example.com/", 0, "user name or password" },
        { "http://@example.com/", 0, "user name or password" },
        { "http://u:p@127.0.0.1/", NGX_PAYOUT_URL_ALLOW_PRIVATE,
          "user name or password" },
        { "http://exa mple.com/", 0, "spaces or control" },
        { "http://example.com/\x7f", 0, "spaces or control" },

        /* literal addresses the SSRF guard refuses, in every spelling */
        { "http://127.0.0.1/", 0, "private, loopback" },
        { "http://127.1/", 0, "(127.0.0.1)" },
        { "http://0x7f000001/", 0, "(127.0.0.1)" },
        { "http://2130706433/", 0, "(127.0.0.1)" },
        { "http://017700000001/", 0, "(127.0.0.1)" },
        { "http://10.1.2.3:8080/", 0, "(10.1.2.3)" },
        { "http://192.168.0.1/", 0, "private" },
        { "http://169.254.169.254/latest/meta-data/", 0, "private" },
        { "http://0.0.0.0/", 0, "private" },
        { "http://[::1]/", 0, "([::1])" },
        { "http://[::ffff:127.0.0.1]/", 0, "private" },
        { "http://[fe80::1%25eth0]/", 0, "private" },
        { "http://[fd00::1]/", 0, "private" },

        { "http://127.0.0.1:8080/", NGX_PAYOUT_URL_ALLOW_PRIVATE, NULL },
        { "http://[::1]:8443/", NGX_PAYOUT_URL_ALLOW_PRIVATE, NULL },
        { "http://[fe80::1%25eth0]/", NGX_PAYOUT_URL_ALLOW_PRIVATE, NULL },
    };

    (void) state;

    failed = 0;

    for (i = 0; i < countof(cases); i++) {
        why[0] = '\0';

        if ((ngx_payout_url_check(cases[i].url, strlen(cases[i].url),
                                  cases[i].flags, why, sizeof(why))
             == NGX_PAYOUT_OK) != (cases[i].why == NULL)
            || (cases[i].why && strstr(why, cases[i].why) == NULL))
        {
            print_error("case %zu: %s (flags %u): want \"%s\", got \"%s\"\n",
                        i, cases[i].url, cases[i].flags,
                        cases[i].why ? cases[i].why : "ok", why);
            failed++;
        }
    }

    assert_int_equal(failed, 0);

    /* the length is checked, and s need not end in a NUL */
    assert_int_equal(ngx_payout_url_check("http://a.io/xyz", 12, 0, why,
                                          sizeof(why)), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_url_check("http://a.io/\0x", 14, 0, why,
                                          sizeof(why)), NGX_PAYOUT_ERROR);

    assert_true(ngx_payout_url_valid("http://127.0.0.1/", 17));
    assert_false(ngx_payout_url_valid("http://a@b@c/", 13));
}


/* the configuration's policy reaches webhook_urls */

static void
test_webhook_urls_private(void **state)
{
    json_t               *body;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    body = unit_body(SEED, NULL, "{'webhook_urls': ['https://a.io/',"
                     " 'http://127.0.0.1:9000/hook']}");

    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.field, "webhook_urls");
    assert_non_null(strstr(err.message, "webhook_urls[1] must not point"));

    assert_int_equal(ngx_payout_validate_create_flags(body,
                         NGX_PAYOUT_URL_ALLOW_PRIVATE, &c, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(json_array_size(c.webhook_urls), 2);

    json_decref(body);
}


static void
test_endpoint(void **state)
{
    size_t                        i;
    char                         *url;
    json_t                       *body;
    ngx_payout_error_t            err;
    ngx_payout_endpoint_input_t   e;

    static const unit_case_t  cases[] = {
        { NULL, NULL, NULL, NULL, NULL },
        { "url", NULL, "missing_parameter", "url", "url is required" },
        { NULL, "{'url': null}", "missing_parameter", "url", NULL },
        { NULL, "{'url': 5}", "invalid_parameter", "url",
          "url must be a string" },
        { NULL, "{'ur1': 'https://a.io/'}", "unknown_parameter", "ur1",
          "did you mean \"url\"" },
        { NULL, "{'secret': 'whsec_x'}", "unknown_parameter", "secret",
          NULL },
        { NULL, "{'url': 'http://a@b@c/'}", "invalid_parameter", "url",
          "url is not a valid URL" },
        { NULL, "{'url': 'http://a:b@c/'}", "invalid_parameter", "url",
          "url must not contain a user name" },
        { NULL, "{'url': 'http://[:::1]/'}", "invalid_parameter", "url",
          "url is not a valid URL" },
        { NULL, "{'url': 'http://10.0.0.1/'}", "invalid_parameter", "url",
          "private" },
        { NULL, "{'url': 'ftp://a.io/'}", "invalid_parameter", "url", NULL },
    };

    (void) state;

    for (i = 0; i < countof(cases); i++) {
        body = unit_body("{'url': 'https://example.com/hooks'}",
                         cases[i].remove, cases[i].patch);

        if (unit_mismatch(ngx_payout_validate_endpoint(body, 0, &e, &err),
                          &err, cases[i].code, cases[i].field,
                          cases[i].message))
        {
            print_error("  in endpoint case %zu\n", i);
            fail();
        }

        if (cases[i].code == NULL) {
            assert_string_equal(e.url, "https://example.com/hooks");
        }

        json_decref(body);
    }

    body = unit_json("{'url': 'http://127.0.0.1:8080/x'}");
    assert_int_equal(ngx_payout_validate_endpoint(body, 0, &e, &err),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_validate_endpoint(body,
                         NGX_PAYOUT_URL_ALLOW_PRIVATE, &e, &err),
                     NGX_PAYOUT_OK);
    json_decref(body);

    /* 2048 bytes pass, 2049 do not: the 2.9 kB URL that stopped a tenant */
    url = unit_long_url(2048);

    body = json_object();
    json_object_set_new(body, "url", json_string(url));
    assert_int_equal(ngx_payout_validate_endpoint(body, 0, &e, &err),
                     NGX_PAYOUT_OK);

    url[2048] = 'p';
    json_object_set_new(body, "url", json_string(url));
    assert_int_equal(ngx_payout_validate_endpoint(body, 0, &e, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.field, "url");
    assert_non_null(strstr(err.message, "at most 2048 bytes"));

    free(url);
    json_decref(body);
}


/*
 * A webhook_secret is accepted only if it signs: "whsec_" + base64 of 24
 * to 64 bytes (Standard Webhooks), or 1 to 256 other bytes.
 */

static void
test_webhook_secret(void **state)
{
    int            failed;
    char           sig[NGX_PAYOUT_WEBHOOK_SIG_LEN + 1], secret[400];
    size_t         i, n;
    unsigned char  raw[80];

    static const struct {
        const char  *secret;
        const char  *why;           /* NULL: accepted */
    } cases[] = {
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL },   /* 24 bytes */
        { "your-webhook-secret", NULL },
        { "a", NULL },
        { "whsec_abc", "followed by base64" },
        { "whsec_", "24 to 64 bytes" },
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa==", "24 to 64 bytes" },
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "followed by base64" },
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=w", "followed by base64" },
        { "whsec_MfKQ9r8GKYqr-wjUPD8ILPZIo2LaLaSw", "followed by base64" },
        { "whsec_MfKQ9r8GKYqr wjUPD8ILPZIo2LaLaSw", "followed by base64" },
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "followed by base64" },
        { "", "1 to 256 bytes" },
        { "a\tb", "control characters" },
    };

    (void) state;

    failed = 0;

    for (i = 0; i < countof(cases); i++) {
        const char  *why;

        why = ngx_payout_secret_check(cases[i].secret,
                                      strlen(cases[i].secret));

        if ((why == NULL) != (cases[i].why == NULL)
            || (why && strstr(why, cases[i].why) == NULL))
        {
            print_error("case %zu: \"%s\": want \"%s\", got \"%s\"\n", i,
                        cases[i].secret, cases[i].why ? cases[i].why : "ok",
                        why ? why : "ok");
            failed++;
        }
    }

    assert_int_equal(failed, 0);

    /* every decoded length around the bounds; accepted means it signs */

    memset(raw, 0xa5, sizeof(raw));

    for (n = 0; n <= 70; n++) {
        memcpy(secret, "whsec_", 6);
        EVP_EncodeBlock((unsigned char *) secret + 6, raw, (int) n);

        if (ngx_payout_secret_check(secret, strlen(secret)) == NULL) {
            assert_true(n >= NGX_PAYOUT_WHSEC_MIN
                        && n <= NGX_PAYOUT_WHSEC_MAX);
            assert_int_equal(ngx_payout_webhook_sign(secret, strlen(secret),
                                 "msg_1", 1, (const unsigned char *) "{}", 2,
                                 sig), NGX_PAYOUT_OK);

        } else {
            assert_true(n < NGX_PAYOUT_WHSEC_MIN
                        || n > NGX_PAYOUT_WHSEC_MAX);
        }
    }

    /* plain secrets: 256 bytes pass, 257 do not */
    memset(secret, 's', 257);
    assert_null(ngx_payout_secret_check(secret, 256));
    assert_int_equal(ngx_payout_webhook_sign(secret, 256, "msg_1", 1,
                         (const unsigned char *) "{}", 2, sig),
                     NGX_PAYOUT_OK);
    assert_non_null(ngx_payout_secret_check(secret, 257));
}


/* numbers as sent, separators included, are bounded too */

static void
test_number_lengths(void **state)
{
    char     s[80];
    json_t  *body;

    static const struct {
        const char  *base;
        const char  *field;
        const char  *digits;
        size_t       max;
    } limits[] = {
        { SEED, "bank_account_number", "0123456789", 64 },
        { SEED, "phone", "2348031234567", 32 },
        { MOBILE, "mobile_money_number", "233241234567", 32 },
    };

    size_t  i, len;

    (void) state;

    for (i = 0; i < countof(limits); i++) {
        len = strlen(limits[i].digits);
        memset(s, ' ', limits[i].max + 1);
        memcpy(s + limits[i].max - len, limits[i].digits, len);
        s[limits[i].max] = '\0';

        body = unit_json(limits[i].base);
        json_object_set_new(body, limits[i].field, json_string(s));
        unit_expect(0, body, NULL, NULL, NULL);

        memmove(s + 1, s, limits[i].max + 1);
        json_object_set_new(body, limits[i].field, json_string(s));
        unit_expect(0, body, "invalid_parameter", limits[i].field,
                    "bytes long");
        json_decref(body);
    }
}


static void
test_metadata(void **state)
{
    int                   i;
    char                  key[64], value[512];
    json_t               *body, *meta;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    static const unit_case_t  cases[] = {
        { NULL, "{'metadata': {}}", NULL, NULL, NULL },
        { NULL, "{'metadata': {'order': 'A-1042', 'n': 3, 'x': 1.5,"
                " 'vip': true, 'old': false, 'none': null}}",
          NULL, NULL, NULL },
        { NULL, "{'metadata': {'seller': {'id': 1}}}", "invalid_parameter",
          "metadata", "\"seller\" is an object" },
        { NULL, "{'metadata': {'a': 1, 'tags': ['x']}}",
          "invalid_parameter", "metadata", "\"tags\" is an array" },
        { NULL, "{'metadata': {'': 1}}", "invalid_parameter", "metadata",
          "1 to 40 bytes" },
    };

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));

    /* stored as given */
    body = unit_body(SEED, NULL, "{'metadata': {'order': 'A-1042'}}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_ptr_equal(c.metadata, json_object_get(body, "metadata"));
    json_decref(body);

    body = unit_json(SEED);
    meta = json_object();
    json_object_set_new(body, "metadata", meta);

    /* 50 keys pass, 51 do not */
    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        json_object_set_new(meta, key, json_integer(i));
    }

    unit_expect(0, body, NULL, NULL, NULL);

    json_object_set_new(meta, "one_too_many", json_true());
    unit_expect(0, body, "invalid_parameter", "metadata", "at most 50 keys");
    json_object_clear(meta);

    /* keys of 40 bytes pass, 41 do not, and the key is named */
    memset(key, 'k', 41);
    key[40] = '\0';
    json_object_set_new(meta, key, json_integer(1));
    unit_expect(0, body, NULL, NULL, NULL);

    key[40] = 'k';
    key[41] = '\0';
    json_object_set_new(meta, key, json_integer(1));
    unit_expect(0, body, "invalid_parameter", "metadata", key);
    json_object_clear(meta);

    /* string values of 500 bytes pass, 501 do not */
    memset(value, 'v', 501);
    value[500] = '\0';
    json_object_set_new(meta, "note", json_string(value));
    unit_expect(0, body, NULL, NULL, NULL);

    value[500] = 'v';
    value[501] = '\0';
    json_object_set_new(meta, "note", json_string(value));
    unit_expect(0, body, "invalid_parameter", "metadata",
                "\"note\" must be at most 500 bytes");
    json_object_clear(meta);

    /* 8192 bytes serialised in all: 16 x 500 fit, 17 do not */
    value[500] = '\0';

    for (i = 0; i < 16; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        json_object_set_new(meta, key, json_string(value));
    }

    assert_true(json_dumpb(meta, NULL, 0, JSON_COMPACT) <= 8192);
    unit_expect(0, body, NULL, NULL, NULL);

    json_object_set_new(meta, "k16", json_string(value));
    assert_true(json_dumpb(meta, NULL, 0, JSON_COMPACT) > 8192);
    unit_expect(0, body, "invalid_parameter", "metadata", "8192 bytes");
    json_object_clear(meta);

    /* escapes count: 300 controls become 1800 bytes of "\u0001" */
    memset(value, 0x01, 300);
    value[300] = '\0';

    for (i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        json_object_set_new(meta, key, json_string(value));
    }

    unit_expect(0, body, "invalid_parameter", "metadata", "8192 bytes");

    json_decref(body);

    /* NUL in a key or a value (jsonb could not store it) */
    body = unit_json(SEED);
    meta = json_object();
    json_object_set_new(body, "metadata", meta);
    json_object_setn_new(meta, "k\0ey", 4, json_integer(1));
    unit_expect(0, body, "invalid_parameter", "metadata", "NUL");
    json_object_clear(meta);
    json_object_set_new(meta, "key", json_stringn("v\0v", 3));
    unit_expect(0, body, "invalid_parameter", "metadata", "NUL");
    json_decref(body);

    /* recipients take metadata too */
    body = unit_body(RCPT, NULL, "{'metadata': {'seller': 'S-1'}}");
    unit_expect(1, body, NULL, NULL, NULL);
    json_decref(body);

    body = unit_body(RCPT, NULL, "{'metadata': {'seller': [1]}}");
    unit_expect(1, body, "invalid_parameter", "metadata", "\"seller\"");
    json_decref(body);
}


static void
test_recipient_create(void **state)
{
    static const unit_case_t  cases[] = {
        { NULL, NULL, NULL, NULL, NULL },
        { NULL, "{'bank_name': 'GTB', 'name': 'Ada',"
                " 'email': 'ada@example.com', 'phone': '08031234567',"
                " 'recipient_type': 'bank_account',"
                " 'idempotency_key': 'r-1', 'metadata': {'a': 1}}",
          NULL, NULL, NULL },
        { "gateway", NULL, "missing_parameter", "gateway", NULL },
        { NULL, "{'gateway': 'Paystack'}", "invalid_parameter", "gateway",
          NULL },
        { RCPT_TO_MOBILE, "{'mobile_money_number': '0241234567'}",
          NULL, NULL, NULL },
        { RCPT_TO_MOBILE, NULL, "missing_parameter", "bank_account_number",
          "Recipient details are required" },
        { "bank_code", NULL, "missing_parameter", "bank_code", NULL },
        { NULL, "{'mobile_money_number': '0241234567'}",
          "conflicting_parameters", "mobile_money_number", NULL },
        { NULL, "{'recipient_type': 'mobile_money'}",
          "conflicting_parameters", "recipient_type", NULL },
        { NULL, "{'bank_account_number': 'x'}", "invalid_parameter",
          "bank_account_number", NULL },
    };

    json_t                        *body;
    ngx_payout_error_t             err;
    ngx_payout_recipient_input_t   r;

    (void) state;

    unit_run_cases(1, RCPT, cases, countof(cases));

    body = unit_body(RCPT, NULL, "{'bank_account_number': '01234 56789',"
                                 " 'idempotency_key': 'r-1',"
                                 " 'metadata': {'a': 1}, 'name': 'Ada'}");
    assert_int_equal(ngx_payout_validate_recipient(body, &r, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(r.type, NGX_PAYOUT_RECIPIENT_BANK);
    assert_null(r.recipient_uuid);
    assert_string_equal(r.gateway, "paystack");
    assert_string_equal(r.account_number, "0123456789");
    assert_string_equal(r.bank_account_name, "J S");
    assert_string_equal(r.bank_code, "058");
    assert_string_equal(r.idempotency_key, "r-1");
    assert_string_equal(r.name, "Ada");
    assert_ptr_equal(r.metadata, json_object_get(body, "metadata"));
    json_decref(body);

    body = unit_body(RCPT, RCPT_TO_MOBILE,
                     "{'mobile_money_number': '+254 712 345 678',"
                     " 'mobile_money_provider': 'M-Pesa'}");
    assert_int_equal(ngx_payout_validate_recipient(body, &r, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(r.type, NGX_PAYOUT_RECIPIENT_MOBILE);
    assert_string_equal(r.mobile_number, "254712345678");
    assert_string_equal(r.mobile_money_provider, "M-Pesa");
    assert_string_equal(r.account_number, "");
    assert_null(r.metadata);
    json_decref(body);
}


static void
test_messages(void **state)
{
    json_t               *body;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    /* a few messages in full: they are part of the API */

    body = unit_body(SEED, NULL, "{'amount': '2500'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.message, "amount must be an integer number of "
                        "minor units, not a string.");
    json_decref(body);

    body = unit_body(SEED, NULL, "{'currency': 'abc'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.message, "currency \"ABC\" is not a supported "
                        "ISO 4217 currency code.");
    json_decref(body);

    body = unit_body(SEED, "bank_account_name bank_code", NULL);
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.message, "bank_account_name is missing: an "
                        "inline bank account needs bank_account_number, "
                        "bank_account_name and bank_code.");
    json_decref(body);

    body = unit_body(SEED, NULL, "{'mobile_money_number': '0241234567'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.message, "A complete bank account was sent "
                        "together with mobile_money_number; send either "
                        "bank account or mobile money details, not both.");
    json_decref(body);

    body = unit_body(SEED, NULL, "{'gateway': 'My Gateway'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_ERROR);
    assert_string_equal(err.message, "gateway must be 1 to 32 lower-case "
                        "letters, digits, '_' or '-', starting with a "
                        "letter or digit.");
    json_decref(body);
}


static void
test_currency_find(void **state)
{
    size_t                        i;
    const ngx_payout_currency_t  *cur;

    static const struct {
        const char  *code;
        int          exponent;
    }  known[] = {
        { "USD", 2 }, { "EUR", 2 }, { "GBP", 2 }, { "NGN", 2 },
        { "GHS", 2 }, { "KES", 2 }, { "ZAR", 2 }, { "INR", 2 },
        { "CHF", 2 }, { "MGA", 2 }, { "MRU", 2 }, { "XCG", 2 },
        { "ZWG", 2 }, { "SLE", 2 }, { "VES", 2 }, { "AED", 2 },
        { "JPY", 0 }, { "KRW", 0 }, { "UGX", 0 }, { "RWF", 0 },
        { "XOF", 0 }, { "XAF", 0 }, { "XPF", 0 }, { "ISK", 0 },
        { "VND", 0 }, { "CLP", 0 }, { "PYG", 0 }, { "BIF", 0 },
        { "DJF", 0 }, { "GNF", 0 }, { "KMF", 0 }, { "VUV", 0 },
        { "UYI", 0 },
        { "BHD", 3 }, { "KWD", 3 }, { "JOD", 3 }, { "OMR", 3 },
        { "TND", 3 }, { "LYD", 3 }, { "IQD", 3 },
        { "CLF", 4 }, { "UYW", 4 },
        /* the table's ends */
        { "AED", 2 }, { "ZWG", 2 },
    };

    /* no minor unit defined, withdrawn, or never existed */
    static const char  *unknown[] = {
        "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD",
        "XSU", "XUA", "XTS", "XXX", "HRK", "ZWL", "VEF", "MRO", "STD",
        "LTL", "AAA", "ZZZ", "USS",
    };

    (void) state;

    for (i = 0; i < countof(known); i++) {
        cur = ngx_payout_currency_find(known[i].code, 3);

        if (cur == NULL) {
            print_error("%s not found\n", known[i].code);
            fail();
        }

        assert_string_equal(cur->code, known[i].code);
        assert_int_equal(cur->exponent, known[i].exponent);
    }

    for (i = 0; i < countof(unknown); i++) {
        if (ngx_payout_currency_find(unknown[i], 3)) {
            print_error("%s found\n", unknown[i]);
            fail();
        }
    }

    /* any case in, upper case out */
    cur = ngx_payout_currency_find("ngn", 3);
    assert_non_null(cur);
    assert_string_equal(cur->code, "NGN");
    assert_ptr_equal(cur, ngx_payout_currency_find("NgN", 3));
    assert_ptr_equal(cur, ngx_payout_currency_find("NGN", 3));

    /* the length is what counts, not a NUL */
    assert_ptr_equal(cur, ngx_payout_currency_find("NGNX", 3));
    assert_null(ngx_payout_currency_find("NGN", 2));
    assert_null(ngx_payout_currency_find("NGN", 4));
    assert_null(ngx_payout_currency_find("", 0));
    assert_null(ngx_payout_currency_find(NULL, 3));
    assert_null(ngx_payout_currency_find("N N", 3));
    assert_null(ngx_payout_currency_find("N\0N", 3));
    assert_null(ngx_payout_currency_find("566", 3));
    /* 'N' | 0x20 tricks: '@' and '[' are not letters */
    assert_null(ngx_payout_currency_find("US@", 3));
    assert_null(ngx_payout_currency_find("US[", 3));
    assert_null(ngx_payout_currency_find("us\xc4", 3));
}


/* every code the table holds: three upper-case letters, a sane exponent */

static void
test_currency_table(void **state)
{
    int                           found;
    char                          code[4];
    const ngx_payout_currency_t  *cur;

    (void) state;

    found = 0;
    code[3] = '\0';

    for (code[0] = 'A'; code[0] <= 'Z'; code[0]++) {
        for (code[1] = 'A'; code[1] <= 'Z'; code[1]++) {
            for (code[2] = 'A'; code[2] <= 'Z'; code[2]++) {
                cur = ngx_payout_currency_find(code, 3);

                if (cur == NULL) {
                    continue;
                }

                found++;
                assert_string_equal(cur->code, code);
                assert_true(cur->exponent == 0 || cur->exponent == 2
                            || cur->exponent == 3 || cur->exponent == 4);
            }
        }
    }

    /* bsearch finding all of these also shows the table is sorted */
    print_message("%d currencies\n", found);
    assert_true(found >= 150);
}


static void
test_last4(void **state)
{
    (void) state;

    assert_string_equal(ngx_payout_last4("0123456789"), "6789");
    assert_string_equal(ngx_payout_last4("GB29NWBK60161331926819"), "6819");
    assert_string_equal(ngx_payout_last4("12345"), "2345");
    assert_string_equal(ngx_payout_last4("1234"), "1234");
    assert_string_equal(ngx_payout_last4("123"), "123");
    assert_string_equal(ngx_payout_last4(""), "");
    assert_string_equal(ngx_payout_last4(NULL), "");
}


/* issue 8: a provider's connected account, and a bank account's owner */

static void
test_connected_account(void **state)
{
    static const unit_case_t  cases[] = {
        /* account_id alone is a connected account, typed or not */
        { NULL, "{'account_id': 'acct_1032D82eZvKYlo2C'}", NULL, NULL,
          NULL },
        { NULL, "{'account_id': 'acct_1032D82eZvKYlo2C',"
                " 'recipient_type': 'connected_account'}", NULL, NULL,
          NULL },
        { NULL, "{'account_id': 'acct_1', 'name': 'Ada',"
                " 'email': 'ada@example.com', 'country': 'US'}",
          NULL, NULL, NULL },

        /* the type needs its account */
        { NULL, "{'recipient_type': 'connected_account'}",
          "missing_parameter", "account_id", "required for a "
          "connected_account" },
        { NULL, "{'recipient_type': 'connected_account', 'country': 'US'}",
          "missing_parameter", "account_id", NULL },

        /* a bank account may name the connected account that owns it */
        { NULL, "{" TRIO ", 'account_id': 'acct_1032D82eZvKYlo2C'}",
          NULL, NULL, NULL },
        { NULL, "{" TRIO ", 'account_id': 'acct_1',"
                " 'recipient_type': 'bank_account'}", NULL, NULL, NULL },
        { NULL, "{" TRIO ", 'recipient_type': 'connected_account'}",
          "conflicting_parameters", "recipient_type", "bank account" },
        { NULL, "{'account_id': 'acct_1',"
                " 'recipient_type': 'bank_account'}",
          "conflicting_parameters", "recipient_type",
          "\"bank_account\" but connected account" },
        { NULL, "{'account_id': 'acct_1', 'bank_code': '058'}",
          "missing_parameter", "bank_account_number", NULL },

        /* but mobile money has none */
        { NULL, "{'mobile_money_number': '0241234567',"
                " 'account_id': 'acct_1'}",
          "conflicting_parameters", "account_id", "connected account" },
        { NULL, "{'account_id': 'acct_1',"
                " 'recipient_type': 'mobile_money'}",
          "conflicting_parameters", "recipient_type", "connected account" },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'account_id': 'acct_1'}",
          "conflicting_parameters", "account_id",
          "recipient_uuid cannot be combined" },

        /* the form: "acct_" and 1 to 64 letters or digits */
        { NULL, "{'account_id': 'acct_'}", "invalid_parameter",
          "account_id", "\"acct_\" followed by 1 to 64 letters or digits" },
        { NULL, "{'account_id': 'acct'}", "invalid_parameter",
          "account_id", NULL },
        { NULL, "{'account_id': 'ACCT_123'}", "invalid_parameter",
          "account_id", NULL },
        { NULL, "{'account_id': 'ba_1032D82eZvKYlo2C'}",
          "invalid_parameter", "account_id", NULL },
        { NULL, "{'account_id': 'acct_12 3'}", "invalid_parameter",
          "account_id", NULL },
        { NULL, "{'account_id': 'acct_12-3'}", "invalid_parameter",
          "account_id", NULL },
        { NULL, "{'account_id': 'acct_\u00e9'}", "invalid_parameter",
          "account_id", NULL },
        { NULL, "{'account_id': ''}", "invalid_parameter", "account_id",
          NULL },
        { NULL, "{'account_id': 12}", "invalid_parameter", "account_id",
          "must be a string" },
        { NULL, "{'account_id': 'acct_1234567890123456789012345678901234"
                "567890123456789012345678901234'}", NULL, NULL, NULL },
        { NULL, "{'account_id': 'acct_1234567890123456789012345678901234"
                "5678901234567890123456789012345'}", "invalid_parameter",
          "account_id", "at most 69 bytes" },
        { NULL, "{'account_id': null, 'mobile_money_number': '0241234567'}",
          NULL, NULL, NULL },

        { NULL, "{'recipient_type': 'connected'}", "invalid_parameter",
          "recipient_type", "\"connected_account\"" },
    };

    json_t                        *body;
    ngx_payout_error_t             err;
    ngx_payout_create_t            c;
    ngx_payout_recipient_input_t   r;

    (void) state;

    unit_run_cases(0, BARE, cases, countof(cases));

    body = unit_body(BARE, NULL, "{'account_id': 'acct_1032D82eZvKYlo2C',"
                                 " 'country': 'DE'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(c.recipient.type, NGX_PAYOUT_RECIPIENT_CONNECTED);
    assert_string_equal(c.recipient.account_id, "acct_1032D82eZvKYlo2C");
    assert_string_equal(c.recipient.country, "DE");
    assert_string_equal(c.recipient.account_number, "");
    assert_string_equal(c.recipient.gateway, "sandbox");
    json_decref(body);

    /* POST /payout-recipients: the same rules */
    body = unit_body(RCPT, RCPT_TO_MOBILE,
                     "{'account_id': 'acct_9', "
                     " 'recipient_type': 'connected_account'}");
    assert_int_equal(ngx_payout_validate_recipient(body, &r, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(r.type, NGX_PAYOUT_RECIPIENT_CONNECTED);
    assert_string_equal(r.account_id, "acct_9");
    assert_null(r.country);
    json_decref(body);

    body = unit_body(RCPT, NULL, "{'account_id': 'acct_9',"
                                 " 'country': 'NG'}");
    assert_int_equal(ngx_payout_validate_recipient(body, &r, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(r.type, NGX_PAYOUT_RECIPIENT_BANK);
    assert_string_equal(r.account_id, "acct_9");
    assert_string_equal(r.account_number, "0123456789");
    json_decref(body);

    body = unit_body(RCPT, RCPT_TO_MOBILE,
                     "{'recipient_type': 'connected_account'}");
    unit_expect(1, body, "missing_parameter", "account_id", NULL);
    json_decref(body);

    body = unit_body(RCPT, RCPT_TO_MOBILE, NULL);
    unit_expect(1, body, "missing_parameter", "bank_account_number",
                "or account_id");
    json_decref(body);
}


/* issue 9: a provider balance (Mollie's bal_...), its id optional */

static void
test_balance(void **state)
{
    static const unit_case_t  cases[] = {
        /* balance_id alone is a balance, typed or not; the type alone too */
        { NULL, "{'balance_id': 'bal_gVMhHKqSSRYJyPsuoPNFH'}", NULL, NULL,
          NULL },
        { NULL, "{'balance_id': 'bal_gVMhHKqSSRYJyPsuoPNFH',"
                " 'recipient_type': 'balance'}", NULL, NULL, NULL },
        { NULL, "{'recipient_type': 'balance'}", NULL, NULL, NULL },
        { NULL, "{'recipient_type': 'balance', 'name': 'Ada',"
                " 'country': 'NL'}", NULL, NULL, NULL },
        { NULL, "{'balance_id': null, 'recipient_type': 'balance'}",
          NULL, NULL, NULL },

        /* no other destination goes with it */
        { NULL, "{" TRIO ", 'balance_id': 'bal_1'}",
          "conflicting_parameters", "bank_account_number",
          "balance recipient" },
        { NULL, "{'recipient_type': 'balance', 'bank_code': '058'}",
          "conflicting_parameters", "bank_code", "configured on it" },
        { NULL, "{'recipient_type': 'balance',"
                " 'mobile_money_number': '0241234567'}",
          "conflicting_parameters", "mobile_money_number", NULL },
        { NULL, "{'balance_id': 'bal_1', 'account_id': 'acct_1'}",
          "conflicting_parameters", "account_id", NULL },
        { NULL, "{'balance_id': 'bal_1', 'recipient_type': 'bank_account'}",
          "conflicting_parameters", "recipient_type",
          "\"bank_account\" but balance_id" },
        { NULL, "{" TRIO ", 'recipient_type': 'balance'}",
          "conflicting_parameters", "bank_account_number", NULL },
        { NULL, "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
                " 'balance_id': 'bal_1'}",
          "conflicting_parameters", "balance_id",
          "recipient_uuid cannot be combined" },

        /* the form: "bal_" and 1 to 64 letters or digits */
        { NULL, "{'balance_id': 'bal_'}", "invalid_parameter",
          "balance_id", "\"bal_\" followed by 1 to 64 letters or digits" },
        { NULL, "{'balance_id': 'bal'}", "invalid_parameter", "balance_id",
          NULL },
        { NULL, "{'balance_id': 'BAL_123'}", "invalid_parameter",
          "balance_id", NULL },
        { NULL, "{'balance_id': 'acct_123'}", "invalid_parameter",
          "balance_id", "a balance id" },
        { NULL, "{'balance_id': 'bal_12-3'}", "invalid_parameter",
          "balance_id", NULL },
        { NULL, "{'balance_id': 'bal_12 3'}", "invalid_parameter",
          "balance_id", NULL },
        { NULL, "{'balance_id': ''}", "invalid_parameter", "balance_id",
          NULL },
        { NULL, "{'balance_id': 7}", "invalid_parameter", "balance_id",
          "must be a string" },
        { NULL, "{'balance_id': 'bal_12345678901234567890123456789012345"
                "67890123456789012345678901234'}", NULL, NULL, NULL },
        { NULL, "{'balance_id': 'bal_12345678901234567890123456789012345"
                "678901234567890123456789012345'}", "invalid_parameter",
          "balance_id", "at most 68 bytes" },

        { NULL, "{'recipient_type': 'bal'}", "invalid_parameter",
          "recipient_type", "\"balance\"" },
    };

    json_t                        *body;
    ngx_payout_error_t             err;
    ngx_payout_create_t            c;
    ngx_payout_recipient_input_t   r;

    (void) state;

    unit_run_cases(0, BARE, cases, countof(cases));

    body = unit_body(BARE, NULL, "{'balance_id': 'bal_gVMhHKqSSRYJyPsuoPNFH'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(c.recipient.type, NGX_PAYOUT_RECIPIENT_BALANCE);
    assert_string_equal(c.recipient.balance_id, "bal_gVMhHKqSSRYJyPsuoPNFH");
    assert_string_equal(c.recipient.account_number, "");
    assert_null(c.recipient.account_id);
    json_decref(body);

    body = unit_body(BARE, NULL, "{'recipient_type': 'balance'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(c.recipient.type, NGX_PAYOUT_RECIPIENT_BALANCE);
    assert_null(c.recipient.balance_id);
    json_decref(body);

    /* POST /payout-recipients: the same rules */
    body = unit_body(RCPT, RCPT_TO_MOBILE,
                     "{'balance_id': 'bal_9', 'recipient_type': 'balance'}");
    assert_int_equal(ngx_payout_validate_recipient(body, &r, &err),
                     NGX_PAYOUT_OK);
    assert_int_equal(r.type, NGX_PAYOUT_RECIPIENT_BALANCE);
    assert_string_equal(r.balance_id, "bal_9");
    assert_string_equal(ngx_payout_recipient_type_name(r.type), "balance");
    json_decref(body);

    body = unit_body(RCPT, NULL, "{'balance_id': 'bal_9'}");
    unit_expect(1, body, "conflicting_parameters", "bank_account_number",
                "balance recipient");
    json_decref(body);
}


static void
test_country(void **state)
{
    static const unit_case_t  cases[] = {
        { NULL, "{'country': 'NG'}", NULL, NULL, NULL },
        { NULL, "{'country': 'US'}", NULL, NULL, NULL },
        { NULL, "{'country': null}", NULL, NULL, NULL },
        /* lower case is refused, with the code it should have been */
        { NULL, "{'country': 'ng'}", "invalid_parameter", "country",
          "upper case, as ISO 3166-1 writes it: \"NG\", not \"ng\"" },
        { NULL, "{'country': 'Ng'}", "invalid_parameter", "country",
          "\"NG\", not \"Ng\"" },
        { NULL, "{'country': 'N'}", "invalid_parameter", "country",
          "ISO 3166-1 alpha-2" },
        { NULL, "{'country': ''}", "invalid_parameter", "country", NULL },
        { NULL, "{'country': 'NGA'}", "invalid_parameter", "country",
          "at most 2 bytes" },
        { NULL, "{'country': 'N1'}", "invalid_parameter", "country",
          "two upper-case letters" },
        { NULL, "{'country': 'N '}", "invalid_parameter", "country", NULL },
        { NULL, "{'country': '\u00c9'}", "invalid_parameter", "country",
          NULL },
        { NULL, "{'country': 566}", "invalid_parameter", "country",
          "must be a string" },
        /* an existing recipient has its own */
        { MOVE_TO_MOBILE,
          "{'recipient_uuid': '76418b40-8e2d-47c3-ab2f-84e7347d9fcc',"
          " 'country': 'NG'}",
          "conflicting_parameters", "country", NULL },
        /* any inline type may carry one */
        { MOVE_TO_MOBILE, "{'mobile_money_number': '0241234567',"
                          " 'country': 'GH'}", NULL, NULL, NULL },
    };

    json_t               *body;
    ngx_payout_error_t    err;
    ngx_payout_create_t   c;

    (void) state;

    unit_run_cases(0, SEED, cases, countof(cases));
    /* the format cases, on a recipient */
    unit_run_cases(1, RCPT, cases, countof(cases) - 2);

    body = unit_body(SEED, NULL, "{'country': 'NG'}");
    assert_int_equal(ngx_payout_validate_create(body, &c, &err),
                     NGX_PAYOUT_OK);
    assert_string_equal(c.recipient.country, "NG");
    assert_null(c.recipient.account_id);
    json_decref(body);
}


int
run_validate_tests(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_seed_example),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_oneof),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_required_and_null),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_utf8_lengths),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_first_problem),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_webhook_urls),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_webhook_urls_private),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_webhook_secret),
        cmocka_unit_test(test_number_lengths),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_recipient_create),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_currency_find),
        cmocka_unit_test(test_currency_table),
        cmocka_unit_test(test_last4),
        cmocka_unit_test(test_connected_account),
        cmocka_unit_test(test_balance),
        cmocka_unit_test(test_country),
    };

    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
