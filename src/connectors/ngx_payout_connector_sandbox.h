/*
 * The sandbox connector's codec: its outcome table, and the signature of
 * its webhooks.  Shared by the fake provider (which signs) and by the
 * connector table (which verifies); the codec's functions stay visible
 * for the fuzzer and the unit tests.
 */

#ifndef NGX_PAYOUT_CONNECTOR_SANDBOX_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_SANDBOX_H_INCLUDED_

#include "../core/ngx_payout_core.h"
#include "../core/ngx_payout_crypto.h"
#include "../core/ngx_payout_connector.h"


/* what the sandbox does with a transfer, by the destination's last four */
typedef enum {
    NGX_PAYOUT_SANDBOX_SUCCEED = 0,     /* pending, then succeeded */
    NGX_PAYOUT_SANDBOX_INVALID_ACCOUNT, /* 0002: rejected at initiation */
    NGX_PAYOUT_SANDBOX_NO_FUNDS,        /* 0003: rejected at initiation */
    NGX_PAYOUT_SANDBOX_FAIL_LATER,      /* 0004: pending, then failed */
    NGX_PAYOUT_SANDBOX_REVERSE,         /* 0005: succeeded, then reversed */
    NGX_PAYOUT_SANDBOX_NO_ANSWER,       /* 0006: executed, never answers */
    NGX_PAYOUT_SANDBOX_STAY_PENDING     /* 0007: pending until canceled */
} ngx_payout_sandbox_outcome_e;

ngx_payout_sandbox_outcome_e ngx_payout_sandbox_outcome(const char *number,
    size_t len);

/* the webhook signing secret, derived from the master key */
void ngx_payout_sandbox_secret(const ngx_payout_keys_t *keys,
    unsigned char *secret);

#define NGX_PAYOUT_SANDBOX_SIG_LEN  (sizeof("t=,v1=") - 1 + 20 + 64)

/* "Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256(t.body)>" */
size_t ngx_payout_sandbox_sign(const ngx_payout_keys_t *keys, long t,
    const unsigned char *body, size_t len, char *out);

/* the scheme's tolerance, seconds either side of now */
#define NGX_PAYOUT_SANDBOX_TOLERANCE  300

/* NGX_PAYOUT_OK when the header matches the body and is fresh */
int ngx_payout_sandbox_verify(const ngx_payout_keys_t *keys,
    const char *header, size_t header_len, const unsigned char *body,
    size_t len, long now, long tolerance);


/* POST /transfers: the JSON body (malloc'd), or NULL */
char *ngx_payout_sandbox_transfer_body(const ngx_payout_transfer_t *t,
    size_t *len);

/* POST /recipients (ENROLL): the JSON body (malloc'd), or NULL */
char *ngx_payout_sandbox_recipient_body(const ngx_payout_transfer_t *t,
    size_t *len);

/* the answer to POST /recipients: the code, a refusal, or unknown */
void ngx_payout_sandbox_parse_enroll(long status, const char *body,
    size_t len, ngx_payout_result_t *res);

/* the answer to POST /transfers */
void ngx_payout_sandbox_parse_initiate(long status, const char *body,
    size_t len, ngx_payout_result_t *res);

/* a transfer as GET /transfers/{ref} and POST .../cancel show it */
void ngx_payout_sandbox_parse_transfer(long status, const char *body,
    size_t len, ngx_payout_result_t *res);

/* a verified webhook's event: the reference (a UUID) and the result */
int ngx_payout_sandbox_parse_event(const char *body, size_t len,
    char *reference, ngx_payout_result_t *res);


#endif /* NGX_PAYOUT_CONNECTOR_SANDBOX_H_INCLUDED_ */
