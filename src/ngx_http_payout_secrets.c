/*
 * Secrets, request side (ngx_http_payout_secrets.h): sealing bound to a
 * tenant and a field, fingerprints and request hashes as bytea
 * parameters, fresh endpoint secrets.  Nothing here logs a secret.
 */

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ngx_http_payout_secrets.h"


static size_t ngx_http_payout_bytea(const u_char *bin, size_t n, u_char *out);


ngx_int_t
ngx_http_payout_open_number(ngx_http_payout_main_conf_t *pmcf,
    ngx_pool_t *pool, int64_t tenant_id, const char *field,
    const char *hex, size_t hex_len, ngx_str_t *out)
{
    u_char  aad[64], *blob, *last;
    size_t  n;

    blob = ngx_pnalloc(pool, hex_len / 2);
    out->data = ngx_pnalloc(pool, hex_len / 2 + 1);

    if (blob == NULL || out->data == NULL
        || ngx_payout_hex_decode(hex, hex_len, blob) != NGX_PAYOUT_OK)
    {
        return NGX_ERROR;
    }

    last = ngx_snprintf(aad, sizeof(aad), "%L:%s", tenant_id, field);

    if (ngx_payout_open(&pmcf->keys, aad, last - aad, blob, hex_len / 2,
                        out->data, &n) != NGX_PAYOUT_OK)
    {
        return NGX_ERROR;
    }

    out->data[n] = '\0';
    out->len = n;

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_open_destination(ngx_http_payout_main_conf_t *pmcf,
    ngx_pool_t *pool, int64_t tenant_id, PGresult *res, ngx_uint_t mobile,
    int bank_col, int mobile_col, ngx_str_t *out)
{
    int          col;
    ngx_str_t    sealed;
    const char  *field;

    col = mobile ? mobile_col : bank_col;
    field = mobile ? "mobile_money_number" : "account_number";

    if (ngx_http_payout_pg_isnull(res, 0, col)) {
        return NGX_ERROR;
    }

    ngx_http_payout_pg_text(res, 0, col, &sealed);

    return ngx_http_payout_open_number(pmcf, pool, tenant_id, field,
                                       (char *) sealed.data, sealed.len, out);
}


/* seal a number for storage: "\x<hex>", a bytea text parameter */

ngx_int_t
ngx_http_payout_seal_number(ngx_http_payout_main_conf_t *pmcf,
    ngx_pool_t *pool, int64_t tenant_id, const char *field,
    const u_char *plain, size_t len, ngx_str_t *hex)
{
    u_char  aad[64], *blob, *last;
    size_t  n;

    n = len + NGX_PAYOUT_SEAL_OVERHEAD;

    blob = ngx_pnalloc(pool, n);
    hex->data = ngx_pnalloc(pool, 2 + 2 * n);

    if (blob == NULL || hex->data == NULL) {
        return NGX_ERROR;
    }

    last = ngx_snprintf(aad, sizeof(aad), "%L:%s", tenant_id, field);

    if (ngx_payout_seal(&pmcf->keys, aad, last - aad, plain, len, blob)
        != NGX_PAYOUT_OK)
    {
        return NGX_ERROR;
    }

    hex->len = ngx_http_payout_bytea(blob, n, hex->data);

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_param_webhook_secret(ngx_http_request_t *r,
    int64_t tenant_id, const char *secret, ngx_http_payout_pg_query_t *q)
{
    ngx_str_t                     sealed;
    ngx_http_payout_main_conf_t  *pmcf;

    if (secret == NULL) {
        ngx_http_payout_pg_param_null(q);
        return NGX_OK;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    if (ngx_http_payout_seal_number(pmcf, r->pool, tenant_id,
                                    "webhook_secret", (u_char *) secret,
                                    ngx_strlen(secret), &sealed)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_payout_pg_param(q, sealed.data, sealed.len);
}


ngx_int_t
ngx_http_payout_secret_generate(ngx_http_request_t *r, int64_t tenant_id,
    const char *field, ngx_str_t *secret, ngx_str_t *sealed)
{
    u_char                        rnd[32];
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return NGX_ERROR;
    }

    secret->data = ngx_pnalloc(r->pool, 6 + 45);
    if (secret->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(secret->data, "whsec_", 6);
    secret->len = 6 + EVP_EncodeBlock(secret->data + 6, rnd, sizeof(rnd));

    return ngx_http_payout_seal_number(pmcf, r->pool, tenant_id, field,
                                       secret->data, secret->len, sealed);
}


ngx_int_t
ngx_http_payout_request_hash(json_t *body, u_char *hex)
{
    u_char  hash[32];

    if (ngx_payout_request_hash(body, hash) != NGX_PAYOUT_OK) {
        return NGX_ERROR;
    }

    ngx_http_payout_bytea(hash, sizeof(hash), hex);

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_recipient_fingerprint(ngx_http_request_t *r,
    int64_t tenant_id, const char *gateway,
    ngx_payout_recipient_input_t *rc, u_char *hex)
{
    u_char                        fp[32], *p, *last, *cased;
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    p = ngx_pnalloc(r->pool, 512);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_snprintf(p, 512, "%L\n%s\n%s\n", tenant_id, gateway,
                        ngx_payout_recipient_type_name(rc->type));

    switch (rc->type) {

    case NGX_PAYOUT_RECIPIENT_BANK:
        /* a bank account under another holder's name is another recipient */
        last = ngx_snprintf(last, p + 512 - last, "%s\n%s\n%s",
                            rc->bank_code, rc->account_number,
                            rc->bank_account_name ? rc->bank_account_name
                                                  : "");

        cased = last;

        /*
         * and so is one held by another connected account; without one,
         * the text is what it was before account_id existed
         */
        if (rc->account_id) {
            last = ngx_snprintf(last, p + 512 - last, "\n%s",
                                rc->account_id);
        }

        break;

    case NGX_PAYOUT_RECIPIENT_CONNECTED:
        cased = last;
        last = ngx_snprintf(last, p + 512 - last, "%s", rc->account_id);
        break;

    case NGX_PAYOUT_RECIPIENT_BALANCE:
        /* without balance_id: the gateway's own balance, one recipient */
        cased = last;
        last = ngx_snprintf(last, p + 512 - last, "%s",
                            rc->balance_id ? rc->balance_id : "");
        break;

    default: /* NGX_PAYOUT_RECIPIENT_MOBILE */
        last = ngx_snprintf(last, p + 512 - last, "%s\n%s\n",
                            rc->mobile_money_provider
                            ? rc->mobile_money_provider : "",
                            rc->mobile_number);
        cased = last;
    }

    /* provider ids (acct_...) are case-sensitive; the rest is not */
    ngx_strlow(p, p, cased - p);
    ngx_payout_hmac_sha256(pmcf->keys.fingerprint, 32, p, last - p, fp);

    ngx_http_payout_bytea(fp, sizeof(fp), hex);

    return NGX_OK;
}


/* "\x" and the hex of n bytes, bytea's text input: its length */

static size_t
ngx_http_payout_bytea(const u_char *bin, size_t n, u_char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    ngx_payout_hex_encode(bin, n, (char *) out + 2);

    return 2 + 2 * n;
}
