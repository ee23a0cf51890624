/*
 * The PaynetEasy connector as the registry hands it out: its settings
 * (the RSA key checked at configuration), the payout request with its
 * OAuth RSA-SHA256 signature against the committed test key with a fixed
 * nonce and time (the base string and signature in t/fixtures/payneteasy/
 * were made with Python and `openssl dgst -sha256 -sign`, and verify with
 * `openssl dgst -sha256 -verify test-key.pub.pem`), amounts and lengths,
 * the status request and its control checksum, the documented answers
 * (t/fixtures/payneteasy/), every status value, callbacks' control
 * checksums and events, and bad answers.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "unit.h"
#include "unit_connector.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_payneteasy.h"
#include "ngx_payout_validate.h"


#define FIXTURES  "t/fixtures/payneteasy/"

#define REF       "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7"
#define CONTROL   "B17F59B4-A7DC-41B4-8FF9-37D986B43D20"
#define NONCE     "abcdefghijklmnopqrstuvwxyz012345"
#define URL       "https://sandbox.payneteasy.com/paynet"
#define HOOK_URL  "https://pay.example.com/hooks/paysoft"
#define NARRATION "Invoice 42 \xe2\x80\x93 caf\xc3\xa9"

/* Python: hashlib.sha1 of the concatenations, hex */
#define CTRL_LOOKUP       "663d4c38982e7112aad1041aab70e8790fb9da22"
#define CTRL_LOOKUP_NOID  "b1ed02a8115db2d43b74932fb08bf3906242ff95"
#define CTRL_APPROVED     "70e24d51664e1bf95144da99fc296f6be937c4b0"
#define CTRL_DECLINED     "94c15324ae62c23198c645130e824ae8a64c1324"

#define BODY                                                                 \
    "account_name=Ada%20Obi&account_number=0123456789&amount=2500.00"        \
    "&client_orderid=" REF "&country=NG&currency=NGN"                        \
    "&order_desc=Invoice%2042%20%E2%80%93%20caf%C3%A9"                       \
    "&purpose=Invoice%2042%20%E2%80%93%20caf%C3%A9&routing_number=058"       \
    "&server_callback_url=https%3A%2F%2Fpay.example.com%2Fhooks%2Fpaysoft"


/* m: what calls allocate, freed between them; cm: the configuration's */
typedef struct {
    unit_mem_t             m;
    unit_mem_t             cm;
    ngx_payout_mem_t       cmem;
    ngx_payout_account_t   acct;
    void                  *conf;
    char                  *pem;
} fixture_t;


static const ngx_payout_connector_t *
pne(void)
{
    const ngx_payout_connector_t  *c;

    c = ngx_payout_connector_find("payneteasy", 10);
    assert_non_null(c);

    return c;
}


static int
set(fixture_t *f, const char *key, const char *value)
{
    f->cmem.alloc = unit_mem_alloc;
    f->cmem.data = &f->cm;

    return pne()->configure(&f->cmem, &f->conf, key, strlen(key), value,
                            strlen(value));
}


static void
fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof(fixture_t));
    f->acct.mem.alloc = unit_mem_alloc;
    f->acct.mem.data = &f->m;
    f->acct.secret = CONTROL;
    f->acct.secret_len = sizeof(CONTROL) - 1;
    f->acct.url = URL;
    f->acct.callback_url = HOOK_URL;
    f->pem = unit_file(FIXTURES "test-key.pem", NULL);

    assert_int_equal(set(f, "login", "merchantlogin"), NGX_PAYOUT_OK);
    assert_int_equal(set(f, "endpoint", "39915"), NGX_PAYOUT_OK);
    assert_int_equal(set(f, "rsa_key", f->pem), NGX_PAYOUT_OK);
    f->acct.conf = f->conf;
}


static void
fixture_free(fixture_t *f)
{
    unit_mem_free(&f->m);
    unit_mem_free(&f->cm);
    free(f->pem);
}


static void
bank(ngx_payout_transfer_t *t)
{
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    t->reference = REF;
    t->amount = 250000;
    t->currency = "NGN";
    t->type = NGX_PAYOUT_RECIPIENT_BANK;
    t->account_number = "0123456789";
    t->account_name = "Ada Obi";
    t->bank_code = "058";
    t->country = "NG";
    t->narration = NARRATION;
    t->nonce = NONCE;
    t->now = 1700000000;
}


