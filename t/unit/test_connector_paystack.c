/*
 * The Paystack connector through its table, as the registry hands it
 * out: the calls it builds (against paystack-2025-10-24.yaml), the
 * documented answers and webhook events it parses (t/fixtures/paystack/,
 * copied from ../shared/specs/fixtures/paystack/), every answer class,
 * the signature vectors (../shared/specs/vectors/README.md, section 4)
 * and the status table against the spec's enum.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_connector.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_text.h"


#define FIXTURES  "t/fixtures/paystack/"

static const char  ref[] = "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7";
static const char  test_key[] =
    "sk_test_0000000000000000000000000000000000000000";


/* the spec's enum of transfer statuses (GET /transfer, ?status=) */
static const char  *spec_statuses[] = {
    "pending", "success", "failed", "otp", "abandoned", "reversed",
    "blocked", "rejected", "received"
};


static const ngx_payout_connector_t *
paystack(void)
{
    const ngx_payout_connector_t  *c;

    c = ngx_payout_connector_find("paystack", 8);
    assert_non_null(c);

    return c;
}


static void
account(ngx_payout_account_t *acct, unit_mem_t *m, const char *key)
{
    memset(acct, 0, sizeof(ngx_payout_account_t));
    memset(m, 0, sizeof(unit_mem_t));
    acct->secret = key;
    acct->secret_len = key ? strlen(key) : 0;
    acct->mem.alloc = unit_mem_alloc;
    acct->mem.data = m;
}


/* a whole file, NUL-terminated; the test fails without it */

static char *
slurp(const char *name, size_t *len)
{
    FILE    *f;
    char    *buf, path[256];
    size_t   n;

    snprintf(path, sizeof(path), FIXTURES "%s", name);

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s (run from the top of the tree)", path);
    }

    buf = malloc(1 << 16);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';

    if (len) {
        *len = n;
    }

    return buf;
}


/* a fixture's documented answer: {"<status>": {"data": body}} */

static char *
fixture_answer(const char *name, const char *status)
{
    char    *text, *out;
    json_t  *json, *data;

    text = slurp(name, NULL);
    json = json_loads(text, 0, NULL);
    assert_non_null(json);
    data = json_object_get(json_object_get(json, status), "data");
    assert_true(json_is_object(data));
    out = json_dumps(data, JSON_COMPACT);
    assert_non_null(out);
    json_decref(json);
    free(text);

    return out;
}


/* a fixture's event with its reference set to ours */

static char *
fixture_event(const char *name)
{
    char    *text, *out;
    json_t  *json;

    text = slurp(name, NULL);
    json = json_loads(text, 0, NULL);
    assert_non_null(json);
    json_object_set_new(json_object_get(json, "data"), "reference",
                        json_string(ref));
    out = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    free(text);

    return out;
}


static void
transfer(ngx_payout_transfer_t *t)
{
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    t->reference = ref;
    t->amount = 250000;
    t->currency = "NGN";
    t->type = NGX_PAYOUT_RECIPIENT_BANK;
    t->account_number = "0123456789";
    t->bank_code = "058";
    t->account_name = "JOHN SELLER";
    t->narration = "Invoice 42";
    t->recipient_code = "RCP_m7ljkv8leesep7p";
}


/* the body's members are exactly these, each a string but "amount" */

static json_t *
body_of(const ngx_payout_call_t *call, const char **keys, size_t n)
{
    size_t   i;
    json_t  *json;

    assert_non_null(call->body);
    assert_int_equal(strlen(call->body), call->body_len);

    json = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES,
                      NULL);
    assert_true(json_is_object(json));
    assert_int_equal(json_object_size(json), n);

    for (i = 0; i < n; i++) {
        if (strcmp(keys[i], "amount") == 0) {
            assert_true(json_is_integer(json_object_get(json, keys[i])));

        } else {
            assert_true(json_is_string(json_object_get(json, keys[i])));
        }
    }

    return json;
}


#define STR(json, key)  json_string_value(json_object_get(json, key))


static void
headers_of(const ngx_payout_call_t *call)
{
    assert_int_equal(call->nheaders, 2);
    assert_string_equal(call->headers[0], "Authorization: Bearer "
                        "sk_test_0000000000000000000000000000000000000000");
    assert_string_equal(call->headers[1], "Content-Type: application/json");
}


