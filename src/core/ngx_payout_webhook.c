/*
 * Standard Webhooks signing (webhook-id, webhook-timestamp,
 * webhook-signature) and retry timing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ngx_payout_webhook.h"
#include "ngx_payout_crypto.h"


static int ngx_payout_webhook_base64_valid(const char *s, size_t len);


int
ngx_payout_webhook_key(const char *secret, size_t len, unsigned char *key,
    size_t *key_len)
{
    int     n;
    size_t  pad;

    if (len > 6 && memcmp(secret, "whsec_", 6) == 0) {
        secret += 6;
        len -= 6;

        if (len == 0 || len % 4 || len / 4 * 3 > NGX_PAYOUT_WEBHOOK_KEY_MAX
            || !ngx_payout_webhook_base64_valid(secret, len))
        {
            return NGX_PAYOUT_ERROR;
        }

        n = EVP_DecodeBlock(key, (const unsigned char *) secret, (int) len);
        if (n < 0) {
            return NGX_PAYOUT_ERROR;
        }

        /* EVP_DecodeBlock counts padding as zero bytes */
        pad = (secret[len - 1] == '=') + (secret[len - 2] == '=');
        *key_len = (size_t) n - pad;

        return NGX_PAYOUT_OK;
    }

    if (len == 0 || len > NGX_PAYOUT_WEBHOOK_KEY_MAX) {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(key, secret, len);
    *key_len = len;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_webhook_sign(const char *secret, size_t secret_len,
    const char *msg_id, long timestamp, const unsigned char *body,
    size_t len, char *out)
{
    int             n;
    size_t          key_len, id_len;
    unsigned char   key[NGX_PAYOUT_WEBHOOK_KEY_MAX], mac[32], *msg;

    if (ngx_payout_webhook_key(secret, secret_len, key, &key_len)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    id_len = strlen(msg_id);

    msg = malloc(id_len + 24 + len);
    if (msg == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    n = snprintf((char *) msg, id_len + 24, "%s.%ld.", msg_id, timestamp);
    memcpy(msg + n, body, len);

    ngx_payout_hmac_sha256(key, key_len, msg, n + len, mac);
    free(msg);

    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *) out + 3, mac, sizeof(mac));

    return NGX_PAYOUT_OK;
}


/*
 * EVP_DecodeBlock skips white space and takes "=" anywhere as zero bits:
 * only the alphabet, and "=" as the last one or two characters, make the
 * key a receiver's base64 decoder makes of the same secret.
 */

static int
ngx_payout_webhook_base64_valid(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
            || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/')
        {
            continue;
        }

        if (s[i] == '=' && i >= len - 2 && i >= 2
            && (i == len - 1 || s[len - 1] == '='))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


long
ngx_payout_webhook_delay(const long *schedule, int n, int attempt,
    unsigned rnd)
{
    long  base;

    if (attempt < 1 || attempt >= n) {
        return -1;
    }

    base = schedule[attempt];

    /* spread retries of many deliveries so they do not arrive together */
    return base + (base ? (long) (rnd % (unsigned) (base / 10 + 1)) : 0);
}


long
ngx_payout_retry_after(const char *value, size_t len)
{
    long    v;
    size_t  i;

    if (value == NULL || len == 0 || len > 9) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9') {
            return -1;
        }

        v = v * 10 + (value[i] - '0');
    }

    return v;
}
