/*
 * POST /payouts and POST /payout-recipients bodies, parsed strictly as
 * the API parses them, through both validators.
 *
 * Invariants: validation is deterministic and survives re-serialisation
 * of the body; an accepted body's result is well-formed (amount in range,
 * a known currency, normalised account and mobile numbers, exactly one
 * kind of recipient), and its normalised values, sent again, validate to
 * the same result; a refusal has a known code, a message that is valid
 * UTF-8 and an error body that is valid JSON.
 */

#include "ngx_payout_core.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


typedef struct {
    int                           rc;
    ngx_payout_error_t            err;
    ngx_payout_create_t           create;
    ngx_payout_recipient_input_t  recipient;
} fuzz_result_t;


static void fuzz_validate(json_t *body, int create, fuzz_result_t *res);
static void fuzz_same_error(const fuzz_result_t *a, const fuzz_result_t *b);
static void fuzz_check_error(const ngx_payout_error_t *err);
static void fuzz_check_recipient(const ngx_payout_recipient_input_t *r,
    int create);
static void fuzz_check_create(const ngx_payout_create_t *c);
static void fuzz_same_recipient(const ngx_payout_recipient_input_t *a,
    const ngx_payout_recipient_input_t *b);
static json_t *fuzz_normalised(json_t *body,
    const ngx_payout_recipient_input_t *r, const ngx_payout_create_t *c);
static void fuzz_check_text(const char *s, size_t max, int ascii);
static int fuzz_streq(const char *a, const char *b);
static int fuzz_all(const char *s, const char *set);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            create;
    char           msg[512];
    json_t        *body, *again, *norm;
    fuzz_result_t  a, b, n;

    body = ngx_payout_json_parse_body(data, size, msg, sizeof(msg));

    if (body == NULL) {
        return 0;
    }

    again = fuzz_reparse(body);

    for (create = 0; create < 2; create++) {
        fuzz_validate(body, create, &a);

        /* the same body, and the same body re-serialised: the same answer */
        fuzz_validate(body, create, &b);
        fuzz_same_error(&a, &b);
        fuzz_validate(again, create, &b);
        fuzz_same_error(&a, &b);

        if (a.rc != NGX_PAYOUT_OK) {
            fuzz_check_error(&a.err);
            continue;
        }

        if (create) {
            fuzz_check_create(&a.create);
            fuzz_same_recipient(&a.create.recipient, &b.create.recipient);
            FUZZ_CHECK(a.create.amount == b.create.amount);
            FUZZ_CHECK(a.create.currency == b.create.currency);

        } else {
            fuzz_check_recipient(&a.recipient, 0);
            fuzz_same_recipient(&a.recipient, &b.recipient);
        }

        /* what validation normalised validates to itself */

        norm = fuzz_normalised(body, create ? &a.create.recipient
                                            : &a.recipient,
                               create ? &a.create : NULL);
        fuzz_validate(norm, create, &n);

        if (n.rc != NGX_PAYOUT_OK) {
            fprintf(stderr, "normalised body refused: %s %s: %s\n",
                    n.err.code, n.err.field ? n.err.field : "-",
                    n.err.message);
        }

        FUZZ_CHECK(n.rc == NGX_PAYOUT_OK);

        if (create) {
            FUZZ_CHECK(a.create.amount == n.create.amount);
            FUZZ_CHECK(a.create.currency == n.create.currency);
            FUZZ_CHECK(a.create.stage == n.create.stage);
            FUZZ_CHECK(fuzz_streq(a.create.gateway, n.create.gateway));
            FUZZ_CHECK(fuzz_streq(a.create.tenant, n.create.tenant));
            FUZZ_CHECK(fuzz_streq(a.create.narration, n.create.narration));
            FUZZ_CHECK(fuzz_streq(a.create.idempotency_key,
                                  n.create.idempotency_key));
            FUZZ_CHECK(fuzz_streq(a.create.webhook_secret,
                                  n.create.webhook_secret));
            fuzz_same_recipient(&a.create.recipient, &n.create.recipient);

        } else {
            fuzz_same_recipient(&a.recipient, &n.recipient);
        }

        json_decref(norm);
    }

    json_decref(again);
    json_decref(body);

    return 0;
}


static void
fuzz_validate(json_t *body, int create, fuzz_result_t *res)
{
    memset(res, 0, sizeof(fuzz_result_t));

    res->rc = create
              ? ngx_payout_validate_create(body, &res->create, &res->err)
              : ngx_payout_validate_recipient(body, &res->recipient,
                                              &res->err);

    FUZZ_CHECK(res->rc == NGX_PAYOUT_OK || res->rc == NGX_PAYOUT_ERROR);
}


static void
fuzz_same_error(const fuzz_result_t *a, const fuzz_result_t *b)
{
    FUZZ_CHECK(a->rc == b->rc);

    if (a->rc == NGX_PAYOUT_OK) {
        return;
    }

    FUZZ_CHECK(fuzz_streq(a->err.code, b->err.code));
    FUZZ_CHECK(fuzz_streq(a->err.field, b->err.field));
    FUZZ_CHECK(strcmp(a->err.message, b->err.message) == 0);
}


