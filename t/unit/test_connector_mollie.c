/*
 * The Mollie connector as the registry hands it out: settings and the
 * key check; every request it builds (method, path, headers, exact JSON
 * body) against the spec's /v2/payouts; amounts for zero-, two- and
 * three-decimal currencies; the spec's own payout examples and error
 * objects, each answer class; X-Mollie-Signature (a known answer from
 * Python's hmac, tampered, another key, rolled secrets, classic bodies
 * unsigned); events; and the status table against the spec's enum.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unit_connector.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_mollie.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_text.h"


#define REF   "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7"
#define KEY   "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
#define BAL   "bal_gVMhHKqSSRYJyPsuoPNFH"
#define PAYOUT_ID  "payout_j8NvRAM2WNZtsykpLEX8J"

/* the spec's create-webhook example secret */
#define WHSEC  "VpQ3WukU6uSCGQ8TPTD3WPDpac3GyNEj"

/*
 * A next-gen event (entity-webhook-event without the snapshot) and its
 * signature, from Python: hmac.new(WHSEC, body, sha256).hexdigest()
 */
#define VECTOR_BODY                                                          \
    "{\"resource\":\"event\",\"id\":\"event_GvJ8WHrp5isUdRub9CJyH\","       \
    "\"type\":\"payout.completed\",\"entityId\":"                           \
    "\"payout_j8NvRAM2WNZtsykpLEX8J\",\"createdAt\":"                       \
    "\"2024-03-21T10:30:00+00:00\"}"
#define VECTOR_HEX                                                           \
    "e5597bf5393ac426a036b7254f71b444cd7f8647b8889e5a27d5f9380409ea2a"

/* the spec's payout examples (components/examples/payout-*), as JSON */
#define EXAMPLE_PAYOUT                                                       \
    "{\"resource\":\"payout\",\"id\":\"payout_j8NvRAM2WNZtsykpLEX8J\","     \
    "\"balanceId\":\"bal_gVMhHKqSSRYJyPsuoPNFH\",\"amount\":{\"currency\":" \
    "\"EUR\",\"value\":\"10.00\"},\"description\":\"My payout "             \
    "description\",\"status\":\"%s\",\"statusReason\":{\"code\":\"%s\","    \
    "\"message\":\"%s\"},\"createdAt\":\"2024-03-20T09:13:37+00:00\","      \
    "\"initiatedAt\":null,\"completedAt\":null,\"canceledAt\":null,"        \
    "\"mode\":\"live\",\"_links\":{\"self\":{\"href\":"                     \
    "\"https://api.mollie.com/v2/payouts/payout_j8NvRAM2WNZtsykpLEX8J\","   \
    "\"type\":\"application/hal+json\"},\"documentation\":{\"href\":"       \
    "\"https://docs.mollie.com/reference/get-payout\",\"type\":"            \
    "\"text/html\"}}}"

/* the spec's create-payout 422 and cancel-payout 409 examples */
#define EXAMPLE_422                                                          \
    "{\"status\":422,\"title\":\"Unprocessable Entity\",\"detail\":"        \
    "\"The 'balanceId' field is invalid.\",\"field\":\"balanceId\","        \
    "\"_links\":{\"documentation\":{\"href\":"                              \
    "\"https://docs.mollie.com/errors\",\"type\":\"text/html\"}}}"
#define EXAMPLE_409                                                          \
    "{\"status\":409,\"title\":\"Conflict\",\"detail\":\"The payout "       \
    "cannot be canceled in its current state.\",\"_links\":{"               \
    "\"documentation\":{\"href\":\"https://docs.mollie.com/errors\","       \
    "\"type\":\"text/html\"}}}"


typedef struct {
    unit_mem_t             m;
    ngx_payout_account_t   acct;
    void                  *conf;
} fixture_t;


static const ngx_payout_connector_t *
mollie(void)
{
    const ngx_payout_connector_t  *c;

    c = ngx_payout_connector_find("mollie", 6);
    assert_non_null(c);

    return c;
}


static int
set(fixture_t *f, const char *key, const char *value)
{
    return mollie()->configure(&f->acct.mem, &f->conf, key, strlen(key),
                               value, strlen(value));
}


static int
build(fixture_t *f, ngx_payout_op_e op, ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    return mollie()->build(&f->acct, op, t, call);
}


static void
fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof(fixture_t));
    f->acct.mem.alloc = unit_mem_alloc;
    f->acct.mem.data = &f->m;
    f->acct.secret = KEY;
    f->acct.secret_len = sizeof(KEY) - 1;
    f->acct.webhook_secret = WHSEC;
    f->acct.webhook_secret_len = sizeof(WHSEC) - 1;
}


