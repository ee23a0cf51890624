/*
 * The Stripe connector as the registry hands it out: settings and the
 * key check; every request it builds (method, path, headers, exact form
 * body) by destination and operation; the answers it parses (the spec's
 * fixture objects, Stripe's error object, each answer class); webhook
 * signatures (the vector from stripe-node, tampered, stale, several v1);
 * events; and the status table against the spec's payout statuses.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_stripe.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_text.h"


#define REF   "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7"
#define RREF  "0b7e1d8a-2f0c-4a55-9c1e-6d3f7a9b2c41"
#define SK    "sk_test_4eC39HqLyjWDarjtT1zdp7dc"

/* vectors/stripe-payload.json, and its header from stripe@23.1.0 */
#define VECTOR_BODY                                                          \
    "{\"id\":\"evt_test_webhook\",\"object\":\"event\",\"type\":"          \
    "\"payout.paid\",\"data\":{\"object\":{\"id\":\"po_1\",\"object\":"    \
    "\"payout\",\"amount\":1100,\"currency\":\"usd\",\"status\":"          \
    "\"paid\"}}}"
#define VECTOR_SIG                                                           \
    "t=1700000000,v1=5716d1e36d776a806d4626d526d93bfdd0959ab99e1d2635052c0" \
    "83782e7fccf"


typedef struct {
    unit_mem_t             m;
    ngx_payout_account_t   acct;
    void                  *conf;
} fixture_t;


static const ngx_payout_connector_t *
stripe(void)
{
    const ngx_payout_connector_t  *c;

    c = ngx_payout_connector_find("stripe", 6);
    assert_non_null(c);

    return c;
}


static int
set(fixture_t *f, const char *key, const char *value)
{
    return stripe()->configure(&f->acct.mem, &f->conf, key, strlen(key),
                               value, strlen(value));
}


static void
fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof(fixture_t));
    f->acct.mem.alloc = unit_mem_alloc;
    f->acct.mem.data = &f->m;
    f->acct.secret = SK;
    f->acct.secret_len = sizeof(SK) - 1;
    f->acct.webhook_secret = "whsec_test_secret";
    f->acct.webhook_secret_len = sizeof("whsec_test_secret") - 1;
}


static void
connected(ngx_payout_transfer_t *t)
{
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    t->reference = REF;
    t->amount = 1100;
    t->currency = "USD";
    t->type = NGX_PAYOUT_RECIPIENT_CONNECTED;
    t->account_id = "acct_1Nnlp9GPxmnHQRkJ";
    t->narration = "May fees & co/50%";
    t->recipient_reference = RREF;
}


static void
bank(ngx_payout_transfer_t *t)
{
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    t->reference = REF;
    t->amount = 1100;
    t->currency = "usd";
    t->type = NGX_PAYOUT_RECIPIENT_BANK;
    t->account_number = "000123456789";
    t->bank_code = "110000000";
    t->account_name = "Jane Austen";
    t->country = "US";
    t->narration = "Invoice 7";
    t->recipient_reference = RREF;
    t->recipient_code = "ba_1NnmXDGPxmnHQRkJWLnLbTlf";
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

    c = stripe();
    assert_string_equal(c->name, "stripe");
    assert_string_equal(c->default_url, "https://api.stripe.com");
    assert_int_equal(c->key_ttl, 86400);
    assert_int_equal(c->caps, NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY
                              | NGX_PAYOUT_CAP_CAN_CANCEL
                              | NGX_PAYOUT_CAP_NEEDS_ENROLL
                              | NGX_PAYOUT_CAP_FAILS_AFTER_PAID);

    ngx_payout_connector_names(names, sizeof(names));
    assert_non_null(strstr(names, "stripe"));
}


static void
test_configure(void **state)
{
    fixture_t  f;

    (void) state;

    fixture_init(&f);

    assert_int_equal(set(&f, "acount", "acct_1"), NGX_PAYOUT_DECLINED);
    assert_int_equal(set(&f, "mode", "test"), NGX_PAYOUT_DECLINED);
    assert_null(f.conf);

    assert_int_equal(set(&f, "account", "acct_1Nnlp9GPxmnHQRkJ"),
                     NGX_PAYOUT_OK);
    assert_non_null(f.conf);
    assert_int_equal(set(&f, "account", "acct_"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "account", "ba_123"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "account", "acct_1/../x"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "account", "acct_1\r\nX: y"),
                     NGX_PAYOUT_ERROR);

    assert_int_equal(set(&f, "stripe_version", "2024-09-30.acacia"),
                     NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "stripe_version", "2023-09-12"),
                     NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "stripe_version", "2023-9-12"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "stripe_version", "2023-09-12."),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "stripe_version", "2023-09-12.Bad"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "stripe_version", "latest"),
                     NGX_PAYOUT_ERROR);

    unit_mem_free(&f.m);
}


