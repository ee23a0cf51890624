/*
 * The PaynetEasy connector (docs/connectors/payneteasy.md), the protocol
 * of Payment Soft and PaynetEasy's other white-label hosts (url= names
 * the host and its "/paynet" base):
 *
 *   INITIATE  POST /api/v4/payout/{endpoint}        (or /group/{group})
 *             form body, Authorization: OAuth ... RSA-SHA256
 *   LOOKUP    POST /api/v2/status/{endpoint}        (or /group/{group})
 *             login, client_orderid, [orderid], control = SHA-1
 *   callbacks GET (or POST) with status, orderid, client_orderid and
 *             control = SHA-1(status orderid client_orderid control key)
 *
 * Answers are form-encoded lines, each value ending in "\n".  Our payout
 * uuid is client_orderid; PaynetEasy's order id (paynet-order-id) is the
 * gateway id.  The docs do not say that a second request with the same
 * client_orderid is answered with the first order, so a lost answer is
 * settled by asking the status by client_orderid, never by sending again
 * unless the provider says it has no such order.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ngx_payout_connector_payneteasy.h"
#include "../core/ngx_payout_validate.h"
#include "../core/ngx_payout_text.h"
#include "ngx_payout_connector_util.h"


#define NGX_PAYOUT_PNE_FORM      "application/x-www-form-urlencoded"
#define NGX_PAYOUT_PNE_PARAMS    16      /* a request's fields, at most */
#define NGX_PAYOUT_PNE_ID_LEN    64      /* paynet-order-id */


typedef struct {
    char        login[NGX_PAYOUT_PNE_LOGIN_LEN + 1];
    char        endpoint[NGX_PAYOUT_PNE_ENDPOINT_LEN + 1];
    unsigned    group;                  /* endpoint is an endpoint group */
    char        purpose[NGX_PAYOUT_PNE_PURPOSE_LEN + 1];
    char       *pem;                    /* the RSA private key, PEM */
    size_t      pem_len;
} ngx_payout_pne_conf_t;


/* a request's field, its value unencoded */
typedef struct {
    const char  *name;
    const char  *value;
} ngx_payout_pne_param_t;


/* one "name=value" of a form, both still encoded */
typedef struct {
    const char  *p;
    size_t       len;
} ngx_payout_pne_pair_t;


static int ngx_payout_pne_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len);
static int ngx_payout_pne_key_check(const char *pem, size_t len);
static EVP_PKEY *ngx_payout_pne_key_read(const char *pem, size_t len);
static int ngx_payout_pne_no_passphrase(char *buf, int size, int rwflag,
    void *u);
static const char *ngx_payout_pne_check(const ngx_payout_account_t *acct,
    int livemode);
static int ngx_payout_pne_build(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static int ngx_payout_pne_initiate(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static int ngx_payout_pne_lookup(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call);
static int ngx_payout_pne_post(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const char *api,
    ngx_payout_pne_param_t *params, size_t n, ngx_payout_call_t *call);
static int ngx_payout_pne_amount(const ngx_payout_transfer_t *t,
    char *buf, size_t size);
static char *ngx_payout_pne_form(ngx_payout_mem_t *mem,
    ngx_payout_pne_param_t *params, size_t n, size_t *len);
static int ngx_payout_pne_param_cmp(const void *a, const void *b);
static int ngx_payout_pne_pair_cmp(const void *a, const void *b);
static size_t ngx_payout_pne_encode(char *dst, const char *src, size_t len);
static int ngx_payout_pne_decode(const char *src, size_t len, char *dst,
    size_t size, size_t *out_len);
static int ngx_payout_pne_authorization(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const ngx_payout_transfer_t *t,
    const char *path, ngx_payout_call_t *call);
static int ngx_payout_pne_sign(const ngx_payout_pne_conf_t *pcf,
    const char *data, size_t len, unsigned char *sig, size_t *sig_len);
static char *ngx_payout_pne_url(ngx_payout_mem_t *mem, const char *base,
    const char *path);
static void ngx_payout_pne_parse(const ngx_payout_account_t *acct,
    ngx_payout_op_e op, const ngx_payout_answer_t *a,
    ngx_payout_result_t *res);
static void ngx_payout_pne_status(const char *body, size_t len,
    ngx_payout_result_t *res);
static int ngx_payout_pne_not_found(const char *message);
static int ngx_payout_pne_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now);
static int ngx_payout_pne_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev);
static void ngx_payout_pne_result_init(ngx_payout_result_t *res);
static int ngx_payout_pne_id_valid(const char *s, size_t max);
static int ngx_payout_pne_digits(const char *s, size_t len, size_t max);


/*
 * The status values of the status answer and of callbacks (doc.payneteasy
 * "Statuses"): approved, declined, error and filtered are final;
 * processing and unknown are not (unknown: the gateway itself does not
 * know yet, so the order exists and we keep asking).  "filtered" is a
 * decline by fraud control, before any bank saw the payout.
 */

static const ngx_payout_status_map_t  ngx_payout_pne_statuses[] = {
    { "approved", NGX_PAYOUT_SUCCESS },
    { "declined", NGX_PAYOUT_CANCELED_FAILURE },
    { "error", NGX_PAYOUT_CANCELED_FAILURE },
    { "filtered", NGX_PAYOUT_CANCELED_REJECTED },
    { "processing", NGX_PAYOUT_PENDING_PROMISE },
    { "unknown", NGX_PAYOUT_PENDING_PROMISE },
};