static void
balance(ngx_payout_transfer_t *t)
{
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    t->reference = REF;
    t->amount = 1000;
    t->currency = "EUR";
    t->type = NGX_PAYOUT_RECIPIENT_BALANCE;
    t->balance_id = BAL;
    t->narration = "May fees \"&\" co";
}


static void
assert_headers(const ngx_payout_call_t *call, const char **want)
{
    size_t  i;

    for (i = 0; want[i]; i++) {
        assert_true(i < call->nheaders);
        assert_string_equal(call->headers[i], want[i]);
    }

    assert_int_equal(call->nheaders, i);
}


static void
assert_body(const ngx_payout_call_t *call, const char *want)
{
    assert_non_null(call->body);
    assert_int_equal(call->body_len, strlen(want));
    assert_memory_equal(call->body, want, call->body_len);
}


static void
test_table(void **state)
{
    const ngx_payout_connector_t  *c;
    char                           names[64];

    (void) state;

    c = mollie();
    assert_string_equal(c->name, "mollie");
    assert_string_equal(c->default_url, "https://api.mollie.com");
    assert_int_equal(c->key_ttl, 0);
    assert_int_equal(c->caps, NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY
                              | NGX_PAYOUT_CAP_CAN_CANCEL
                              | NGX_PAYOUT_CAP_HOOK_REFETCH
                              | NGX_PAYOUT_CAP_FAILS_AFTER_PAID);
    assert_false(c->caps & NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE);
    assert_false(c->caps & NGX_PAYOUT_CAP_NEEDS_ENROLL);

    ngx_payout_connector_names(names, sizeof(names));
    assert_non_null(strstr(names, "mollie"));
    assert_non_null(strstr(names, "stripe"));
}


static void
test_configure(void **state)
{
    fixture_t  f;

    (void) state;

    fixture_init(&f);

    assert_int_equal(set(&f, "account", BAL), NGX_PAYOUT_DECLINED);
    assert_int_equal(set(&f, "balances", BAL), NGX_PAYOUT_DECLINED);
    assert_int_equal(set(&f, "mode", "test"), NGX_PAYOUT_DECLINED);
    assert_null(f.conf);

    assert_int_equal(set(&f, "balance", "bal_"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance", "payout_1"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance", "bal_1/../x"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance", "bal_1\r\nX: y"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance", "bal_1 "), NGX_PAYOUT_ERROR);
    assert_null(f.conf);
    assert_int_equal(mollie()->configure(&f.acct.mem, &f.conf, "balance", 7,
                                         "bal_1\0x", 7),
                     NGX_PAYOUT_ERROR);

    assert_int_equal(set(&f, "balance", BAL), NGX_PAYOUT_OK);
    assert_non_null(f.conf);
    assert_int_equal(set(&f, "balance", "bal_other"), NGX_PAYOUT_OK);

    unit_mem_free(&f.m);
}


static void
test_check(void **state)
{
    size_t       i;
    fixture_t    f;
    const char  *msg;

    static const struct {
        const char  *key;
        int          live;
        int          ok;
    } keys[] = {
        { KEY, 0, 1 },
        { KEY, 1, 0 },
        { "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM", 1, 1 },
        { "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM", 0, 0 },
        { "access_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM", 0, 0 },
        { "access_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM", 1, 0 },
        { "test_", 0, 0 },
        { "sk_test_4eC39HqLyjWDarjtT1zdp7dc", 0, 0 },
        { "test_abc\r\nX-Evil: 1", 0, 0 },
        { "test_abc def", 0, 0 },
    };

    (void) state;

    fixture_init(&f);

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        f.acct.secret = keys[i].key;
        f.acct.secret_len = strlen(keys[i].key);
        msg = mollie()->check(&f.acct, keys[i].live);

        if (keys[i].ok) {
            assert_null(msg);

        } else {
            assert_non_null(msg);

            /* the message never shows the key */
            if (strlen(keys[i].key) > 5) {
                assert_null(strstr(msg, keys[i].key + 5));
            }
        }
    }

    f.acct.secret = NULL;
    f.acct.secret_len = 0;
    assert_non_null(mollie()->check(&f.acct, 0));

    f.acct.secret = KEY;
    f.acct.secret_len = sizeof(KEY) - 1;
    f.acct.webhook_secret = "";
    f.acct.webhook_secret_len = 0;
    assert_non_null(mollie()->check(&f.acct, 0));

    f.acct.webhook_secret = NULL;
    assert_null(mollie()->check(&f.acct, 0));
}


