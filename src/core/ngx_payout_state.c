/*
 * The payout state machine.  Final states never change, except success,
 * which a provider may still reverse.  A payout never moves backwards:
 * duplicate or late events simply find no allowed transition.
 */

#include <string.h>
#include <stdio.h>

#include "ngx_payout_state.h"


#define S(x)  (1u << NGX_PAYOUT_ ## x)


typedef int (*ngx_payout_state_pred_pt)(ngx_payout_state_e from,
    ngx_payout_state_e to);

static size_t ngx_payout_state_list(ngx_payout_state_e to,
    ngx_payout_state_pred_pt pred, char *buf, size_t size);


static const char  *ngx_payout_state_names[NGX_PAYOUT_NSTATES] = {
    "pending_staged",
    "pending_created",
    "pending_promise",
    "success",
    "canceled_failure",
    "canceled_rejected",
    "canceled_timeout",
    "canceled_voided",
    "canceled_reversed",
};


/* for each state, the set of states it may move to */
static const unsigned  ngx_payout_state_next[NGX_PAYOUT_NSTATES] = {

    /* staged: sent by transfer, or voided before it ever left */
    S(PENDING_CREATED) | S(CANCELED_VOIDED),

    /* created: the provider's first answer, or the reconciler's */
    S(PENDING_PROMISE) | S(SUCCESS) | S(CANCELED_FAILURE)
    | S(CANCELED_REJECTED) | S(CANCELED_TIMEOUT) | S(CANCELED_VOIDED),

    /* promise: in flight at the provider */
    S(SUCCESS) | S(CANCELED_FAILURE) | S(CANCELED_REJECTED)
    | S(CANCELED_TIMEOUT) | S(CANCELED_VOIDED),

    /* success: only a reversal remains possible */
    S(CANCELED_REVERSED),

    0, 0, 0, 0, 0
};


int
ngx_payout_state_parse(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < NGX_PAYOUT_NSTATES; i++) {
        if (strlen(ngx_payout_state_names[i]) == len
            && memcmp(ngx_payout_state_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
ngx_payout_state_name(ngx_payout_state_e s)
{
    return ngx_payout_state_names[s];
}


const char *
ngx_payout_state_status(ngx_payout_state_e s)
{
    if (ngx_payout_state_pending(s)) {
        return "pending";
    }

    return s == NGX_PAYOUT_SUCCESS ? "success" : "canceled";
}


int
ngx_payout_state_pending(ngx_payout_state_e s)
{
    return s <= NGX_PAYOUT_PENDING_PROMISE;
}


int
ngx_payout_state_final(ngx_payout_state_e s)
{
    return ngx_payout_state_next[s] == 0;
}


int
ngx_payout_state_allowed(ngx_payout_state_e from, ngx_payout_state_e to)
{
    return (ngx_payout_state_next[from] & (1u << to)) != 0;
}


int
ngx_payout_state_implied(ngx_payout_state_e from, ngx_payout_state_e to)
{
    int       i;
    unsigned  reach, next;

    if (from == NGX_PAYOUT_PENDING_STAGED) {
        return 0;
    }

    /* the states reachable from "from" in one or more steps */
    reach = ngx_payout_state_next[from];

    for ( ;; ) {
        next = reach;

        for (i = 0; i < NGX_PAYOUT_NSTATES; i++) {
            if (reach & (1u << i)) {
                next |= ngx_payout_state_next[i];
            }
        }

        if (next == reach) {
            break;
        }

        reach = next;
    }

    return (reach & (1u << to)) != 0;
}


ngx_payout_state_e
ngx_payout_state_provider_word(ngx_payout_state_e current,
    ngx_payout_state_e said, int fails_after_paid)
{
    if (fails_after_paid
        && current == NGX_PAYOUT_SUCCESS
        && said == NGX_PAYOUT_CANCELED_FAILURE)
    {
        return NGX_PAYOUT_CANCELED_REVERSED;
    }

    return said;
}


size_t
ngx_payout_state_sources(ngx_payout_state_e to, char *buf, size_t size)
{
    return ngx_payout_state_list(to, ngx_payout_state_allowed, buf, size);
}


size_t
ngx_payout_state_event_sources(ngx_payout_state_e to, char *buf,
    size_t size)
{
    return ngx_payout_state_list(to, ngx_payout_state_implied, buf, size);
}


/* the states pred() lets move to "to", as a PostgreSQL array literal */

static size_t
ngx_payout_state_list(ngx_payout_state_e to, ngx_payout_state_pred_pt pred,
    char *buf, size_t size)
{
    int     i, n;
    size_t  len;

    len = 0;
    n = snprintf(buf, size, "{");

    for (i = 0; i < NGX_PAYOUT_NSTATES && n > 0; i++) {
        if (!pred(i, to)) {
            continue;
        }

        len += n;
        n = snprintf(buf + len, size - len, "%s%s", len > 1 ? "," : "",
                     ngx_payout_state_names[i]);

        if ((size_t) n >= size - len) {
            return 0;
        }
    }

    len += n;
    n = snprintf(buf + len, size - len, "}");

    if (n < 0 || (size_t) n >= size - len) {
        return 0;
    }

    return len + n;
}
