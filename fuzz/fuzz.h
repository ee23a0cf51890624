/*
 * What every libFuzzer target shares: invariant checks that abort() with
 * a message (libFuzzer then keeps the input as a crash), and independent
 * re-implementations of what the core computes, so a target compares the
 * core against something that does not share its bugs.
 */

#ifndef NGX_PAYOUT_FUZZ_H_INCLUDED_
#define NGX_PAYOUT_FUZZ_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,       \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* a reader over the fuzz input: pieces separated by a byte, or counts */

typedef struct {
    const uint8_t  *p;
    const uint8_t  *end;
} fuzz_input_t;


/* the next piece up to (not including) sep, or the rest */

static inline size_t
fuzz_piece(fuzz_input_t *in, int sep, const uint8_t **piece)
{
    const uint8_t  *q;
    size_t          len;

    *piece = in->p;

    q = memchr(in->p, sep, (size_t) (in->end - in->p));

    if (q == NULL) {
        len = (size_t) (in->end - in->p);
        in->p = in->end;
        return len;
    }

    len = (size_t) (q - in->p);
    in->p = q + 1;

    return len;
}


static inline unsigned
fuzz_byte(fuzz_input_t *in)
{
    return in->p < in->end ? *in->p++ : 0;
}


/* a NUL-terminated malloc'd copy */

static inline char *
fuzz_strndup(const void *s, size_t len)
{
    char  *d;

    d = malloc(len + 1);
    FUZZ_CHECK(d != NULL);

    memcpy(d, s, len);
    d[len] = '\0';

    return d;
}


/* well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates */

static inline int
fuzz_utf8_valid(const unsigned char *s, size_t len)
{
    size_t    i, n, k;
    uint32_t  c;

    for (i = 0; i < len; i += n) {
        c = s[i];

        if (c < 0x80) {
            n = 1;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            c &= 0x1f;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            c &= 0x0f;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            c &= 0x07;

        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (s[i + k] & 0x3f);
        }

        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000)
            || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        {
            return 0;
        }
    }

    return 1;
}


static inline int
fuzz_cstr_utf8(const char *s)
{
    return fuzz_utf8_valid((const unsigned char *) s, strlen(s));
}


/* a NUL-terminated string within size bytes */

static inline int
fuzz_terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}


#ifdef NGX_PAYOUT_CORE_H_INCLUDED_

/* a strictly parsed body, serialised and parsed again: the same JSON */

static inline json_t *
fuzz_reparse(json_t *body)
{
    char    *text, msg[512];
    json_t  *again;

    text = json_dumps(body, JSON_COMPACT);
    FUZZ_CHECK(text != NULL);
    again = ngx_payout_json_parse_body((unsigned char *) text, strlen(text),
                                       msg, sizeof(msg));
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(json_equal(body, again));
    free(text);

    return again;
}

#endif


#ifdef NGX_PAYOUT_CONNECTOR_H_INCLUDED_

/*
 * A connector's result: a known state or -1, and provider strings that
 * are NUL-terminated, valid UTF-8 (PostgreSQL refuses anything else) and
 * no longer than their buffers.
 */

static inline void
fuzz_check_result(const ngx_payout_result_t *res)
{
    FUZZ_CHECK(res->state >= -1 && res->state < NGX_PAYOUT_NSTATES);
    FUZZ_CHECK(fuzz_terminated(res->gateway_id, sizeof(res->gateway_id)));
    FUZZ_CHECK(fuzz_terminated(res->reason, sizeof(res->reason)));
    FUZZ_CHECK(fuzz_cstr_utf8(res->gateway_id));
    FUZZ_CHECK(fuzz_cstr_utf8(res->reason));
}

#endif


#ifdef OPENSSL_HMAC_H

/*
 * "t=<t>,v1=<hex HMAC-SHA256(key, t.body)>", the scheme of Stripe and of
 * the sandbox, with OpenSSL's one-shot HMAC(); want has room for the
 * header (at most 20 + 70 characters and the NUL).
 */

static inline void
fuzz_tv1_header(const void *key, size_t key_len, long t,
    const unsigned char *body, size_t len, char *want, size_t size)
{
    char            head[32];
    size_t          i, hn;
    unsigned int    mac_len;
    unsigned char   mac[EVP_MAX_MD_SIZE], *msg;

    hn = (size_t) snprintf(head, sizeof(head), "%ld.", t);
    msg = malloc(hn + len + 1);
    FUZZ_CHECK(msg != NULL);
    memcpy(msg, head, hn);
    memcpy(msg + hn, body, len);
    FUZZ_CHECK(HMAC(EVP_sha256(), key, (int) key_len, msg, hn + len, mac,
                    &mac_len)
               != NULL);
    free(msg);

    hn = (size_t) snprintf(want, size, "t=%ld,v1=", t);
    FUZZ_CHECK(hn + 65 <= size);

    for (i = 0; i < 32; i++) {
        snprintf(want + hn + 2 * i, 3, "%02x", mac[i]);
    }
}

#endif


/* standard base64 with padding, written out here rather than OpenSSL's */

static const char  fuzz_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


/* dst has room for 4 * ((len + 2) / 3) + 1 bytes; returns the length */

static inline size_t
fuzz_base64_encode(const unsigned char *src, size_t len, char *dst)
{
    size_t    i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i < len; i += 3) {
        v = (uint32_t) src[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) src[i + 1] << 8;
        }

        if (i + 2 < len) {
            v |= src[i + 2];
        }

        dst[n++] = fuzz_b64[v >> 18 & 63];
        dst[n++] = fuzz_b64[v >> 12 & 63];
        dst[n++] = i + 1 < len ? fuzz_b64[v >> 6 & 63] : '=';
        dst[n++] = i + 2 < len ? fuzz_b64[v & 63] : '=';
    }

    dst[n] = '\0';

    return n;
}


/*
 * Strict decoding: a multiple of 4 characters of the alphabet, "=" only
 * as one or two final padding characters; dst has room for len / 4 * 3.
 * Returns the decoded length, or -1.
 */

static inline long
fuzz_base64_decode(const char *src, size_t len, unsigned char *dst)
{
    int          k, pad;
    size_t       i, n;
    uint32_t     v;
    const char  *c;

    if (len % 4) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i += 4) {
        v = 0;
        pad = 0;

        for (k = 0; k < 4; k++) {
            if (src[i + k] == '=' && i + 4 == len && k >= 2) {
                pad++;
                v <<= 6;
                continue;
            }

            c = src[i + k] ? strchr(fuzz_b64, src[i + k]) : NULL;

            if (c == NULL || pad) {
                return -1;
            }

            v = v << 6 | (uint32_t) (c - fuzz_b64);
        }

        dst[n++] = (unsigned char) (v >> 16);

        if (pad < 2) {
            dst[n++] = (unsigned char) (v >> 8);
        }

        if (pad < 1) {
            dst[n++] = (unsigned char) v;
        }
    }

    return (long) n;
}


#endif /* NGX_PAYOUT_FUZZ_H_INCLUDED_ */
