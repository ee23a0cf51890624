/*
 * POST /payout-links bodies, parsed strictly as the API parses them,
 * through the link validator at a fixed now; and any bytes through the
 * RFC 3339 parser.
 *
 * Invariants: validation is deterministic and survives re-serialisation
 * of the body; an accepted body's expiry is 60 s to 90 days from now,
 * its methods a subset of the two, its payout fields in range; a refusal
 * has a known code and a non-empty message.  A parsed time is never
 * before 1970, and the same bytes parse to the same time.
 */

#include "ngx_payout_core.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


#define FUZZ_NOW  1780000000L


static void fuzz_link(json_t *body, int *rc, ngx_payout_link_input_t *in,
    ngx_payout_error_t *err);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                      rc, rc2;
    long                     t;
    char                     msg[512];
    json_t                  *body, *again;
    ngx_payout_error_t       err, err2;
    ngx_payout_link_input_t  in, in2;

    t = ngx_payout_parse_time((const char *) data, size);
    FUZZ_CHECK(t == -1 || t >= 0);
    FUZZ_CHECK(t == ngx_payout_parse_time((const char *) data, size));

    body = ngx_payout_json_parse_body(data, size, msg, sizeof(msg));

    if (body == NULL) {
        return 0;
    }

    again = fuzz_reparse(body);

    fuzz_link(body, &rc, &in, &err);
    fuzz_link(again, &rc2, &in2, &err2);
    FUZZ_CHECK(rc == rc2);

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(in.expires >= FUZZ_NOW + NGX_PAYOUT_LINK_EXPIRES_MIN);
        FUZZ_CHECK(in.expires <= FUZZ_NOW + NGX_PAYOUT_LINK_EXPIRES_MAX);
        FUZZ_CHECK(in.expires == in2.expires);
        FUZZ_CHECK(!(in.expires_in && in.expires_at));
        FUZZ_CHECK((in.methods & ~(NGX_PAYOUT_LINK_BANK
                                   | NGX_PAYOUT_LINK_MOBILE)) == 0);
        FUZZ_CHECK(in.methods == in2.methods);
        FUZZ_CHECK(in.payout.amount >= 1
                   && in.payout.amount <= NGX_PAYOUT_MAX_AMOUNT);
        FUZZ_CHECK(in.payout.currency == in2.payout.currency);
        FUZZ_CHECK(in.payout.gateway != NULL);
        FUZZ_CHECK(in.payout.recipient.type == NGX_PAYOUT_RECIPIENT_NONE);

    } else {
        FUZZ_CHECK(err.code != NULL && err.message[0] != '\0');
        FUZZ_CHECK(strcmp(err.code, err2.code) == 0);
        FUZZ_CHECK(strcmp(err.message, err2.message) == 0);
        FUZZ_CHECK(fuzz_cstr_utf8(err.message));
    }

    json_decref(again);
    json_decref(body);

    return 0;
}


static void
fuzz_link(json_t *body, int *rc, ngx_payout_link_input_t *in,
    ngx_payout_error_t *err)
{
    memset(err, 0, sizeof(ngx_payout_error_t));

    *rc = ngx_payout_validate_link(body, 0, FUZZ_NOW, in, err);

    FUZZ_CHECK(*rc == NGX_PAYOUT_OK || *rc == NGX_PAYOUT_ERROR);
}