static void
test_build_initiate(void **state)
{
    fixture_t              f;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    static const char  *headers[] = {
        "Authorization: Bearer " KEY,
        "Content-Type: application/json",
        "Idempotency-Key: " REF,
        NULL
    };

    (void) state;

    fixture_init(&f);
    balance(&t);

    /* the recipient's balance */
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/v2/payouts");
    assert_headers(&call, headers);
    assert_body(&call, "{\"balanceId\":\"" BAL "\",\"amount\":{\"currency\":"
                "\"EUR\",\"value\":\"10.00\"},\"description\":"
                "\"May fees \\\"&\\\" co\"}");

    /* none: the gateway's balance=; a recipient's wins over it */
    assert_int_equal(set(&f, "balance", "bal_gateway1"), NGX_PAYOUT_OK);
    f.acct.conf = f.conf;

    t.type = NGX_PAYOUT_RECIPIENT_NONE;
    t.balance_id = NULL;
    t.narration = NULL;
    t.currency = "jpy";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, "{\"balanceId\":\"bal_gateway1\",\"amount\":"
                "{\"currency\":\"JPY\",\"value\":\"1000\"}}");

    t.type = NGX_PAYOUT_RECIPIENT_BALANCE;
    t.balance_id = "";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "\"bal_gateway1\""));

    t.balance_id = BAL;
    t.currency = "KWD";
    t.amount = 1234;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, "{\"balanceId\":\"" BAL "\",\"amount\":"
                "{\"currency\":\"KWD\",\"value\":\"1.234\"}}");

    /* neither balance */
    f.acct.conf = NULL;
    t.balance_id = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);

    /* a balance id that is not one */
    t.balance_id = "bal_1/../../v2/refunds";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    t.balance_id = "payout_1";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);

    /* bad reference, amount, currency, no secret */
    balance(&t);
    t.reference = "not-a-uuid";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    balance(&t);
    t.amount = 0;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    balance(&t);
    t.currency = "XXX";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    balance(&t);
    f.acct.secret = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    f.acct.secret = KEY;

    /* no other destination; no enrollment, no OTP */
    t.type = NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = "0123456789";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_DECLINED);
    t.type = NGX_PAYOUT_RECIPIENT_MOBILE;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_DECLINED);
    t.type = NGX_PAYOUT_RECIPIENT_CONNECTED;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_DECLINED);
    balance(&t);
    assert_int_equal(build(&f, NGX_PAYOUT_OP_ENROLL, &t, &call),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(build(&f, NGX_PAYOUT_OP_FINALIZE, &t, &call),
                     NGX_PAYOUT_DECLINED);

    unit_mem_free(&f.m);
}


static void
test_description(void **state)
{
    char                   narration[1024], want[1024];
    size_t                 i, n;
    fixture_t              f;
    const char            *p, *e;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    (void) state;

    fixture_init(&f);
    balance(&t);

    /* 300 two-byte characters: 255 of them are kept, whole */
    n = 0;

    for (i = 0; i < 300; i++) {
        narration[n++] = (char) 0xc3;
        narration[n++] = (char) 0xa9;
    }

    narration[n] = '\0';
    memcpy(want, narration, 255 * 2);
    want[255 * 2] = '\0';

    t.narration = narration;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);

    p = strstr(call.body, "\"description\":\"");
    assert_non_null(p);
    p += sizeof("\"description\":\"") - 1;
    e = strchr(p, '"');
    assert_non_null(e);
    assert_int_equal(e - p, 255 * 2);
    assert_memory_equal(p, want, 255 * 2);
    assert_true(ngx_payout_utf8_valid(p, e - p));

    /* exactly 255 ASCII characters: all kept */
    memset(narration, 'a', 255);
    narration[255] = '\0';
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    p = strstr(call.body, "\"description\":\"") + 15;
    assert_int_equal(strchr(p, '"') - p, 255);

    /* invalid UTF-8 never reaches the body */
    t.narration = "fee \xff\xfe end";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "\"description\":\"fee ?? end\""));

    unit_mem_free(&f.m);
}


