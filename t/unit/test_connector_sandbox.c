/*
 * The sandbox connector: its codec (outcomes by last four digits, the
 * webhook signature fresh, stale and tampered, the answers it parses),
 * and its table as the registry hands it out (build, parse, verify,
 * event, status table).
 */

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "unit_connector.h"
#include "ngx_payout_connector_sandbox.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_text.h"


static const char  ref[] = "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7";


static void
keys(ngx_payout_keys_t *k)
{
    unsigned char  master[32];

    memset(master, 0x7f, sizeof(master));
    ngx_payout_keys_derive(master, k);
}


static void
test_outcomes(void **state)
{
    (void) state;

#define OUT(s)  ngx_payout_sandbox_outcome(s, strlen(s))
    assert_int_equal(OUT("0123456789"), NGX_PAYOUT_SANDBOX_SUCCEED);
    assert_int_equal(OUT("9990002"), NGX_PAYOUT_SANDBOX_INVALID_ACCOUNT);
    assert_int_equal(OUT("9990003"), NGX_PAYOUT_SANDBOX_NO_FUNDS);
    assert_int_equal(OUT("9990004"), NGX_PAYOUT_SANDBOX_FAIL_LATER);
    assert_int_equal(OUT("9990005"), NGX_PAYOUT_SANDBOX_REVERSE);
    assert_int_equal(OUT("9990006"), NGX_PAYOUT_SANDBOX_NO_ANSWER);
    assert_int_equal(OUT("9990007"), NGX_PAYOUT_SANDBOX_STAY_PENDING);
    assert_int_equal(OUT("9990008"), NGX_PAYOUT_SANDBOX_SUCCEED);
    assert_int_equal(OUT("9991002"), NGX_PAYOUT_SANDBOX_SUCCEED);
    assert_int_equal(OUT("002"), NGX_PAYOUT_SANDBOX_SUCCEED);
#undef OUT
}


static void
test_signature(void **state)
{
    char                sig[NGX_PAYOUT_SANDBOX_SIG_LEN + 1];
    size_t              n;
    ngx_payout_keys_t   k, other;

    static const unsigned char  body[] = "{\"id\":\"evt_1\"}";

    (void) state;

    keys(&k);

    n = ngx_payout_sandbox_sign(&k, 1700000000, body, sizeof(body) - 1,
                                sig);
    assert_int_equal(n, strlen(sig));
    assert_memory_equal(sig, "t=1700000000,v1=", 16);
    assert_int_equal(n, 16 + 64);

    /* fresh and intact */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n, body,
                         sizeof(body) - 1, 1700000100, 300), NGX_PAYOUT_OK);

    /* stale, or from the future */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n, body,
                         sizeof(body) - 1, 1700000301, 300),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n, body,
                         sizeof(body) - 1, 1699999699, 300),
                     NGX_PAYOUT_ERROR);

    /* one byte of the body changed */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n,
                         (const unsigned char *) "{\"id\":\"evt_2\"}",
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);

    /* another master key */
    memcpy(&other, &k, sizeof(k));
    other.token[0] ^= 1;
    assert_int_equal(ngx_payout_sandbox_verify(&other, sig, n, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);

    /* malformed headers */
    assert_int_equal(ngx_payout_sandbox_verify(&k, "", 0, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_sandbox_verify(&k, "v1=abc", 6, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_sandbox_verify(&k, "t=x,v1=00", 9, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);

    /* a truncated signature */
    assert_int_equal(ngx_payout_sandbox_verify(&k, sig, n - 1, body,
                         sizeof(body) - 1, 1700000000, 300),
                     NGX_PAYOUT_ERROR);
}


static void
test_transfer_body(void **state)
{
    char                   *out;
    size_t                  len;
    json_t                 *json;
    ngx_payout_transfer_t   t;

    (void) state;

    memset(&t, 0, sizeof(t));
    t.reference = ref;
    t.amount = 250000;
    t.currency = "NGN";
    t.type = NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = "0123456789";
    t.bank_code = "058";
    t.account_name = "JOHN SELLER";

    out = ngx_payout_sandbox_transfer_body(&t, &len);
    assert_non_null(out);

    json = json_loadb(out, len, 0, NULL);
    assert_non_null(json);
    assert_string_equal(json_string_value(json_object_get(json,
                                                          "reference")), ref);
    assert_int_equal(json_integer_value(json_object_get(json, "amount")),
                     250000);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json, "destination"),
                            "account_number")), "0123456789");

    json_decref(json);
    free(out);
}


