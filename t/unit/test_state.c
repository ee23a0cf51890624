/*
 * The payout state machine: what may follow what, and never backwards.
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "ngx_payout_state.h"


#define ST(name)  ngx_payout_state_parse(name, strlen(name))


static void
test_names_round_trip(void **state)
{
    int  i;

    (void) state;

    for (i = 0; i < NGX_PAYOUT_NSTATES; i++) {
        assert_int_equal(ST(ngx_payout_state_name(i)), i);
    }

    assert_int_equal(ST("pending"), -1);
    assert_int_equal(ST("success_"), -1);
    assert_int_equal(ngx_payout_state_parse("success", 3), -1);
    assert_string_equal(ngx_payout_state_status(NGX_PAYOUT_PENDING_STAGED),
                        "pending");
    assert_string_equal(ngx_payout_state_status(NGX_PAYOUT_SUCCESS),
                        "success");
    assert_string_equal(ngx_payout_state_status(NGX_PAYOUT_CANCELED_VOIDED),
                        "canceled");
}


static void
test_lifecycle(void **state)
{
    (void) state;

    /* the happy path and its branches */
    assert_true(ngx_payout_state_allowed(ST("pending_staged"),
                                         ST("pending_created")));
    assert_true(ngx_payout_state_allowed(ST("pending_created"),
                                         ST("pending_promise")));
    assert_true(ngx_payout_state_allowed(ST("pending_promise"),
                                         ST("success")));
    assert_true(ngx_payout_state_allowed(ST("success"),
                                         ST("canceled_reversed")));
    assert_true(ngx_payout_state_allowed(ST("pending_created"),
                                         ST("canceled_rejected")));
    assert_true(ngx_payout_state_allowed(ST("pending_promise"),
                                         ST("canceled_voided")));

    /* never backwards, never twice, never out of a final state */
    assert_false(ngx_payout_state_allowed(ST("success"),
                                          ST("pending_promise")));
    assert_false(ngx_payout_state_allowed(ST("pending_promise"),
                                          ST("pending_created")));
    assert_false(ngx_payout_state_allowed(ST("success"), ST("success")));
    assert_false(ngx_payout_state_allowed(ST("canceled_failure"),
                                          ST("success")));
    assert_false(ngx_payout_state_allowed(ST("canceled_reversed"),
                                          ST("success")));
    assert_false(ngx_payout_state_allowed(ST("pending_staged"),
                                          ST("success")));
    assert_false(ngx_payout_state_allowed(ST("pending_promise"),
                                          ST("canceled_reversed")));

    assert_true(ngx_payout_state_final(ST("canceled_voided")));
    assert_false(ngx_payout_state_final(ST("success")));
}


static void
test_sources_literal(void **state)
{
    char  buf[256];

    (void) state;

    assert_int_not_equal(ngx_payout_state_sources(ST("success"), buf,
                                                  sizeof(buf)), 0);
    assert_string_equal(buf, "{pending_created,pending_promise}");

    ngx_payout_state_sources(ST("canceled_reversed"), buf, sizeof(buf));
    assert_string_equal(buf, "{success}");

    ngx_payout_state_sources(ST("pending_staged"), buf, sizeof(buf));
    assert_string_equal(buf, "{}");

    /* too small a buffer is an error, not a truncated literal */
    assert_int_equal(ngx_payout_state_sources(ST("success"), buf, 10), 0);
}


static void
test_provider_events(void **state)
{
    char  buf[256];

    (void) state;

    /* a reversal implies the success before it */
    assert_true(ngx_payout_state_implied(ST("pending_promise"),
                                         ST("canceled_reversed")));
    assert_true(ngx_payout_state_implied(ST("pending_created"),
                                         ST("canceled_reversed")));
    assert_true(ngx_payout_state_implied(ST("success"),
                                         ST("canceled_reversed")));
    assert_true(ngx_payout_state_implied(ST("pending_created"),
                                         ST("success")));

    /* no provider has seen a staged payout */
    assert_false(ngx_payout_state_implied(ST("pending_staged"),
                                          ST("canceled_voided")));
    assert_false(ngx_payout_state_implied(ST("pending_staged"),
                                          ST("pending_created")));
    assert_false(ngx_payout_state_implied(ST("pending_staged"),
                                          ST("success")));

    /* still never backwards nor out of a final state */
    assert_false(ngx_payout_state_implied(ST("success"),
                                          ST("pending_promise")));
    assert_false(ngx_payout_state_implied(ST("success"), ST("success")));
    assert_false(ngx_payout_state_implied(ST("canceled_reversed"),
                                          ST("success")));
    assert_false(ngx_payout_state_implied(ST("canceled_failure"),
                                          ST("canceled_reversed")));
    assert_false(ngx_payout_state_implied(ST("pending_promise"),
                                          ST("pending_created")));

    ngx_payout_state_event_sources(ST("canceled_reversed"), buf,
                                   sizeof(buf));
    assert_string_equal(buf, "{pending_created,pending_promise,success}");

    ngx_payout_state_event_sources(ST("canceled_voided"), buf, sizeof(buf));
    assert_string_equal(buf, "{pending_created,pending_promise}");

    ngx_payout_state_event_sources(ST("success"), buf, sizeof(buf));
    assert_string_equal(buf, "{pending_created,pending_promise}");

    ngx_payout_state_event_sources(ST("pending_created"), buf, sizeof(buf));
    assert_string_equal(buf, "{}");
}