const ngx_payout_connector_t  ngx_payout_connector_payneteasy = {
    "payneteasy",
    NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE | NGX_PAYOUT_CAP_HOOK_REFETCH
    | NGX_PAYOUT_CAP_HOOK_GET | NGX_PAYOUT_CAP_POLL,
    NULL,                               /* url= always: white-label hosts */
    0,
    ngx_payout_pne_configure,
    ngx_payout_pne_check,
    ngx_payout_pne_build,
    ngx_payout_pne_parse,
    ngx_payout_pne_verify,
    ngx_payout_pne_event,
    ngx_payout_pne_statuses,
    sizeof(ngx_payout_pne_statuses) / sizeof(ngx_payout_pne_statuses[0])
};


static int
ngx_payout_pne_configure(ngx_payout_mem_t *mem, void **conf,
    const char *key, size_t key_len, const char *value, size_t value_len)
{
    size_t                  i;
    ngx_payout_pne_conf_t  *pcf;

#define KEY_IS(s)  (key_len == sizeof(s) - 1 && memcmp(key, s, key_len) == 0)

    if (!KEY_IS("login") && !KEY_IS("endpoint") && !KEY_IS("endpoint_group")
        && !KEY_IS("rsa_key") && !KEY_IS("purpose"))
    {
        return NGX_PAYOUT_DECLINED;
    }

    pcf = *conf;

    if (pcf == NULL) {
        pcf = mem->alloc(mem->data, sizeof(ngx_payout_pne_conf_t));
        if (pcf == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        memset(pcf, 0, sizeof(ngx_payout_pne_conf_t));
        *conf = pcf;
    }

    if (KEY_IS("rsa_key")) {
        if (value_len == 0 || value_len > NGX_PAYOUT_PNE_PEM_LEN
            || ngx_payout_pne_key_check(value, value_len) != NGX_PAYOUT_OK)
        {
            return NGX_PAYOUT_ERROR;
        }

        pcf->pem = mem->alloc(mem->data, value_len + 1);
        if (pcf->pem == NULL) {
            return NGX_PAYOUT_ERROR;
        }

        memcpy(pcf->pem, value, value_len);
        pcf->pem[value_len] = '\0';
        pcf->pem_len = value_len;

        return NGX_PAYOUT_OK;
    }

    if (KEY_IS("endpoint") || KEY_IS("endpoint_group")) {
        /* exactly one of the two: a second is a contradiction */
        if (pcf->endpoint[0] != '\0'
            || !ngx_payout_pne_digits(value, value_len,
                                      NGX_PAYOUT_PNE_ENDPOINT_LEN))
        {
            return NGX_PAYOUT_ERROR;
        }

        memcpy(pcf->endpoint, value, value_len);
        pcf->endpoint[value_len] = '\0';
        pcf->group = KEY_IS("endpoint_group");

        return NGX_PAYOUT_OK;
    }

    if (KEY_IS("login")) {
        if (value_len == 0 || value_len > NGX_PAYOUT_PNE_LOGIN_LEN) {
            return NGX_PAYOUT_ERROR;
        }

        /* printable ASCII: it is signed byte for byte in the control */
        for (i = 0; i < value_len; i++) {
            if (value[i] <= ' ' || value[i] > '~') {
                return NGX_PAYOUT_ERROR;
            }
        }

        memcpy(pcf->login, value, value_len);
        pcf->login[value_len] = '\0';

        return NGX_PAYOUT_OK;
    }

#undef KEY_IS

    /* purpose: any text, within its documented length */
    if (value_len == 0 || value_len > NGX_PAYOUT_PNE_PURPOSE_LEN
        || !ngx_payout_utf8_valid(value, value_len))
    {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < value_len; i++) {
        if ((unsigned char) value[i] < ' ' || value[i] == 0x7f) {
            return NGX_PAYOUT_ERROR;
        }
    }

    memcpy(pcf->purpose, value, value_len);
    pcf->purpose[value_len] = '\0';

    return NGX_PAYOUT_OK;
}


/* an unencrypted RSA private key of a usable size */

static int
ngx_payout_pne_key_check(const char *pem, size_t len)
{
    int        bits, rc;
    EVP_PKEY  *pkey;

    pkey = ngx_payout_pne_key_read(pem, len);
    if (pkey == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    bits = EVP_PKEY_get_bits(pkey);

    rc = (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA
          && bits >= NGX_PAYOUT_PNE_RSA_MIN_BITS
          && bits <= NGX_PAYOUT_PNE_RSA_MAX_BITS)
         ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;

    EVP_PKEY_free(pkey);

    return rc;
}


static EVP_PKEY *
ngx_payout_pne_key_read(const char *pem, size_t len)
{
    BIO       *bio;
    EVP_PKEY  *pkey;

    bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        return NULL;
    }

    /* an encrypted key would ask for a passphrase on the terminal */
    pkey = PEM_read_bio_PrivateKey(bio, NULL, ngx_payout_pne_no_passphrase,
                                   NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        /* OpenSSL's queue is shared with nginx: leave nothing in it */
        ERR_clear_error();
    }

    return pkey;
}


static int
ngx_payout_pne_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;

    return -1;
}


static const char *
ngx_payout_pne_check(const ngx_payout_account_t *acct, int livemode)
{
    size_t                        i;
    const ngx_payout_pne_conf_t  *pcf;

    pcf = acct->conf;

    if (pcf == NULL || pcf->login[0] == '\0') {
        return "PaynetEasy needs login=";
    }

    if (pcf->endpoint[0] == '\0') {
        return "PaynetEasy needs endpoint= or endpoint_group=";
    }

    if (pcf->pem == NULL) {
        return "PaynetEasy needs rsa_key_file= (the RSA private key that "
               "signs payout requests)";
    }

    if (acct->secret == NULL || acct->secret_len == 0) {
        return "PaynetEasy needs secret_file= (the control key)";
    }

    /* the control key is hashed as text: no line end or blank in it */
    for (i = 0; i < acct->secret_len; i++) {
        if (acct->secret[i] <= ' ' || acct->secret[i] > '~') {
            return "the control key holds characters no control key has";
        }
    }

    if (livemode && acct->url && strstr(acct->url, "://sandbox.")) {
        return "url= is a sandbox host, but mode=live";
    }

    return NULL;
}


