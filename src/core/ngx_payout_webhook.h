/*
 * Webhooks to merchants: Standard Webhooks signatures and the retry
 * schedule.
 */

#ifndef NGX_PAYOUT_WEBHOOK_H_INCLUDED_
#define NGX_PAYOUT_WEBHOOK_H_INCLUDED_

#include "ngx_payout_core.h"


#define NGX_PAYOUT_WEBHOOK_KEY_MAX   256
#define NGX_PAYOUT_WEBHOOK_SIG_LEN   (3 + 44)          /* "v1," base64 */

/*
 * The HMAC key of a secret: the base64-decoded rest of a "whsec_..."
 * secret, otherwise the secret's own bytes (SPEC §7), so both kinds of
 * secret verify with Standard Webhooks libraries.
 */
int ngx_payout_webhook_key(const char *secret, size_t len,
    unsigned char *key, size_t *key_len);

/* "v1,<base64 HMAC-SHA256(key, msg_id.timestamp.body)>", NUL-terminated */
int ngx_payout_webhook_sign(const char *secret, size_t secret_len,
    const char *msg_id, long timestamp, const unsigned char *body,
    size_t len, char *out);

/*
 * Seconds until attempt "attempt" (1 is the first retry), with up to
 * 10% jitter from rnd; -1 when the schedule is exhausted.
 */
long ngx_payout_webhook_delay(const long *schedule, int n, int attempt,
    unsigned rnd);

/* Retry-After: delta-seconds only; -1 when absent or unusable */
long ngx_payout_retry_after(const char *value, size_t len);


#endif /* NGX_PAYOUT_WEBHOOK_H_INCLUDED_ */
