/*
 * Text that leaves the module: strings cut to a column's size, which
 * PostgreSQL takes only as valid UTF-8, and strings written to the log,
 * which must carry no secret.
 */

#ifndef NGX_PAYOUT_TEXT_H_INCLUDED_
#define NGX_PAYOUT_TEXT_H_INCLUDED_

#include "ngx_payout_core.h"


/*
 * Copies src[0 .. len) into dst, NUL-terminated, in at most size - 1
 * bytes, cutting only between characters.  A byte that does not start a
 * well-formed UTF-8 sequence (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF), and NUL, becomes '?'; a sequence that the
 * end of src cuts short (someone else's truncation) is dropped.  The
 * result is never longer than src, so dst may be src.  Returns its
 * length.
 */
size_t ngx_payout_utf8_cut(char *dst, size_t size, const char *src,
    size_t len);

/* the same check without copying: is all of s valid UTF-8 without NUL? */
int ngx_payout_utf8_valid(const char *s, size_t len);

/*
 * A URL as it may be logged: scheme, host, port and path only.  The
 * userinfo (credentials), query and fragment (tokens) are left out.
 */
size_t ngx_payout_url_redact(char *dst, size_t size, const char *url);

/*
 * A database error message as it may be logged: its first line, up to
 * the first ": ", with what is between double quotes hidden; PostgreSQL
 * quotes the offending value in data errors ("invalid input syntax for
 * type uuid: \"...\"").
 */
size_t ngx_payout_redact_values(char *dst, size_t size, const char *msg);


#endif /* NGX_PAYOUT_TEXT_H_INCLUDED_ */