static int
ngx_payout_pne_build(const ngx_payout_account_t *acct, ngx_payout_op_e op,
    const ngx_payout_transfer_t *t, ngx_payout_call_t *call)
{
    const ngx_payout_pne_conf_t  *pcf;

    memset(call, 0, sizeof(ngx_payout_call_t));

    if (op != NGX_PAYOUT_OP_INITIATE && op != NGX_PAYOUT_OP_LOOKUP) {
        return NGX_PAYOUT_DECLINED;
    }

    if (t->type != NGX_PAYOUT_RECIPIENT_BANK
        && t->type != NGX_PAYOUT_RECIPIENT_MOBILE)
    {
        return NGX_PAYOUT_DECLINED;
    }

    pcf = acct->conf;

    if (pcf == NULL || pcf->login[0] == '\0' || pcf->endpoint[0] == '\0'
        || acct->secret == NULL || acct->secret_len == 0
        || t->reference == NULL
        || !ngx_payout_uuid_valid((const unsigned char *) t->reference,
                                  strlen(t->reference)))
    {
        return NGX_PAYOUT_ERROR;
    }

    if (op == NGX_PAYOUT_OP_LOOKUP) {
        return ngx_payout_pne_lookup(acct, pcf, t, call);
    }

    return ngx_payout_pne_initiate(acct, pcf, t, call);
}


/*
 * /api/v4/payout's fields (doc.payneteasy.com API_commands/api_v4_payout):
 * client_orderid, amount, currency, order_desc (64), purpose (128),
 * server_callback_url (128).  The destination: account_number,
 * account_name and routing_number of a bank account, phone (the full
 * international number) of a wallet, country of either.
 */

