/*
 * Secrets and what is derived from them, on the request side: numbers
 * and webhook secrets sealed for storage and opened again, recipient
 * fingerprints, request hashes for idempotency, fresh endpoint secrets.
 * The cryptography itself is core/ngx_payout_crypto.c; these helpers
 * bind it to the tenant and put it in the form the SQL takes.
 */

#ifndef NGX_HTTP_PAYOUT_SECRETS_H_INCLUDED_
#define NGX_HTTP_PAYOUT_SECRETS_H_INCLUDED_


#include "ngx_http_payout.h"
#include "ngx_http_payout_pg.h"
#include "core/ngx_payout_validate.h"


/* "\x" and 64 hex digits: a SHA-256 or HMAC-SHA256 as a bytea parameter */
#define NGX_HTTP_PAYOUT_DIGEST_HEX_LEN  (2 + 64)


/* decrypt a stored number (hex of the sealed blob) for tenant_id */
ngx_int_t ngx_http_payout_open_number(ngx_http_payout_main_conf_t *pmcf,
    ngx_pool_t *pool, int64_t tenant_id, const char *field,
    const char *hex, size_t hex_len, ngx_str_t *out);

/*
 * The destination number of a recipient row, opened: its mobile-money
 * number (column mobile_col) if mobile, else its bank account number
 * (bank_col).  NGX_ERROR when the column is NULL or does not open.
 */
ngx_int_t ngx_http_payout_open_destination(ngx_http_payout_main_conf_t *pmcf,
    ngx_pool_t *pool, int64_t tenant_id, PGresult *res, ngx_uint_t mobile,
    int bank_col, int mobile_col, ngx_str_t *out);

/* seal a number for storage: "\x<hex>", a bytea text parameter */
ngx_int_t ngx_http_payout_seal_number(ngx_http_payout_main_conf_t *pmcf,
    ngx_pool_t *pool, int64_t tenant_id, const char *field,
    const u_char *plain, size_t len, ngx_str_t *hex);

/*
 * A merchant's webhook secret (NUL-terminated, or NULL) as the next
 * parameter of q: sealed for tenant_id, or SQL NULL.  Payouts and payout
 * links store it alike, so the deliverer opens either the same way.
 */
ngx_int_t ngx_http_payout_param_webhook_secret(ngx_http_request_t *r,
    int64_t tenant_id, const char *secret, ngx_http_payout_pg_query_t *q);

/* a fresh "whsec_" + base64(32 random bytes) in secret, and it sealed */
ngx_int_t ngx_http_payout_secret_generate(ngx_http_request_t *r,
    int64_t tenant_id, const char *field, ngx_str_t *secret,
    ngx_str_t *sealed);

/*
 * The request's hash for idempotency, key order ignored, into
 * hex[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN]
 */
ngx_int_t ngx_http_payout_request_hash(json_t *body, u_char *hex);

/*
 * The recipient's fingerprint: the same destination at the same gateway
 * of the same tenant is the same recipient.  Into
 * hex[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN].
 */
ngx_int_t ngx_http_payout_recipient_fingerprint(ngx_http_request_t *r,
    int64_t tenant_id, const char *gateway,
    ngx_payout_recipient_input_t *rc, u_char *hex);


#endif /* NGX_HTTP_PAYOUT_SECRETS_H_INCLUDED_ */
