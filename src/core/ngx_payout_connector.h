/*
 * What every connector speaks: a table of functions chosen once at
 * configuration time, the shape of nginx's ngx_event_actions_t.  A
 * transfer instruction goes in, a provider call comes out as data; a
 * provider answer goes in, a normalised result comes out.
 *
 * A connector does no I/O, reads no clock (now is passed in), uses no
 * randomness and no globals, and allocates what it returns only through
 * the account's memory callback (the glue points it at a pool, tests at
 * malloc).  Only the bridge (ngx_http_payout_provider.c) and the
 * configuration (ngx_http_payout_conf.c) include this header.
 */

#ifndef NGX_PAYOUT_CONNECTOR_H_INCLUDED_
#define NGX_PAYOUT_CONNECTOR_H_INCLUDED_

#include "ngx_payout_core.h"
#include "ngx_payout_crypto.h"
#include "ngx_payout_state.h"


/* "not mine": an operation or setting this connector does not have */
#define NGX_PAYOUT_DECLINED  -5


/* the operations a provider call is built for */
typedef enum {
    NGX_PAYOUT_OP_INITIATE = 0,         /* send the transfer */
    NGX_PAYOUT_OP_LOOKUP,               /* its state, by our reference */
    NGX_PAYOUT_OP_CANCEL,
    NGX_PAYOUT_OP_ENROLL,               /* register the destination */
    NGX_PAYOUT_OP_FINALIZE              /* e.g. an OTP confirmation */
} ngx_payout_op_e;


/*
 * Capabilities: how the reconciler settles a payout whose initiation had
 * no definite answer, and what else the provider needs or allows.
 */
#define NGX_PAYOUT_CAP_LOOKUP_BY_REFERENCE  0x01  /* LOOKUP our uuid; a
                                                   * NOT_FOUND means never
                                                   * received */
#define NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY    0x02  /* INITIATE again with
                                                   * the same key */
#define NGX_PAYOUT_CAP_CAN_CANCEL           0x04
#define NGX_PAYOUT_CAP_NEEDS_ENROLL         0x08
#define NGX_PAYOUT_CAP_HOOK_REFETCH         0x10  /* events carry an id
                                                   * only: LOOKUP it */
#define NGX_PAYOUT_CAP_TEST_ONLY            0x20  /* moves no money */
#define NGX_PAYOUT_CAP_FAILS_AFTER_PAID     0x40  /* a failure may follow
                                                   * success: the money
                                                   * came back */
#define NGX_PAYOUT_CAP_HOOK_GET             0x80  /* callbacks may come
                                                   * as GET, the event in
                                                   * the query string */
#define NGX_PAYOUT_CAP_POLL                 0x100 /* in flight, its status
                                                   * is polled every 3-5 s
                                                   * at first (seed 003) */