static int
ngx_payout_pne_initiate(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    size_t                   n;
    char                     amount[NGX_PAYOUT_PNE_AMOUNT_LEN + 1];
    char                     desc[NGX_PAYOUT_PNE_DESC_LEN + 1];
    char                     purpose[NGX_PAYOUT_PNE_PURPOSE_LEN + 1];
    ngx_payout_pne_param_t   params[NGX_PAYOUT_PNE_PARAMS];

    if (pcf->pem == NULL || acct->url == NULL
        || ngx_payout_pne_amount(t, amount, sizeof(amount)) != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    n = 0;
    params[n].name = "client_orderid";
    params[n++].value = t->reference;
    params[n].name = "amount";
    params[n++].value = amount;
    params[n].name = "currency";
    params[n++].value = t->currency;

    if (t->narration && t->narration[0]) {
        ngx_payout_utf8_cut(desc, sizeof(desc), t->narration,
                            strlen(t->narration));
        params[n].name = "order_desc";
        params[n++].value = desc;
    }

    if (pcf->purpose[0]) {
        params[n].name = "purpose";
        params[n++].value = pcf->purpose;

    } else if (t->narration && t->narration[0]) {
        ngx_payout_utf8_cut(purpose, sizeof(purpose), t->narration,
                            strlen(t->narration));
        params[n].name = "purpose";
        params[n++].value = purpose;
    }

    /* longer than documented: no callback, polling still settles it */
    if (acct->callback_url && acct->callback_url[0]
        && strlen(acct->callback_url) <= NGX_PAYOUT_PNE_CALLBACK_LEN)
    {
        params[n].name = "server_callback_url";
        params[n++].value = acct->callback_url;
    }

    if (t->type == NGX_PAYOUT_RECIPIENT_BANK) {
        if (t->account_number == NULL || t->account_number[0] == '\0') {
            return NGX_PAYOUT_ERROR;
        }

        params[n].name = "account_number";
        params[n++].value = t->account_number;

        if (t->account_name && t->account_name[0]) {
            params[n].name = "account_name";
            params[n++].value = t->account_name;
        }

        if (t->bank_code && t->bank_code[0]) {
            params[n].name = "routing_number";
            params[n++].value = t->bank_code;
        }

    } else {
        if (t->mobile_number == NULL || t->mobile_number[0] == '\0') {
            return NGX_PAYOUT_ERROR;
        }

        params[n].name = "phone";
        params[n++].value = t->mobile_number;
    }

    if (t->country && t->country[0]) {
        params[n].name = "country";
        params[n++].value = t->country;
    }

    if (ngx_payout_pne_post(acct, pcf, "/api/v4/payout/", params, n, call)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    return ngx_payout_pne_authorization(acct, pcf, t, call->path, call);
}


/*
 * /api/v2/status: login, client_orderid, orderid when we have it (the
 * docs allow client_orderid alone when orderid never arrived), control =
 * SHA-1(login client_orderid orderid control key), orderid "" if absent.
 */

static int
ngx_payout_pne_lookup(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    int                      rc;
    size_t                   n;
    char                     control[41];
    const char              *orderid;
    ngx_payout_pne_param_t   params[4];

    orderid = (t->gateway_id && t->gateway_id[0]) ? t->gateway_id : NULL;

    if (orderid && !ngx_payout_pne_id_valid(orderid, NGX_PAYOUT_PNE_ID_LEN)) {
        return NGX_PAYOUT_ERROR;
    }

    if (ngx_payout_payneteasy_control(pcf->login, t->reference, orderid,
                                      acct->secret, acct->secret_len,
                                      control)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    n = 0;
    params[n].name = "login";
    params[n++].value = pcf->login;
    params[n].name = "client_orderid";
    params[n++].value = t->reference;

    if (orderid) {
        params[n].name = "orderid";
        params[n++].value = orderid;
    }

    params[n].name = "control";
    params[n++].value = control;

    rc = ngx_payout_pne_post(acct, pcf, "/api/v2/status/", params, n, call);
    OPENSSL_cleanse(control, sizeof(control));

    return rc;
}


/* POST {api}{endpoint} or {api}group/{group}, the params as its form */

static int
ngx_payout_pne_post(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const char *api,
    ngx_payout_pne_param_t *params, size_t n, ngx_payout_call_t *call)
{
    char  *path;

    call->body = ngx_payout_pne_form((ngx_payout_mem_t *) &acct->mem, params,
                                     n, &call->body_len);

    path = acct->mem.alloc(acct->mem.data, strlen(api) + sizeof("group/")
                                           + NGX_PAYOUT_PNE_ENDPOINT_LEN);

    if (call->body == NULL || path == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    sprintf(path, "%s%s%s", api, pcf->group ? "group/" : "", pcf->endpoint);

    call->method = "POST";
    call->path = path;

    return ngx_payout_call_header(acct, call, "Content-Type", "",
                                  NGX_PAYOUT_PNE_FORM,
                                  sizeof(NGX_PAYOUT_PNE_FORM) - 1);
}


/* major units with the currency's ISO 4217 exponent: 250000 -> 2500.00 */

static int
ngx_payout_pne_amount(const ngx_payout_transfer_t *t, char *buf,
    size_t size)
{
    int                           i, n;
    long long                     unit;
    const ngx_payout_currency_t  *c;

    if (t->currency == NULL || t->amount <= 0
        || t->amount > NGX_PAYOUT_MAX_AMOUNT)
    {
        return NGX_PAYOUT_ERROR;
    }

    c = ngx_payout_currency_find(t->currency, strlen(t->currency));

    /* the table's codes are upper case, as PaynetEasy takes them */
    if (c == NULL || strcmp(c->code, t->currency) != 0) {
        return NGX_PAYOUT_ERROR;
    }

    unit = 1;

    for (i = 0; i < c->exponent; i++) {
        unit *= 10;
    }

    if (c->exponent == 0) {
        n = snprintf(buf, size, "%lld", (long long) t->amount);

    } else {
        n = snprintf(buf, size, "%lld.%0*lld",
                     (long long) t->amount / unit, c->exponent,
                     (long long) t->amount % unit);
    }

    /* "Length: 10": a bigger amount is refused, never cut */
    return (n > 0 && (size_t) n < size) ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
}


/* name=value&..., sorted by name, the values percent-encoded */

static char *
ngx_payout_pne_form(ngx_payout_mem_t *mem, ngx_payout_pne_param_t *params,
    size_t n, size_t *len)
{
    char    *buf, *p;
    size_t   i, size;

    qsort(params, n, sizeof(ngx_payout_pne_param_t),
          ngx_payout_pne_param_cmp);

    size = 1;

    for (i = 0; i < n; i++) {
        size += strlen(params[i].name) + 2
                + ngx_payout_pne_encode(NULL, params[i].value,
                                        strlen(params[i].value));
    }

    buf = mem->alloc(mem->data, size);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = '&';
        }

        p += sprintf(p, "%s=", params[i].name);
        p += ngx_payout_pne_encode(p, params[i].value,
                                   strlen(params[i].value));
    }

    *p = '\0';
    *len = p - buf;

    return buf;
}


static int
ngx_payout_pne_param_cmp(const void *a, const void *b)
{
    return strcmp(((const ngx_payout_pne_param_t *) a)->name,
                  ((const ngx_payout_pne_param_t *) b)->name);
}


/* OAuth sorts by name, then by value: the whole "name=value" does both */

static int
ngx_payout_pne_pair_cmp(const void *a, const void *b)
{
    int                           rc;
    size_t                        na, nb;
    const ngx_payout_pne_pair_t  *x, *y;

    x = a;
    y = b;

    na = memchr(x->p, '=', x->len) ? (size_t) ((char *) memchr(x->p, '=',
                                                               x->len)
                                               - x->p)
                                   : x->len;
    nb = memchr(y->p, '=', y->len) ? (size_t) ((char *) memchr(y->p, '=',
                                                               y->len)
                                               - y->p)
                                   : y->len;

    rc = memcmp(x->p, y->p, na < nb ? na : nb);

    if (rc || na != nb) {
        return rc ? rc : (na < nb ? -1 : 1);
    }

    rc = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

    return rc ? rc : (x->len < y->len ? -1 : (x->len > y->len));
}


/*
 * RFC 3986 percent-encoding, as OAuth 1.0 wants it: everything but the
 * unreserved characters, in upper-case hex.  dst NULL: the length only.
 */

static size_t
ngx_payout_pne_encode(char *dst, const char *src, size_t len)
{
    size_t          i, n;
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            if (dst) {
                dst[n] = (char) c;
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = hex[c >> 4];
            dst[n + 2] = hex[c & 0x0f];
        }

        n += 3;
    }

    return n;
}


/* form decoding: "+" is a space, %XX a byte; NUL and bad escapes fail */

static int
ngx_payout_pne_decode(const char *src, size_t len, char *dst, size_t size,
    size_t *out_len)
{
    int            hi, lo;
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if (c == '+') {
            c = ' ';

        } else if (c == '%') {
            if (len - i < 3) {
                return NGX_PAYOUT_ERROR;
            }

            hi = ngx_payout_hex_value((unsigned char) src[i + 1]);
            lo = ngx_payout_hex_value((unsigned char) src[i + 2]);

            if (hi < 0 || lo < 0) {
                return NGX_PAYOUT_ERROR;
            }

            c = (unsigned char) (hi << 4 | lo);
            i += 2;
        }

        if (c == '\0' || n + 1 >= size) {
            return NGX_PAYOUT_ERROR;
        }

        dst[n++] = (char) c;
    }

    dst[n] = '\0';
    *out_len = n;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_payneteasy_field(const char *body, size_t len, const char *name,
    char *out, size_t size)
{
    int          found;
    char         key[64];
    size_t       n, klen, vlen, name_len;
    const char  *p, *end, *pair, *eq, *v;

    found = 0;
    name_len = strlen(name);
    p = body;
    end = body ? body + len : body;

    while (p && p < end) {
        pair = p;

        while (p < end && *p != '&') {
            p++;
        }

        n = p - pair;
        p = (p < end) ? p + 1 : p;

        eq = memchr(pair, '=', n);
        if (eq == NULL) {
            continue;
        }

        if (ngx_payout_pne_decode(pair, eq - pair, key, sizeof(key), &klen)
            != NGX_PAYOUT_OK
            || klen != name_len || memcmp(key, name, klen) != 0)
        {
            continue;
        }

        if (found) {
            return -1;                      /* twice: which one? */
        }

        /* each value ends with a line feed (0x0A) */
        v = eq + 1;
        vlen = pair + n - v;

        if (vlen && v[vlen - 1] == '\n') {
            vlen--;
        }

        if (vlen && v[vlen - 1] == '\r') {
            vlen--;
        }

        if (ngx_payout_pne_decode(v, vlen, out, size, &vlen)
            != NGX_PAYOUT_OK)
        {
            return -1;
        }

        found = 1;
    }

    return found;
}


int
ngx_payout_payneteasy_control(const char *a, const char *b, const char *c,
    const char *key, size_t key_len, char *out)
{
    int            rc;
    unsigned int   md_len;
    EVP_MD_CTX    *ctx;
    unsigned char  md[EVP_MAX_MD_SIZE];

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    rc = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL)
         && EVP_DigestUpdate(ctx, a ? a : "", a ? strlen(a) : 0)
         && EVP_DigestUpdate(ctx, b ? b : "", b ? strlen(b) : 0)
         && EVP_DigestUpdate(ctx, c ? c : "", c ? strlen(c) : 0)
         && EVP_DigestUpdate(ctx, key, key_len)
         && EVP_DigestFinal_ex(ctx, md, &md_len)
         && md_len == 20;

    EVP_MD_CTX_free(ctx);

    if (!rc) {
        return NGX_PAYOUT_ERROR;
    }

    ngx_payout_hex_encode(md, 20, out);
    out[40] = '\0';

    return NGX_PAYOUT_OK;
}


