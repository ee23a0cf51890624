/*
 * The Stripe connector's codec (docs/connectors/stripe.md): the parts the
 * unit tests and the fuzzer reach besides the connector table.
 */

#ifndef NGX_PAYOUT_CONNECTOR_STRIPE_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_STRIPE_H_INCLUDED_

#include "../core/ngx_payout_core.h"
#include "../core/ngx_payout_connector.h"


/* the API version requests are pinned to unless stripe_version= says */
#define NGX_PAYOUT_STRIPE_VERSION    "2023-09-12"

/* Stripe-Signature's tolerance, seconds either side of now */
#define NGX_PAYOUT_STRIPE_TOLERANCE  300

/* "t=<unix>,v1=" and 64 hex digits */
#define NGX_PAYOUT_STRIPE_SIG_LEN    (sizeof("t=,v1=") - 1 + 20 + 64)


extern const ngx_payout_connector_t  ngx_payout_connector_stripe;


/* a payout object's status -> our state (the table), or -1 */
int ngx_payout_stripe_payout_state(const char *status);

/*
 * "t=<t>,v1=<hex HMAC-SHA256(t.body)>" keyed with the whole whsec_
 * string, as Stripe signs; the length written, 0 on failure.  out has
 * NGX_PAYOUT_STRIPE_SIG_LEN + 1 bytes.
 */
size_t ngx_payout_stripe_sign(const char *secret, size_t secret_len, long t,
    const unsigned char *body, size_t len, char *out);


#endif /* NGX_PAYOUT_CONNECTOR_STRIPE_H_INCLUDED_ */
