/*
 * Unit tests of the payout core (src/core/), built with cmocka into one
 * binary by `make unit`; main.c runs every group declared here.
 */

#ifndef UNIT_H_INCLUDED_
#define UNIT_H_INCLUDED_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ngx_payout_core.h"


/* a string literal as the (pointer, length) pair the core takes */
#define UNIT_STR(s)  (const unsigned char *) (s), sizeof(s) - 1


/* the connectors' memory callback: a list, freed by unit_mem_free() */
#define UNIT_MEM_BLOCKS  64

typedef struct {
    void    *blocks[UNIT_MEM_BLOCKS];
    size_t   n;
} unit_mem_t;

void *unit_mem_alloc(void *data, size_t size);
void unit_mem_free(unit_mem_t *m);


int run_apikey_tests(void);
int run_hex_tests(void);
int run_json_tests(void);
int run_json_writer_tests(void);
int run_query_tests(void);
int run_validate_tests(void);
int run_filter_tests(void);
int run_crypto_tests(void);
int run_net_tests(void);
int run_state_tests(void);
int run_sandbox_tests(void);
int run_paystack_tests(void);
int run_stripe_tests(void);
int run_mollie_tests(void);
int run_adyen_tests(void);
int run_payneteasy_tests(void);
int run_webhook_tests(void);
int run_text_tests(void);
int run_finalize_tests(void);
int run_template_tests(void);
int run_link_tests(void);


#endif /* UNIT_H_INCLUDED_ */