static const char *
header(const ngx_payout_call_t *call, const char *name)
{
    size_t  i, n;

    n = strlen(name);

    for (i = 0; i < call->nheaders; i++) {
        if (strncmp(call->headers[i], name, n) == 0
            && call->headers[i][n] == ':')
        {
            return call->headers[i] + n + 2;
        }
    }

    return NULL;
}


/* the header's signature verifies over the base string of url */

static void
assert_signed(fixture_t *f, const ngx_payout_call_t *call, const char *url,
    const char *nonce, long now)
{
    int             n;
    char           *pub, *base, b64[1024], *q;
    BIO            *bio;
    EVP_PKEY       *pkey;
    EVP_MD_CTX     *ctx;
    const char     *p;
    unsigned char   raw[1024];

    p = strstr(header(call, "Authorization"), "oauth_signature=\"");
    assert_non_null(p);

    for (p += 17, q = b64; *p != '"'; p++) {
        if (*p == '%') {
            *q++ = (char) (ngx_payout_hex_value(p[1]) << 4
                           | ngx_payout_hex_value(p[2]));
            p += 2;

        } else {
            *q++ = *p;
        }
    }

    *q = '\0';
    n = EVP_DecodeBlock(raw, (unsigned char *) b64, (int) strlen(b64));
    assert_int_equal(n, 258);

    base = ngx_payout_payneteasy_base_string(&f->acct.mem, url, call->body,
                                             call->body_len, "merchantlogin",
                                             nonce, now);
    assert_non_null(base);

    pub = unit_file(FIXTURES "test-key.pub.pem", NULL);
    bio = BIO_new_mem_buf(pub, -1);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    assert_non_null(pkey);

    ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
                                          pkey), 1);
    assert_int_equal(EVP_DigestVerify(ctx, raw, 256, (unsigned char *) base,
                                      strlen(base)), 1);

    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    free(pub);
}


static void
test_configure(void **state)
{
    char       *ec, *small, *enc;
    fixture_t   f;

    (void) state;

    fixture_init(&f);

    assert_int_equal(set(&f, "account", "x"), NGX_PAYOUT_DECLINED);
    assert_int_equal(set(&f, "purpose", "Salary"), NGX_PAYOUT_OK);

    /* exactly one endpoint: a second of either kind contradicts */
    assert_int_equal(set(&f, "endpoint", "39916"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "endpoint_group", "7"), NGX_PAYOUT_ERROR);

    assert_int_equal(set(&f, "login", ""), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "login", "merchant login"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "purpose", "two\nlines"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "purpose",
                         "0123456789012345678901234567890123456789"
                         "0123456789012345678901234567890123456789"
                         "0123456789012345678901234567890123456789"
                         "0123456789"),
                     NGX_PAYOUT_ERROR);

    /* not an RSA private key, too small, encrypted, no key at all */
    ec = unit_file(FIXTURES "test-ec-key.pem", NULL);
    small = unit_file(FIXTURES "test-key-1024.pem", NULL);
    enc = unit_file(FIXTURES "test-key-encrypted.pem", NULL);

    assert_int_equal(set(&f, "rsa_key", ec), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "rsa_key", small), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "rsa_key", enc), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "rsa_key", "not a key"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "rsa_key", ""), NGX_PAYOUT_ERROR);

    free(ec);
    free(small);
    free(enc);
    fixture_free(&f);

    /* endpoint_group alone, and no endpoint digits */
    memset(&f, 0, sizeof(f));
    f.acct.mem.alloc = unit_mem_alloc;
    f.acct.mem.data = &f.m;
    assert_int_equal(set(&f, "endpoint_group", "12a"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "endpoint_group", "123456789012345678901"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "endpoint_group", "1234"), NGX_PAYOUT_OK);
    unit_mem_free(&f.cm);
}


