/*
 * The Mollie connector's codec (docs/connectors/mollie.md): the parts the
 * unit tests and the fuzzer reach besides the connector table.
 */

#ifndef NGX_PAYOUT_CONNECTOR_MOLLIE_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_MOLLIE_H_INCLUDED_

#include "../core/ngx_payout_core.h"
#include "../core/ngx_payout_connector.h"


/* payout.description's maxLength in the spec, in characters */
#define NGX_PAYOUT_MOLLIE_DESCRIPTION_MAX  255

/* "sha256=" and 64 hex digits */
#define NGX_PAYOUT_MOLLIE_SIG_LEN  (sizeof("sha256=") - 1 + 64)


extern const ngx_payout_connector_t  ngx_payout_connector_mollie;


/* a payout's status -> our state (the table), or -1 */
int ngx_payout_mollie_payout_state(const char *status);

/*
 * An amount in minor units as Mollie's value: a decimal string with
 * exactly the currency's ISO 4217 exponent ("2500.00", "1000", "1.234").
 * The length written, 0 for an unknown currency or a negative amount;
 * out has 32 bytes.  *code: the currency's upper-case code.
 */
size_t ngx_payout_mollie_amount(int64_t amount, const char *currency,
    char *out, const char **code);

/*
 * "sha256=<hex HMAC-SHA256(secret, body)>", as X-Mollie-Signature carries
 * it; the length written.  out has NGX_PAYOUT_MOLLIE_SIG_LEN + 1 bytes.
 */
size_t ngx_payout_mollie_sign(const char *secret, size_t secret_len,
    const unsigned char *body, size_t len, char *out);


#endif /* NGX_PAYOUT_CONNECTOR_MOLLIE_H_INCLUDED_ */