/*
 * The OAuth 1.0 base string: POST & enc(url) & enc(params), params being
 * the body's and the oauth_* ones, each name and value percent-encoded,
 * sorted, joined with "&" (RFC 5849 3.4.1).  oauth_signature is not in
 * it.  The body's pairs are decoded and encoded again, so any form
 * encoding of the same values gives the same string.
 */

char *
ngx_payout_payneteasy_base_string(ngx_payout_mem_t *mem, const char *url,
    const char *body, size_t body_len, const char *login, const char *nonce,
    long timestamp)
{
    char                   *buf, *norm, *p, *dec, *s;
    char                    ts[24];
    size_t                  i, n, len, size, dlen;
    const char             *q, *end, *pair, *eq;
    ngx_payout_pne_pair_t   pairs[NGX_PAYOUT_PNE_PARAMS * 2 + 5];

    static const char  *oauth[][2] = {
        { "oauth_consumer_key", NULL },
        { "oauth_nonce", NULL },
        { "oauth_signature_method", "RSA-SHA256" },
        { "oauth_timestamp", NULL },
        { "oauth_version", "1.0" },
    };

    snprintf(ts, sizeof(ts), "%ld", timestamp);

    /* each pair encoded: at most 3 bytes for each byte of the body */
    size = 3 * body_len + 3 * (strlen(login) + strlen(nonce)) + 256;

    buf = mem->alloc(mem->data, size);
    dec = mem->alloc(mem->data, body_len + 1);
    if (buf == NULL || dec == NULL) {
        return NULL;
    }

    n = 0;
    p = buf;
    q = body;
    end = body + body_len;

    while (q < end) {
        pair = q;

        while (q < end && *q != '&') {
            q++;
        }

        len = q - pair;
        q = (q < end) ? q + 1 : q;

        if (len == 0) {
            continue;
        }

        if (n == sizeof(pairs) / sizeof(pairs[0]) - 5) {
            return NULL;
        }

        eq = memchr(pair, '=', len);
        pairs[n].p = p;

        if (ngx_payout_pne_decode(pair, eq ? (size_t) (eq - pair) : len,
                                  dec, body_len + 1, &dlen)
            != NGX_PAYOUT_OK)
        {
            return NULL;
        }

        p += ngx_payout_pne_encode(p, dec, dlen);
        *p++ = '=';

        if (eq) {
            if (ngx_payout_pne_decode(eq + 1, pair + len - eq - 1, dec,
                                      body_len + 1, &dlen)
                != NGX_PAYOUT_OK)
            {
                return NULL;
            }

            p += ngx_payout_pne_encode(p, dec, dlen);
        }

        pairs[n].len = p - pairs[n].p;
        n++;
    }

    for (i = 0; i < 5; i++) {
        s = (char *) (oauth[i][1] ? oauth[i][1]
                      : (i == 0) ? login : (i == 1) ? nonce : ts);

        pairs[n].p = p;
        p += sprintf(p, "%s=", oauth[i][0]);
        p += ngx_payout_pne_encode(p, s, strlen(s));
        pairs[n].len = p - pairs[n].p;
        n++;
    }

    qsort(pairs, n, sizeof(ngx_payout_pne_pair_t), ngx_payout_pne_pair_cmp);

    len = 0;

    for (i = 0; i < n; i++) {
        len += pairs[i].len + 1;
    }

    norm = mem->alloc(mem->data, len + 1);
    if (norm == NULL) {
        return NULL;
    }

    s = norm;

    for (i = 0; i < n; i++) {
        if (i) {
            *s++ = '&';
        }

        memcpy(s, pairs[i].p, pairs[i].len);
        s += pairs[i].len;
    }

    len = s - norm;

    size = sizeof("POST&&") + 3 * strlen(url) + 3 * len;

    buf = mem->alloc(mem->data, size);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;
    p += sprintf(p, "POST&");
    p += ngx_payout_pne_encode(p, url, strlen(url));
    *p++ = '&';
    p += ngx_payout_pne_encode(p, norm, len);
    *p = '\0';

    return buf;
}