static void
test_check(void **state)
{
    fixture_t    f;
    const char  *msg;

    (void) state;

    fixture_init(&f);

#define CHECK(key, live)                                                     \
    (f.acct.secret = key, f.acct.secret_len = strlen(key),                   \
     stripe()->check(&f.acct, live))

    assert_null(CHECK("sk_test_abc123", 0));
    assert_null(CHECK("rk_test_abc123", 0));
    assert_null(CHECK("sk_live_abc123", 1));
    assert_null(CHECK("rk_live_abc123", 1));

    msg = CHECK("sk_live_abc123", 0);
    assert_non_null(msg);
    assert_null(strstr(msg, "abc123"));
    msg = CHECK("sk_test_abc123", 1);
    assert_non_null(msg);
    assert_null(strstr(msg, "abc123"));

    assert_non_null(CHECK("rk_live_abc123", 0));
    assert_non_null(CHECK("pk_test_abc123", 0));
    assert_non_null(CHECK("sk_abc123456", 0));
    assert_non_null(CHECK("sk_test_ab\r\nc", 0));
    assert_non_null(CHECK("", 0));

    f.acct.webhook_secret = "not_a_whsec";
    f.acct.webhook_secret_len = strlen(f.acct.webhook_secret);
    assert_non_null(CHECK("sk_test_abc123", 0));
#undef CHECK

    f.acct.secret = NULL;
    f.acct.secret_len = 0;
    assert_non_null(stripe()->check(&f.acct, 0));
}


static void
test_build_connected(void **state)
{
    fixture_t              f;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    static const char  *initiate[] = {
        "Authorization: Bearer " SK,
        "Content-Type: application/x-www-form-urlencoded",
        "Idempotency-Key: " REF,
        "Stripe-Version: 2023-09-12",
        NULL
    };

    static const char  *lookup[] = {
        "Authorization: Bearer " SK,
        "Stripe-Version: 2023-09-12",
        NULL
    };

    (void) state;

    fixture_init(&f);
    connected(&t);

    /* no configure() at all: the defaults */
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/v1/transfers");
    assert_headers(&call, initiate);
    assert_body(&call, "amount=1100&currency=usd"
                "&destination=acct_1Nnlp9GPxmnHQRkJ"
                "&description=May%20fees%20%26%20co%2F50%25"
                "&metadata[payout_uuid]=" REF "&transfer_group=" REF);

    /* no gateway id: nothing to look up, the reconciler resubmits */
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                     &call), NGX_PAYOUT_DECLINED);

    t.gateway_id = "tr_1NnmXDGPxmnHQRkJjKI88WI7";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "GET");
    assert_string_equal(call.path, "/v1/transfers/tr_1NnmXDGPxmnHQRkJjKI88WI7");
    assert_headers(&call, lookup);
    assert_null(call.body);

    /* a transfer is never canceled; there is nothing to enroll */
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_CANCEL, &t,
                                     &call), NGX_PAYOUT_DECLINED);
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_ENROLL, &t,
                                     &call), NGX_PAYOUT_DECLINED);
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_FINALIZE, &t,
                                     &call), NGX_PAYOUT_DECLINED);

    /* the gateway's account= is not the transfer's: no Stripe-Account */
    assert_int_equal(set(&f, "account", "acct_PLATFORMX"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "stripe_version", "2024-09-30.acacia"),
                     NGX_PAYOUT_OK);
    f.acct.conf = f.conf;
    t.narration = NULL;
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_int_equal(call.nheaders, 4);
    assert_string_equal(call.headers[3], "Stripe-Version: 2024-09-30.acacia");
    assert_body(&call, "amount=1100&currency=usd"
                "&destination=acct_1Nnlp9GPxmnHQRkJ"
                "&metadata[payout_uuid]=" REF "&transfer_group=" REF);

    /* bad input never reaches a path, a header or Stripe */
    t.gateway_id = "tr_1/../../v1/payouts";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                     &call), NGX_PAYOUT_ERROR);
    t.account_id = "ba_123";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_ERROR);
    connected(&t);
    t.amount = 0;
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_ERROR);
    connected(&t);
    t.currency = "US1";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_ERROR);
    connected(&t);
    t.reference = "not-a-uuid";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_ERROR);

    /* Stripe has no mobile money */
    connected(&t);
    t.type = NGX_PAYOUT_RECIPIENT_MOBILE;
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_DECLINED);

    unit_mem_free(&f.m);
}


