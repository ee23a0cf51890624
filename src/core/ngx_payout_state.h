/*
 * The payout state machine (SPEC §6): one table decides every transition,
 * whatever its source (API, provider answer, webhook, reconciler).
 */

#ifndef NGX_PAYOUT_STATE_H_INCLUDED_
#define NGX_PAYOUT_STATE_H_INCLUDED_

#include "ngx_payout_core.h"


typedef enum {
    NGX_PAYOUT_PENDING_STAGED = 0,
    NGX_PAYOUT_PENDING_CREATED,
    NGX_PAYOUT_PENDING_PROMISE,
    NGX_PAYOUT_SUCCESS,
    NGX_PAYOUT_CANCELED_FAILURE,
    NGX_PAYOUT_CANCELED_REJECTED,
    NGX_PAYOUT_CANCELED_TIMEOUT,
    NGX_PAYOUT_CANCELED_VOIDED,
    NGX_PAYOUT_CANCELED_REVERSED,
    NGX_PAYOUT_NSTATES
} ngx_payout_state_e;


/* "pending_promise" -> NGX_PAYOUT_PENDING_PROMISE, or -1 */
int ngx_payout_state_parse(const char *name, size_t len);
const char *ngx_payout_state_name(ngx_payout_state_e s);
/* "pending", "success" or "canceled" */
const char *ngx_payout_state_status(ngx_payout_state_e s);
/* staged, created or promised: not yet success or canceled */
int ngx_payout_state_pending(ngx_payout_state_e s);
int ngx_payout_state_final(ngx_payout_state_e s);

/* may a payout in "from" move to "to"? */
int ngx_payout_state_allowed(ngx_payout_state_e from, ngx_payout_state_e to);

/*
 * The states "to" may be reached from, as a PostgreSQL text array literal
 * ("{pending_created,pending_promise}"), for an UPDATE ... WHERE
 * sub_status = ANY($n) that applies the transition atomically.
 */
size_t ngx_payout_state_sources(ngx_payout_state_e to, char *buf,
    size_t size);

/*
 * A provider's word that a payout is in "to" (its webhook, the
 * reconciler's question, the answer to a send or a cancel) applies from
 * every state "to" can be reached from, for it implies the steps between
 * (a reversal implies the success before it); never to a staged payout,
 * which no provider has seen.
 */
int ngx_payout_state_implied(ngx_payout_state_e from, ngx_payout_state_e to);
size_t ngx_payout_state_event_sources(ngx_payout_state_e to, char *buf,
    size_t size);

/*
 * The state a provider's word "said" applies as, for a payout stored in
 * "current".  Where a failure may follow a payment (fails_after_paid:
 * Stripe's paid -> failed, the bank sent the money back), a failure of a
 * payout already at success is its reversal (SPEC §6); elsewhere it is a
 * late event, which the transition's from-list ignores.  Any other word
 * is itself.
 */
ngx_payout_state_e ngx_payout_state_provider_word(ngx_payout_state_e current,
    ngx_payout_state_e said, int fails_after_paid);


#endif /* NGX_PAYOUT_STATE_H_INCLUDED_ */