/*
 * Authorization: OAuth oauth_consumer_key="login", oauth_nonce="...",
 * oauth_signature="enc(base64(RSA-SHA256(base string)))",
 * oauth_signature_method="RSA-SHA256", oauth_timestamp="...",
 * oauth_version="1.0"; nonce and time come from the glue.
 */

static int
ngx_payout_pne_authorization(const ngx_payout_account_t *acct,
    const ngx_payout_pne_conf_t *pcf, const ngx_payout_transfer_t *t,
    const char *path, ngx_payout_call_t *call)
{
    int             rc;
    char           *url, *base, *value, *p;
    size_t          i, sig_len, b64_len;
    unsigned char   sig[NGX_PAYOUT_PNE_RSA_MAX_BITS / 8];
    unsigned char   b64[(NGX_PAYOUT_PNE_RSA_MAX_BITS / 8 + 2) / 3 * 4 + 1];

    if (t->nonce == NULL || t->now <= 0
        || strlen(t->nonce) != NGX_PAYOUT_PNE_NONCE_LEN)
    {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < NGX_PAYOUT_PNE_NONCE_LEN; i++) {
        if (!((t->nonce[i] >= 'a' && t->nonce[i] <= 'z')
              || (t->nonce[i] >= 'A' && t->nonce[i] <= 'Z')
              || (t->nonce[i] >= '0' && t->nonce[i] <= '9')))
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    url = ngx_payout_pne_url((ngx_payout_mem_t *) &acct->mem, acct->url,
                             path);
    if (url == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    base = ngx_payout_payneteasy_base_string((ngx_payout_mem_t *)
                                             &acct->mem, url, call->body,
                                             call->body_len, pcf->login,
                                             t->nonce, t->now);
    if (base == NULL
        || ngx_payout_pne_sign(pcf, base, strlen(base), sig, &sig_len)
           != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    b64_len = EVP_EncodeBlock(b64, sig, (int) sig_len);

    value = acct->mem.alloc(acct->mem.data,
                            256 + 3 * strlen(pcf->login)
                            + NGX_PAYOUT_PNE_NONCE_LEN + 3 * b64_len);
    if (value == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    p = value;
    p += sprintf(p, "oauth_consumer_key=\"");
    p += ngx_payout_pne_encode(p, pcf->login, strlen(pcf->login));
    p += sprintf(p, "\", oauth_nonce=\"%s\", oauth_signature=\"", t->nonce);
    p += ngx_payout_pne_encode(p, (char *) b64, b64_len);
    p += sprintf(p, "\", oauth_signature_method=\"RSA-SHA256\", "
                 "oauth_timestamp=\"%ld\", oauth_version=\"1.0\"", t->now);

    rc = ngx_payout_call_header(acct, call, "Authorization", "OAuth ",
                                value, p - value);

    return rc;
}


/* PKCS #1 v1.5 with SHA-256, the key parsed for this call only */

static int
ngx_payout_pne_sign(const ngx_payout_pne_conf_t *pcf, const char *data,
    size_t len, unsigned char *sig, size_t *sig_len)
{
    int          rc;
    size_t       need;
    EVP_PKEY    *pkey;
    EVP_MD_CTX  *ctx;

    pkey = ngx_payout_pne_key_read(pcf->pem, pcf->pem_len);
    if (pkey == NULL) {
        return NGX_PAYOUT_ERROR;
    }

    ctx = EVP_MD_CTX_new();
    need = 0;

    rc = ctx
         && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1
         && EVP_DigestSign(ctx, NULL, &need, (const unsigned char *) data,
                           len) == 1
         && need <= NGX_PAYOUT_PNE_RSA_MAX_BITS / 8
         && EVP_DigestSign(ctx, sig, &need, (const unsigned char *) data,
                           len) == 1;

    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);

    if (!rc) {
        ERR_clear_error();
        return NGX_PAYOUT_ERROR;
    }

    *sig_len = need;

    return NGX_PAYOUT_OK;
}


/*
 * The URL as OAuth signs it: scheme and host in lower case, a default
 * port dropped, then the path (RFC 5849 3.4.1.2).
 */

static char *
ngx_payout_pne_url(ngx_payout_mem_t *mem, const char *base, const char *path)
{
    char        *url, *p, *host, *end, *port;
    size_t       len;

    /* url= without its trailing slashes, as the glue sends to it */
    len = strlen(base);

    while (len && base[len - 1] == '/') {
        len--;
    }

    url = mem->alloc(mem->data, len + strlen(path) + 1);
    if (url == NULL) {
        return NULL;
    }

    memcpy(url, base, len);
    url[len] = '\0';

    host = strstr(url, "://");
    if (host == NULL) {
        return NULL;
    }

    host += 3;
    end = host + strcspn(host, "/");

    for (p = url; p < end; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char) (*p | 0x20);
        }
    }

    port = memchr(host, ':', end - host);

    if (port
        && ((strncmp(url, "https://", 8) == 0 && end - port == 4
             && memcmp(port, ":443", 4) == 0)
            || (strncmp(url, "http://", 7) == 0 && end - port == 3
                && memcmp(port, ":80", 3) == 0)))
    {
        memmove(port, end, strlen(end) + 1);
    }

    strcat(url, path);

    return url;
}


/*
 * Answers: 2xx with a readable form is the provider's word; 401/403 is a
 * refused signature (nothing executed); anything else may have executed.
 */

static void
ngx_payout_pne_parse(const ngx_payout_account_t *acct, ngx_payout_op_e op,
    const ngx_payout_answer_t *a, ngx_payout_result_t *res)
{
    int    rc;
    char   type[64], id[NGX_PAYOUT_PNE_ID_LEN + 1];
    char   message[NGX_PAYOUT_PNE_VALUE_LEN];

    (void) acct;

    ngx_payout_pne_result_init(res);

    if (a->status == 401 || a->status == 403) {
        ngx_payout_result_auth_failed(op, res);
        return;
    }

    if (a->status < 200 || a->status >= 300 || a->body == NULL
        || (op != NGX_PAYOUT_OP_INITIATE && op != NGX_PAYOUT_OP_LOOKUP)
        || ngx_payout_payneteasy_field(a->body, a->body_len, "type", type,
                                       sizeof(type)) != 1)
    {
        return;
    }

    if (strcmp(type, "validation-error") == 0 || strcmp(type, "error") == 0)
    {
        rc = ngx_payout_payneteasy_field(a->body, a->body_len,
                                         "error-message", message,
                                         sizeof(message));
        if (rc != 1 || message[0] == '\0') {
            rc = ngx_payout_payneteasy_field(a->body, a->body_len,
                                             "error-code", message,
                                             sizeof(message));
        }

        if (rc != 1 || message[0] == '\0') {
            /* a refusal that does not say what: not one we can trust */
            return;
        }

        ngx_payout_result_copy(res->reason, sizeof(res->reason), message);

        if (op == NGX_PAYOUT_OP_INITIATE) {
            /* an order refused after it was made keeps its id */
            if (ngx_payout_payneteasy_field(a->body, a->body_len,
                                            "paynet-order-id", id,
                                            sizeof(id)) == 1
                && ngx_payout_pne_id_valid(id, NGX_PAYOUT_PNE_ID_LEN))
            {
                ngx_payout_result_copy(res->gateway_id,
                                       sizeof(res->gateway_id), id);
            }

            res->state = NGX_PAYOUT_CANCELED_REJECTED;
            res->outcome = NGX_PAYOUT_OUTCOME_STATE;
            return;
        }

        /*
         * A status request refused: "no such order" only when it names
         * no order id and says so; else the question, not the payout,
         * was refused (a bad control, a wrong endpoint).
         */
        if (ngx_payout_payneteasy_field(a->body, a->body_len,
                                        "paynet-order-id", id, sizeof(id))
            == 0
            && ngx_payout_pne_not_found(message))
        {
            res->outcome = NGX_PAYOUT_OUTCOME_NOT_FOUND;

        } else {
            res->outcome = NGX_PAYOUT_OUTCOME_REFUSED;
        }

        return;
    }

    if (op == NGX_PAYOUT_OP_INITIATE) {
        if (strcmp(type, "async-response") != 0
            || ngx_payout_payneteasy_field(a->body, a->body_len,
                                           "paynet-order-id", id, sizeof(id))
               != 1
            || !ngx_payout_pne_id_valid(id, NGX_PAYOUT_PNE_ID_LEN))
        {
            return;
        }

        ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id), id);
        res->state = NGX_PAYOUT_PENDING_PROMISE;
        res->outcome = NGX_PAYOUT_OUTCOME_STATE;
        return;
    }

    if (strcmp(type, "status-response") == 0) {
        ngx_payout_pne_status(a->body, a->body_len, res);
    }
}