static void
test_build_bank(void **state)
{
    fixture_t              f;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    static const char  *enroll[] = {
        "Authorization: Bearer " SK,
        "Content-Type: application/x-www-form-urlencoded",
        "Idempotency-Key: enroll-" RREF,
        "Stripe-Version: 2023-09-12",
        "Stripe-Account: acct_GATEWAY1",
        NULL
    };

    static const char  *initiate[] = {
        "Authorization: Bearer " SK,
        "Content-Type: application/x-www-form-urlencoded",
        "Idempotency-Key: " REF,
        "Stripe-Version: 2023-09-12",
        "Stripe-Account: acct_GATEWAY1",
        NULL
    };

    static const char  *lookup[] = {
        "Authorization: Bearer " SK,
        "Stripe-Version: 2023-09-12",
        "Stripe-Account: acct_GATEWAY1",
        NULL
    };

    static const char  *cancel[] = {
        "Authorization: Bearer " SK,
        "Content-Type: application/x-www-form-urlencoded",
        "Idempotency-Key: cancel-" REF,
        "Stripe-Version: 2023-09-12",
        "Stripe-Account: acct_RECIPIENT",
        NULL
    };

    (void) state;

    fixture_init(&f);
    bank(&t);

    /* a bank recipient needs a connected account: none at all */
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_ENROLL, &t,
                                     &call), NGX_PAYOUT_ERROR);

    assert_int_equal(set(&f, "account", "acct_GATEWAY1"), NGX_PAYOUT_OK);
    f.acct.conf = f.conf;

    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_ENROLL, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path,
                        "/v1/accounts/acct_GATEWAY1/external_accounts");
    assert_headers(&call, enroll);
    assert_body(&call, "external_account[object]=bank_account"
                "&external_account[country]=US&external_account[currency]=usd"
                "&external_account[account_number]=000123456789"
                "&external_account[routing_number]=110000000"
                "&external_account[account_holder_name]=Jane%20Austen"
                "&metadata[recipient_uuid]=" RREF);

    /* optional fields left out; country is required by Stripe */
    t.bank_code = NULL;
    t.account_name = NULL;
    t.currency = NULL;
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_ENROLL, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_body(&call, "external_account[object]=bank_account"
                "&external_account[country]=US"
                "&external_account[account_number]=000123456789"
                "&metadata[recipient_uuid]=" RREF);
    t.country = NULL;
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_ENROLL, &t,
                                     &call), NGX_PAYOUT_ERROR);

    bank(&t);
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/v1/payouts");
    assert_headers(&call, initiate);
    assert_body(&call, "amount=1100&currency=usd"
                "&destination=ba_1NnmXDGPxmnHQRkJWLnLbTlf"
                "&description=Invoice%207&metadata[payout_uuid]=" REF);

    /* not enrolled: Stripe would pay the default account instead */
    t.recipient_code = NULL;
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                     &call), NGX_PAYOUT_ERROR);

    bank(&t);
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                     &call), NGX_PAYOUT_DECLINED);
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_CANCEL, &t,
                                     &call), NGX_PAYOUT_DECLINED);

    t.gateway_id = "po_1NnmXDGPxmnHQRkJBs2u30y2";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "GET");
    assert_string_equal(call.path, "/v1/payouts/po_1NnmXDGPxmnHQRkJBs2u30y2");
    assert_headers(&call, lookup);

    /* the recipient's own account wins over the gateway's */
    t.account_id = "acct_RECIPIENT";
    assert_int_equal(stripe()->build(&f.acct, NGX_PAYOUT_OP_CANCEL, &t,
                                     &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path,
                        "/v1/payouts/po_1NnmXDGPxmnHQRkJBs2u30y2/cancel");
    assert_headers(&call, cancel);
    assert_body(&call, "");

    unit_mem_free(&f.m);
}


