/*
 * Enrollment: ENROLL through the bridge, then the code on the recipient.
 * (First cut: the API only; no connector is called yet.)
 */

#include "ngx_http_payout_enroll.h"


ngx_int_t
ngx_http_payout_enroll_start(ngx_http_payout_enroll_t *e)
{
    (void) e;

    return NGX_DECLINED;
}
