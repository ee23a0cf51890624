/*
 * The field-table engine behind ngx_payout_validate.h, shared by the
 * files of one concern each: payouts (ngx_payout_validate_payout.c),
 * recipients (_recipient.c), metadata (_metadata.c), webhook URLs and
 * secrets (_webhook.c), and the engine with its primitives
 * (ngx_payout_validate.c).  Internal to src/core/.
 */

#ifndef NGX_PAYOUT_VALIDATE_FIELD_H_INCLUDED_
#define NGX_PAYOUT_VALIDATE_FIELD_H_INCLUDED_

#include <stddef.h>

#include "ngx_payout_validate.h"


/* character classes of the identifier-like fields */
#define NGX_PAYOUT_C_LOWER     0x01
#define NGX_PAYOUT_C_UPPER     0x02
#define NGX_PAYOUT_C_DIGIT     0x04
#define NGX_PAYOUT_C_DASH      0x08
#define NGX_PAYOUT_C_UNDER     0x10
#define NGX_PAYOUT_C_SPACE     0x20

#define NGX_PAYOUT_C_ALNUM     (NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_UPPER        \
                                |NGX_PAYOUT_C_DIGIT)
#define NGX_PAYOUT_C_SLUG      (NGX_PAYOUT_C_LOWER|NGX_PAYOUT_C_DIGIT        \
                                |NGX_PAYOUT_C_DASH|NGX_PAYOUT_C_UNDER)

/* how a string field's bytes are checked */
#define NGX_PAYOUT_S_TEXT      0    /* any UTF-8 but control characters */
#define NGX_PAYOUT_S_ASCII     1    /* printable ASCII, no space */
#define NGX_PAYOUT_S_CLASS     2    /* the rule's character classes */

#define NGX_PAYOUT_F_REQUIRED  1

#define NGX_PAYOUT_METADATA_KEYS       50
#define NGX_PAYOUT_METADATA_KEY_LEN    40
#define NGX_PAYOUT_METADATA_VALUE_LEN  500
#define NGX_PAYOUT_EMAIL_LEN           254
/* as sent, separators included; what is stored is normalised or this */
#define NGX_PAYOUT_NUMBER_LEN          64
#define NGX_PAYOUT_PHONE_LEN           32
#define NGX_PAYOUT_MSISDN_MIN          7
#define NGX_PAYOUT_MSISDN_MAX          15
#define NGX_PAYOUT_ACCOUNT_MIN         4
#define NGX_PAYOUT_ACCOUNT_MAX         34
#define NGX_PAYOUT_NAME_LEN            128

/* room for a quoted piece of input in a 256-byte message */
#define NGX_PAYOUT_QUOTE_LEN           48


typedef struct {
    int           kind;          /* NGX_PAYOUT_S_* */
    size_t        min;           /* bytes */
    size_t        max;
    unsigned      first;         /* classes of the first character */
    unsigned      rest;          /* classes of the others */
    const char   *what;          /* "must be ...", for S_CLASS and S_ASCII */
} ngx_payout_string_rule_t;


typedef struct ngx_payout_field_s  ngx_payout_field_t;

/*
 * A field's check: value is never NULL nor JSON null; p is the result
 * struct plus the field's offset.
 */
typedef int (*ngx_payout_check_pt)(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);

struct ngx_payout_field_s {
    const char                      *name;
    unsigned                         flags;
    ngx_payout_check_pt              check;
    /*
     * where the result goes: a member of its own type, or, for checks
     * that fill the recipient's buffers, the recipient struct itself
     */
    size_t                           offset;
    const ngx_payout_string_rule_t  *rule;
};



#define NGX_PAYOUT_CREATE(m)     offsetof(ngx_payout_create_t, m)
#define NGX_PAYOUT_CREATE_R(m)   offsetof(ngx_payout_create_t, recipient.m)
#define NGX_PAYOUT_CREATE_RCPT   offsetof(ngx_payout_create_t, recipient)
#define NGX_PAYOUT_RCPT(m)       offsetof(ngx_payout_recipient_input_t, m)


/* the engine: unknown fields, then every field in table order */
int ngx_payout_validate_fields(json_t *body,
    const ngx_payout_field_t *fields, void *out, ngx_payout_error_t *err);

/* the one-of recipient rules (ngx_payout_validate_recipient.c) */
int ngx_payout_validate_oneof(ngx_payout_recipient_input_t *r,
    int allow_uuid, ngx_payout_error_t *err);


/* checks of fields that more than one table has */
int ngx_payout_check_string(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_metadata(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);

/* a payout's amount and currency (_payout.c), also a payout link's */
int ngx_payout_check_amount(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_currency(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);

/* a payout's webhook_urls and webhook_secret (_webhook.c) */
int ngx_payout_check_webhook_urls(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
int ngx_payout_check_secret(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);

/* the inline recipient's checks; p is the recipient struct or a member */
int ngx_payout_check_uuid(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_account_number(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
int ngx_payout_check_account_name(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
int ngx_payout_check_account_id(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_balance_id(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_country(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_mobile_number(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
int ngx_payout_check_phone(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_email(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err);
int ngx_payout_check_recipient_type(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);

extern const ngx_payout_string_rule_t  ngx_payout_rule_gateway;
extern const ngx_payout_string_rule_t  ngx_payout_rule_narration;
extern const ngx_payout_string_rule_t  ngx_payout_rule_name;
extern const ngx_payout_string_rule_t  ngx_payout_rule_idempotency_key;
extern const ngx_payout_string_rule_t  ngx_payout_rule_bank_code;
extern const ngx_payout_string_rule_t  ngx_payout_rule_provider;


/* primitives (ngx_payout_validate.c) */
int ngx_payout_string_value(json_t *value, const char *name,
    const char **s, size_t *len, ngx_payout_error_t *err);
int ngx_payout_max_len(const char *name, size_t len, size_t max,
    ngx_payout_error_t *err);
int ngx_payout_has_control(const char *s, size_t len);
unsigned ngx_payout_char_class(unsigned char c);
size_t ngx_payout_key_len(const char *key);
const char *ngx_payout_json_type_name(json_t *value);
void ngx_payout_quote(const char *s, size_t len, char *buf);
int ngx_payout_type_error(ngx_payout_error_t *err, const char *name,
    const char *expected, json_t *value);
int ngx_payout_fail(ngx_payout_error_t *err, const char *code,
    const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;


#endif /* NGX_PAYOUT_VALIDATE_FIELD_H_INCLUDED_ */