/* a status-response: status, paynet-order-id, error-message, redirect-to */

static void
ngx_payout_pne_status(const char *body, size_t len, ngx_payout_result_t *res)
{
    char  status[32], id[NGX_PAYOUT_PNE_ID_LEN + 1];
    char  value[NGX_PAYOUT_PNE_VALUE_LEN];

    if (ngx_payout_payneteasy_field(body, len, "status", status,
                                    sizeof(status)) != 1)
    {
        return;
    }

    res->state = ngx_payout_payneteasy_state(status);

    if (res->state < 0) {
        return;
    }

    switch (ngx_payout_payneteasy_field(body, len, "paynet-order-id", id,
                                        sizeof(id)))
    {
    case 1:
        if (!ngx_payout_pne_id_valid(id, NGX_PAYOUT_PNE_ID_LEN)) {
            res->state = -1;
            return;
        }

        ngx_payout_result_copy(res->gateway_id, sizeof(res->gateway_id), id);
        break;

    case 0:
        break;

    default:
        res->state = -1;
        return;
    }

    if (res->state != NGX_PAYOUT_SUCCESS
        && ngx_payout_payneteasy_field(body, len, "error-message", value,
                                       sizeof(value)) == 1)
    {
        ngx_payout_result_copy(res->reason, sizeof(res->reason), value);
    }

    /* the receiver's form (seed 003 steps 5-9), while still in flight */
    if (res->state == NGX_PAYOUT_PENDING_PROMISE
        && ngx_payout_payneteasy_field(body, len, "redirect-to", value,
                                       sizeof(value)) == 1
        && (strncmp(value, "https://", 8) == 0
            || strncmp(value, "http://", 7) == 0)
        && strlen(value) < sizeof(res->next_action_url)
        && ngx_payout_url_valid(value, strlen(value))
        && strpbrk(value, " \"<>\\^`{|}") == NULL
        && ngx_payout_utf8_valid(value, strlen(value)))
    {
        ngx_payout_result_copy(res->next_action, sizeof(res->next_action),
                               "redirect");
        memcpy(res->next_action_url, value, strlen(value) + 1);
    }

    res->outcome = NGX_PAYOUT_OUTCOME_STATE;
}