/* a call built: its method, path and the headers every call carries */

static void
built(ngx_payout_account_t *acct, ngx_payout_op_e op,
    const ngx_payout_transfer_t *t, ngx_payout_call_t *call,
    const char *method, const char *path)
{
    assert_int_equal(paystack()->build(acct, op, t, call), NGX_PAYOUT_OK);
    assert_string_equal(call->method, method);
    assert_string_equal(call->path, path);
    headers_of(call);
}


static void
test_registry(void **state)
{
    char  names[64];

    (void) state;

    assert_string_equal(paystack()->name, "paystack");
    assert_string_equal(paystack()->default_url, "https://api.paystack.co");
    assert_int_equal(paystack()->key_ttl, 0);
    assert_null(paystack()->configure);
    assert_int_equal(paystack()->caps, NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE
                                       | NGX_PAYOUT_CAP_NEEDS_ENROLL
                                       | NGX_PAYOUT_CAP_MOBILE_MONEY);

    ngx_payout_connector_names(names, sizeof(names));
    assert_non_null(strstr(names, "paystack"));
}


static void
test_check(void **state)
{
    const char            *msg;
    unit_mem_t             m;
    ngx_payout_account_t   acct;

    static const char  live_key[] =
        "sk_live_0000000000000000000000000000000000000000";

    (void) state;

    account(&acct, &m, test_key);
    assert_null(paystack()->check(&acct, 0));
    msg = paystack()->check(&acct, 1);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "test key"));
    assert_null(strstr(msg, "0000"));

    account(&acct, &m, live_key);
    assert_null(paystack()->check(&acct, 1));
    msg = paystack()->check(&acct, 0);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "live key"));
    assert_null(strstr(msg, "0000"));

    account(&acct, &m, "pk_test_0000");
    assert_non_null(paystack()->check(&acct, 0));
    assert_non_null(paystack()->check(&acct, 1));
    account(&acct, &m, "sk_test_");
    assert_non_null(paystack()->check(&acct, 0));
    account(&acct, &m, "sk_test_00\r\nX-Evil: 1");
    assert_non_null(paystack()->check(&acct, 0));
    account(&acct, &m, NULL);
    assert_non_null(paystack()->check(&acct, 0));
}


/* the recipient's type follows the destination and the currency */

static void
test_build_enroll(void **state)
{
    size_t                  i;
    json_t                 *json;
    unit_mem_t              m;
    ngx_payout_call_t       call;
    ngx_payout_account_t    acct;
    ngx_payout_transfer_t   t;

    static const char  *keys[] = {
        "type", "name", "account_number", "bank_code", "currency"
    };

    static const struct {
        int          type;
        const char  *currency;
        const char  *provider;      /* mobile money's; NULL: a bank */
        const char  *want;          /* NULL: DECLINED */
    }  cases[] = {
        { NGX_PAYOUT_RECIPIENT_BANK, "NGN", NULL, "nuban" },
        { NGX_PAYOUT_RECIPIENT_BANK, "ZAR", NULL, "basa" },
        { NGX_PAYOUT_RECIPIENT_BANK, "GHS", NULL, "ghipss" },
        { NGX_PAYOUT_RECIPIENT_MOBILE, "GHS", "MTN", "mobile_money" },
        { NGX_PAYOUT_RECIPIENT_MOBILE, "KES", "MPESA", "mobile_money" },

        /* what Paystack's recipient types do not cover */
        { NGX_PAYOUT_RECIPIENT_BANK, "KES", NULL, NULL },
        { NGX_PAYOUT_RECIPIENT_BANK, "USD", NULL, NULL },
        { NGX_PAYOUT_RECIPIENT_MOBILE, "NGN", "MTN", NULL },
        { NGX_PAYOUT_RECIPIENT_MOBILE, "GHS", NULL, NULL },
        { NGX_PAYOUT_RECIPIENT_CONNECTED, "NGN", NULL, NULL },
    };

    (void) state;

    account(&acct, &m, test_key);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        transfer(&t);
        t.type = cases[i].type;
        t.currency = cases[i].currency;

        if (t.type == NGX_PAYOUT_RECIPIENT_MOBILE) {
            t.account_number = NULL;
            t.bank_code = NULL;
            t.mobile_number = "0551234987";
            t.provider = cases[i].provider;
        }

        if (cases[i].want == NULL) {
            assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_ENROLL,
                                               &t, &call),
                             NGX_PAYOUT_DECLINED);
            continue;
        }

        built(&acct, NGX_PAYOUT_OP_ENROLL, &t, &call, "POST",
              "/transferrecipient");
        json = body_of(&call, keys, 5);
        assert_string_equal(STR(json, "type"), cases[i].want);
        assert_string_equal(STR(json, "name"), "JOHN SELLER");
        assert_string_equal(STR(json, "currency"), cases[i].currency);

        /* mobile money: the number, and the provider as the bank */
        assert_string_equal(STR(json, "account_number"),
                            t.provider ? "0551234987" : "0123456789");
        assert_string_equal(STR(json, "bank_code"),
                            t.provider ? t.provider : "058");
        json_decref(json);
    }

    /* Paystack requires the name */
    transfer(&t);
    t.account_name = NULL;
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_ENROLL, &t,
                                       &call), NGX_PAYOUT_DECLINED);

    unit_mem_free(&m);
}


