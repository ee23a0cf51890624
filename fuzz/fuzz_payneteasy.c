/*
 * The PaynetEasy connector: provider answers parsed into results,
 * callbacks checked and turned into events, requests built and signed.
 * Input: a byte choosing the HTTP status and what to build, then a body;
 * the body's lines also make a callback and a transfer.
 *
 * Invariants: results hold a known state or -1, and provider strings
 * that are NUL-terminated, valid UTF-8 and no longer than their buffers;
 * only a 2xx answer carries a state, but a send refused for its
 * signature (401, 403: canceled_failure); NOT_FOUND only for a status
 * request and without a state; a redirect only with an http(s) address
 * while pending; an event is accepted only with a final state, a follow
 * up LOOKUP and a reference that is "" or a lower-case UUID; a callback
 * whose control is computed here with OpenSSL's SHA1() verifies, and
 * with one hex digit changed it fails; a built request's headers hold no
 * CR, LF or NUL, its body only percent-encoded values, and its OAuth
 * signature verifies with the public key.
 */

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "ngx_payout_core.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_payneteasy.h"
#include "ngx_payout_state.h"
#include "ngx_payout_validate.h"

#include "fuzz.h"


#define FUZZ_CONTROL  "B17F59B4-A7DC-41B4-8FF9-37D986B43D20"
#define FUZZ_REF      "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7"


typedef struct {
    void    *blocks[256];
    size_t   n;
} fuzz_mem_t;


static void *fuzz_alloc(void *data, size_t size);
static void fuzz_mem_free(fuzz_mem_t *m);
static void fuzz_check_parse(long status, const char *body, size_t len);
static void fuzz_check_event(const char *body, size_t len);
static int fuzz_verify(const char *body, size_t len);
static void fuzz_check_callback(const unsigned char *body, size_t len);
static size_t fuzz_encode(char *dst, const char *src, size_t len);
static void fuzz_check_build(const unsigned char *body, size_t len,
    unsigned mode);
static EVP_PKEY *fuzz_key(char **pem);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long    status;
    char   *body;
    size_t  len;

    static const long  statuses[] = {
        200, 201, 400, 401, 403, 404, 429, 500, 502, 0
    };

    if (size == 0) {
        return 0;
    }

    status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    len = size - 1;
    body = fuzz_strndup(data + 1, len);

    fuzz_check_parse(status, body, len);
    fuzz_check_event(body, len);
    (void) fuzz_verify(body, len);
    fuzz_check_callback((unsigned char *) body, len);

    /* signing is slow: a quarter of the inputs that ask for it */
    if ((data[0] & 0x10) && size % 4 == 0) {
        fuzz_check_build((unsigned char *) body, len, data[0]);
    }

    free(body);

    return 0;
}


static void *
fuzz_alloc(void *data, size_t size)
{
    fuzz_mem_t  *m = data;

    FUZZ_CHECK(m->n < sizeof(m->blocks) / sizeof(m->blocks[0]));
    m->blocks[m->n] = calloc(1, size);
    FUZZ_CHECK(m->blocks[m->n] != NULL);

    return m->blocks[m->n++];
}


static void
fuzz_mem_free(fuzz_mem_t *m)
{
    while (m->n) {
        free(m->blocks[--m->n]);
    }
}