/* the words PaynetEasy's refusal uses for an order it does not have */

static int
ngx_payout_pne_not_found(const char *message)
{
    size_t  i, j, n;

    static const char  *words[] = {
        "not found", "cannot find", "can not find", "can't find",
        "does not exist", "doesn't exist", "no such order", "unknown order"
    };

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        n = strlen(words[i]);

        for (j = 0; message[j]; j++) {
            if (strncasecmp(message + j, words[i], n) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * A callback (its query string, or a POST's form body): control =
 * SHA-1(status orderid client_orderid control key) in hex, compared in
 * constant time.  Callbacks carry no time: a replayed one can only
 * repeat a final status, which the glue confirms by asking.
 */

static int
ngx_payout_pne_verify(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, long now)
{
    int          ok;
    size_t       i;
    char         status[32], orderid[NGX_PAYOUT_PNE_ID_LEN + 1];
    char         client[NGX_PAYOUT_PNE_ORDERID_LEN + 1];
    char         control[64], expected[41];
    const char  *body;

    (void) now;

    body = (const char *) hook->body;

    if (acct->secret == NULL || acct->secret_len == 0 || body == NULL
        || ngx_payout_payneteasy_field(body, hook->body_len, "status",
                                       status, sizeof(status)) != 1
        || ngx_payout_payneteasy_field(body, hook->body_len, "orderid",
                                       orderid, sizeof(orderid)) != 1
        || ngx_payout_payneteasy_field(body, hook->body_len,
                                       "client_orderid", client,
                                       sizeof(client)) != 1
        || ngx_payout_payneteasy_field(body, hook->body_len, "control",
                                       control, sizeof(control)) != 1
        || strlen(control) != 40)
    {
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < 40; i++) {
        if (control[i] >= 'A' && control[i] <= 'F') {
            control[i] = (char) (control[i] | 0x20);
        }
    }

    if (ngx_payout_payneteasy_control(status, orderid, client, acct->secret,
                                      acct->secret_len, expected)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    ok = (CRYPTO_memcmp(expected, control, 40) == 0);

    OPENSSL_cleanse(expected, sizeof(expected));

    return ok ? NGX_PAYOUT_OK : NGX_PAYOUT_ERROR;
}


/*
 * A verified callback: a final status is confirmed with one status
 * request before the payout moves (follow_up LOOKUP, seed 003 step 11);
 * any other is ignored.  key is what the docs name to de-duplicate on.
 */

static int
ngx_payout_pne_event(const ngx_payout_account_t *acct,
    const ngx_payout_hook_t *hook, ngx_payout_event_t *ev)
{
    int          state;
    size_t       i;
    char         status[32], type[64], orderid[NGX_PAYOUT_PNE_ID_LEN + 1];
    char         client[NGX_PAYOUT_PNE_ORDERID_LEN + 1];
    const char  *body;

    (void) acct;

    ev->reference[0] = '\0';
    ev->follow_up = NGX_PAYOUT_FOLLOW_NONE;
    ev->key[0] = '\0';
    ngx_payout_pne_result_init(&ev->result);

    body = (const char *) hook->body;

    if (body == NULL
        || ngx_payout_payneteasy_field(body, hook->body_len, "status",
                                       status, sizeof(status)) != 1
        || ngx_payout_payneteasy_field(body, hook->body_len, "orderid",
                                       orderid, sizeof(orderid)) != 1
        || !ngx_payout_pne_id_valid(orderid, NGX_PAYOUT_PNE_ID_LEN)
        || ngx_payout_payneteasy_field(body, hook->body_len,
                                       "client_orderid", client,
                                       sizeof(client)) != 1)
    {
        return NGX_PAYOUT_DECLINED;
    }

    switch (ngx_payout_payneteasy_field(body, hook->body_len, "type", type,
                                        sizeof(type)))
    {
    case 1:
        break;

    case 0:
        type[0] = '\0';
        break;

    default:
        return NGX_PAYOUT_DECLINED;
    }

    state = ngx_payout_payneteasy_state(status);

    if (state < 0 || ngx_payout_state_pending(state)) {
        return NGX_PAYOUT_DECLINED;
    }

    if (ngx_payout_uuid_valid((const unsigned char *) client,
                              strlen(client)))
    {
        for (i = 0; i < 36; i++) {
            ev->reference[i] = (client[i] >= 'A' && client[i] <= 'F')
                               ? (char) (client[i] | 0x20) : client[i];
        }

        ev->reference[36] = '\0';
    }

    ngx_payout_result_copy(ev->result.gateway_id,
                           sizeof(ev->result.gateway_id), orderid);
    ev->result.state = state;
    ev->result.outcome = NGX_PAYOUT_OUTCOME_STATE;
    ev->follow_up = NGX_PAYOUT_FOLLOW_LOOKUP;

    snprintf(ev->key, sizeof(ev->key), "%s|%s|%s|%s", status, type, orderid,
             ev->reference);

    return NGX_PAYOUT_OK;
}


int
ngx_payout_payneteasy_state(const char *status)
{
    return ngx_payout_status_state(&ngx_payout_connector_payneteasy, status);
}


static void
ngx_payout_pne_result_init(ngx_payout_result_t *res)
{
    res->state = -1;
    res->outcome = NGX_PAYOUT_OUTCOME_UNKNOWN;
    res->gateway_id[0] = '\0';
    res->reason[0] = '\0';
    res->next_action[0] = '\0';
    res->next_action_url[0] = '\0';
}


/* an order id: 1..max letters, digits, "-", "_", "."; safe everywhere */

static int
ngx_payout_pne_id_valid(const char *s, size_t max)
{
    size_t  i, len;

    len = strlen(s);

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'
              || s[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
ngx_payout_pne_digits(const char *s, size_t len, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}
