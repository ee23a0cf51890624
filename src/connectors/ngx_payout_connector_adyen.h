/*
 * The Adyen connector's codec (docs/connectors/adyen.md): the parts the
 * unit tests and the fuzzer reach besides the connector table.
 */

#ifndef NGX_PAYOUT_CONNECTOR_ADYEN_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_ADYEN_H_INCLUDED_

#include "../core/ngx_payout_core.h"
#include "../core/ngx_payout_connector.h"


/* HmacSignature: base64 of a 32-byte HMAC-SHA256 */
#define NGX_PAYOUT_ADYEN_SIG_LEN  44


extern const ngx_payout_connector_t  ngx_payout_connector_adyen;


/* a transfer's status -> our state (the table), or -1: no word */
int ngx_payout_adyen_transfer_state(const char *status);

/* ISO 13616: letters, digits, a country and a mod-97 checksum of 1 */
int ngx_payout_adyen_iban_valid(const char *s);

/*
 * base64(HMAC-SHA256(hex-decoded key, body)), as Adyen signs a Balance
 * Platform webhook; out has NGX_PAYOUT_ADYEN_SIG_LEN + 1 bytes.
 * NGX_PAYOUT_ERROR when the key is not hex.
 */
int ngx_payout_adyen_sign(const char *hexkey, size_t hexkey_len,
    const unsigned char *body, size_t len, char *out);


#endif /* NGX_PAYOUT_CONNECTOR_ADYEN_H_INCLUDED_ */
