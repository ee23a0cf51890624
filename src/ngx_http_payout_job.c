/*
 * Periodic background jobs (see ngx_http_payout_job.h).  The timer is
 * re-armed before the tick runs, so a tick that fails never stops the
 * job; jitter spreads the workers of many nodes that started together.
 */

#include "ngx_http_payout_job.h"


static void ngx_http_payout_job_timer(ngx_event_t *ev);
static void ngx_http_payout_job_arm(ngx_http_payout_job_t *job);
static ngx_uint_t ngx_http_payout_job_stopping(void);


ngx_int_t
ngx_http_payout_job_start(ngx_cycle_t *cycle, ngx_http_payout_job_t *job)
{
    job->log = *cycle->log;
    job->log.action = (char *) job->name;

    job->timer.handler = ngx_http_payout_job_timer;
    job->timer.data = job;
    job->timer.log = &job->log;
    job->timer.cancelable = 1;

    ngx_http_payout_job_arm(job);

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &job->log, 0,
                   "payout job \"%s\" started, interval %M",
                   job->name, job->interval);

    return NGX_OK;
}


void
ngx_http_payout_job_stop(ngx_http_payout_job_t *job)
{
    if (job->timer.timer_set) {
        ngx_del_timer(&job->timer);
    }
}


/* claim now: from the timer, a NOTIFY, or an item that just finished */

void
ngx_http_payout_job_wake(ngx_http_payout_job_t *job)
{
    ngx_uint_t  room;

    if (ngx_http_payout_job_stopping()) {
        return;
    }

    if (job->batch && (job->claiming || job->inflight)) {
        return;
    }

    /* one claim at a time; a wake-up meanwhile claims again after it */
    if (job->claiming) {
        job->again = 1;
        return;
    }

    room = job->inflight < job->max_inflight
           ? job->max_inflight - job->inflight : 0;

    if (room == 0) {
        job->again = 1;
        return;
    }

    job->again = 0;

    if (job->claim(job, room) != NGX_OK) {
        /* no database now, say: the timer tries again */
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &job->log, 0,
                   "payout job \"%s\" claiming up to %ui",
                   job->name, room);

    job->claiming = 1;
}


void
ngx_http_payout_job_claimed(ngx_http_payout_job_t *job, ngx_uint_t n)
{
    job->claiming = 0;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, &job->log, 0,
                   "payout job \"%s\" claimed %ui, %ui in flight",
                   job->name, n, job->inflight);

    if (job->batch) {
        return;
    }

    /* more may be due: a full batch, or a wake-up during the claim */
    if (job->again || (n > 0 && job->inflight < job->max_inflight)) {
        ngx_http_payout_job_wake(job);
    }
}


void
ngx_http_payout_job_started(ngx_http_payout_job_t *job)
{
    job->inflight++;
}


void
ngx_http_payout_job_done(ngx_http_payout_job_t *job)
{
    job->inflight--;

    if (job->batch) {
        return;
    }

    /* the item's successor (the next event of a payout) may be due now */
    ngx_http_payout_job_wake(job);
}


static void
ngx_http_payout_job_timer(ngx_event_t *ev)
{
    ngx_http_payout_job_t  *job;

    job = ev->data;

    if (ngx_http_payout_job_stopping()) {
        return;
    }

    ngx_http_payout_job_arm(job);
    ngx_http_payout_job_wake(job);
}


static void
ngx_http_payout_job_arm(ngx_http_payout_job_t *job)
{
    ngx_msec_t  wait;

    wait = job->interval;

    if (job->jitter) {
        wait += (ngx_msec_t) ngx_random() % (job->jitter + 1);
    }

    ngx_add_timer(&job->timer, wait);
}


static ngx_uint_t
ngx_http_payout_job_stopping(void)
{
    return ngx_exiting || ngx_quit || ngx_terminate;
}