static void
test_check(void **state)
{
    fixture_t             f;
    ngx_payout_account_t  a;

    (void) state;

    fixture_init(&f);

    assert_null(pne()->check(&f.acct, 0));
    f.acct.url = "https://gate.payneteasy.com/paynet";
    assert_null(pne()->check(&f.acct, 1));

    a = f.acct;
    a.secret = NULL;
    assert_non_null(pne()->check(&a, 0));

    a = f.acct;
    a.secret = "bad key\n";
    a.secret_len = 8;
    assert_non_null(pne()->check(&a, 0));

    a = f.acct;
    a.conf = NULL;
    assert_non_null(pne()->check(&a, 0));

    a = f.acct;
    a.url = "https://sandbox.payneteasy.com/paynet";
    assert_null(pne()->check(&a, 0));
    assert_string_equal(pne()->check(&a, 1),
                        "url= is a sandbox host, but mode=live");

    fixture_free(&f);
}


/* the payout request, byte for byte, and its signature */

static void
test_build_initiate(void **state)
{
    char                   *base, *want, *auth;
    fixture_t               f;
    ngx_payout_call_t       call;
    ngx_payout_transfer_t   t;

    (void) state;

    fixture_init(&f);
    bank(&t);

    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call),
                     NGX_PAYOUT_OK);

    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/api/v4/payout/39915");
    assert_string_equal(call.body, BODY);
    assert_int_equal(call.body_len, strlen(BODY));
    assert_string_equal(header(&call, "Content-Type"),
                        "application/x-www-form-urlencoded");

    /* the base string, as Python's urllib made it */
    want = unit_file(FIXTURES "oauth-base-string.txt", NULL);
    base = ngx_payout_payneteasy_base_string(&f.acct.mem,
                                             URL "/api/v4/payout/39915",
                                             call.body, call.body_len,
                                             "merchantlogin", NONCE,
                                             1700000000);
    assert_non_null(base);
    assert_string_equal(base, want);

    /* RSA PKCS #1 v1.5 is deterministic: openssl dgst -sign's bytes */
    auth = unit_file(FIXTURES "oauth-authorization.txt", NULL);
    assert_string_equal(header(&call, "Authorization"), auth);

    /* and it verifies with the public key */
    assert_signed(&f, &call, URL "/api/v4/payout/39915", NONCE, 1700000000);

    free(auth);
    free(want);
    fixture_free(&f);
}


/* the OAuth doc's parameter example, signed with RSA-SHA256 */

static void
test_base_string(void **state)
{
    char        *base;
    unit_mem_t   m;
    ngx_payout_mem_t  mem;

    (void) state;

    memset(&m, 0, sizeof(m));
    mem.alloc = unit_mem_alloc;
    mem.data = &m;

    base = ngx_payout_payneteasy_base_string(&mem,
        "https://sandbox.payneteasy.com/paynet/api/v4/payout/1",
        "sending-card-ref-id=7654321&client-order-id=1234567890", 54,
        "merchantlogin", "y3qlvMPky7g", 1669966913);
    assert_string_equal(base,
        "POST&https%3A%2F%2Fsandbox.payneteasy.com%2Fpaynet%2Fapi%2Fv4%2F"
        "payout%2F1&client-order-id%3D1234567890%26oauth_consumer_key%3D"
        "merchantlogin%26oauth_nonce%3Dy3qlvMPky7g%26"
        "oauth_signature_method%3DRSA-SHA256%26oauth_timestamp%3D"
        "1669966913%26oauth_version%3D1.0%26sending-card-ref-id%3D7654321");

    /* "+" is a space and encodes as %20; equal names sort by value */
    base = ngx_payout_payneteasy_base_string(&mem, "http://h/p",
                                             "b=x+y&a=2&a=1", 13, "l", "n",
                                             1);
    assert_string_equal(base,
        "POST&http%3A%2F%2Fh%2Fp&a%3D1%26a%3D2%26b%3Dx%2520y%26"
        "oauth_consumer_key%3Dl%26oauth_nonce%3Dn%26oauth_signature_method"
        "%3DRSA-SHA256%26oauth_timestamp%3D1%26oauth_version%3D1.0");

    assert_null(ngx_payout_payneteasy_base_string(&mem, "http://h/p",
                                                  "a=%zz", 5, "l", "n", 1));

    unit_mem_free(&m);
}


