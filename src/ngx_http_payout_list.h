/*
 * The list engine shared by GET /payouts and GET /payout-recipients: the
 * nestjs-paginate grammar over a resource's whitelists, one round trip
 * for the page and its count, and {data, meta, links} around the rows
 * PostgreSQL renders as JSON.
 */

#ifndef NGX_HTTP_PAYOUT_LIST_H_INCLUDED_
#define NGX_HTTP_PAYOUT_LIST_H_INCLUDED_


#include "ngx_http_payout.h"
#include "core/ngx_payout_filter.h"


/* what differs between the lists of payouts and of recipients */
typedef struct {
    const char                        *table;     /* FROM <table> p */
    const char                        *json;      /* <json>(p) per row */
    const ngx_payout_filter_column_t  *filters;
    const ngx_payout_filter_column_t  *searchable;
    const char *const                 *selectable;    /* keys of <json> */
    const char                        *select_hint;   /* for errors */
    unsigned                           amount:1;  /* sortable by amount */
} ngx_http_payout_list_def_t;


ngx_int_t ngx_http_payout_list(ngx_http_request_t *r,
    ngx_http_payout_ctx_t *ctx, const ngx_http_payout_list_def_t *def);


#endif /* NGX_HTTP_PAYOUT_LIST_H_INCLUDED_ */