static void
fuzz_check_parse(long status, const char *body, size_t len)
{
    int                   op;
    ngx_payout_answer_t   a;
    ngx_payout_result_t   res;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = body;
    a.body_len = len;

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        memset(&res, 0x5a, sizeof(res));
        ngx_payout_connector_payneteasy.parse(&acct, op, &a, &res);
        fuzz_check_result(&res);
        FUZZ_CHECK(fuzz_terminated(res.next_action,
                                   sizeof(res.next_action)));

        if (res.outcome == NGX_PAYOUT_OUTCOME_STATE) {
            FUZZ_CHECK(res.state >= 0);

        } else {
            FUZZ_CHECK(res.state == -1);
        }

        if (res.state >= 0 && (status < 200 || status >= 300)) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE);
            FUZZ_CHECK(status == 401 || status == 403);
            FUZZ_CHECK(res.state == NGX_PAYOUT_CANCELED_FAILURE);
        }

        if (res.outcome == NGX_PAYOUT_OUTCOME_NOT_FOUND) {
            FUZZ_CHECK(op == NGX_PAYOUT_OP_LOOKUP);
            FUZZ_CHECK(status >= 200 && status < 300);
        }

        if (op != NGX_PAYOUT_OP_INITIATE && op != NGX_PAYOUT_OP_LOOKUP) {
            FUZZ_CHECK(res.state == -1);
        }

        if (res.next_action[0] == '\0') {
            continue;
        }

        FUZZ_CHECK(strcmp(res.next_action, "redirect") == 0);
        FUZZ_CHECK(op == NGX_PAYOUT_OP_LOOKUP);
        FUZZ_CHECK(res.state == NGX_PAYOUT_PENDING_PROMISE);
        FUZZ_CHECK(fuzz_terminated(res.next_action_url,
                                   sizeof(res.next_action_url)));
        FUZZ_CHECK(fuzz_cstr_utf8(res.next_action_url));
        FUZZ_CHECK(strncmp(res.next_action_url, "https://", 8) == 0
                   || strncmp(res.next_action_url, "http://", 7) == 0);
        FUZZ_CHECK(strpbrk(res.next_action_url, " \"<>\r\n") == NULL);
    }
}


static void
fuzz_check_event(const char *body, size_t len)
{
    int                   rc;
    ngx_payout_hook_t     hook;
    ngx_payout_event_t    ev;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = len;

    memset(&ev, 0x5a, sizeof(ev));
    rc = ngx_payout_connector_payneteasy.event(&acct, &hook, &ev);
    fuzz_check_result(&ev.result);
    FUZZ_CHECK(fuzz_terminated(ev.reference, sizeof(ev.reference)));
    FUZZ_CHECK(fuzz_terminated(ev.key, sizeof(ev.key)));

    if (rc == NGX_PAYOUT_OK) {
        FUZZ_CHECK(ev.result.state >= 0);
        FUZZ_CHECK(!ngx_payout_state_pending(ev.result.state));
        FUZZ_CHECK(ev.result.outcome == NGX_PAYOUT_OUTCOME_STATE);
        FUZZ_CHECK(ev.follow_up == NGX_PAYOUT_FOLLOW_LOOKUP);
        FUZZ_CHECK(ev.result.gateway_id[0] != '\0');
        FUZZ_CHECK(ev.key[0] != '\0');
        FUZZ_CHECK(ev.reference[0] == '\0'
                   || ngx_payout_uuid_valid((unsigned char *) ev.reference,
                                            strlen(ev.reference)));
        FUZZ_CHECK(strpbrk(ev.reference, "ABCDEF") == NULL);

    } else {
        FUZZ_CHECK(rc == NGX_PAYOUT_DECLINED);
        FUZZ_CHECK(ev.reference[0] == '\0');
        FUZZ_CHECK(ev.key[0] == '\0');
        FUZZ_CHECK(ev.follow_up == NGX_PAYOUT_FOLLOW_NONE);
    }
}


static int
fuzz_verify(const char *body, size_t len)
{
    int                   rc;
    ngx_payout_hook_t     hook;
    ngx_payout_account_t  acct;

    memset(&acct, 0, sizeof(acct));
    acct.secret = FUZZ_CONTROL;
    acct.secret_len = sizeof(FUZZ_CONTROL) - 1;

    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = len;

    rc = ngx_payout_connector_payneteasy.verify(&acct, &hook, 0);
    FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR);

    return rc;
}


/*
 * The first three lines as status, orderid and client_orderid of a
 * callback signed here: it verifies when they fit their fields, and one
 * changed hex digit of the control never does.
 */