static void
test_build_amounts(void **state)
{
    fixture_t               f;
    ngx_payout_call_t       call;
    ngx_payout_transfer_t   t;

    (void) state;

    fixture_init(&f);

    bank(&t);
    t.currency = "JPY";
    t.amount = 2500;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "&amount=2500&"));
    unit_mem_free(&f.m);

    bank(&t);
    t.currency = "KWD";
    t.amount = 1005;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "&amount=1.005&"));
    unit_mem_free(&f.m);

    bank(&t);
    t.amount = 7;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "&amount=0.07&"));
    unit_mem_free(&f.m);

    /* "Length: 10": 9999999.99 fits, 10000000.00 does not */
    bank(&t);
    t.amount = 999999999;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "&amount=9999999.99&"));
    unit_mem_free(&f.m);

    t.amount = 1000000000;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);

    bank(&t);
    t.currency = "ngn";
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    t.currency = "XXQ";
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    t.currency = "NGN";
    t.amount = 0;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);

    unit_mem_free(&f.m);
    fixture_free(&f);
}


static void
test_build_fields(void **state)
{
    char                    long_url[160], narration[200];
    fixture_t               f;
    ngx_payout_call_t       call;
    ngx_payout_transfer_t   t;

    (void) state;

    fixture_init(&f);

    /* order_desc cut to 64 bytes between characters; purpose to 128 */
    memset(narration, 'a', 63);
    strcpy(narration + 63, "\xc3\xa9" "bcd");
    bank(&t);
    t.narration = narration;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "&order_desc=aaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                      "aaaaaaaa&purpose=aaaa"));
    assert_non_null(strstr(call.body, "aaa%C3%A9bcd&routing_number"));
    unit_mem_free(&f.m);

    /* a configured purpose wins; no narration: no order_desc */
    assert_int_equal(set(&f, "purpose", "Salary & bonus"), NGX_PAYOUT_OK);
    bank(&t);
    t.narration = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_null(strstr(call.body, "order_desc"));
    assert_non_null(strstr(call.body, "&purpose=Salary%20%26%20bonus&"));
    unit_mem_free(&f.m);

    /* a callback URL past its documented 128 bytes is left out */
    memset(long_url, 'a', sizeof(long_url));
    memcpy(long_url, "https://", 8);
    long_url[129] = '\0';
    f.acct.callback_url = long_url;
    bank(&t);
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_null(strstr(call.body, "server_callback_url"));
    unit_mem_free(&f.m);

    f.acct.callback_url = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_null(strstr(call.body, "server_callback_url"));
    unit_mem_free(&f.m);

    /* a wallet: its number as phone */
    memset(&t, 0, sizeof(t));
    t.reference = REF;
    t.amount = 100;
    t.currency = "KES";
    t.type = NGX_PAYOUT_RECIPIENT_MOBILE;
    t.mobile_number = "254712345678";
    t.provider = "MPESA";
    t.nonce = NONCE;
    t.now = 1700000000;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_string_equal(call.body, "amount=1.00&client_orderid=" REF
                        "&currency=KES&phone=254712345678"
                        "&purpose=Salary%20%26%20bonus");
    unit_mem_free(&f.m);

    /* an endpoint group's path */
    fixture_free(&f);
    memset(&f, 0, sizeof(f));
    f.acct.mem.alloc = unit_mem_alloc;
    f.acct.mem.data = &f.m;
    f.acct.secret = CONTROL;
    f.acct.secret_len = sizeof(CONTROL) - 1;
    f.acct.url = "HTTPS://Sandbox.PaynetEasy.com:443/paynet/";
    f.pem = unit_file(FIXTURES "test-key.pem", NULL);
    assert_int_equal(set(&f, "login", "merchantlogin"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "endpoint_group", "2545"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "rsa_key", f.pem), NGX_PAYOUT_OK);
    f.acct.conf = f.conf;
    bank(&t);
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_OK);
    assert_string_equal(call.path, "/api/v4/payout/group/2545");

    /* signed for the URL as OAuth normalises it */
    assert_signed(&f, &call, "https://sandbox.payneteasy.com/paynet"
                  "/api/v4/payout/group/2545", NONCE, 1700000000);
    unit_mem_free(&f.m);

    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_OK);
    assert_string_equal(call.path, "/api/v2/status/group/2545");
    unit_mem_free(&f.m);

    fixture_free(&f);
}


