/*
 * The payout-link page's templates: a small language compiled once, at
 * configuration time, and rendered per request.
 *
 *   {{name}}                  the value, always HTML-escaped
 *   {{#if name}} ... {{else}} ... {{/if}}      set and not empty
 *   {{#unless name}} ... {{else}} ... {{/unless}}
 *   {{! a comment }}
 *
 * There is no unescaped form ({{{name}}} and {{&name}} are compile
 * errors), so a template cannot print input as markup.  Names come from
 * the caller's list: an unknown one is a compile error, not an empty
 * string at run time.
 */

#ifndef NGX_PAYOUT_TEMPLATE_H_INCLUDED_
#define NGX_PAYOUT_TEMPLATE_H_INCLUDED_

#include "ngx_payout_core.h"


#define NGX_PAYOUT_TEMPLATE_NAME_MAX  32   /* [a-z0-9_] */
#define NGX_PAYOUT_TEMPLATE_DEPTH     8    /* nested sections */
#define NGX_PAYOUT_TEMPLATE_MAX       (256 * 1024)   /* source bytes */


typedef struct ngx_payout_template_s  ngx_payout_template_t;

typedef struct {
    unsigned   line;                 /* 1-based, of the offending tag */
    char       reason[160];
} ngx_payout_template_error_t;

/*
 * The value of names[index] for this rendering, and its length in *len;
 * NULL when it has none.  "if" is true for a value of at least one byte.
 */
typedef const char *(*ngx_payout_template_value_pt)(void *data,
    unsigned index, size_t *len);

/* the output, in pieces: NGX_PAYOUT_OK, or NGX_PAYOUT_ERROR to stop */
typedef int (*ngx_payout_template_write_pt)(void *data, const char *p,
    size_t len);


/*
 * names: NULL-terminated, the values a template may use; they must
 * outlive the template.  NULL and err filled in on a syntax error (or
 * err->line 0 when out of memory).
 */
ngx_payout_template_t *ngx_payout_template_compile(const char *src,
    size_t len, const char *const *names, ngx_payout_template_error_t *err);
void ngx_payout_template_free(ngx_payout_template_t *t);

/* NGX_PAYOUT_ERROR only when write refused */
int ngx_payout_template_render(const ngx_payout_template_t *t,
    ngx_payout_template_value_pt value, void *vdata,
    ngx_payout_template_write_pt write, void *wdata);

/* does the template use names[index] (e.g. to skip work it needs)? */
int ngx_payout_template_uses(const ngx_payout_template_t *t,
    unsigned index);

/*
 * & < > " ' as entities: writes the escaped src into dst (which has room
 * for the returned length, at most 6 * len) unless dst is NULL; returns
 * the escaped length.
 */
size_t ngx_payout_html_escape(char *dst, const char *src, size_t len);

/*
 * An amount in minor units as people read it, with the currency's
 * exponent and thousands separators: "NGN 2,500.00", "JPY 1,000".
 * Returns the length written into buf (NUL-terminated), 0 if it does
 * not fit.
 */
size_t ngx_payout_money_format(char *buf, size_t size, int64_t amount,
    int exponent, const char *currency);


#endif /* NGX_PAYOUT_TEMPLATE_H_INCLUDED_ */
