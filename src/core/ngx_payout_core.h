/*
 * The payout core: plain C with no nginx headers, so it can be unit-tested
 * and fuzzed on its own.  It depends only on libc, OpenSSL and jansson.
 */

#ifndef NGX_PAYOUT_CORE_H_INCLUDED_
#define NGX_PAYOUT_CORE_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>


#define NGX_PAYOUT_OK        0
#define NGX_PAYOUT_ERROR    -1


/* API keys: "sk_test_" or "sk_live_" followed by 40 base62 characters */

#define NGX_PAYOUT_KEY_MODE_TEST     0
#define NGX_PAYOUT_KEY_MODE_LIVE     1

#define NGX_PAYOUT_KEY_TAG_LEN       8
#define NGX_PAYOUT_KEY_RANDOM_LEN    40
#define NGX_PAYOUT_KEY_LEN           (NGX_PAYOUT_KEY_TAG_LEN                 \
                                      + NGX_PAYOUT_KEY_RANDOM_LEN)
/* the non-secret part we look a key up by and show to operators */
#define NGX_PAYOUT_KEY_PREFIX_LEN    16
#define NGX_PAYOUT_KEY_HASH_LEN      32


int ngx_payout_apikey_generate(int mode, char *out, size_t size);
int ngx_payout_apikey_parse(const unsigned char *key, size_t len, int *mode);
void ngx_payout_apikey_hash(const unsigned char *key, size_t len,
    unsigned char *hash);
int ngx_payout_apikey_hash_equal(const unsigned char *a,
    const unsigned char *b);


/* hex helpers */

void ngx_payout_hex_encode(const unsigned char *src, size_t len, char *dst);
int ngx_payout_hex_decode(const char *src, size_t len, unsigned char *dst);
int ngx_payout_hex_value(unsigned char c);


/* UUIDs in their canonical 36-character text form */

int ngx_payout_uuid_valid(const unsigned char *s, size_t len);


/* addresses the webhook client must not reach (SSRF guard) */

struct sockaddr;

int ngx_payout_addr_is_private(const struct sockaddr *sa);


/* query strings */

size_t ngx_payout_url_decode(const unsigned char *src, size_t len,
    unsigned char *dst);


/* list pagination (nestjs-paginate's limit, page and sortBy) */

#define NGX_PAYOUT_LIST_DEFAULT_LIMIT  50
#define NGX_PAYOUT_LIST_MAX_LIMIT      1000

/* as many sort keys as there are sortable columns: each sorts once */
#define NGX_PAYOUT_LIST_MAX_SORT       3

typedef struct {
    const char   *column;         /* whitelisted column name */
    int           desc;
} ngx_payout_sort_t;

typedef struct {
    long                limit;
    long                page;
    int                 nsort;
    ngx_payout_sort_t   sort[NGX_PAYOUT_LIST_MAX_SORT];
} ngx_payout_page_t;

int ngx_payout_parse_long(const unsigned char *s, size_t len, long min,
    long max, long *out);

/*
 * Appends one "column:ASC|DESC" to page->sort; an unknown column or
 * direction, or a column already sorted by, is NGX_PAYOUT_ERROR and
 * leaves the page as it was.
 */
int ngx_payout_page_parse_sort(const unsigned char *s, size_t len,
    ngx_payout_page_t *page);

/*
 * Client text for a message or an error's field: printable ASCII, the rest
 * as "?", cut at NGX_PAYOUT_QUERY_QUOTE_LEN bytes with "...", NUL-terminated;
 * size is at least NGX_PAYOUT_QUERY_QUOTE_LEN + 4 for the whole quote.
 */
#define NGX_PAYOUT_QUERY_QUOTE_LEN     40

void ngx_payout_query_quote(char *dst, size_t size, const char *s,
    size_t len);


/* JSON error bodies: {"error":{"code":...,"message":...,"field":...}} */

char *ngx_payout_json_error(const char *code, const char *message,
    const char *field, size_t *len);
const char *ngx_payout_error_code_for_status(int status);
const char *ngx_payout_error_message_for_status(int status);


/* strict JSON request bodies */

json_t *ngx_payout_json_parse_body(const unsigned char *buf, size_t len,
    char *err, size_t err_size);


#endif /* NGX_PAYOUT_CORE_H_INCLUDED_ */