static void
test_build_refused(void **state)
{
    fixture_t               f;
    ngx_payout_call_t       call;
    ngx_payout_transfer_t   t;

    (void) state;

    fixture_init(&f);

    bank(&t);
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_CANCEL, &t, &call),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_ENROLL, &t, &call),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_FINALIZE, &t,
                                  &call), NGX_PAYOUT_DECLINED);

    t.type = NGX_PAYOUT_RECIPIENT_CONNECTED;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_DECLINED);

    /* the signature needs the glue's nonce, time and url */
    bank(&t);
    t.nonce = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    t.nonce = "short";
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    t.nonce = "abcdefghijklmnopqrstuvwxyz01234+";
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    t.nonce = NONCE;
    t.now = 0;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    t.now = 1700000000;
    f.acct.url = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    f.acct.url = URL;

    t.reference = "not-a-uuid";
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);
    bank(&t);
    t.account_number = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_INITIATE, &t,
                                  &call), NGX_PAYOUT_ERROR);

    bank(&t);
    t.gateway_id = "19691 05";
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_ERROR);

    unit_mem_free(&f.m);
    fixture_free(&f);
}


static void
test_build_lookup(void **state)
{
    char                    out[41];
    fixture_t               f;
    ngx_payout_call_t       call;
    ngx_payout_transfer_t   t;

    (void) state;

    fixture_init(&f);

    bank(&t);
    t.gateway_id = "1969105";
    t.nonce = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/api/v2/status/39915");
    assert_string_equal(call.body, "client_orderid=" REF
                        "&control=" CTRL_LOOKUP
                        "&login=merchantlogin&orderid=1969105");
    assert_string_equal(header(&call, "Content-Type"),
                        "application/x-www-form-urlencoded");
    assert_null(header(&call, "Authorization"));
    unit_mem_free(&f.m);

    /* the order id never came: by client_orderid alone */
    t.gateway_id = NULL;
    assert_int_equal(pne()->build(&f.acct, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_OK);
    assert_string_equal(call.body, "client_orderid=" REF
                        "&control=" CTRL_LOOKUP_NOID "&login=merchantlogin");
    unit_mem_free(&f.m);

    assert_int_equal(ngx_payout_payneteasy_control("merchantlogin", REF,
                                                   "1969105", CONTROL,
                                                   sizeof(CONTROL) - 1, out),
                     NGX_PAYOUT_OK);
    assert_string_equal(out, CTRL_LOOKUP);
    assert_int_equal(ngx_payout_payneteasy_control("approved", "1969105",
                                                   REF, CONTROL,
                                                   sizeof(CONTROL) - 1, out),
                     NGX_PAYOUT_OK);
    assert_string_equal(out, CTRL_APPROVED);

    fixture_free(&f);
}


static void
parse_fixture(ngx_payout_op_e op, long status, const char *name,
    ngx_payout_result_t *res)
{
    char  *body, path[256];

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    body = unit_file(path, NULL);
    unit_parse(pne(), op, status, body, res);
    free(body);
}


static void
test_parse_initiate(void **state)
{
    ngx_payout_result_t  res;

    (void) state;

    parse_fixture(NGX_PAYOUT_OP_INITIATE, 200, "payout-async-response.txt",
                  &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.gateway_id, "1969105");
    assert_string_equal(res.reason, "");
    assert_string_equal(res.next_action, "");

    parse_fixture(NGX_PAYOUT_OP_INITIATE, 200, "payout-validation-error.txt",
                  &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason,
                        "Amount is greater than the endpoint limit");
    assert_string_equal(res.gateway_id, "");

    parse_fixture(NGX_PAYOUT_OP_INITIATE, 200, "payout-error.txt", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "Endpoint is not active");
    assert_string_equal(res.gateway_id, "");

    /* refused once made: the order's id is kept */
    unit_parse(pne(), NGX_PAYOUT_OP_INITIATE, 200,
               "type=error\n&paynet-order-id=1969105\n"
               "&error-message=Declined+by+processor\n", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.gateway_id, "1969105");

    /* an error that says nothing, only its code */
    unit_parse(pne(), NGX_PAYOUT_OP_INITIATE, 200,
               "type=error\n&error-code=7\n", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "7");
    unit_parse(pne(), NGX_PAYOUT_OP_INITIATE, 200, "type=error\n", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);

    /* the signature refused: nothing executed */
    unit_parse(pne(), NGX_PAYOUT_OP_INITIATE, 403, "Forbidden", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "gateway_auth_failed");
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 401, NULL, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);
}