#define NGX_PAYOUT_CAP_MOBILE_MONEY         0x200 /* pays mobile-money
                                                   * wallets (a payout
                                                   * link's default) */


typedef struct {
    const char   *reference;          /* our payout uuid: idempotency */
    const char   *gateway_id;         /* theirs, when known, or NULL */
    int64_t       amount;
    const char   *currency;
    int           type;               /* NGX_PAYOUT_RECIPIENT_* */
    const char   *account_number;
    const char   *bank_code;
    const char   *account_name;
    const char   *mobile_number;
    const char   *provider;
    const char   *narration;
    const char   *recipient_reference; /* our recipient uuid: enrollment's
                                        * idempotency */
    const char   *recipient_code;     /* the gateway's, once enrolled */
    const char   *account_id;         /* a connected account (acct_...) */
    const char   *balance_id;         /* a balance (Mollie bal_...), or
                                       * NULL: the gateway's own */
    const char   *country;            /* ISO 3166-1 alpha-2, or NULL */
    const char   *otp;                /* FINALIZE's code, or NULL */
    const char   *nonce;              /* 32 of [A-Za-z0-9], fresh per
                                       * call (OAuth), or NULL */
    long          now;                /* unix seconds of the call */
} ngx_payout_transfer_t;


/* what an answer means for the payout */
typedef enum {
    NGX_PAYOUT_OUTCOME_STATE = 0,       /* state holds the provider's word */
    NGX_PAYOUT_OUTCOME_UNKNOWN,         /* no answer, 5xx, unreadable: the
                                         * money may have moved */
    NGX_PAYOUT_OUTCOME_NOT_FOUND,       /* the provider confirms it never
                                         * received the transfer */
    NGX_PAYOUT_OUTCOME_REFUSED          /* a definite no to this operation;
                                         * the payout is unchanged */
} ngx_payout_outcome_e;


typedef struct {
    /* the state the provider says the payout is in; -1: none */
    int                    state;
    ngx_payout_outcome_e   outcome;
    char                   gateway_id[128];  /* ENROLL: the recipient
                                             * code */
    char                   reason[160];
    char                   next_action[32];  /* "otp_required",
                                             * "redirect", or "" */
    char                   next_action_url[1024];  /* "redirect": where
                                                    * to send the
                                                    * receiver */
} ngx_payout_result_t;


typedef struct {
    const char   *name;
    size_t        name_len;
    const char   *value;
    size_t        value_len;
} ngx_payout_header_t;


typedef struct {
    void       *(*alloc)(void *data, size_t size);
    void         *data;
} ngx_payout_mem_t;


/* one provider account: what every call of a gateway is made with */
typedef struct {
    const void               *conf;         /* configure()'s, or NULL */
    const char               *secret;       /* API secret, or NULL */
    size_t                    secret_len;
    const char               *webhook_secret;
    size_t                    webhook_secret_len;
    const ngx_payout_keys_t  *keys;         /* derived from the master key */
    const char               *url;          /* the gateway's url=, no
                                             * trailing slash, or NULL */
    const char               *callback_url; /* payout_public_url + the
                                             * hooks location + name, or
                                             * NULL */
    ngx_payout_mem_t          mem;
} ngx_payout_account_t;


#define NGX_PAYOUT_CALL_HEADERS  8

/* a provider call as data; everything in it comes from account->mem */
typedef struct {
    const char   *method;
    const char   *path;                     /* below url=, from "/" */
    const char   *headers[NGX_PAYOUT_CALL_HEADERS];  /* "Name: value" */
    size_t        nheaders;
    const char   *body;
    size_t        body_len;
} ngx_payout_call_t;


/* a provider's answer; status 0: none (timeout, refused, reset) */
typedef struct {
    long                        status;
    const ngx_payout_header_t  *headers;
    size_t                      nheaders;
    const char                 *body;
    size_t                      body_len;
} ngx_payout_answer_t;


/* a webhook as it arrived: the raw body, before anything parses it */
typedef struct {
    const ngx_payout_header_t  *headers;
    size_t                      nheaders;
    const unsigned char        *body;
    size_t                      body_len;
} ngx_payout_hook_t;


typedef enum {
    NGX_PAYOUT_FOLLOW_NONE = 0,         /* the result is the event's word */
    NGX_PAYOUT_FOLLOW_LOOKUP            /* ask the provider (refetch) */
} ngx_payout_follow_e;


typedef struct {
    char                   reference[37];   /* our uuid, or "" */
    ngx_payout_result_t    result;          /* .gateway_id: theirs */
    ngx_payout_follow_e    follow_up;
    /*
     * The event's identity for de-duplication, or "": a provider that
     * names no event id (PaynetEasy: "status|type|orderid|client_orderid")
     */
    char                   key[256];
} ngx_payout_event_t;


/* provider status -> our sub-status, as documented */
typedef struct {
    const char   *status;
    int           state;
} ngx_payout_status_map_t;


typedef struct ngx_payout_connector_s  ngx_payout_connector_t;

struct ngx_payout_connector_s {
    const char                     *name;
    unsigned                        caps;         /* NGX_PAYOUT_CAP_* */
    const char                     *default_url;  /* production, or NULL */
    /* how long the provider keeps an idempotency key, seconds; 0: ever */
    long                            key_ttl;

    /*
     * A payout_gateway setting the glue does not know: NGX_PAYOUT_OK,
     * NGX_PAYOUT_DECLINED (not ours: nginx -t refuses it) or
     * NGX_PAYOUT_ERROR (ours, bad value).  NULL: the connector has none.
     */
    int                           (*configure)(ngx_payout_mem_t *mem,
                                               void **conf, const char *key,
                                               size_t key_len,
                                               const char *value,
                                               size_t value_len);

    /*
     * The account once configured (secrets read): NULL when it is usable
     * in this mode, else why not, for nginx -t ("the key is a live key").
     * NULL: the connector checks nothing.
     */
    const char                   *(*check)(const ngx_payout_account_t *acct,
                                           int livemode);

    /* NGX_PAYOUT_OK, NGX_PAYOUT_DECLINED (no such op), NGX_PAYOUT_ERROR */
    int                           (*build)(const ngx_payout_account_t *acct,
                                           ngx_payout_op_e op,
                                           const ngx_payout_transfer_t *t,
                                           ngx_payout_call_t *call);

    /* always a result: UNKNOWN unless the answer is definite */
    void                          (*parse)(const ngx_payout_account_t *acct,
                                           ngx_payout_op_e op,
                                           const ngx_payout_answer_t *a,
                                           ngx_payout_result_t *res);

    /* NGX_PAYOUT_OK when signed and fresh; constant time */
    int                           (*verify)(const ngx_payout_account_t *acct,
                                            const ngx_payout_hook_t *hook,
                                            long now);

    /* a verified hook: NGX_PAYOUT_OK, or NGX_PAYOUT_DECLINED: ignore it */
    int                           (*event)(const ngx_payout_account_t *acct,
                                           const ngx_payout_hook_t *hook,
                                           ngx_payout_event_t *ev);

    const ngx_payout_status_map_t  *statuses;
    size_t                          nstatuses;
};


/* the registry (src/connectors/ngx_payout_connectors.c) */
const ngx_payout_connector_t *ngx_payout_connector_find(const char *name,
    size_t len);
/* "sandbox, stripe": the known names, for an error message */
size_t ngx_payout_connector_names(char *buf, size_t size);


#endif /* NGX_PAYOUT_CONNECTOR_H_INCLUDED_ */