static void
test_parse_answers(void **state)
{
    char                 reference[37];
    ngx_payout_result_t  res;

    static const char  pending[] =
        "{\"id\":\"sbx_tr_7\",\"status\":\"pending\"}";
    static const char  rejected[] =
        "{\"error\":{\"code\":\"invalid_account\",\"message\":\"x\"}}";
    static const char  event[] =
        "{\"id\":\"evt_1\",\"type\":\"transfer.failed\",\"data\":{"
        "\"id\":\"sbx_tr_7\",\"reference\":"
        "\"4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7\",\"status\":\"failed\","
        "\"failure_reason\":\"account_closed\"}}";

    (void) state;

    ngx_payout_sandbox_parse_initiate(201, pending, sizeof(pending) - 1,
                                      &res);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.gateway_id, "sbx_tr_7");

    ngx_payout_sandbox_parse_initiate(422, rejected, sizeof(rejected) - 1,
                                      &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "invalid_account");

    /* no definite answer: it may have executed */
    ngx_payout_sandbox_parse_initiate(0, "", 0, &res);
    assert_int_equal(res.state, -1);
    ngx_payout_sandbox_parse_initiate(503, "oops", 4, &res);
    assert_int_equal(res.state, -1);
    ngx_payout_sandbox_parse_initiate(200, "not json", 8, &res);
    assert_int_equal(res.state, -1);

    assert_int_equal(ngx_payout_sandbox_parse_event(event, sizeof(event) - 1,
                                                    reference, &res),
                     NGX_PAYOUT_OK);
    assert_string_equal(reference, ref);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "account_closed");

    assert_int_equal(ngx_payout_sandbox_parse_event("{}", 2, reference,
                                                    &res),
                     NGX_PAYOUT_ERROR);
}


/* provider strings longer than our buffers are cut between characters */

static void
test_parse_long_multibyte(void **state)
{
    char                 reference[37], body[2048], *p;
    size_t               i, len;
    ngx_payout_result_t  res;

    (void) state;

    /* old snprintf() cuts at 127 and 159 bytes: both mid-character here */
    p = body;
    p += sprintf(p, "{\"data\":{\"reference\":\"%s\",\"status\":"
                 "\"failed\",\"id\":\"", ref);

    for (i = 0; i < 200; i++) {
        p += sprintf(p, "\xc3\xa9");
    }

    p += sprintf(p, "\",\"failure_reason\":\"ab");

    for (i = 0; i < 200; i++) {
        p += sprintf(p, "\xe2\x82\xac");
    }

    p += sprintf(p, "\"}}");

    assert_int_equal(ngx_payout_sandbox_parse_event(body, p - body,
                                                    reference, &res),
                     NGX_PAYOUT_OK);

    len = strlen(res.gateway_id);
    assert_true(len < sizeof(res.gateway_id));
    assert_true(len >= sizeof(res.gateway_id) - 2);
    assert_true(ngx_payout_utf8_valid(res.gateway_id, len));

    len = strlen(res.reason);
    assert_true(len < sizeof(res.reason));
    assert_true(len >= sizeof(res.reason) - 3);
    assert_int_equal((len - 2) % 3, 0);
    assert_true(ngx_payout_utf8_valid(res.reason, len));
}