static void
fuzz_check_callback(const unsigned char *body, size_t len)
{
    char            *cb, *p, *cat, hex[41];
    size_t           i, n[3], size, off;
    fuzz_input_t     in;
    const uint8_t   *piece[3];
    unsigned char    md[SHA_DIGEST_LENGTH];

    static const char  *names[] = { "status=", "&orderid=",
                                    "&client_orderid=" };
    static const size_t  max[] = { 31, 64, 128 };

    in.p = body;
    in.end = body + len;

    cat = malloc(len + sizeof(FUZZ_CONTROL));
    FUZZ_CHECK(cat != NULL);
    off = 0;

    for (i = 0; i < 3; i++) {
        n[i] = fuzz_piece(&in, '\n', &piece[i]);
        memcpy(cat + off, piece[i], n[i]);
        off += n[i];
    }

    memcpy(cat + off, FUZZ_CONTROL, sizeof(FUZZ_CONTROL) - 1);
    SHA1((unsigned char *) cat, off + sizeof(FUZZ_CONTROL) - 1, md);
    free(cat);

    for (i = 0; i < SHA_DIGEST_LENGTH; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }

    size = 128 + 3 * len;
    cb = malloc(size);
    FUZZ_CHECK(cb != NULL);
    p = cb;

    for (i = 0; i < 3; i++) {
        p += sprintf(p, "%s", names[i]);
        p += fuzz_encode(p, (const char *) piece[i], n[i]);
    }

    p += sprintf(p, "&control=%s", hex);

    if (memchr(body, '\0', len) == NULL
        && n[0] <= max[0] && n[1] <= max[1] && n[2] <= max[2])
    {
        FUZZ_CHECK(fuzz_verify(cb, p - cb) == NGX_PAYOUT_OK);
    }

    p[-1] = (p[-1] == '0') ? '1' : '0';
    FUZZ_CHECK(fuzz_verify(cb, p - cb) == NGX_PAYOUT_ERROR);

    free(cb);
}


/* every byte but letters and digits as %XX: valid in any form */

static size_t
fuzz_encode(char *dst, const char *src, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if ((src[i] >= 'a' && src[i] <= 'z') || (src[i] >= '0'
                                                   && src[i] <= '9'))
        {
            dst[n++] = src[i];

        } else {
            n += sprintf(dst + n, "%%%02X", (unsigned char) src[i]);
        }
    }

    return n;
}


/* the lines of the body as a transfer, signed with a key made once */

