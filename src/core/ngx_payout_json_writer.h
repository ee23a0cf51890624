/*
 * JSON written as text, for the hot paths that render database rows
 * (a payout, a page of them) without building jansson objects: a JSON
 * value per call.  Three ways to use a writer:
 *
 *   p NULL               only counts, in len;
 *   p set, grow NULL     writes at p, whose room the caller made for
 *                        what a counting run counted (same input);
 *   p set, grow set      writes at p while size allows, and calls grow
 *                        for more room (one pass; grow may move p).
 */

#ifndef NGX_PAYOUT_JSON_WRITER_H_INCLUDED_
#define NGX_PAYOUT_JSON_WRITER_H_INCLUDED_

#include <stddef.h>
#include <stdint.h>


typedef struct ngx_payout_json_writer_s  ngx_payout_json_writer_t;

/* room for at least need more bytes after len: 0, or -1 (no memory) */
typedef int (*ngx_payout_json_grow_pt)(ngx_payout_json_writer_t *w,
    size_t need);

struct ngx_payout_json_writer_s {
    unsigned char            *p;        /* NULL: count only */
    size_t                    len;      /* bytes written (or counted) */
    size_t                    size;     /* room at p, with grow */
    ngx_payout_json_grow_pt   grow;
    void                     *data;     /* grow's */
    int                       failed;   /* grow failed: text incomplete */
};


/* bytes as they are: punctuation, or a key already quoted */
void ngx_payout_jw_raw(ngx_payout_json_writer_t *w, const char *s,
    size_t len);

/*
 * A JSON string: quoted, with '"', '\\' and control characters escaped
 * as jansson's json_dumpb() escapes them.  Bytes that are not valid
 * UTF-8 each become U+FFFD, so the text is always valid JSON.
 */
void ngx_payout_jw_string(ngx_payout_json_writer_t *w, const char *s,
    size_t len);

void ngx_payout_jw_int(ngx_payout_json_writer_t *w, int64_t v);

/*
 * JSON text that is already valid (PostgreSQL's output of jsonb or
 * to_json()), without the white space between its tokens, as jansson's
 * JSON_COMPACT prints it.  Strings are copied as they are.
 */
void ngx_payout_jw_compact(ngx_payout_json_writer_t *w, const char *s,
    size_t len);


#endif /* NGX_PAYOUT_JSON_WRITER_H_INCLUDED_ */
