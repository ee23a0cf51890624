/*
 * The payout-link page's default files (html/payout/), compiled in: the
 * config script generates their table in the build tree.
 */

#ifndef NGX_HTTP_PAYOUT_PAGE_HTML_H_INCLUDED_
#define NGX_HTTP_PAYOUT_PAGE_HTML_H_INCLUDED_

#include <stddef.h>


typedef struct {
    const char           *name;       /* "form.html"; NULL ends the table */
    const unsigned char  *data;       /* NUL-terminated */
    size_t                len;
} ngx_http_payout_page_file_t;


extern const ngx_http_payout_page_file_t  ngx_http_payout_page_files[];


#endif /* NGX_HTTP_PAYOUT_PAGE_HTML_H_INCLUDED_ */