static void
fuzz_check_build(const unsigned char *body, size_t len, unsigned mode)
{
    int                    op, rc;
    char                  *field[8], *pem, *base, *url;
    const char            *login;
    char                  *sig64, *q;
    size_t                 i, k, n;
    void                  *conf;
    EVP_PKEY              *pkey;
    EVP_MD_CTX            *ctx;
    fuzz_mem_t             m;
    fuzz_input_t           in;
    const char            *p, *h, *auth;
    const uint8_t         *piece;
    unsigned char          sig[512];
    ngx_payout_call_t      call;
    ngx_payout_account_t   acct;
    ngx_payout_transfer_t  t;

    pkey = fuzz_key(&pem);

    in.p = body;
    in.end = body + len;

    for (i = 0; i < 8; i++) {
        k = fuzz_piece(&in, '\n', &piece);
        field[i] = fuzz_strndup(piece, k);
    }

    memset(&m, 0, sizeof(m));
    memset(&acct, 0, sizeof(acct));
    acct.mem.alloc = fuzz_alloc;
    acct.mem.data = &m;
    acct.secret = FUZZ_CONTROL;
    acct.secret_len = sizeof(FUZZ_CONTROL) - 1;
    acct.url = "https://sandbox.payneteasy.com/paynet";
    acct.callback_url = (mode & 0x20) ? field[6] : NULL;

    conf = NULL;

    rc = ngx_payout_connector_payneteasy.configure(&acct.mem, &conf,
             "login", 5, field[7], strlen(field[7]));
    FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR);
    login = field[7];

    if (rc != NGX_PAYOUT_OK) {
        login = "merchantlogin";
        FUZZ_CHECK(ngx_payout_connector_payneteasy.configure(&acct.mem,
                       &conf, "login", 5, "merchantlogin", 13)
                   == NGX_PAYOUT_OK);
    }

    FUZZ_CHECK(ngx_payout_connector_payneteasy.configure(&acct.mem, &conf,
                   (mode & 0x40) ? "endpoint_group" : "endpoint",
                   (mode & 0x40) ? 14 : 8, "39915", 5)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(ngx_payout_connector_payneteasy.configure(&acct.mem, &conf,
                   "rsa_key", 7, pem, strlen(pem))
               == NGX_PAYOUT_OK);

    acct.conf = conf;

    memset(&t, 0, sizeof(t));
    t.reference = FUZZ_REF;
    t.amount = (int64_t) len * 1000003 % 100000000 + 1;
    t.currency = field[0];
    t.type = (mode & 0x80) ? NGX_PAYOUT_RECIPIENT_MOBILE
                           : NGX_PAYOUT_RECIPIENT_BANK;
    t.account_number = field[1];
    t.mobile_number = field[1];
    t.bank_code = field[2];
    t.account_name = field[3];
    t.narration = field[4];
    t.gateway_id = (mode & 8) ? field[5] : NULL;
    t.country = "NG";
    t.nonce = "abcdefghijklmnopqrstuvwxyz012345";
    t.now = 1700000000;

    for (op = NGX_PAYOUT_OP_INITIATE; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        rc = ngx_payout_connector_payneteasy.build(&acct, op, &t, &call);

        FUZZ_CHECK(rc == NGX_PAYOUT_OK || rc == NGX_PAYOUT_ERROR
                   || rc == NGX_PAYOUT_DECLINED);

        if (rc != NGX_PAYOUT_OK) {
            continue;
        }

        FUZZ_CHECK(op == NGX_PAYOUT_OP_INITIATE
                   || op == NGX_PAYOUT_OP_LOOKUP);
        FUZZ_CHECK(strcmp(call.method, "POST") == 0);
        FUZZ_CHECK(strncmp(call.path, "/api/", 5) == 0);
        FUZZ_CHECK(strpbrk(call.path, "?#%\r\n .") == NULL);

        auth = NULL;

        for (i = 0; i < call.nheaders; i++) {
            h = call.headers[i];
            FUZZ_CHECK(strpbrk(h, "\r\n") == NULL);

            if (strncmp(h, "Authorization: ", 15) == 0) {
                auth = h + 15;
            }
        }

        FUZZ_CHECK(call.body && strlen(call.body) == call.body_len);

        for (p = call.body; *p; p++) {
            FUZZ_CHECK(strchr("&=%-._~", *p)
                       || (*p >= 'a' && *p <= 'z')
                       || (*p >= 'A' && *p <= 'Z')
                       || (*p >= '0' && *p <= '9'));
        }

        if (op == NGX_PAYOUT_OP_LOOKUP) {
            FUZZ_CHECK(auth == NULL);
            continue;
        }

        /* the signature, percent-decoded, verifies over the base string */
        FUZZ_CHECK(auth != NULL);
        p = strstr(auth, "oauth_signature=\"");
        FUZZ_CHECK(p != NULL);
        p += 17;
        sig64 = malloc(strlen(p) + 1);
        FUZZ_CHECK(sig64 != NULL);

        for (q = sig64; *p != '"'; p++) {
            if (*p == '%') {
                *q++ = (char) (ngx_payout_hex_value(p[1]) << 4
                               | ngx_payout_hex_value(p[2]));
                p += 2;

            } else {
                *q++ = *p;
            }
        }

        *q = '\0';

        n = EVP_DecodeBlock(sig, (unsigned char *) sig64, strlen(sig64));
        FUZZ_CHECK(n == 258);

        url = fuzz_alloc(&m, strlen(acct.url) + strlen(call.path) + 1);
        strcpy(url, acct.url);
        strcat(url, call.path);

        base = ngx_payout_payneteasy_base_string(&acct.mem, url, call.body,
                   call.body_len, login, t.nonce, t.now);
        FUZZ_CHECK(base != NULL);

        ctx = EVP_MD_CTX_new();
        FUZZ_CHECK(ctx != NULL);
        FUZZ_CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey)
                   == 1);
        FUZZ_CHECK(EVP_DigestVerify(ctx, sig, 256, (unsigned char *) base,
                                    strlen(base))
                   == 1);
        EVP_MD_CTX_free(ctx);
        free(sig64);
    }

    fuzz_mem_free(&m);

    for (i = 0; i < 8; i++) {
        free(field[i]);
    }
}


/* an RSA 2048 key, made on the first call and kept */

static EVP_PKEY *
fuzz_key(char **pem)
{
    BIO      *bio;
    char     *data;
    long      len;

    static EVP_PKEY  *pkey;
    static char      *text;

    if (pkey == NULL) {
        pkey = EVP_RSA_gen(2048);
        FUZZ_CHECK(pkey != NULL);

        bio = BIO_new(BIO_s_mem());
        FUZZ_CHECK(bio != NULL);
        FUZZ_CHECK(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
                                            NULL)
                   == 1);
        len = BIO_get_mem_data(bio, &data);
        text = fuzz_strndup(data, (size_t) len);
        BIO_free(bio);
    }

    *pem = text;

    return pkey;
}