static void
test_parse_garbage(void **state)
{
    size_t               i;
    ngx_payout_result_t  res;

    static const struct {
        long         status;
        const char  *body;
    } answers[] = {
        { 0, NULL },
        { 500, "type=async-response\n&paynet-order-id=1\n" },
        { 502, "<html>Bad gateway</html>" },
        { 200, NULL },
        { 200, "" },
        { 200, "<html>maintenance</html>" },
        { 200, "{\"type\":\"async-response\"}" },
        { 200, "type=async-response\n" },
        { 200, "type=async-response\n&paynet-order-id=\n" },
        { 200, "type=async-response\n&paynet-order-id=1%202\n" },
        { 200, "type=async-response\n&type=error\n&paynet-order-id=1\n" },
        { 200, "type=status-response\n&status=approved\n" },
        { 200, "type=surprise\n&paynet-order-id=1\n" },
        { 200, "type=async%zz\n" },
        { 200, "type=async%00response\n" },
        { 404, "type=validation-error\n&error-message=Order+not+found\n" },
        { 429, "type=error\n&error-message=slow+down\n" },
    };

    (void) state;

    for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        unit_parse(pne(), NGX_PAYOUT_OP_INITIATE, answers[i].status,
                   answers[i].body, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        assert_int_equal(res.state, -1);
        assert_string_equal(res.gateway_id, "");
        assert_string_equal(res.next_action, "");
    }

    /* the same for the status request, except what is its word */
    for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        if (answers[i].body
            && strncmp(answers[i].body, "type=status-response", 20) == 0
            && answers[i].status == 200)
        {
            continue;
        }

        unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, answers[i].status,
                   answers[i].body, &res);
        assert_int_not_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
        assert_int_not_equal(res.outcome, NGX_PAYOUT_OUTCOME_NOT_FOUND);
    }

    /* other operations are not this connector's */
    unit_parse(pne(), NGX_PAYOUT_OP_CANCEL, 200,
               "type=async-response\n&paynet-order-id=1\n", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
}


static void
test_parse_status(void **state)
{
    ngx_payout_result_t  res;

    (void) state;

    parse_fixture(NGX_PAYOUT_OP_LOOKUP, 200, "status-processing.txt", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.gateway_id, "1969105");
    assert_string_equal(res.next_action, "");

    parse_fixture(NGX_PAYOUT_OP_LOOKUP, 200, "status-redirect.txt", &res);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.next_action, "redirect");
    assert_string_equal(res.next_action_url,
                        "https://sandbox.payneteasy.com/paynet/form/payout/"
                        "1969105?token=abc");

    parse_fixture(NGX_PAYOUT_OP_LOOKUP, 200, "status-approved.txt", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_SUCCESS);
    assert_string_equal(res.reason, "");

    parse_fixture(NGX_PAYOUT_OP_LOOKUP, 200, "status-declined.txt", &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "Account closed");

    parse_fixture(NGX_PAYOUT_OP_LOOKUP, 200, "status-not-found.txt", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_NOT_FOUND);
    assert_int_equal(res.state, -1);

    /* a redirect after the final status, or not a web address: none */
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=approved\n"
               "&paynet-order-id=1\n&redirect-to=https%3A%2F%2Fx\n", &res);
    assert_int_equal(res.state, NGX_PAYOUT_SUCCESS);
    assert_string_equal(res.next_action, "");
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=processing\n"
               "&redirect-to=javascript%3Aalert(1)\n", &res);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.next_action, "");
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=processing\n"
               "&redirect-to=https%3A%2F%2Fx%2F%22%3E\n", &res);
    assert_string_equal(res.next_action, "");
    /* a control character, here a raw newline inside the value */
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=processing\n"
               "&redirect-to=https%3A%2F%2Fx%2Fa\x10" "b\nc\n", &res);
    assert_string_equal(res.next_action, "");
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=processing\n"
               "&redirect-to=https%3A%2F%2Fx%2Fa%0Ab\n", &res);
    assert_string_equal(res.next_action, "");

    /* a refusal of the question that names an order, or another one */
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=validation-error\n&paynet-order-id=1\n"
               "&error-message=Order+not+found\n", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=validation-error\n&error-message=Invalid+control\n",
               &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_string_equal(res.reason, "Invalid control");
    assert_int_equal(res.state, -1);

    /* an unheard-of status: no word */
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=APPROVED\n", &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);
    unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200,
               "type=status-response\n&status=approved\n&status=declined\n",
               &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
}