static void
test_build_initiate(void **state)
{
    json_t                 *json;
    unit_mem_t              m;
    ngx_payout_call_t       call;
    ngx_payout_account_t    acct;
    ngx_payout_transfer_t   t;

    static const char  *keys[] = {
        "source", "amount", "recipient", "currency", "reference", "reason"
    };

    (void) state;

    account(&acct, &m, test_key);
    transfer(&t);

    built(&acct, NGX_PAYOUT_OP_INITIATE, &t, &call, "POST", "/transfer");
    json = body_of(&call, keys, 6);
    assert_string_equal(STR(json, "source"), "balance");
    assert_int_equal(json_integer_value(json_object_get(json, "amount")),
                     250000);
    assert_string_equal(STR(json, "recipient"), "RCP_m7ljkv8leesep7p");
    assert_string_equal(STR(json, "reason"), "Invoice 42");
    assert_string_equal(STR(json, "currency"), "NGN");
    assert_string_equal(STR(json, "reference"), ref);
    json_decref(json);

    /* Paystack's references are lower case; no narration, no reason */
    t.reference = "4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7";
    t.narration = NULL;
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_INITIATE, &t,
                                       &call), NGX_PAYOUT_OK);
    json = body_of(&call, keys, 5);
    assert_null(json_object_get(json, "reason"));
    assert_string_equal(STR(json, "reference"), ref);
    json_decref(json);

    /* never sent without a recipient code or a key */
    transfer(&t);
    t.recipient_code = NULL;
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_INITIATE, &t,
                                       &call), NGX_PAYOUT_ERROR);
    transfer(&t);
    t.reference = "payout-0001";
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_INITIATE, &t,
                                       &call), NGX_PAYOUT_ERROR);

    unit_mem_free(&m);
    account(&acct, &m, NULL);
    transfer(&t);
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_INITIATE, &t,
                                       &call), NGX_PAYOUT_ERROR);
    account(&acct, &m, "sk_test_1\nX: y");
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_INITIATE, &t,
                                       &call), NGX_PAYOUT_ERROR);
    unit_mem_free(&m);
}