/*
 * One source of truth: the payouts table's CHECK lists exactly the C
 * state machine's sub-states, in its order, so neither side can gain a
 * state the other does not know.  Read from the schema file itself.
 */

/* Stripe's paid -> failed is a reversal; any other word is itself */

static void
test_provider_word(void **state)
{
    int  from, said, to;

    (void) state;

    assert_int_equal(ngx_payout_state_provider_word(NGX_PAYOUT_SUCCESS,
                         NGX_PAYOUT_CANCELED_FAILURE, 1),
                     NGX_PAYOUT_CANCELED_REVERSED);

    /* where a failure cannot follow a payment it is a late event */
    assert_int_equal(ngx_payout_state_provider_word(NGX_PAYOUT_SUCCESS,
                         NGX_PAYOUT_CANCELED_FAILURE, 0),
                     NGX_PAYOUT_CANCELED_FAILURE);

    for (from = 0; from < NGX_PAYOUT_NSTATES; from++) {
        for (said = 0; said < NGX_PAYOUT_NSTATES; said++) {
            to = ngx_payout_state_provider_word(from, said, 1);

            if (from == NGX_PAYOUT_SUCCESS
                && said == NGX_PAYOUT_CANCELED_FAILURE)
            {
                /* and the transition exists */
                assert_true(ngx_payout_state_allowed(from, to));
                continue;
            }

            assert_int_equal(to, said);
        }
    }

    /*
     * What the glue then applies never moves back: after a reversal a
     * late success, failure or pending is no transition at all; after a
     * success a late pending is none either.
     */
    to = NGX_PAYOUT_CANCELED_REVERSED;

    for (said = 0; said < NGX_PAYOUT_NSTATES; said++) {
        assert_false(ngx_payout_state_implied(to,
                         ngx_payout_state_provider_word(to, said, 1)));
    }

    assert_false(ngx_payout_state_implied(NGX_PAYOUT_SUCCESS,
                     ngx_payout_state_provider_word(NGX_PAYOUT_SUCCESS,
                         NGX_PAYOUT_PENDING_PROMISE, 1)));
    assert_false(ngx_payout_state_implied(NGX_PAYOUT_SUCCESS,
                     ngx_payout_state_provider_word(NGX_PAYOUT_SUCCESS,
                         NGX_PAYOUT_SUCCESS, 1)));
}


static void
test_sql_states_equal_c_table(void **state)
{
    int     n;
    char    buf[65536], name[64], *p, *end, *q;
    FILE   *f;
    size_t  len;

    (void) state;

    f = fopen("sql/schema/001_init.sql", "r");
    assert_non_null(f);
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';

    p = strstr(buf, "CHECK (sub_status IN (");
    assert_non_null(p);
    end = strstr(p, "))");
    assert_non_null(end);

    n = 0;

    for ( ;; ) {
        p = memchr(p, '\'', end - p);
        if (p == NULL) {
            break;
        }

        q = memchr(p + 1, '\'', end - p - 1);
        assert_non_null(q);
        assert_true((size_t) (q - p - 1) < sizeof(name));

        memcpy(name, p + 1, q - p - 1);
        name[q - p - 1] = '\0';

        assert_true(n < NGX_PAYOUT_NSTATES);
        assert_string_equal(name, ngx_payout_state_name(n));
        n++;
        p = q + 1;
    }

    assert_int_equal(n, NGX_PAYOUT_NSTATES);
}


int
run_state_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_sources_literal),
        cmocka_unit_test(test_provider_events),
        cmocka_unit_test(test_provider_word),
        cmocka_unit_test(test_sql_states_equal_c_table),
    };

    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