static void
test_amounts(void **state)
{
    char         out[32];
    size_t       i;
    const char  *code;

    static const struct {
        int64_t      amount;
        const char  *currency;
        const char  *value;
        const char  *code;
    } cases[] = {
        { 250000, "NGN", "2500.00", "NGN" },
        { 1000, "EUR", "10.00", "EUR" },
        { 5, "eur", "0.05", "EUR" },
        { 1, "USD", "0.01", "USD" },
        { 0, "EUR", "0.00", "EUR" },
        { 1000, "JPY", "1000", "JPY" },
        { 1, "ISK", "1", "ISK" },
        { 1234, "KWD", "1.234", "KWD" },
        { 1234, "BHD", "1.234", "BHD" },
        { 5, "BHD", "0.005", "BHD" },
        { 12345, "CLF", "1.2345", "CLF" },
        { 1000000000000000LL, "EUR", "10000000000000.00", "EUR" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        code = NULL;
        assert_int_equal(ngx_payout_mollie_amount(cases[i].amount,
                                                  cases[i].currency, out,
                                                  &code),
                         strlen(cases[i].value));
        assert_string_equal(out, cases[i].value);
        assert_string_equal(code, cases[i].code);
    }

    assert_int_equal(ngx_payout_mollie_amount(100, "XAU", out, &code), 0);
    assert_int_equal(ngx_payout_mollie_amount(100, "EURO", out, &code), 0);
    assert_int_equal(ngx_payout_mollie_amount(100, NULL, out, &code), 0);
    assert_int_equal(ngx_payout_mollie_amount(-1, "EUR", out, &code), 0);
}


static void
test_build_lookup_cancel(void **state)
{
    fixture_t              f;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    static const char  *headers[] = {
        "Authorization: Bearer " KEY,
        NULL
    };

    (void) state;

    fixture_init(&f);
    balance(&t);
    t.gateway_id = PAYOUT_ID;

    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "GET");
    assert_string_equal(call.path, "/v2/payouts/" PAYOUT_ID);
    assert_headers(&call, headers);
    assert_null(call.body);

    assert_int_equal(build(&f, NGX_PAYOUT_OP_CANCEL, &t, &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "DELETE");
    assert_string_equal(call.path, "/v2/payouts/" PAYOUT_ID);
    assert_headers(&call, headers);
    assert_null(call.body);

    /* a payout without a balance of its own, e.g. paid from balance= */
    t.type = NGX_PAYOUT_RECIPIENT_NONE;
    t.balance_id = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call), NGX_PAYOUT_OK);

    /* no id yet: the reconciler sends again instead */
    t.gateway_id = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_DECLINED);
    t.gateway_id = "";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_CANCEL, &t, &call),
                     NGX_PAYOUT_DECLINED);

    /* an id that would leave the path */
    t.gateway_id = "payout_1/../../v2/balances";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_ERROR);
    t.gateway_id = "payout_1?testmode=true";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_CANCEL, &t, &call),
                     NGX_PAYOUT_ERROR);

    unit_mem_free(&f.m);
}


static void
parse_typed(const char *type, long status, const char *body,
    ngx_payout_op_e op, ngx_payout_result_t *res)
{
    ngx_payout_answer_t  a;
    ngx_payout_header_t  h[2];

    h[0].name = "Date";
    h[0].name_len = 4;
    h[0].value = "Tue, 01 Dec 2026 10:00:00 GMT";
    h[0].value_len = strlen(h[0].value);
    h[1].name = "content-type";
    h[1].name_len = 12;
    h[1].value = type;
    h[1].value_len = strlen(type);

    memset(&a, 0, sizeof(a));
    a.status = status;
    a.headers = h;
    a.nheaders = 2;
    a.body = body;
    a.body_len = strlen(body);

    memset(res, 0x5a, sizeof(ngx_payout_result_t));
    mollie()->parse(NULL, op, &a, res);
}