/* every documented status value, in the answer and in the table */

static void
test_statuses(void **state)
{
    char                 body[256];
    size_t               i, j;
    ngx_payout_result_t  res;

    static const struct {
        const char  *status;
        int          state;
    } doc[] = {
        { "approved", NGX_PAYOUT_SUCCESS },
        { "declined", NGX_PAYOUT_CANCELED_FAILURE },
        { "error", NGX_PAYOUT_CANCELED_FAILURE },
        { "filtered", NGX_PAYOUT_CANCELED_REJECTED },
        { "processing", NGX_PAYOUT_PENDING_PROMISE },
        { "unknown", NGX_PAYOUT_PENDING_PROMISE },
    };

    (void) state;

    assert_int_equal(pne()->nstatuses, sizeof(doc) / sizeof(doc[0]));

    for (i = 0; i < sizeof(doc) / sizeof(doc[0]); i++) {
        for (j = 0; j < pne()->nstatuses; j++) {
            if (strcmp(pne()->statuses[j].status, doc[i].status) == 0) {
                break;
            }
        }

        assert_true(j < pne()->nstatuses);
        assert_int_equal(pne()->statuses[j].state, doc[i].state);
        assert_int_equal(ngx_payout_payneteasy_state(doc[i].status),
                         doc[i].state);

        snprintf(body, sizeof(body), "type=status-response\n"
                 "&merchant-order-id=" REF "\n&paynet-order-id=77\n"
                 "&status=%s\n", doc[i].status);
        unit_parse(pne(), NGX_PAYOUT_OP_LOOKUP, 200, body, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
        assert_int_equal(res.state, doc[i].state);
        assert_string_equal(res.gateway_id, "77");
    }

    assert_int_equal(ngx_payout_payneteasy_state(NULL), -1);
    assert_int_equal(ngx_payout_payneteasy_state("Approved"), -1);
}


static void
test_field(void **state)
{
    char  out[16];

    (void) state;

    assert_int_equal(ngx_payout_payneteasy_field("a=1\n&b=x+y%21\r\n", 15,
                                                 "b", out, sizeof(out)), 1);
    assert_string_equal(out, "x y!");
    assert_int_equal(ngx_payout_payneteasy_field("a=1\n&b=2\n", 9, "c", out,
                                                 sizeof(out)), 0);
    assert_int_equal(ngx_payout_payneteasy_field("a=1&a=2", 7, "a", out,
                                                 sizeof(out)), -1);
    assert_int_equal(ngx_payout_payneteasy_field("a=%4", 4, "a", out,
                                                 sizeof(out)), -1);
    assert_int_equal(ngx_payout_payneteasy_field("a=0123456789abcdef", 18,
                                                 "a", out, sizeof(out)), -1);
    assert_int_equal(ngx_payout_payneteasy_field("a=", 2, "a", out,
                                                 sizeof(out)), 1);
    assert_string_equal(out, "");
    assert_int_equal(ngx_payout_payneteasy_field(NULL, 0, "a", out,
                                                 sizeof(out)), 0);
}


static int
verify(fixture_t *f, const char *body)
{
    ngx_payout_hook_t  hook;

    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    return pne()->verify(&f->acct, &hook, 1700000000);
}


static void
test_verify(void **state)
{
    char       *cb, *p;
    fixture_t   f;

    (void) state;

    fixture_init(&f);

    cb = unit_file(FIXTURES "callback-approved.txt", NULL);
    assert_int_equal(verify(&f, cb), NGX_PAYOUT_OK);

    /* upper-case hex is the same checksum */
    p = strstr(cb, "control=") + 8;
    p[0] = 'E';
    p[1] = '0';
    p[2] = 'E';
    assert_int_equal(verify(&f, cb), NGX_PAYOUT_ERROR);
    memcpy(p, "70E", 3);
    assert_int_equal(verify(&f, cb), NGX_PAYOUT_OK);

    /* another status under the approved checksum */
    memcpy(cb, "status=declined", 15);
    assert_int_equal(verify(&f, cb), NGX_PAYOUT_ERROR);
    free(cb);

    assert_int_equal(verify(&f, "status=declined&orderid=1969105"
                                "&client_orderid=" REF
                                "&control=" CTRL_DECLINED), NGX_PAYOUT_OK);

    /* forged, missing, twice, another key */
    assert_int_equal(verify(&f, "status=approved&orderid=1969105"
                                "&client_orderid=" REF
                                "&control=" CTRL_DECLINED),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify(&f, "status=approved&orderid=1969105"
                                "&client_orderid=" REF), NGX_PAYOUT_ERROR);
    assert_int_equal(verify(&f, "status=approved&orderid=1969105"
                                "&client_orderid=" REF "&control="
                                CTRL_APPROVED "&control=" CTRL_APPROVED),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify(&f, "orderid=1969105&client_orderid=" REF
                                "&control=" CTRL_APPROVED),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify(&f, ""), NGX_PAYOUT_ERROR);

    f.acct.secret = "another-control-key";
    f.acct.secret_len = strlen(f.acct.secret);
    assert_int_equal(verify(&f, "status=approved&orderid=1969105"
                                "&client_orderid=" REF
                                "&control=" CTRL_APPROVED),
                     NGX_PAYOUT_ERROR);
    f.acct.secret = NULL;
    f.acct.secret_len = 0;
    assert_int_equal(verify(&f, "status=approved&orderid=1969105"
                                "&client_orderid=" REF
                                "&control=" CTRL_APPROVED),
                     NGX_PAYOUT_ERROR);

    fixture_free(&f);
}


static int
event(const char *body, ngx_payout_event_t *ev)
{
    ngx_payout_hook_t  hook;

    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);
    memset(ev, 0x5a, sizeof(ngx_payout_event_t));

    return pne()->event(NULL, &hook, ev);
}