static void
test_build_others(void **state)
{
    json_t                 *json;
    unit_mem_t              m;
    ngx_payout_call_t       call;
    ngx_payout_account_t    acct;
    ngx_payout_transfer_t   t;

    static const char  *keys[] = { "transfer_code", "otp" };

    (void) state;

    account(&acct, &m, test_key);
    transfer(&t);

    built(&acct, NGX_PAYOUT_OP_LOOKUP, &t, &call, "GET",
          "/transfer/verify/4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7");
    assert_null(call.body);

    t.reference = "4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7";
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                       &call), NGX_PAYOUT_OK);
    assert_string_equal(call.path, "/transfer/verify/"
                        "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7");

    t.reference = "../../balance";
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                       &call), NGX_PAYOUT_ERROR);

    transfer(&t);
    t.gateway_id = "TRF_vsyqdmlzble3uii";
    t.otp = "928783";
    built(&acct, NGX_PAYOUT_OP_FINALIZE, &t, &call, "POST",
          "/transfer/finalize_transfer");
    json = body_of(&call, keys, 2);
    assert_string_equal(STR(json, "transfer_code"), "TRF_vsyqdmlzble3uii");
    assert_string_equal(STR(json, "otp"), "928783");
    json_decref(json);

    t.otp = NULL;
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_FINALIZE, &t,
                                       &call), NGX_PAYOUT_ERROR);
    t.otp = "928783";
    t.gateway_id = NULL;
    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_FINALIZE, &t,
                                       &call), NGX_PAYOUT_ERROR);

    assert_int_equal(paystack()->build(&acct, NGX_PAYOUT_OP_CANCEL, &t,
                                       &call), NGX_PAYOUT_DECLINED);

    unit_mem_free(&m);
}


static void
parse(ngx_payout_op_e op, long status, const char *body,
    ngx_payout_result_t *res)
{
    unit_parse(paystack(), op, status, body, res);

    assert_true(res->gateway_id[sizeof(res->gateway_id) - 1] == '\0'
                || strlen(res->gateway_id) < sizeof(res->gateway_id));
    assert_true(ngx_payout_utf8_valid(res->reason, strlen(res->reason)));
    assert_true(strlen(res->next_action) < sizeof(res->next_action));
}


/* each documented answer: what it means for the payout */