static const ngx_payout_connector_t *
sandbox(void)
{
    const ngx_payout_connector_t  *c;

    c = ngx_payout_connector_find("sandbox", 7);
    assert_non_null(c);

    return c;
}


static void
test_registry(void **state)
{
    char    names[64];
    size_t  n;

    (void) state;

    assert_string_equal(sandbox()->name, "sandbox");
    assert_null(ngx_payout_connector_find("sandbo", 6));
    assert_null(ngx_payout_connector_find("wise", 4));

    /* the sandbox first, then the real providers */
    n = ngx_payout_connector_names(names, sizeof(names));
    assert_int_equal(n, strlen(names));
    assert_memory_equal(names, "sandbox, ", 9);
    assert_int_equal(ngx_payout_connector_names(names, 4), 0);

    assert_true(sandbox()->caps & NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE);
    assert_true(sandbox()->caps & NGX_PAYOUT_CAP_CAN_CANCEL);
    assert_true(sandbox()->caps & NGX_PAYOUT_CAP_TEST_ONLY);
    assert_true(sandbox()->caps & NGX_PAYOUT_CAP_MOBILE_MONEY);
    assert_false(sandbox()->caps & NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY);
    assert_null(sandbox()->configure);
}


/* an account on m's memory, and an NGN bank destination */

static void
table_setup(unit_mem_t *m, ngx_payout_account_t *acct,
    ngx_payout_transfer_t *t)
{
    memset(m, 0, sizeof(unit_mem_t));
    memset(acct, 0, sizeof(ngx_payout_account_t));
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    acct->mem.alloc = unit_mem_alloc;
    acct->mem.data = m;

    t->currency = "NGN";
    t->type = NGX_PAYOUT_RECIPIENT_BANK;
    t->account_number = "0123456789";
    t->bank_code = "058";
}


static void
test_table_build(void **state)
{
    unit_mem_t             m;
    ngx_payout_call_t      call;
    ngx_payout_account_t   acct;
    ngx_payout_transfer_t  t;

    (void) state;

    table_setup(&m, &acct, &t);
    t.reference = ref;
    t.amount = 1500;

    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_INITIATE, &t,
                                      &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/transfers");
    assert_int_equal(call.nheaders, 2);
    assert_string_equal(call.headers[0], "Content-Type: application/json");
    assert_string_equal(call.headers[1],
        "Idempotency-Key: 4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7");
    assert_non_null(call.body);
    assert_true(call.body_len > 36);
    assert_non_null(strstr(call.body, ref));

    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_LOOKUP, &t,
                                      &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "GET");
    assert_string_equal(call.path,
                        "/transfers/4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7");
    assert_int_equal(call.nheaders, 0);
    assert_null(call.body);

    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_CANCEL, &t,
                                      &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/transfers/"
                        "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7/cancel");
    assert_int_equal(call.body_len, 2);

    /* enrollment (test_table_enroll) needs the recipient's uuid */
    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_ENROLL, &t,
                                      &call), NGX_PAYOUT_ERROR);
    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_FINALIZE, &t,
                                      &call), NGX_PAYOUT_DECLINED);

    unit_mem_free(&m);
}


