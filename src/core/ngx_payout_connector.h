/*
 * What every connector speaks: a transfer instruction in, a normalised
 * result out.  Connectors build provider requests and parse provider
 * answers; they do no I/O.
 */

#ifndef NGX_PAYOUT_CONNECTOR_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_H_INCLUDED_

#include "ngx_payout_core.h"
#include "ngx_payout_state.h"


typedef struct {
    const char   *reference;          /* our payout uuid: idempotency */
    int64_t       amount;
    const char   *currency;
    int           type;               /* NGX_PAYOUT_RECIPIENT_* */
    const char   *account_number;
    const char   *bank_code;
    const char   *account_name;
    const char   *mobile_number;
    const char   *provider;
    const char   *narration;
} ngx_payout_transfer_t;


typedef struct {
    /* the state the provider says the payout is in; -1: unknown */
    int           state;
    char          gateway_id[128];
    char          reason[160];
} ngx_payout_result_t;


#endif /* NGX_PAYOUT_CONNECTOR_H_INCLUDED_ */