static void
test_parse_examples(void **state)
{
    int                  op;
    char                 body[2048];
    size_t               i;
    ngx_payout_result_t  res;

    static const struct {
        const char  *status;
        const char  *code;
        const char  *message;
        int          state;
        const char  *reason;
    } payouts[] = {
        { "requested", "requested", "The payout has been requested.",
          NGX_PAYOUT_PENDING_PROMISE, "" },
        { "initiated", "initiated", "The payout has been initiated.",
          NGX_PAYOUT_PENDING_PROMISE, "" },
        { "processing-at-bank", "processing_at_bank",
          "The payout is being processed by the bank.",
          NGX_PAYOUT_PENDING_PROMISE, "" },
        { "completed", "completed",
          "The payout has been completed successfully.",
          NGX_PAYOUT_SUCCESS, "" },
        { "failed", "insufficient_funds",
          "Insufficient funds on the balance to complete the payout.",
          NGX_PAYOUT_CANCELED_FAILURE, "insufficient_funds" },
        { "failed", "returned", "The payout has been returned by the bank.",
          NGX_PAYOUT_CANCELED_FAILURE, "returned" },
        { "canceled", "canceled", "The payout has been canceled.",
          NGX_PAYOUT_CANCELED_VOIDED, "canceled" },
    };

    (void) state;

    for (i = 0; i < sizeof(payouts) / sizeof(payouts[0]); i++) {
        snprintf(body, sizeof(body), EXAMPLE_PAYOUT, payouts[i].status,
                 payouts[i].code, payouts[i].message);

        for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_CANCEL; op++) {
            unit_parse(mollie(), op, op == NGX_PAYOUT_OP_INITIATE ? 201 : 200,
                       body, &res);
            assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
            assert_int_equal(res.state, payouts[i].state);
            assert_string_equal(res.gateway_id, PAYOUT_ID);
            assert_string_equal(res.reason, payouts[i].reason);
            assert_string_equal(res.next_action, "");
        }

        /* the spec's media type, and any other +json */
        parse_typed("application/hal+json", 200, body, NGX_PAYOUT_OP_LOOKUP,
                    &res);
        assert_int_equal(res.state, payouts[i].state);
        parse_typed("Application/HAL+JSON; charset=utf-8", 200, body,
                    NGX_PAYOUT_OP_LOOKUP, &res);
        assert_int_equal(res.state, payouts[i].state);
        parse_typed("application/json", 200, body, NGX_PAYOUT_OP_LOOKUP,
                    &res);
        assert_int_equal(res.state, payouts[i].state);

        /* not JSON by its type: unreadable */
        parse_typed("text/html", 200, body, NGX_PAYOUT_OP_LOOKUP, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        assert_int_equal(res.state, -1);
    }

    /* a status the spec does not list, another resource: unreadable */
    snprintf(body, sizeof(body), EXAMPLE_PAYOUT, "paid", "x", "x");
    unit_parse(mollie(), NGX_PAYOUT_OP_LOOKUP, 200, body, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.gateway_id, "");

    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 201,
               "{\"resource\":\"balance\",\"id\":\"bal_1\",\"status\":"
               "\"requested\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 201,
               "{\"resource\":\"payout\",\"id\":\"payout_1/x\",\"status\":"
               "\"requested\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.gateway_id, "");
}


