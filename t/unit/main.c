/*
 * The unit test runner: every group runs; the exit status is non-zero if
 * any test in any group failed.
 */

#include "unit.h"


int
main(void)
{
    int  failed;

    failed = 0;

    failed += run_apikey_tests();
    failed += run_hex_tests();
    failed += run_json_tests();
    failed += run_json_writer_tests();
    failed += run_query_tests();
    failed += run_validate_tests();
    failed += run_filter_tests();
    failed += run_crypto_tests();
    failed += run_net_tests();
    failed += run_state_tests();
    failed += run_sandbox_tests();
    failed += run_paystack_tests();
    failed += run_stripe_tests();
    failed += run_mollie_tests();
    failed += run_adyen_tests();
    failed += run_payneteasy_tests();
    failed += run_webhook_tests();
    failed += run_text_tests();
    failed += run_finalize_tests();
    failed += run_template_tests();
    failed += run_link_tests();

    if (failed) {
        print_error("%d unit test(s) failed\n", failed);
        return 1;
    }

    return 0;
}
