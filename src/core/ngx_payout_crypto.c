/*
 * AES-256-GCM sealing and HMAC-based key derivation, on OpenSSL.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "ngx_payout_crypto.h"


#define NGX_PAYOUT_SEAL_VERSION  0x01
#define NGX_PAYOUT_NONCE_LEN     12
#define NGX_PAYOUT_TAG_LEN       16


int
ngx_payout_master_key_parse(const unsigned char *text, size_t len,
    unsigned char *key)
{
    while (len && (text[0] == ' ' || text[0] == '\t' || text[0] == '\n'
                   || text[0] == '\r'))
    {
        text++;
        len--;
    }

    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'
                   || text[len - 1] == '\n' || text[len - 1] == '\r'))
    {
        len--;
    }

    if (len != 2 * NGX_PAYOUT_MASTER_KEY_LEN) {
        return NGX_PAYOUT_ERROR;
    }

    return ngx_payout_hex_decode((const char *) text, len, key);
}


void
ngx_payout_keys_derive(const unsigned char *master, ngx_payout_keys_t *keys)
{
    static const char  enc[] = "payout/v1/encryption";
    static const char  fp[] = "payout/v1/fingerprint";
    static const char  token[] = "payout/v1/token";

    ngx_payout_hmac_sha256(master, NGX_PAYOUT_MASTER_KEY_LEN,
                           (const unsigned char *) enc, sizeof(enc) - 1,
                           keys->enc);
    ngx_payout_hmac_sha256(master, NGX_PAYOUT_MASTER_KEY_LEN,
                           (const unsigned char *) fp, sizeof(fp) - 1,
                           keys->fingerprint);
    ngx_payout_hmac_sha256(master, NGX_PAYOUT_MASTER_KEY_LEN,
                           (const unsigned char *) token, sizeof(token) - 1,
                           keys->token);
}


int
ngx_payout_seal(const ngx_payout_keys_t *keys, const unsigned char *aad,
    size_t aad_len, const unsigned char *in, size_t len, unsigned char *out)
{
    int              n, rc;
    unsigned char   *nonce, *ct;
    EVP_CIPHER_CTX  *ctx;

    out[0] = NGX_PAYOUT_SEAL_VERSION;
    nonce = out + 1;
    ct = nonce + NGX_PAYOUT_NONCE_LEN;

    /* random 96-bit nonces: safe far beyond any payout volume per key */
    if (RAND_bytes(nonce, NGX_PAYOUT_NONCE_LEN) != 1) {
        return NGX_PAYOUT_ERROR;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    rc = NGX_PAYOUT_ERROR;

    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, keys->enc, nonce)
        != 1
        || (aad_len
            && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1)
        || EVP_EncryptUpdate(ctx, ct, &n, in, (int) len) != 1
        || EVP_EncryptFinal_ex(ctx, ct + n, &n) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, NGX_PAYOUT_TAG_LEN,
                               ct + len) != 1)
    {
        goto done;
    }

    rc = NGX_PAYOUT_OK;

done:

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


int
ngx_payout_open(const ngx_payout_keys_t *keys, const unsigned char *aad,
    size_t aad_len, const unsigned char *in, size_t len, unsigned char *out,
    size_t *out_len)
{
    int                   n, rc;
    size_t                ct_len;
    unsigned char         tag[NGX_PAYOUT_TAG_LEN];
    EVP_CIPHER_CTX       *ctx;
    const unsigned char  *nonce, *ct;

    if (len < NGX_PAYOUT_SEAL_OVERHEAD || in[0] != NGX_PAYOUT_SEAL_VERSION) {
        return NGX_PAYOUT_ERROR;
    }

    nonce = in + 1;
    ct = nonce + NGX_PAYOUT_NONCE_LEN;
    ct_len = len - NGX_PAYOUT_SEAL_OVERHEAD;
    memcpy(tag, ct + ct_len, NGX_PAYOUT_TAG_LEN);

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    rc = NGX_PAYOUT_ERROR;

    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, keys->enc, nonce)
        != 1
        || (aad_len
            && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1)
        || EVP_DecryptUpdate(ctx, out, &n, ct, (int) ct_len) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, NGX_PAYOUT_TAG_LEN,
                               tag) != 1
        || EVP_DecryptFinal_ex(ctx, out + n, &n) != 1)
    {
        /* a wrong key, aad or a tampered blob: reveal nothing */
        OPENSSL_cleanse(out, ct_len);
        goto done;
    }

    *out_len = ct_len;
    rc = NGX_PAYOUT_OK;

done:

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


void
ngx_payout_hmac_sha256(const unsigned char *key, size_t key_len,
    const unsigned char *data, size_t len, unsigned char *mac)
{
    unsigned int  mac_len;

    HMAC(EVP_sha256(), key, (int) key_len, data, len, mac, &mac_len);
}


/*
 * OpenSSL 3's one-shot SHA256() looks the algorithm up on every call,
 * over half of a short hash's cost (an API key's, on every request): it
 * is fetched once.
 */

void
ngx_payout_sha256(const unsigned char *data, size_t len, unsigned char *hash)
{
    static EVP_MD  *md;

    if (md == NULL) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    if (md == NULL || EVP_Digest(data, len, hash, NULL, md, NULL) != 1) {
        SHA256(data, len, hash);
    }
}


int
ngx_payout_link_token(char *token)
{
    size_t          i, n;
    unsigned int    v;
    unsigned char   rnd[33];
    static const char  b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    if (RAND_bytes(rnd, 32) != 1) {
        return NGX_PAYOUT_ERROR;
    }

    /* 32 bytes: ten groups of three, then two bytes as three characters */
    rnd[32] = 0;
    n = 0;

    for (i = 0; i < 33; i += 3) {
        v = ((unsigned int) rnd[i] << 16) | ((unsigned int) rnd[i + 1] << 8)
            | rnd[i + 2];
        token[n++] = b64url[(v >> 18) & 63];
        token[n++] = b64url[(v >> 12) & 63];
        token[n++] = b64url[(v >> 6) & 63];

        if (n < NGX_PAYOUT_LINK_TOKEN_LEN) {
            token[n++] = b64url[v & 63];
        }
    }

    token[NGX_PAYOUT_LINK_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(rnd, sizeof(rnd));

    return NGX_PAYOUT_OK;
}


int
ngx_payout_link_token_valid(const char *s, size_t len)
{
    size_t  i;

    if (len != NGX_PAYOUT_LINK_TOKEN_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    /* the last character carries 4 bits: A, E, I, ... as base64url has */
    return strchr("AEIMQUYcgkosw048", s[len - 1]) != NULL;
}


int
ngx_payout_request_hash(json_t *body, unsigned char *hash)
{
    char  *canonical;

    canonical = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (canonical == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    ngx_payout_sha256((unsigned char *) canonical, strlen(canonical), hash);
    free(canonical);

    return NGX_PAYOUT_OK;
}