static void
test_parse_fixtures(void **state)
{
    char                 *body;
    size_t                i;
    ngx_payout_result_t   res;

    static const struct {
        const char            *file;
        const char            *key;
        ngx_payout_op_e        op;
        long                   status;
        ngx_payout_outcome_e   outcome;
        int                    state;
        const char            *gateway_id;
        const char            *reason;
    }  cases[] = {
        { "api_transfer-recipient_create_response.json", "200",
          NGX_PAYOUT_OP_ENROLL, 201, NGX_PAYOUT_OUTCOME_STATE, -1,
          "RCP_m7ljkv8leesep7p", "" },
        { "api_transfers_initiate_response.json", "200",
          NGX_PAYOUT_OP_INITIATE, 200, NGX_PAYOUT_OUTCOME_STATE,
          NGX_PAYOUT_SUCCESS, "TRF_v5tip3zx8nna9o78", "" },
        { "api_transfers_initiate_response.json", "400",
          NGX_PAYOUT_OP_INITIATE, 400, NGX_PAYOUT_OUTCOME_STATE,
          NGX_PAYOUT_CANCELED_REJECTED, "",
          "Recipient specified is invalid" },
        { "api_transfers_verify_response.json", "200",
          NGX_PAYOUT_OP_LOOKUP, 200, NGX_PAYOUT_OUTCOME_STATE,
          NGX_PAYOUT_SUCCESS, "TRF_8opchtrhtjlfz90n", "" },
        { "api_transfers_verify_response.json", "404",
          NGX_PAYOUT_OP_LOOKUP, 404, NGX_PAYOUT_OUTCOME_NOT_FOUND, -1, "",
          "" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        body = fixture_answer(cases[i].file, cases[i].key);
        parse(cases[i].op, cases[i].status, body, &res);
        free(body);

        assert_int_equal(res.outcome, cases[i].outcome);
        assert_int_equal(res.state, cases[i].state);
        assert_string_equal(res.gateway_id, cases[i].gateway_id);
        assert_string_equal(res.reason, cases[i].reason);
        assert_string_equal(res.next_action, "");
    }
}


static void
test_parse_classes(void **state)
{
    int                  i;
    char                 body[2048], *p;
    size_t               len;
    ngx_payout_result_t  res;

    static const ngx_payout_op_e  ops[] = {
        NGX_PAYOUT_OP_INITIATE, NGX_PAYOUT_OP_LOOKUP, NGX_PAYOUT_OP_ENROLL,
        NGX_PAYOUT_OP_FINALIZE
    };

    static const char  invalid_key[] =
        "{\"status\":false,\"message\":\"Invalid key\"}";
    static const char  otp[] =
        "{\"status\":true,\"message\":\"Transfer requires OTP to continue\","
        "\"data\":{\"reference\":\"4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7\","
        "\"status\":\"otp\",\"transfer_code\":\"TRF_1ptvuv321ahaa7q\"}}";

    (void) state;

    /* a bad key, whatever the operation */
    for (i = 0; i < 4; i++) {
        parse(ops[i], 401, invalid_key, &res);
        assert_string_equal(res.reason, "gateway_auth_failed");

        if (ops[i] == NGX_PAYOUT_OP_INITIATE) {
            assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
            assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);

        } else {
            assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
            assert_int_equal(res.state, -1);
        }

        parse(ops[i], 403, "", &res);
        assert_string_equal(res.reason, "gateway_auth_failed");

        /* no answer, 5xx, unreadable or unknown: the money may have moved */
        parse(ops[i], 0, NULL, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        assert_int_equal(res.state, -1);
        parse(ops[i], 500, invalid_key, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 503, "<html>", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 200, "{\"status\":tr", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 200, "[]", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 200, NULL, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 302, "{\"status\":false,\"message\":\"x\"}", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 429, "{\"status\":false,\"message\":\"slow\"}", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 404, "<html>Not Found</html>", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        parse(ops[i], 400, "{\"status\":false}", &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    }

    parse(NGX_PAYOUT_OP_INITIATE, 200,
          "{\"status\":true,\"data\":{\"status\":\"queued\"}}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* a reused reference: an earlier send arrived, never a rejection */
    parse(NGX_PAYOUT_OP_INITIATE, 400,
          "{\"status\":false,\"message\":\"Duplicate Transfer Reference\","
          "\"code\":\"duplicate_reference\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);
    parse(NGX_PAYOUT_OP_INITIATE, 400,
          "{\"status\":false,\"message\":\"x\",\"code\":\"DUPLICATE\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* an OTP to give: pending, with the next action */
    parse(NGX_PAYOUT_OP_INITIATE, 200, otp, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_CREATED);
    assert_string_equal(res.next_action, "otp_required");
    assert_string_equal(res.gateway_id, "TRF_1ptvuv321ahaa7q");

    /* the OTP taken: in flight, or the transfer's own state */
    parse(NGX_PAYOUT_OP_FINALIZE, 200,
          "{\"status\":true,\"message\":\"Transfer has been queued\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    parse(NGX_PAYOUT_OP_FINALIZE, 200,
          "{\"status\":true,\"data\":{\"status\":\"success\","
          "\"transfer_code\":\"TRF_1\"}}", &res);
    assert_int_equal(res.state, NGX_PAYOUT_SUCCESS);
    assert_string_equal(res.next_action, "");
    parse(NGX_PAYOUT_OP_FINALIZE, 400,
          "{\"status\":false,\"message\":\"OTP could not be verified\"}",
          &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.reason, "OTP could not be verified");

    parse(NGX_PAYOUT_OP_ENROLL, 400,
          "{\"status\":false,\"message\":\"Cannot resolve account\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_string_equal(res.reason, "Cannot resolve account");
    parse(NGX_PAYOUT_OP_ENROLL, 201, "{\"status\":true,\"data\":{}}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* Paystack's other shape of "never received" */
    parse(NGX_PAYOUT_OP_LOOKUP, 400,
          "{\"status\":false,\"message\":\"Transfer not found\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_NOT_FOUND);
    parse(NGX_PAYOUT_OP_LOOKUP, 400,
          "{\"status\":false,\"message\":\"Invalid reference\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse(NGX_PAYOUT_OP_LOOKUP, 404, "{\"message\":\"Not found\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* a failed transfer's reason is Paystack's, not our narration */
    parse(NGX_PAYOUT_OP_LOOKUP, 200,
          "{\"status\":true,\"data\":{\"status\":\"failed\",\"reason\":"
          "\"Invoice 42\",\"gateway_response\":\"Account closed\"}}", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "Account closed");
    parse(NGX_PAYOUT_OP_LOOKUP, 200,
          "{\"status\":true,\"data\":{\"status\":\"abandoned\","
          "\"reason\":\"Invoice 42\",\"gateway_response\":null}}", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "abandoned");

    /* a long multibyte message, cut between characters */
    p = body;
    p += sprintf(p, "{\"status\":false,\"message\":\"ab");

    for (i = 0; i < 200; i++) {
        p += sprintf(p, "\xe2\x82\xac");
    }

    sprintf(p, "\"}");

    parse(NGX_PAYOUT_OP_INITIATE, 422, body, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    len = strlen(res.reason);
    assert_true(len < sizeof(res.reason));
    assert_true(len >= sizeof(res.reason) - 3);
    assert_int_equal((len - 2) % 3, 0);
}


static void
hook_of(ngx_payout_hook_t *hook, ngx_payout_header_t *h, const char *sig,
    const char *body, size_t len)
{
    h[0].name = "Content-Type";
    h[0].name_len = 12;
    h[0].value = "application/json";
    h[0].value_len = 16;
    h[1].name = "X-Paystack-Signature";     /* names are case-blind */
    h[1].name_len = 20;
    h[1].value = sig;
    h[1].value_len = strlen(sig);

    hook->headers = h;
    hook->nheaders = 2;
    hook->body = (const unsigned char *) body;
    hook->body_len = len;
}


static void
test_vectors(void **state)
{
    char                  *body, *pretty, sig[129];
    size_t                 len, plen;
    unit_mem_t             m;
    ngx_payout_hook_t      hook;
    ngx_payout_header_t    h[3];
    ngx_payout_account_t   acct, other;

    static const char  min_sig[] =
        "63729376fccd1c6a03c7e3392449b94d5a74868a019cc6235d0d9294c35a28f3"
        "17699d08f4bbd0d249380890e5cb8d16bd2b58a831a3a85110819aebbf12ca20";
    static const char  small_sig[] =
        "a1d4218cbc2f5261f95ce4f825e9bd3d61aef27993073e9e1fd06f4053cf4224"
        "f04cd9866f10556f175c295737daf788bb2824daa16bb1d873d4fb1e963df1d3";

    (void) state;

    account(&acct, &m, test_key);
    account(&other, &m, "sk_test_0000000000000000000000000000000000000001");

    body = slurp("paystack-transfer-success.min.json", &len);
    assert_int_equal(len, 1139);
    hook_of(&hook, h, min_sig, body, len);
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_OK);

    /* no timestamp in this scheme: any "now" */
    assert_int_equal(paystack()->verify(&acct, &hook, 2000000000),
                     NGX_PAYOUT_OK);

    /* another key */
    assert_int_equal(paystack()->verify(&other, &hook, 0), NGX_PAYOUT_ERROR);

    /* one byte of the body changed, or one byte fewer */
    body[100] ^= 1;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    body[100] ^= 1;
    hook.body_len--;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    hook.body_len++;

    /* the same JSON pretty-printed is other bytes */
    pretty = slurp("paystack-transfer-success.pretty.json", &plen);
    hook.body = (const unsigned char *) pretty;
    hook.body_len = plen;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    free(pretty);
    hook.body = (const unsigned char *) body;
    hook.body_len = len;

    /* a changed, cut, upper-case or doubled signature */
    memcpy(sig, min_sig, sizeof(sig));
    sig[127] = sig[127] == '0' ? '1' : '0';
    h[1].value = sig;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    h[1].value = min_sig;
    h[1].value_len = 127;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    h[1].value_len = 128;

    h[2] = h[1];
    h[2].name = "x-paystack-signature";
    hook.nheaders = 3;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    hook.nheaders = 1;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    hook.nheaders = 2;

    /* intact again; then no key, no verification */
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_OK);
    acct.secret = NULL;
    acct.secret_len = 0;
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    acct.secret = test_key;
    acct.secret_len = sizeof(test_key) - 1;
    free(body);

    body = slurp("paystack-small.json", &len);
    assert_int_equal(len, 114);
    hook_of(&hook, h, small_sig, body, len);
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_OK);
    hook_of(&hook, h, min_sig, body, len);
    assert_int_equal(paystack()->verify(&acct, &hook, 0), NGX_PAYOUT_ERROR);
    free(body);
}


static void
event(const char *body, ngx_payout_event_t *ev, int rc)
{
    ngx_payout_hook_t     hook;
    ngx_payout_header_t   h[2];

    hook_of(&hook, h, "", body, strlen(body));
    memset(ev, 0x5a, sizeof(ngx_payout_event_t));
    assert_int_equal(paystack()->event(NULL, &hook, ev), rc);
    assert_int_equal(ev->follow_up, NGX_PAYOUT_FOLLOW_NONE);

    if (rc != NGX_PAYOUT_OK) {
        assert_string_equal(ev->reference, "");
    }
}


static void
test_events(void **state)
{
    char                 *body;
    ngx_payout_event_t    ev;

    (void) state;

    body = fixture_event("doc_payments_webhooks_events_transfer-successful"
                         ".json");
    event(body, &ev, NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, ref);
    assert_int_equal(ev.result.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(ev.result.state, NGX_PAYOUT_SUCCESS);
    assert_string_equal(ev.result.gateway_id, "TRF_v5tip3zx8nna9o78");
    assert_string_equal(ev.result.reason, "");
    free(body);

    body = fixture_event("doc_payments_webhooks_events_transfer-failed"
                         ".json");
    event(body, &ev, NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, ref);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(ev.result.gateway_id, "TRF_chs98y5rykjb47w");
    assert_string_equal(ev.result.reason, "failed");
    free(body);

    body = fixture_event("doc_payments_webhooks_events_transfer-reversed"
                         ".json");
    event(body, &ev, NGX_PAYOUT_OK);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_REVERSED);
    assert_string_equal(ev.result.gateway_id, "TRF_js075pj9u07f34l");
    assert_string_equal(ev.result.reason, "reversed");
    free(body);

    /* the fixtures as published: someone else's references */
    body = slurp("doc_payments_webhooks_events_transfer-successful.json",
                 NULL);
    event(body, &ev, NGX_PAYOUT_DECLINED);
    free(body);
    body = slurp("paystack-small.json", NULL);
    event(body, &ev, NGX_PAYOUT_DECLINED);
    free(body);

    /* an upper-case uuid is ours, stored lower case */
    event("{\"event\":\"transfer.success\",\"data\":{\"reference\":"
          "\"4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7\"}}", &ev, NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, ref);
    assert_string_equal(ev.result.gateway_id, "");

    /* other events, and broken ones */
    event("{\"event\":\"charge.success\",\"data\":{\"reference\":"
          "\"4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7\"}}", &ev,
          NGX_PAYOUT_DECLINED);
    event("{\"event\":\"transfer.pending\",\"data\":{\"reference\":"
          "\"4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7\"}}", &ev,
          NGX_PAYOUT_DECLINED);
    event("{\"event\":\"transfer.success\",\"data\":[]}", &ev,
          NGX_PAYOUT_DECLINED);
    event("{\"event\":\"transfer.success\"}", &ev, NGX_PAYOUT_DECLINED);
    event("{\"event\":\"transfer.success\",\"data\":{\"reference\":1}}",
          &ev, NGX_PAYOUT_DECLINED);
    event("not json", &ev, NGX_PAYOUT_DECLINED);
    event("", &ev, NGX_PAYOUT_DECLINED);
}


/*
 * The spec's enum of transfer statuses, read from the spec itself when
 * it is at hand ($PAYOUT_SPECS, or ../shared/specs next to the tree):
 * the enum under "name: status" of the "/transfer:" path.
 */

static size_t
spec_enum(char names[][32], size_t max)
{
    int          in_path, in_param;
    FILE        *f;
    char         line[512], path[512], word[32];
    size_t       i, n;
    const char  *dir, *dirs[3];

    dirs[0] = getenv("PAYOUT_SPECS");
    dirs[1] = "../shared/specs";
    dirs[2] = "../../shared/specs";
    f = NULL;

    for (i = 0; f == NULL && i < 3; i++) {
        dir = dirs[i];

        if (dir) {
            snprintf(path, sizeof(path), "%s/paystack-2025-10-24.yaml", dir);
            f = fopen(path, "r");
        }
    }

    if (f == NULL) {
        return 0;
    }

    n = 0;
    in_path = 0;
    in_param = 0;

    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "  /", 3) == 0) {
            if (in_path) {
                break;
            }

            in_path = (strcmp(line, "  /transfer:\n") == 0);
            continue;
        }

        if (!in_path) {
            continue;
        }

        if (strstr(line, "name: status")) {
            in_param = 1;

        } else if (in_param && sscanf(line, " - %31[a-z_]", word) == 1
                   && strchr(line, ':') == NULL && n < max)
        {
            memcpy(names[n++], word, sizeof(word));

        } else if (in_param && n > 0) {
            break;
        }
    }

    fclose(f);

    return n;
}


static int
mapped(const char *status)
{
    size_t                          i;
    const ngx_payout_status_map_t  *m;

    m = paystack()->statuses;

    for (i = 0; i < paystack()->nstatuses; i++) {
        if (strcmp(m[i].status, status) == 0) {
            return m[i].state;
        }
    }

    return -1;
}


static void
test_status_table(void **state)
{
    char                           names[32][32];
    size_t                         i, j, n;
    ngx_payout_result_t            res;
    const ngx_payout_status_map_t  *m;

    (void) state;

    m = paystack()->statuses;
    n = sizeof(spec_statuses) / sizeof(spec_statuses[0]);
    assert_int_equal(paystack()->nstatuses, n);

    /* every status once, each to a state of ours */
    for (i = 0; i < paystack()->nstatuses; i++) {
        assert_non_null(ngx_payout_state_name(m[i].state));

        for (j = 0; j < i; j++) {
            assert_true(strcmp(m[i].status, m[j].status) != 0);
        }
    }

    for (i = 0; i < n; i++) {
        if (mapped(spec_statuses[i]) < 0) {
            fail_msg("status \"%s\" is not mapped", spec_statuses[i]);
        }
    }

    /* the table as documented (docs/connectors/paystack.md) */
    assert_int_equal(mapped("pending"), NGX_PAYOUT_PENDING_PROMISE);
    assert_int_equal(mapped("received"), NGX_PAYOUT_PENDING_PROMISE);
    assert_int_equal(mapped("otp"), NGX_PAYOUT_PENDING_CREATED);
    assert_int_equal(mapped("success"), NGX_PAYOUT_SUCCESS);
    assert_int_equal(mapped("failed"), NGX_PAYOUT_CANCELED_FAILURE);
    assert_int_equal(mapped("abandoned"), NGX_PAYOUT_CANCELED_FAILURE);
    assert_int_equal(mapped("reversed"), NGX_PAYOUT_CANCELED_REVERSED);
    assert_int_equal(mapped("blocked"), NGX_PAYOUT_CANCELED_REJECTED);
    assert_int_equal(mapped("rejected"), NGX_PAYOUT_CANCELED_REJECTED);

    /* and parse() uses it */
    for (i = 0; i < n; i++) {
        char  body[256];

        snprintf(body, sizeof(body), "{\"status\":true,\"data\":{\"status\":"
                 "\"%s\",\"transfer_code\":\"TRF_1\"}}", spec_statuses[i]);
        parse(NGX_PAYOUT_OP_LOOKUP, 200, body, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
        assert_int_equal(res.state, mapped(spec_statuses[i]));
        assert_string_equal(res.gateway_id, "TRF_1");
    }

    /* the spec itself, when it is here: every value it lists is mapped */
    n = spec_enum(names, 32);

    if (n == 0) {
        print_message("paystack spec not found (PAYOUT_SPECS): "
                      "checked the copied enum only\n");
    }

    for (i = 0; i < n; i++) {
        if (mapped(names[i]) < 0) {
            fail_msg("the spec's status \"%s\" is not mapped", names[i]);
        }
    }

    assert_true(n == 0 || n == paystack()->nstatuses);
}


int
run_paystack_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_build_enroll),
        cmocka_unit_test(test_build_initiate),
        cmocka_unit_test(test_build_others),
        cmocka_unit_test(test_parse_fixtures),
        cmocka_unit_test(test_parse_classes),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_status_table),
    };

    return cmocka_run_group_tests_name("connector_paystack", tests, NULL,
                                       NULL);
}
