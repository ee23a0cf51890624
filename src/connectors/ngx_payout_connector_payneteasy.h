/*
 * The PaynetEasy (Payment Soft) connector's codec
 * (docs/connectors/payneteasy.md): the parts the unit tests and the
 * fuzzer reach besides the connector table.
 */

#ifndef NGX_PAYOUT_CONNECTOR_PAYNETEASY_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_PAYNETEASY_H_INCLUDED_

#include "../core/ngx_payout_core.h"
#include "../core/ngx_payout_connector.h"


/* the documented lengths of /api/v4/payout's fields */
#define NGX_PAYOUT_PNE_ORDERID_LEN    128   /* client_orderid */
#define NGX_PAYOUT_PNE_AMOUNT_LEN     10
#define NGX_PAYOUT_PNE_DESC_LEN       64    /* order_desc */
#define NGX_PAYOUT_PNE_PURPOSE_LEN    128
#define NGX_PAYOUT_PNE_CALLBACK_LEN   128   /* server_callback_url */

#define NGX_PAYOUT_PNE_LOGIN_LEN      128
#define NGX_PAYOUT_PNE_ENDPOINT_LEN   20    /* digits */
#define NGX_PAYOUT_PNE_NONCE_LEN      32    /* [A-Za-z0-9] */
#define NGX_PAYOUT_PNE_RSA_MIN_BITS   2048
#define NGX_PAYOUT_PNE_RSA_MAX_BITS   8192
#define NGX_PAYOUT_PNE_PEM_LEN        16384

/* a provider value read from an answer or a callback */
#define NGX_PAYOUT_PNE_VALUE_LEN      1024


extern const ngx_payout_connector_t  ngx_payout_connector_payneteasy;


/* a status value -> our state (the table), or -1 */
int ngx_payout_payneteasy_state(const char *status);

/*
 * The control checksum: lower-case hex SHA-1 of a, b and c (NULL: "")
 * followed by the control key; out has 41 bytes.  The status request
 * signs login, client_orderid, orderid; a callback status, orderid,
 * client_orderid.
 */
int ngx_payout_payneteasy_control(const char *a, const char *b,
    const char *c, const char *key, size_t key_len, char *out);

/*
 * name's value in a form-encoded body ("k=v\n&k=v\n"), decoded, its
 * line end dropped, into out[size]: 1 found, 0 absent, -1 unreadable
 * (twice, bad escape, NUL, too long for out).
 */
int ngx_payout_payneteasy_field(const char *body, size_t len,
    const char *name, char *out, size_t size);

/*
 * The OAuth 1.0 signature base string of a POST to url with the body's
 * parameters and the oauth_* ones; allocated through mem, NULL on
 * failure.  For the tests: build() signs exactly this.
 */
char *ngx_payout_payneteasy_base_string(ngx_payout_mem_t *mem,
    const char *url, const char *body, size_t body_len, const char *login,
    const char *nonce, long timestamp);


#endif /* NGX_PAYOUT_CONNECTOR_PAYNETEASY_H_INCLUDED_ */