static void
parse(const char *status_body, long status, ngx_payout_op_e op,
    ngx_payout_result_t *res)
{
    fixture_t            f;
    ngx_payout_answer_t  a;

    fixture_init(&f);
    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = status_body;
    a.body_len = status_body ? strlen(status_body) : 0;

    memset(res, 0x5a, sizeof(ngx_payout_result_t));
    stripe()->parse(&f.acct, op, &a, res);

    assert_true(memchr(res->gateway_id, '\0', sizeof(res->gateway_id)));
    assert_true(memchr(res->reason, '\0', sizeof(res->reason)));
}


/* stripe-fixtures3-2023-09-12.json: resources.payout, .transfer, ... */

#define FIXTURE_PAYOUT                                                       \
    "{\"amount\": 1100, \"arrival_date\": 1234567890, \"automatic\": true, " \
    "\"balance_transaction\": \"txn_1NnmMBGPxmnHQRkJNo4jmMSX\", "           \
    "\"created\": 1234567890, \"currency\": \"usd\", \"description\": "     \
    "\"STRIPE PAYOUT\", \"destination\": \"ba_1NnmXDGPxmnHQRkJWLnLbTlf\", " \
    "\"failure_balance_transaction\": null, \"failure_code\": null, "       \
    "\"failure_message\": null, \"id\": \"po_1NnmXDGPxmnHQRkJBs2u30y2\", "  \
    "\"livemode\": false, \"metadata\": {}, \"method\": \"standard\", "     \
    "\"object\": \"payout\", \"original_payout\": null, "                   \
    "\"reconciliation_status\": \"completed\", \"reversed_by\": null, "     \
    "\"source_type\": \"card\", \"statement_descriptor\": null, "           \
    "\"status\": \"%s\", \"type\": \"bank_account\"}"

#define FIXTURE_TRANSFER                                                     \
    "{\"amount\": 1100, \"amount_reversed\": 0, \"balance_transaction\": "  \
    "\"txn_1NnmMBGPxmnHQRkJNo4jmMSX\", \"created\": 1234567890, "           \
    "\"currency\": \"usd\", \"description\": null, \"destination\": "       \
    "\"acct_1Nnlp9GPxmnHQRkJ\", \"destination_payment\": "                  \
    "\"py_OayUSYa045kMdZ\", \"id\": \"tr_1NnmXDGPxmnHQRkJjKI88WI7\", "      \
    "\"livemode\": false, \"metadata\": {}, \"object\": \"transfer\", "     \
    "\"reversals\": {\"data\": [], \"has_more\": false, \"object\": "       \
    "\"list\", \"url\": "                                                   \
    "\"/v1/transfers/tr_1NnmXDGPxmnHQRkJjKI88WI7/reversals\"}, "            \
    "\"reversed\": %s, \"source_transaction\": null, \"source_type\": "     \
    "\"card\", \"transfer_group\": null}"

#define FIXTURE_BANK_ACCOUNT                                                 \
    "{\"account_holder_name\": \"Jane Austen\", \"account_holder_type\": "  \
    "\"company\", \"account_type\": null, \"bank_name\": "                  \
    "\"STRIPE TEST BANK\", \"country\": \"US\", \"currency\": \"usd\", "    \
    "\"customer\": null, \"fingerprint\": \"PQBqY6e5XwUm7Exf\", \"id\": "   \
    "\"ba_1NnlpnGPxmnHQRkJR1R7x8vT\", \"last4\": \"6789\", \"metadata\": "  \
    "{}, \"object\": \"bank_account\", \"routing_number\": \"110000000\", " \
    "\"status\": \"new\"}"


