/*
 * The skeleton of a periodic background job in a worker (the webhook
 * deliverer, and next the reconciler and the sandbox's event sender): a
 * cancelable timer re-armed first with random jitter, wake-ups between
 * ticks, one claim at a time, a cap on the work in flight, and nothing
 * new once the worker is exiting.
 *
 * A job's claim function asks for up to ngx_http_payout_job_room() items
 * and calls ngx_http_payout_job_claimed() when its answer is in; each
 * item started is counted with ngx_http_payout_job_started() and ended
 * with ngx_http_payout_job_done().  A batch job (the reconciler) claims
 * only from its timer, and only once the previous batch is all done.
 */

#ifndef NGX_HTTP_PAYOUT_JOB_H_INCLUDED_
#define NGX_HTTP_PAYOUT_JOB_H_INCLUDED_


#include "ngx_http_payout.h"


typedef struct ngx_http_payout_job_s  ngx_http_payout_job_t;

/* NGX_OK: a claim is under way; anything else: none was started */
typedef ngx_int_t (*ngx_http_payout_job_claim_pt)(ngx_http_payout_job_t *job,
    ngx_uint_t room);


struct ngx_http_payout_job_s {
    const char                     *name;         /* "webhook deliverer" */
    ngx_msec_t                      interval;
    ngx_msec_t                      jitter;       /* at most, per wait */
    ngx_uint_t                      max_inflight;
    /* one batch at a time: claim again only when the last is all done */
    unsigned                        batch:1;
    ngx_http_payout_job_claim_pt    claim;
    void                           *data;

    ngx_event_t                     timer;
    ngx_log_t                       log;
    ngx_uint_t                      inflight;
    unsigned                        claiming:1;
    unsigned                        again:1;
};


ngx_int_t ngx_http_payout_job_start(ngx_cycle_t *cycle,
    ngx_http_payout_job_t *job);
void ngx_http_payout_job_stop(ngx_http_payout_job_t *job);
void ngx_http_payout_job_wake(ngx_http_payout_job_t *job);
void ngx_http_payout_job_claimed(ngx_http_payout_job_t *job, ngx_uint_t n);
void ngx_http_payout_job_started(ngx_http_payout_job_t *job);
void ngx_http_payout_job_done(ngx_http_payout_job_t *job);


#endif /* NGX_HTTP_PAYOUT_JOB_H_INCLUDED_ */