static void
test_table_enroll(void **state)
{
    json_t                 *body;
    unit_mem_t              m;
    ngx_payout_call_t       call;
    ngx_payout_account_t    acct;
    ngx_payout_result_t     res;
    ngx_payout_transfer_t   t;

    static const char  rref[] = "0b0e2a5c-3f3a-4c1e-9d6e-2c7d9e1f4a55";

    (void) state;

    table_setup(&m, &acct, &t);
    t.recipient_reference = rref;
    t.account_name = "JOHN SELLER";

    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_ENROLL, &t,
                                      &call), NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/recipients");
    assert_int_equal(call.nheaders, 2);
    assert_string_equal(call.headers[0], "Content-Type: application/json");
    assert_string_equal(call.headers[1],
        "Idempotency-Key: 0b0e2a5c-3f3a-4c1e-9d6e-2c7d9e1f4a55");

    body = json_loadb(call.body, call.body_len, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body,
                                                          "reference")),
                        rref);
    assert_string_equal(json_string_value(json_object_get(body,
                                                          "currency")),
                        "NGN");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "destination"),
                            "account_number")), "0123456789");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "destination"), "type")),
                        "bank_account");
    json_decref(body);

    /* a wallet, without a currency */
    t.type = NGX_PAYOUT_RECIPIENT_MOBILE;
    t.currency = NULL;
    t.mobile_number = "233241234567";
    t.provider = "MTN";
    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_ENROLL, &t,
                                      &call), NGX_PAYOUT_OK);
    body = json_loadb(call.body, call.body_len, 0, NULL);
    assert_null(json_object_get(body, "currency"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(body, "destination"),
                            "mobile_number")), "233241234567");
    json_decref(body);

    /* the sandbox has no connected accounts to enroll */
    t.type = NGX_PAYOUT_RECIPIENT_CONNECTED;
    t.account_id = "acct_1";
    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_ENROLL, &t,
                                      &call), NGX_PAYOUT_DECLINED);

    t.type = NGX_PAYOUT_RECIPIENT_BANK;
    t.recipient_reference = "not-a-uuid";
    assert_int_equal(sandbox()->build(&acct, NGX_PAYOUT_OP_ENROLL, &t,
                                      &call), NGX_PAYOUT_ERROR);

    /* answers */
    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 201,
               "{\"recipient_code\":\"SBX_RCP_0B0E2A5C3F3A4C1E9D6E\"}",
               &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.gateway_id, "SBX_RCP_0B0E2A5C3F3A4C1E9D6E");

    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 200,
               "{\"recipient_code\":\"SBX_RCP_X\"}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_string_equal(res.gateway_id, "SBX_RCP_X");

    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 201, "{}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.gateway_id, "");

    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 400,
               "{\"error\":{\"code\":\"invalid_account\","
               "\"message\":\"no\"}}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_string_equal(res.reason, "invalid_account");
    assert_string_equal(res.gateway_id, "");

    /* a proxy's page, a 5xx, no answer: unknown */
    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 400, "<html>", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 503,
               "{\"error\":{\"code\":\"x\"}}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    unit_parse(sandbox(), NGX_PAYOUT_OP_ENROLL, 0, NULL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    unit_mem_free(&m);
}


static void
parse(ngx_payout_op_e op, long status, const char *body,
    ngx_payout_result_t *res)
{
    unit_parse(sandbox(), op, status, body, res);
}


