/*
 * Secrets at rest and derived keys.  One master key (32 bytes, from the
 * payout_master_key_file) derives a key per purpose, so a leak of one
 * derived key exposes nothing else.
 */

#ifndef NGX_PAYOUT_CRYPTO_H_INCLUDED_
#define NGX_PAYOUT_CRYPTO_H_INCLUDED_

#include "ngx_payout_core.h"


#define NGX_PAYOUT_MASTER_KEY_LEN   32
#define NGX_PAYOUT_SEAL_OVERHEAD    (1 + 12 + 16)   /* version, nonce, tag */


typedef struct {
    unsigned char  enc[32];          /* AES-256-GCM for stored secrets */
    unsigned char  fingerprint[32];  /* HMAC for recipient fingerprints */
    unsigned char  token[32];        /* HMAC for link and CSRF tokens */
} ngx_payout_keys_t;


/* the key file holds 64 hex characters; white space around is ignored */
int ngx_payout_master_key_parse(const unsigned char *text, size_t len,
    unsigned char *key);
void ngx_payout_keys_derive(const unsigned char *master,
    ngx_payout_keys_t *keys);

/*
 * AES-256-GCM: out = 0x01 || nonce(12) || ciphertext || tag(16), with
 * out sized len + NGX_PAYOUT_SEAL_OVERHEAD.  The aad binds a blob to
 * where it belongs (e.g. the tenant), so it cannot be moved elsewhere.
 */
int ngx_payout_seal(const ngx_payout_keys_t *keys, const unsigned char *aad,
    size_t aad_len, const unsigned char *in, size_t len, unsigned char *out);
int ngx_payout_open(const ngx_payout_keys_t *keys, const unsigned char *aad,
    size_t aad_len, const unsigned char *in, size_t len, unsigned char *out,
    size_t *out_len);

void ngx_payout_hmac_sha256(const unsigned char *key, size_t key_len,
    const unsigned char *data, size_t len, unsigned char *mac);

void ngx_payout_sha256(const unsigned char *data, size_t len,
    unsigned char *hash);

/*
 * A payout link's token: 32 random bytes as unpadded base64url, 43
 * characters, the last segment of the link's URL.  It is stored only as
 * ngx_payout_sha256() of those 43 characters (payout_links.token_hash).
 */
#define NGX_PAYOUT_LINK_TOKEN_LEN   43

/* token has NGX_PAYOUT_LINK_TOKEN_LEN + 1 bytes; NGX_PAYOUT_ERROR: no RNG */
int ngx_payout_link_token(char *token);
/* the shape of a token, before it is hashed and looked up */
int ngx_payout_link_token_valid(const char *s, size_t len);

/*
 * SHA-256 of the body as compact JSON with sorted keys, so that key order
 * and spacing do not make two requests differ: hash has 32 bytes
 */
int ngx_payout_request_hash(json_t *body, unsigned char *hash);


#endif /* NGX_PAYOUT_CRYPTO_H_INCLUDED_ */