static void
fuzz_check_error(const ngx_payout_error_t *err)
{
    char        *body;
    size_t       len, i;
    json_t      *json, *e;
    const char  *s;

    static const char  *codes[] = {
        "invalid_parameter", "missing_parameter", "unknown_parameter",
        "conflicting_parameters", NULL
    };

    FUZZ_CHECK(err->code != NULL);

    for (i = 0; codes[i]; i++) {
        if (strcmp(codes[i], err->code) == 0) {
            break;
        }
    }

    FUZZ_CHECK(codes[i] != NULL);

    FUZZ_CHECK(fuzz_terminated(err->message, sizeof(err->message)));
    FUZZ_CHECK(err->message[0] != '\0');
    FUZZ_CHECK(fuzz_cstr_utf8(err->message));
    FUZZ_CHECK(err->field == NULL || fuzz_cstr_utf8(err->field));

    /* the 400 body the API sends, with every member intact */

    body = ngx_payout_json_error(err->code, err->message, err->field, &len);
    FUZZ_CHECK(body != NULL);

    json = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json != NULL);
    e = json_object_get(json, "error");

    s = json_string_value(json_object_get(e, "code"));
    FUZZ_CHECK(s != NULL && strcmp(s, err->code) == 0);
    s = json_string_value(json_object_get(e, "message"));
    FUZZ_CHECK(s != NULL && strcmp(s, err->message) == 0);

    if (err->field) {
        s = json_string_value(json_object_get(e, "field"));
        FUZZ_CHECK(s != NULL && strcmp(s, err->field) == 0);
    }

    json_decref(json);
    free(body);
}


static void
fuzz_check_create(const ngx_payout_create_t *c)
{
    FUZZ_CHECK(c->amount >= 1 && c->amount <= NGX_PAYOUT_MAX_AMOUNT);
    FUZZ_CHECK(c->currency != NULL);
    FUZZ_CHECK(ngx_payout_currency_find(c->currency->code, 3)
               == c->currency);
    FUZZ_CHECK(c->gateway != NULL);
    FUZZ_CHECK(c->recipient.gateway == c->gateway);
    FUZZ_CHECK(c->stage == 0 || c->stage == 1);
    FUZZ_CHECK(c->webhook_urls == NULL
               || (json_is_array(c->webhook_urls)
                   && json_array_size(c->webhook_urls) > 0
                   && json_array_size(c->webhook_urls)
                      <= NGX_PAYOUT_MAX_WEBHOOK_URLS));
    FUZZ_CHECK(c->metadata == NULL || json_is_object(c->metadata));
    fuzz_check_text(c->tenant, 63, 1);
    fuzz_check_text(c->narration, 255, 0);
    fuzz_check_text(c->idempotency_key, 255, 1);
    fuzz_check_text(c->webhook_secret, 256, 0);

    fuzz_check_recipient(&c->recipient, 1);
}