static void
test_table_parse(void **state)
{
    ngx_payout_result_t  res;

    static const char  pending[] =
        "{\"id\":\"tr_1\",\"status\":\"pending\"}";
    static const char  canceled[] =
        "{\"id\":\"tr_1\",\"status\":\"canceled\"}";

    (void) state;

    parse(NGX_PAYOUT_OP_INITIATE, 201, pending, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.gateway_id, "tr_1");

    parse(NGX_PAYOUT_OP_INITIATE, 422,
          "{\"error\":{\"code\":\"invalid_account\"}}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "invalid_account");

    /* money may have moved: never a state */
    parse(NGX_PAYOUT_OP_INITIATE, 0, NULL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);
    parse(NGX_PAYOUT_OP_INITIATE, 502, "bad gateway", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse(NGX_PAYOUT_OP_INITIATE, 404, "", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse(NGX_PAYOUT_OP_INITIATE, 200, "{not json", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* the lookup's 404: never received, which the reconciler settles */
    parse(NGX_PAYOUT_OP_LOOKUP, 404, "{}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_NOT_FOUND);
    assert_int_equal(res.state, -1);
    parse(NGX_PAYOUT_OP_LOOKUP, 200, pending, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    parse(NGX_PAYOUT_OP_LOOKUP, 409, "{}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    parse(NGX_PAYOUT_OP_CANCEL, 200, canceled, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_VOIDED);
    parse(NGX_PAYOUT_OP_CANCEL, 409, "{}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    parse(NGX_PAYOUT_OP_CANCEL, 404, "{}", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_NOT_FOUND);
    parse(NGX_PAYOUT_OP_CANCEL, 503, "", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse(NGX_PAYOUT_OP_CANCEL, 0, NULL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
}


static void
test_table_hook(void **state)
{
    char                  sig[NGX_PAYOUT_SANDBOX_SIG_LEN + 1], body[256];
    size_t                n;
    ngx_payout_hook_t     hook;
    ngx_payout_event_t    ev;
    ngx_payout_header_t   h[2];
    ngx_payout_keys_t     k;
    ngx_payout_account_t  acct;

    (void) state;

    keys(&k);
    memset(&acct, 0, sizeof(acct));
    acct.keys = &k;

    snprintf(body, sizeof(body), "{\"type\":\"transfer.updated\","
             "\"data\":{\"id\":\"tr_9\",\"reference\":\"%s\","
             "\"status\":\"succeeded\"}}", ref);
    n = ngx_payout_sandbox_sign(&k, 1700000000, (unsigned char *) body,
                                strlen(body), sig);

    h[0].name = "Content-Type";
    h[0].name_len = 12;
    h[0].value = "application/json";
    h[0].value_len = 16;
    h[1].name = "sandbox-signature";      /* names are case-blind */
    h[1].name_len = 17;
    h[1].value = sig;
    h[1].value_len = n;

    hook.headers = h;
    hook.nheaders = 2;
    hook.body = (unsigned char *) body;
    hook.body_len = strlen(body);

    assert_int_equal(sandbox()->verify(&acct, &hook, 1700000000 + 300),
                     NGX_PAYOUT_OK);
    assert_int_equal(sandbox()->verify(&acct, &hook, 1700000000 + 301),
                     NGX_PAYOUT_ERROR);

    hook.nheaders = 1;
    assert_int_equal(sandbox()->verify(&acct, &hook, 1700000000),
                     NGX_PAYOUT_ERROR);
    hook.nheaders = 2;

    assert_int_equal(sandbox()->event(&acct, &hook, &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, ref);
    assert_int_equal(ev.follow_up, NGX_PAYOUT_FOLLOW_NONE);
    assert_int_equal(ev.result.state, NGX_PAYOUT_SUCCESS);
    assert_int_equal(ev.result.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_string_equal(ev.result.gateway_id, "tr_9");

    hook.body = (unsigned char *) "{\"data\":{}}";
    hook.body_len = 11;
    assert_int_equal(sandbox()->event(&acct, &hook, &ev),
                     NGX_PAYOUT_DECLINED);
    assert_string_equal(ev.reference, "");
}


static void
test_status_table(void **state)
{
    size_t                          i;
    const ngx_payout_status_map_t  *m;

    (void) state;

    m = sandbox()->statuses;
    assert_int_equal(sandbox()->nstatuses, 6);

    /* every documented status maps to a state of ours, once */
    for (i = 0; i < sandbox()->nstatuses; i++) {
        assert_non_null(ngx_payout_state_name(m[i].state));
        assert_true(i == 0 || strcmp(m[i - 1].status, m[i].status) != 0);
    }

    assert_string_equal(m[0].status, "pending");
    assert_int_equal(m[0].state, NGX_PAYOUT_PENDING_PROMISE);
}


int
run_sandbox_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_transfer_body),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_parse_long_multibyte),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_table_build),
        cmocka_unit_test(test_table_enroll),
        cmocka_unit_test(test_table_parse),
        cmocka_unit_test(test_table_hook),
        cmocka_unit_test(test_status_table),
    };

    return cmocka_run_group_tests_name("connector_sandbox", tests, NULL, NULL);
}