static void
test_parse_answers(void **state)
{
    int                  op;
    size_t               i;
    ngx_payout_result_t  res;

    static const long  unknown[] = { 0, 409, 429, 500, 502, 503, 405, 302 };

    /* the seed's immediate refusals, in Mollie's error object */
    static const char  *refusals[] = {
        "A payout is already scheduled for the next business day for this "
        "balance.",
        "The balance has insufficient funds.",
        "The balance is not active.",
        "Payouts are blocked for this organization.",
    };

    char  body[512];

    (void) state;

    /* a bad key: nothing was executed */
    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_CANCEL; op++) {
        unit_parse(mollie(), op, 401,
                   "{\"status\":401,\"title\":\"Unauthorized Request\","
                   "\"detail\":\"Missing authentication, or failed to "
                   "authenticate\"}", &res);
        assert_string_equal(res.reason, "gateway_auth_failed");

        if (op == NGX_PAYOUT_OP_INITIATE) {
            assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
            assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);

        } else {
            assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
            assert_int_equal(res.state, -1);
        }

        unit_parse(mollie(), op, 403, NULL, &res);
        assert_string_equal(res.reason, "gateway_auth_failed");
    }

    /* the spec's 422 to a create: rejected, with the detail */
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422, EXAMPLE_422, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "The 'balanceId' field is invalid.");

    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        snprintf(body, sizeof(body), "{\"status\":422,\"title\":"
                 "\"Unprocessable Entity\",\"detail\":\"%s\"}", refusals[i]);
        parse_typed("application/problem+json", 422, body,
                    NGX_PAYOUT_OP_INITIATE, &res);
        assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
        assert_string_equal(res.reason, refusals[i]);
    }

    /* a title only */
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 400,
               "{\"status\":400,\"title\":\"Bad Request\"}", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "Bad Request");

    /* the spec's 409 to a cancel: refused, with the detail */
    parse_typed("application/hal+json", 409, EXAMPLE_409,
                NGX_PAYOUT_OP_CANCEL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.reason,
                        "The payout cannot be canceled in its current "
                        "state.");

    unit_parse(mollie(), NGX_PAYOUT_OP_CANCEL, 422, EXAMPLE_422, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    unit_parse(mollie(), NGX_PAYOUT_OP_LOOKUP, 404,
               "{\"status\":404,\"title\":\"Not Found\",\"detail\":"
               "\"No payout exists with token payout_x.\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);

    /* a 409 to a create is a key in use: the first may have executed */
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 409,
               "{\"status\":409,\"title\":\"Conflict\",\"detail\":"
               "\"A request with this idempotency key is in progress.\"}",
               &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);

    /* no answer, too many, 5xx, anything else: the money may move */
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        snprintf(body, sizeof(body), "{\"status\":%ld,\"title\":\"x\","
                 "\"detail\":\"y\"}", unknown[i]);

        for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_LOOKUP; op++) {
            unit_parse(mollie(), op, unknown[i], body, &res);
            assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
            assert_int_equal(res.state, -1);
            assert_string_equal(res.reason, "");
            assert_string_equal(res.gateway_id, "");
        }
    }

    /* not Mollie's error object: a proxy's page, a status that differs */
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422, "<html>", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422, NULL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422,
               "{\"error\":{\"message\":\"x\"}}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422,
               "{\"status\":500,\"title\":\"x\",\"detail\":\"y\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422,
               "{\"status\":\"422\",\"title\":\"x\",\"detail\":\"y\"}",
               &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse_typed("text/html", 422, EXAMPLE_422, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* 2xx but unreadable */
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 201, "{\"resource\":", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 201, NULL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* a long detail is cut between characters */
    memset(body, 0, sizeof(body));
    strcpy(body, "{\"status\":422,\"title\":\"x\",\"detail\":\"");

    for (i = 0; i < 100; i++) {
        strcat(body, "\xc3\xa9");
    }

    strcat(body, "\"}");
    unit_parse(mollie(), NGX_PAYOUT_OP_INITIATE, 422, body, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_true(strlen(res.reason) < sizeof(res.reason));
    assert_true(ngx_payout_utf8_valid(res.reason, strlen(res.reason)));
}


static int
verify_with(const char *secret, const char **sigs, size_t nsigs,
    const char *body)
{
    size_t                i;
    ngx_payout_hook_t     hook;
    ngx_payout_header_t   h[4];
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    acct.webhook_secret = secret;
    acct.webhook_secret_len = secret ? strlen(secret) : 0;

    h[0].name = "Content-Type";
    h[0].name_len = 12;
    h[0].value = "application/json";
    h[0].value_len = 16;

    for (i = 0; i < nsigs; i++) {
        h[i + 1].name = (i % 2) ? "x-mollie-signature" : "X-Mollie-Signature";
        h[i + 1].name_len = 18;
        h[i + 1].value = sigs[i];
        h[i + 1].value_len = strlen(sigs[i]);
    }

    hook.headers = h;
    hook.nheaders = nsigs + 1;
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    return mollie()->verify(&acct, &hook, 1700000000);
}


static int
verify(const char *sig, const char *body)
{
    return verify_with(WHSEC, &sig, sig ? 1 : 0, body);
}


static void
test_verify(void **state)
{
    char         sig[NGX_PAYOUT_MOLLIE_SIG_LEN + 1], other[128], multi[512];
    char         tampered[512];
    const char  *two[2];

    (void) state;

    /* the known answer, with the SDKs' prefix and bare as the docs show */
    assert_int_equal(verify("sha256=" VECTOR_HEX, VECTOR_BODY),
                     NGX_PAYOUT_OK);
    assert_int_equal(verify(VECTOR_HEX, VECTOR_BODY), NGX_PAYOUT_OK);
    assert_int_equal(verify("SHA256=E5597BF5393AC426A036B7254F71B444CD7F864"
                            "7B8889E5A27D5F9380409EA2A", VECTOR_BODY),
                     NGX_PAYOUT_OK);

    /* our signer agrees */
    assert_int_equal(ngx_payout_mollie_sign(WHSEC, sizeof(WHSEC) - 1,
                                            (const unsigned char *)
                                                VECTOR_BODY,
                                            sizeof(VECTOR_BODY) - 1, sig),
                     NGX_PAYOUT_MOLLIE_SIG_LEN);
    assert_string_equal(sig, "sha256=" VECTOR_HEX);

    /* one byte changed or added */
    snprintf(tampered, sizeof(tampered), "%s", VECTOR_BODY);
    tampered[40] ^= 1;
    assert_int_equal(verify(sig, tampered), NGX_PAYOUT_ERROR);
    assert_int_equal(verify(sig, VECTOR_BODY " "), NGX_PAYOUT_ERROR);

    /* another key */
    two[0] = sig;
    assert_int_equal(verify_with("another_secret", two, 1, VECTOR_BODY),
                     NGX_PAYOUT_ERROR);
    (void) ngx_payout_mollie_sign("another_secret", 14,
                                  (const unsigned char *) VECTOR_BODY,
                                  sizeof(VECTOR_BODY) - 1, other);
    assert_int_equal(verify(other, VECTOR_BODY), NGX_PAYOUT_ERROR);

    /* a secret being rolled: two values, comma-joined or two headers */
    snprintf(multi, sizeof(multi), "%s, %s", other, sig);
    assert_int_equal(verify(multi, VECTOR_BODY), NGX_PAYOUT_OK);
    snprintf(multi, sizeof(multi), "%s,%s", sig, other);
    assert_int_equal(verify(multi, VECTOR_BODY), NGX_PAYOUT_OK);
    two[0] = other;
    two[1] = sig;
    assert_int_equal(verify_with(WHSEC, two, 2, VECTOR_BODY), NGX_PAYOUT_OK);
    two[1] = other;
    assert_int_equal(verify_with(WHSEC, two, 2, VECTOR_BODY),
                     NGX_PAYOUT_ERROR);

    /* malformed */
    assert_int_equal(verify("", VECTOR_BODY), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("sha256=", VECTOR_BODY), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("sha1=" VECTOR_HEX, VECTOR_BODY),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify("sha256=" VECTOR_HEX "00", VECTOR_BODY),
                     NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "sha256=%.63s", VECTOR_HEX);
    assert_int_equal(verify(multi, VECTOR_BODY), NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "sha256=%.63sg", VECTOR_HEX);
    assert_int_equal(verify(multi, VECTOR_BODY), NGX_PAYOUT_ERROR);

    /* a secret configured: nothing unsigned, not even a classic body */
    assert_int_equal(verify(NULL, VECTOR_BODY), NGX_PAYOUT_ERROR);
    assert_int_equal(verify(NULL, "id=" PAYOUT_ID), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("sha256=" VECTOR_HEX, "id=" PAYOUT_ID),
                     NGX_PAYOUT_ERROR);
}


static void
test_verify_unsigned(void **state)
{
    const char  *sig;

    (void) state;

    /* no secret: a classic body only, which carries no state */
    assert_int_equal(verify_with(NULL, NULL, 0, "id=" PAYOUT_ID),
                     NGX_PAYOUT_OK);
    assert_int_equal(verify_with(NULL, NULL, 0, "id=" PAYOUT_ID "\r\n"),
                     NGX_PAYOUT_OK);
    assert_int_equal(verify_with(NULL, NULL, 0, VECTOR_BODY),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify_with(NULL, NULL, 0, "id=tr_5B8cwPMGnU"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify_with(NULL, NULL, 0, "id="), NGX_PAYOUT_ERROR);
    assert_int_equal(verify_with(NULL, NULL, 0, "id=payout_1&x=1"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify_with(NULL, NULL, 0, ""), NGX_PAYOUT_ERROR);

    /* a signature that cannot be checked is not waved through */
    sig = "sha256=" VECTOR_HEX;
    assert_int_equal(verify_with(NULL, &sig, 1, "id=" PAYOUT_ID),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify_with(NULL, &sig, 1, VECTOR_BODY),
                     NGX_PAYOUT_ERROR);
}


static int
event(const char *body, ngx_payout_event_t *ev)
{
    ngx_payout_hook_t  hook;

    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    memset(ev, 0x5a, sizeof(ngx_payout_event_t));

    return mollie()->event(NULL, &hook, ev);
}


static void
assert_lookup(const ngx_payout_event_t *ev, const char *id, const char *ref)
{
    assert_int_equal(ev->follow_up, NGX_PAYOUT_FOLLOW_LOOKUP);
    assert_string_equal(ev->result.gateway_id, id);
    assert_string_equal(ev->reference, ref);
    assert_int_equal(ev->result.state, -1);
    assert_int_equal(ev->result.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(ev->result.reason, "");
    assert_string_equal(ev->result.next_action, "");
}


static void
test_event(void **state)
{
    char                body[2048], snapshot[1024];
    size_t              i;
    ngx_payout_event_t  ev;

    static const char  *types[] = {
        "payout.initiated", "payout.processing-at-bank", "payout.completed",
        "payout.canceled", "payout.failed"
    };

    (void) state;

    /* every payout event, without and with the snapshot: a fetch */
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        snprintf(body, sizeof(body), "{\"resource\":\"event\",\"id\":"
                 "\"event_1\",\"type\":\"%s\",\"entityId\":\"" PAYOUT_ID
                 "\",\"createdAt\":\"2024-03-21T10:30:00+00:00\"}",
                 types[i]);
        assert_int_equal(event(body, &ev), NGX_PAYOUT_OK);
        assert_lookup(&ev, PAYOUT_ID, "");

        /* a snapshot that says "completed" moves nothing by itself */
        snprintf(snapshot, sizeof(snapshot), EXAMPLE_PAYOUT, "completed",
                 "completed", "done");
        snprintf(body, sizeof(body), "{\"resource\":\"event\",\"id\":"
                 "\"event_1\",\"type\":\"%s\",\"entityId\":\"" PAYOUT_ID
                 "\",\"_embedded\":{\"entity\":%s}}", types[i], snapshot);
        assert_int_equal(event(body, &ev), NGX_PAYOUT_OK);
        assert_lookup(&ev, PAYOUT_ID, "");
    }

    assert_int_equal(event(VECTOR_BODY, &ev), NGX_PAYOUT_OK);
    assert_lookup(&ev, PAYOUT_ID, "");

    /* the id from the snapshot when entityId is missing */
    assert_int_equal(event("{\"type\":\"payout.failed\",\"_embedded\":"
                           "{\"entity\":{\"resource\":\"payout\",\"id\":"
                           "\"payout_abc\"}}}", &ev),
                     NGX_PAYOUT_OK);
    assert_lookup(&ev, "payout_abc", "");

    /* our uuid, should a snapshot carry it */
    assert_int_equal(event("{\"type\":\"payout.completed\",\"entityId\":"
                           "\"payout_abc\",\"_embedded\":{\"entity\":"
                           "{\"metadata\":{\"payout_uuid\":"
                           "\"4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7\"}}}}",
                           &ev),
                     NGX_PAYOUT_OK);
    assert_lookup(&ev, "payout_abc", REF);

    assert_int_equal(event("{\"type\":\"payout.completed\",\"entityId\":"
                           "\"payout_abc\",\"_embedded\":{\"entity\":"
                           "{\"metadata\":{\"payout_uuid\":\"nope\"}}}}",
                           &ev),
                     NGX_PAYOUT_OK);
    assert_lookup(&ev, "payout_abc", "");

    /* classic: the id alone */
    assert_int_equal(event("id=" PAYOUT_ID, &ev), NGX_PAYOUT_OK);
    assert_lookup(&ev, PAYOUT_ID, "");
    assert_int_equal(event("id=" PAYOUT_ID "\n", &ev), NGX_PAYOUT_OK);
    assert_lookup(&ev, PAYOUT_ID, "");

    /* not a payout's */
    assert_int_equal(event("id=tr_5B8cwPMGnU", &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("id=payout_1%2F..", &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("{\"resource\":\"event\",\"type\":"
                           "\"payment.paid\",\"entityId\":\"tr_1\"}", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("{\"resource\":\"event\",\"type\":"
                           "\"payout.requested\",\"entityId\":"
                           "\"payout_1\"}", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("{\"resource\":\"payout\",\"type\":"
                           "\"payout.completed\",\"entityId\":"
                           "\"payout_1\"}", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("{\"type\":\"payout.completed\",\"entityId\":"
                           "\"bal_1\"}", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("{\"type\":\"payout.completed\",\"entityId\":"
                           "\"payout_1/../x\"}", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("{\"type\":\"payout.completed\"}", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("not json", &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("", &ev), NGX_PAYOUT_DECLINED);
    assert_string_equal(ev.reference, "");
    assert_string_equal(ev.result.gateway_id, "");
}


static void
test_status_table(void **state)
{
    size_t                         i, j;
    const ngx_payout_connector_t  *c;

    /* components/schemas/payout-status, the spec's enum, in its order */
    static const char  *spec[] = {
        "requested", "initiated", "processing-at-bank", "completed",
        "failed", "canceled"
    };

    static const int  ours[] = {
        NGX_PAYOUT_PENDING_PROMISE, NGX_PAYOUT_PENDING_PROMISE,
        NGX_PAYOUT_PENDING_PROMISE, NGX_PAYOUT_SUCCESS,
        NGX_PAYOUT_CANCELED_FAILURE, NGX_PAYOUT_CANCELED_VOIDED
    };

    (void) state;

    c = mollie();
    assert_int_equal(c->nstatuses, sizeof(spec) / sizeof(spec[0]));

    for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
        for (j = 0; j < c->nstatuses; j++) {
            if (strcmp(c->statuses[j].status, spec[i]) == 0) {
                break;
            }
        }

        assert_true(j < c->nstatuses);
        assert_int_equal(c->statuses[j].state, ours[i]);
        assert_int_equal(ngx_payout_mollie_payout_state(spec[i]), ours[i]);
    }

    assert_int_equal(ngx_payout_mollie_payout_state(NULL), -1);
    assert_int_equal(ngx_payout_mollie_payout_state("Completed"), -1);
    assert_int_equal(ngx_payout_mollie_payout_state("processing_at_bank"),
                     -1);
}


int
run_mollie_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_configure),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_build_initiate),
        cmocka_unit_test(test_description),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_build_lookup_cancel),
        cmocka_unit_test(test_parse_examples),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_unsigned),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_status_table),
    };

    return cmocka_run_group_tests_name("mollie", tests, NULL, NULL);
}
