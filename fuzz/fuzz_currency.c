/*
 * Currency codes (ngx_payout_currency_find), as the currency field and
 * the filters send them.
 *
 * Invariants: a currency is found only for three ASCII letters, in either
 * case, and is the code itself in upper case with an ISO 4217 exponent
 * (0, 2, 3 or 4); both cases find the same entry.
 */

#include "fuzz.h"

#include "ngx_payout_validate.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           letters;
    char                          upper[3], lower[3];
    size_t                        i;
    const ngx_payout_currency_t  *c;

    c = ngx_payout_currency_find((const char *) data, size);

    letters = size == 3;

    for (i = 0; letters && i < 3; i++) {
        letters = (data[i] >= 'a' && data[i] <= 'z')
                  || (data[i] >= 'A' && data[i] <= 'Z');
    }

    if (!letters) {
        FUZZ_CHECK(c == NULL);
        return 0;
    }

    for (i = 0; i < 3; i++) {
        upper[i] = (char) (data[i] & ~0x20);
        lower[i] = (char) (data[i] | 0x20);
    }

    FUZZ_CHECK(ngx_payout_currency_find(upper, 3) == c);
    FUZZ_CHECK(ngx_payout_currency_find(lower, 3) == c);
    FUZZ_CHECK(ngx_payout_currency_find(NULL, 0) == NULL);

    if (c == NULL) {
        return 0;
    }

    FUZZ_CHECK(strlen(c->code) == 3 && memcmp(c->code, upper, 3) == 0);
    FUZZ_CHECK(c->exponent == 0 || c->exponent == 2 || c->exponent == 3
               || c->exponent == 4);

    return 0;
}