static void
fuzz_check_recipient(const ngx_payout_recipient_input_t *r, int create)
{
    size_t  len;

    FUZZ_CHECK(r->gateway != NULL);
    FUZZ_CHECK(fuzz_all(r->gateway, "abcdefghijklmnopqrstuvwxyz"
                                    "0123456789_-"));

    /* what reaches SQL parameters, JSON and bank files (emails may be
       internationalised, RFC 6531) */
    fuzz_check_text(r->gateway, 32, 1);
    fuzz_check_text(r->bank_code, 32, 1);
    fuzz_check_text(r->bank_name, 128, 0);
    fuzz_check_text(r->mobile_money_provider, 32, 0);
    fuzz_check_text(r->name, 128, 0);
    fuzz_check_text(r->email, 254, 0);
    /* separators in a phone number do not count: no bound (yet) */
    fuzz_check_text(r->phone, (size_t) -1, 0);
    fuzz_check_text(r->idempotency_key, 255, 1);
    FUZZ_CHECK(r->email == NULL || strchr(r->email, '@') != NULL);

    switch (r->type) {

    case NGX_PAYOUT_RECIPIENT_NONE:
        FUZZ_CHECK(create);
        FUZZ_CHECK(r->recipient_uuid == r->uuid_buf);
        FUZZ_CHECK(ngx_payout_uuid_valid((unsigned char *) r->uuid_buf,
                                         strlen(r->uuid_buf)));
        FUZZ_CHECK(fuzz_all(r->uuid_buf, "0123456789abcdef-"));
        FUZZ_CHECK(r->account_number[0] == '\0');
        FUZZ_CHECK(r->mobile_number[0] == '\0');
        break;

    case NGX_PAYOUT_RECIPIENT_BANK:
        FUZZ_CHECK(r->recipient_uuid == NULL);
        len = strlen(r->account_number);
        FUZZ_CHECK(len >= 4 && len <= 34);
        FUZZ_CHECK(fuzz_all(r->account_number,
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"));
        FUZZ_CHECK(r->bank_account_name == r->account_name_buf);
        len = strlen(r->account_name_buf);
        FUZZ_CHECK(len >= 1 && len <= 128);
        FUZZ_CHECK(r->account_name_buf[0] != ' '
                   && r->account_name_buf[len - 1] != ' ');
        FUZZ_CHECK(fuzz_cstr_utf8(r->account_name_buf));
        FUZZ_CHECK(r->bank_code != NULL);
        FUZZ_CHECK(r->mobile_number[0] == '\0');
        FUZZ_CHECK(r->mobile_money_provider == NULL);
        break;

    case NGX_PAYOUT_RECIPIENT_MOBILE:
        FUZZ_CHECK(r->recipient_uuid == NULL);
        len = strlen(r->mobile_number);
        FUZZ_CHECK(len >= 7 && len <= 15);
        FUZZ_CHECK(fuzz_all(r->mobile_number, "0123456789"));
        FUZZ_CHECK(r->account_number[0] == '\0');
        FUZZ_CHECK(r->bank_account_name == NULL);
        FUZZ_CHECK(r->bank_code == NULL && r->bank_name == NULL);
        break;

    default:
        FUZZ_CHECK(0);
    }
}


static void
fuzz_same_recipient(const ngx_payout_recipient_input_t *a,
    const ngx_payout_recipient_input_t *b)
{
    FUZZ_CHECK(a->type == b->type);
    FUZZ_CHECK(fuzz_streq(a->recipient_uuid, b->recipient_uuid));
    FUZZ_CHECK(strcmp(a->account_number, b->account_number) == 0);
    FUZZ_CHECK(fuzz_streq(a->bank_account_name, b->bank_account_name));
    FUZZ_CHECK(fuzz_streq(a->bank_code, b->bank_code));
    FUZZ_CHECK(fuzz_streq(a->bank_name, b->bank_name));
    FUZZ_CHECK(strcmp(a->mobile_number, b->mobile_number) == 0);
    FUZZ_CHECK(fuzz_streq(a->mobile_money_provider,
                          b->mobile_money_provider));
    FUZZ_CHECK(fuzz_streq(a->name, b->name));
    FUZZ_CHECK(fuzz_streq(a->email, b->email));
    FUZZ_CHECK(fuzz_streq(a->phone, b->phone));
    FUZZ_CHECK(fuzz_streq(a->gateway, b->gateway));
    FUZZ_CHECK(fuzz_streq(a->idempotency_key, b->idempotency_key));
    FUZZ_CHECK((a->metadata == NULL) == (b->metadata == NULL));
    FUZZ_CHECK(a->metadata == NULL || json_equal(a->metadata, b->metadata));
}


/* the body with each normalised field replaced by its normalised form */

static json_t *
fuzz_normalised(json_t *body, const ngx_payout_recipient_input_t *r,
    const ngx_payout_create_t *c)
{
    json_t  *n;

    n = json_deep_copy(body);
    FUZZ_CHECK(n != NULL);

    if (c) {
        FUZZ_CHECK(json_object_set_new(n, "currency",
                                       json_string(c->currency->code))
                   == 0);
    }

    if (r->recipient_uuid) {
        FUZZ_CHECK(json_object_set_new(n, "recipient_uuid",
                                       json_string(r->recipient_uuid))
                   == 0);
    }

    if (r->account_number[0]) {
        FUZZ_CHECK(json_object_set_new(n, "bank_account_number",
                                       json_string(r->account_number))
                   == 0);
    }

    if (r->bank_account_name) {
        FUZZ_CHECK(json_object_set_new(n, "bank_account_name",
                                       json_string(r->bank_account_name))
                   == 0);
    }

    if (r->mobile_number[0]) {
        FUZZ_CHECK(json_object_set_new(n, "mobile_money_number",
                                       json_string(r->mobile_number))
                   == 0);
    }

    return n;
}


/* valid UTF-8, no control characters, at most max bytes; ascii: no
   space nor anything past '~' either (but for the class rules' space) */

static void
fuzz_check_text(const char *s, size_t max, int ascii)
{
    size_t  i, len;

    if (s == NULL) {
        return;
    }

    len = strlen(s);

    FUZZ_CHECK(len <= max);
    FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *) s, len));

    for (i = 0; i < len; i++) {
        FUZZ_CHECK((unsigned char) s[i] >= 0x20 && s[i] != 0x7f);
        FUZZ_CHECK(!ascii || ((unsigned char) s[i] > 0x20
                              && (unsigned char) s[i] < 0x7f));
    }
}


static int
fuzz_streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return strcmp(a, b) == 0;
}


static int
fuzz_all(const char *s, const char *set)
{
    return s[strspn(s, set)] == '\0';
}