static void
test_event(void **state)
{
    char                *cb;
    ngx_payout_event_t   ev;

    (void) state;

    cb = unit_file(FIXTURES "callback-approved.txt", NULL);
    assert_int_equal(event(cb, &ev), NGX_PAYOUT_OK);
    free(cb);

    assert_string_equal(ev.reference, REF);
    assert_string_equal(ev.result.gateway_id, "1969105");
    assert_int_equal(ev.result.state, NGX_PAYOUT_SUCCESS);
    assert_int_equal(ev.result.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(ev.follow_up, NGX_PAYOUT_FOLLOW_LOOKUP);
    assert_string_equal(ev.key, "approved|payout|1969105|" REF);
    assert_string_equal(ev.result.next_action, "");

    assert_int_equal(event("status=filtered&orderid=5&client_orderid="
                           "4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7", &ev),
                     NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, REF);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(ev.key, "filtered||5|" REF);

    /* not our uuid: the glue finds the payout by the order id */
    assert_int_equal(event("status=declined&orderid=5&client_orderid=x",
                           &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, "");
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_FAILURE);

    /* not final, not known, not whole: ignored */
    assert_int_equal(event("status=processing&orderid=5&client_orderid="
                           REF, &ev), NGX_PAYOUT_DECLINED);
    assert_string_equal(ev.reference, "");
    assert_int_equal(ev.follow_up, NGX_PAYOUT_FOLLOW_NONE);
    assert_int_equal(event("status=unknown&orderid=5&client_orderid=" REF,
                           &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("status=paid&orderid=5&client_orderid=" REF,
                           &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("status=approved&client_orderid=" REF, &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("status=approved&orderid=5%2F6&client_orderid="
                           REF, &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("status=approved&orderid=5", &ev),
                     NGX_PAYOUT_DECLINED);
    assert_int_equal(event("status=approved&orderid=5&client_orderid=" REF
                           "&type=a&type=b", &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("", &ev), NGX_PAYOUT_DECLINED);
    assert_string_equal(ev.key, "");
}


int
run_payneteasy_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_configure),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_build_initiate),
        cmocka_unit_test(test_base_string),
        cmocka_unit_test(test_build_amounts),
        cmocka_unit_test(test_build_fields),
        cmocka_unit_test(test_build_refused),
        cmocka_unit_test(test_build_lookup),
        cmocka_unit_test(test_parse_initiate),
        cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_parse_status),
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_field),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_event),
    };

    return cmocka_run_group_tests_name("payneteasy", tests, NULL, NULL);
}