static void
test_parse_objects(void **state)
{
    char                 body[2048];
    size_t               i;
    ngx_payout_result_t  res;

    static const struct {
        const char  *status;
        int          state;
    } payouts[] = {
        { "pending", NGX_PAYOUT_PENDING_PROMISE },
        { "in_transit", NGX_PAYOUT_PENDING_PROMISE },
        { "paid", NGX_PAYOUT_SUCCESS },
        { "failed", NGX_PAYOUT_CANCELED_FAILURE },
        { "canceled", NGX_PAYOUT_CANCELED_VOIDED },
    };

    (void) state;

    for (i = 0; i < sizeof(payouts) / sizeof(payouts[0]); i++) {
        snprintf(body, sizeof(body), FIXTURE_PAYOUT, payouts[i].status);
        parse(body, 200, NGX_PAYOUT_OP_INITIATE, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
        assert_int_equal(res.state, payouts[i].state);
        assert_string_equal(res.gateway_id, "po_1NnmXDGPxmnHQRkJBs2u30y2");
        assert_string_equal(res.reason, "");

        parse(body, 200, NGX_PAYOUT_OP_LOOKUP, &res);
        assert_int_equal(res.state, payouts[i].state);
        parse(body, 200, NGX_PAYOUT_OP_CANCEL, &res);
        assert_int_equal(res.state, payouts[i].state);
    }

    /* a failure says why */
    parse("{\"id\":\"po_1\",\"object\":\"payout\",\"status\":\"failed\","
          "\"failure_code\":\"account_closed\",\"failure_message\":"
          "\"The bank account has been closed\"}", 200,
          NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "account_closed");

    /* paid, then reversed by another payout: the answer shows it */
    parse("{\"id\":\"po_1\",\"object\":\"payout\",\"status\":\"paid\","
          "\"reversed_by\":\"po_2\"}", 200, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REVERSED);

    /* a status the table does not know: no word */
    parse("{\"id\":\"po_1\",\"object\":\"payout\",\"status\":\"held\"}",
          200, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);

    snprintf(body, sizeof(body), FIXTURE_TRANSFER, "false");
    parse(body, 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_SUCCESS);
    assert_string_equal(res.gateway_id, "tr_1NnmXDGPxmnHQRkJjKI88WI7");

    snprintf(body, sizeof(body), FIXTURE_TRANSFER, "true");
    parse(body, 200, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REVERSED);

    parse(FIXTURE_BANK_ACCOUNT, 200, NGX_PAYOUT_OP_ENROLL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.gateway_id, "ba_1NnlpnGPxmnHQRkJR1R7x8vT");

    /* other objects, no id, an id that could not be a path */
    parse("{\"id\":\"evt_1\",\"object\":\"event\"}", 200,
          NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("{\"object\":\"transfer\"}", 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("{\"id\":\"tr_1/x\",\"object\":\"transfer\"}", 200,
          NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.gateway_id, "");

    /* enrollment answers a bank account, and only enrollment does */
    parse("{\"id\":\"tr_1\",\"object\":\"transfer\"}", 200,
          NGX_PAYOUT_OP_ENROLL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.gateway_id, "");
    parse(FIXTURE_BANK_ACCOUNT, 200, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.gateway_id, "");
}


static void
test_parse_answers(void **state)
{
    ngx_payout_op_e      op;
    size_t               i;
    ngx_payout_result_t  res;

    static const long  unknown[] = { 409, 429, 500, 502, 503, 0, 302 };

    static const char  invalid[] =
        "{\"error\":{\"code\":\"parameter_invalid_integer\",\"doc_url\":"
        "\"https://stripe.com/docs/error-codes/parameter-invalid-integer\","
        "\"message\":\"Invalid integer: abc\",\"param\":\"amount\","
        "\"type\":\"invalid_request_error\"}}";

    (void) state;

    /* a bad key: the payout fails, nothing else moves */
    parse("{\"error\":{\"message\":\"Invalid API Key provided: sk_test_***\","
          "\"type\":\"invalid_request_error\"}}", 401,
          NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "gateway_auth_failed");

    for (op = NGX_PAYOUT_OP_LOOKUP; op <= NGX_PAYOUT_OP_ENROLL; op++) {
        parse(NULL, 403, op, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
        assert_int_equal(res.state, -1);
        assert_string_equal(res.reason, "gateway_auth_failed");
    }

    parse(NULL, 403, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);

    /* Stripe's error object: rejected with its code, else its message */
    parse(invalid, 400, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "parameter_invalid_integer");

    parse("{\"error\":{\"code\":\"balance_insufficient\",\"message\":"
          "\"You have insufficient funds\",\"type\":"
          "\"invalid_request_error\"}}", 402, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "balance_insufficient");

    parse("{\"error\":{\"message\":\"No such destination: 'acct_x'\","
          "\"type\":\"invalid_request_error\"}}", 404,
          NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "No such destination: 'acct_x'");

    /* other operations: a definite no, the payout unchanged */
    parse("{\"error\":{\"code\":\"payout_cannot_be_canceled\",\"message\":"
          "\"paid\",\"type\":\"invalid_request_error\"}}", 400,
          NGX_PAYOUT_OP_CANCEL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.reason, "payout_cannot_be_canceled");
    parse(invalid, 404, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    parse(invalid, 400, NGX_PAYOUT_OP_ENROLL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);

    /* the reason is cut between characters, and only valid UTF-8 */
    parse("{\"error\":{\"message\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "x\"}}", 400, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_true(strlen(res.reason) < sizeof(res.reason));
    assert_true(ngx_payout_utf8_valid(res.reason, strlen(res.reason)));

    /* a key reused with other parameters: the first may have executed */
    parse("{\"error\":{\"message\":\"Keys for idempotent requests can only "
          "be used with the same parameters\",\"type\":"
          "\"idempotency_error\"}}", 400, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);

    /* not Stripe's error object (a proxy's page): no word */
    parse("<html>Not Found</html>", 404, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("{\"error\":{\"code\":\"x\"}}", 400, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        parse(invalid, unknown[i], NGX_PAYOUT_OP_INITIATE, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        assert_int_equal(res.state, -1);
    }

    /* 2xx but unreadable */
    parse("{\"id\":\"po_1\",\"object\":\"payout\",", 200,
          NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("", 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse(NULL, 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
}


static int
verify(const char *sig, const char *body, long now)
{
    fixture_t            f;
    ngx_payout_hook_t    hook;
    ngx_payout_header_t  h[2];

    fixture_init(&f);

    h[0].name = "Content-Type";
    h[0].name_len = 12;
    h[0].value = "application/json";
    h[0].value_len = 16;
    h[1].name = "stripe-signature";
    h[1].name_len = 16;
    h[1].value = sig;
    h[1].value_len = strlen(sig);

    hook.headers = h;
    hook.nheaders = 2;
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    return stripe()->verify(&f.acct, &hook, now);
}


static void
test_verify(void **state)
{
    char    sig[NGX_PAYOUT_STRIPE_SIG_LEN + 1], multi[512];
    size_t  n;

    (void) state;

    /* the vector, within and at the edges of the tolerance */
    assert_int_equal(verify(VECTOR_SIG, VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_OK);
    assert_int_equal(verify(VECTOR_SIG, VECTOR_BODY, 1700000300),
                     NGX_PAYOUT_OK);
    assert_int_equal(verify(VECTOR_SIG, VECTOR_BODY, 1699999700),
                     NGX_PAYOUT_OK);

    /* stale, from the future */
    assert_int_equal(verify(VECTOR_SIG, VECTOR_BODY, 1700000301),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify(VECTOR_SIG, VECTOR_BODY, 1699999699),
                     NGX_PAYOUT_ERROR);

    /* one byte added or changed */
    assert_int_equal(verify(VECTOR_SIG, VECTOR_BODY " ", 1700000000),
                     NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "%s", VECTOR_BODY);
    multi[sizeof(VECTOR_BODY) - 5] ^= 1;
    assert_int_equal(verify(VECTOR_SIG, multi, 1700000000),
                     NGX_PAYOUT_ERROR);

    /* our signer agrees with Stripe's */
    n = ngx_payout_stripe_sign("whsec_test_secret", 17, 1700000000,
                               (const unsigned char *) VECTOR_BODY,
                               sizeof(VECTOR_BODY) - 1, sig);
    assert_int_equal(n, strlen(VECTOR_SIG));
    assert_string_equal(sig, VECTOR_SIG);

    /* a signature with another secret, or at another time */
    n = ngx_payout_stripe_sign("whsec_other", 11, 1700000000,
                               (const unsigned char *) VECTOR_BODY,
                               sizeof(VECTOR_BODY) - 1, sig);
    assert_int_equal(verify(sig, VECTOR_BODY, 1700000000), NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "t=1700000001,%s", VECTOR_SIG + 13);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_ERROR);

    /* several v1 (a secret being rolled): any may match, in any place */
    snprintf(multi, sizeof(multi), "t=1700000000,%s,%s", sig + 13,
             VECTOR_SIG + 13);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000), NGX_PAYOUT_OK);
    snprintf(multi, sizeof(multi), "%s,%s,v0=abc", VECTOR_SIG, sig + 13);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000), NGX_PAYOUT_OK);
    snprintf(multi, sizeof(multi), "v1=%s,t=1700000000", VECTOR_SIG + 16);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000), NGX_PAYOUT_OK);

    /* upper-case hex is the same signature */
    snprintf(multi, sizeof(multi), "t=1700000000,v1=5716D1E36D776A806D4626"
             "D526D93BFDD0959AB99E1D2635052C083782E7FCCF");
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000), NGX_PAYOUT_OK);

    /* malformed */
    assert_int_equal(verify("", VECTOR_BODY, 1700000000), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("t=1700000000", VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify(VECTOR_SIG + 13, VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify("t=1700000000,v0=5716d1e36d776a806d4626d526d93b"
                            "fdd0959ab99e1d2635052c083782e7fccf",
                            VECTOR_BODY, 1700000000), NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "t=1700000000,t=1700000000,%s",
             VECTOR_SIG + 13);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "t=17e8,%s", VECTOR_SIG + 13);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_ERROR);
    snprintf(multi, sizeof(multi), "%.*s", (int) strlen(VECTOR_SIG) - 1,
             VECTOR_SIG);
    assert_int_equal(verify(multi, VECTOR_BODY, 1700000000),
                     NGX_PAYOUT_ERROR);
}


static void
test_verify_accounts(void **state)
{
    fixture_t            f;
    ngx_payout_hook_t    hook;
    ngx_payout_header_t  h[2];

    (void) state;

    fixture_init(&f);

    h[0].name = "Stripe-Signature";
    h[0].name_len = 16;
    h[0].value = VECTOR_SIG;
    h[0].value_len = sizeof(VECTOR_SIG) - 1;
    h[1] = h[0];

    hook.headers = h;
    hook.nheaders = 1;
    hook.body = (const unsigned char *) VECTOR_BODY;
    hook.body_len = sizeof(VECTOR_BODY) - 1;

    assert_int_equal(stripe()->verify(&f.acct, &hook, 1700000000),
                     NGX_PAYOUT_OK);

    /* no header, two headers */
    hook.nheaders = 0;
    assert_int_equal(stripe()->verify(&f.acct, &hook, 1700000000),
                     NGX_PAYOUT_ERROR);
    hook.nheaders = 2;
    assert_int_equal(stripe()->verify(&f.acct, &hook, 1700000000),
                     NGX_PAYOUT_ERROR);
    hook.nheaders = 1;

    /* the key is the whole whsec_ string, not what follows it */
    f.acct.webhook_secret = "test_secret";
    f.acct.webhook_secret_len = 11;
    assert_int_equal(stripe()->verify(&f.acct, &hook, 1700000000),
                     NGX_PAYOUT_ERROR);

    f.acct.webhook_secret = NULL;
    f.acct.webhook_secret_len = 0;
    assert_int_equal(stripe()->verify(&f.acct, &hook, 1700000000),
                     NGX_PAYOUT_ERROR);
}


static int
event(const char *body, ngx_payout_event_t *ev)
{
    fixture_t          f;
    ngx_payout_hook_t  hook;

    fixture_init(&f);
    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    memset(ev, 0x5a, sizeof(ngx_payout_event_t));

    return stripe()->event(&f.acct, &hook, ev);
}


#define EVENT(type, object)                                                  \
    "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"" type "\","        \
    "\"data\":{\"object\":" object "}}"


static void
test_event(void **state)
{
    ngx_payout_event_t  ev;

    (void) state;

    /* the vector's event: no metadata, so the glue looks up po_1 */
    assert_int_equal(event(VECTOR_BODY, &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, "");
    assert_string_equal(ev.result.gateway_id, "po_1");
    assert_int_equal(ev.result.state, NGX_PAYOUT_SUCCESS);
    assert_int_equal(ev.result.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(ev.follow_up, NGX_PAYOUT_FOLLOW_NONE);

    assert_int_equal(event(EVENT("payout.failed",
        "{\"id\":\"po_2\",\"object\":\"payout\",\"status\":\"failed\","
        "\"failure_code\":\"no_account\",\"metadata\":{\"payout_uuid\":"
        "\"4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7\"}}"), &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, REF);
    assert_string_equal(ev.result.gateway_id, "po_2");
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(ev.result.reason, "no_account");

    assert_int_equal(event(EVENT("payout.canceled",
        "{\"id\":\"po_3\",\"object\":\"payout\",\"status\":\"canceled\","
        "\"metadata\":{\"payout_uuid\":\"" REF "\"}}"), &ev), NGX_PAYOUT_OK);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_VOIDED);

    assert_int_equal(event(EVENT("payout.updated",
        "{\"id\":\"po_4\",\"object\":\"payout\",\"status\":\"in_transit\","
        "\"metadata\":{\"payout_uuid\":\"" REF "\"}}"), &ev), NGX_PAYOUT_OK);
    assert_int_equal(ev.result.state, NGX_PAYOUT_PENDING_PROMISE);

    /* a reference that is not our uuid is no reference */
    assert_int_equal(event(EVENT("payout.paid",
        "{\"id\":\"po_5\",\"object\":\"payout\",\"status\":\"paid\","
        "\"metadata\":{\"payout_uuid\":\"'; DROP TABLE payouts\"}}"), &ev),
        NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, "");
    assert_string_equal(ev.result.gateway_id, "po_5");

    assert_int_equal(event(EVENT("transfer.reversed",
        "{\"id\":\"tr_1\",\"object\":\"transfer\",\"amount_reversed\":1100,"
        "\"reversed\":true,\"metadata\":{\"payout_uuid\":\"" REF "\"}}"),
        &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, REF);
    assert_string_equal(ev.result.gateway_id, "tr_1");
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_REVERSED);

    /* a partial reversal says reversed: false, and is still one */
    assert_int_equal(event(EVENT("transfer.reversed",
        "{\"id\":\"tr_1\",\"object\":\"transfer\",\"amount_reversed\":100,"
        "\"reversed\":false}"), &ev), NGX_PAYOUT_OK);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_REVERSED);

    assert_int_equal(event(EVENT("transfer.updated",
        "{\"id\":\"tr_1\",\"object\":\"transfer\",\"reversed\":true}"),
        &ev), NGX_PAYOUT_OK);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_REVERSED);

    /* not ours to act on */
    assert_int_equal(event(EVENT("transfer.updated",
        "{\"id\":\"tr_1\",\"object\":\"transfer\",\"reversed\":false}"),
        &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("transfer.created",
        "{\"id\":\"tr_1\",\"object\":\"transfer\",\"reversed\":false}"),
        &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("payout.created",
        "{\"id\":\"po_1\",\"object\":\"payout\",\"status\":\"pending\"}"),
        &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("plan.created",
        "{\"id\":\"price_1\",\"object\":\"plan\"}"), &ev),
        NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("payout.paid",
        "{\"id\":\"tr_1\",\"object\":\"transfer\"}"), &ev),
        NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("payout.updated",
        "{\"id\":\"po_1\",\"object\":\"payout\",\"status\":\"held\"}"),
        &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(ev.result.state, -1);
    assert_string_equal(ev.reference, "");
    assert_int_equal(event(EVENT("payout.paid",
        "{\"object\":\"payout\",\"status\":\"paid\"}"), &ev),
        NGX_PAYOUT_DECLINED);
    assert_int_equal(event("not json", &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("[]", &ev), NGX_PAYOUT_DECLINED);
}


/*
 * Every status of payout.status in the spec (stripe-spec3-2023-09-12:
 * "paid, pending, in_transit, canceled or failed"; it has no enum), and
 * nothing else, is in the table.
 */

static void
test_status_table(void **state)
{
    size_t                         i, j;
    const ngx_payout_connector_t  *c;

    static const char  *spec[] = {
        "paid", "pending", "in_transit", "canceled", "failed"
    };

    (void) state;

    c = stripe();
    assert_int_equal(c->nstatuses, sizeof(spec) / sizeof(spec[0]));

    for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
        for (j = 0; j < c->nstatuses; j++) {
            if (strcmp(c->statuses[j].status, spec[i]) == 0) {
                break;
            }
        }

        assert_true(j < c->nstatuses);
        assert_int_equal(ngx_payout_stripe_payout_state(spec[i]),
                         c->statuses[j].state);
        assert_true(c->statuses[j].state >= 0
                    && c->statuses[j].state < NGX_PAYOUT_NSTATES);
    }

    assert_int_equal(ngx_payout_stripe_payout_state(NULL), -1);
    assert_int_equal(ngx_payout_stripe_payout_state("PAID"), -1);
}


int
run_stripe_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_configure),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_build_connected),
        cmocka_unit_test(test_build_bank),
        cmocka_unit_test(test_parse_objects),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_accounts),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_status_table),
    };

    return cmocka_run_group_tests_name("stripe", tests, NULL, NULL);
}
