/*
 * POST /payout-links: the fields of the payout a link will make, checked
 * by the payouts' own checks (amount, currency, gateway, narration,
 * metadata, webhook URLs and secret, idempotency key), the recipient
 * hints by the recipients' (name, email, phone), and the link's own:
 * methods, and expires_in or expires_at.
 */

#include <stdlib.h>
#include <string.h>

#include "ngx_payout_validate_field.h"


#define NGX_PAYOUT_LINK(m)    offsetof(ngx_payout_link_input_t, m)
#define NGX_PAYOUT_LINK_P(m)  offsetof(ngx_payout_link_input_t, payout.m)


static int ngx_payout_check_methods(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_expires_in(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_check_expires_at(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_digits(const char *s, size_t n);
static long ngx_payout_days_from_civil(long y, long m, long d);


static const struct {
    const char  *name;
    unsigned     bit;
} ngx_payout_link_methods[] = {
    { "bank_account", NGX_PAYOUT_LINK_BANK },
    { "mobile_money", NGX_PAYOUT_LINK_MOBILE },
    { NULL, 0 }
};


static const ngx_payout_field_t  ngx_payout_link_fields[] = {
    { "amount", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_amount,
      NGX_PAYOUT_LINK_P(amount), NULL },
    { "currency", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_currency,
      NGX_PAYOUT_LINK_P(currency), NULL },
    { "gateway", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_string,
      NGX_PAYOUT_LINK_P(gateway), &ngx_payout_rule_gateway },

    { "expires_in", 0, ngx_payout_check_expires_in,
      NGX_PAYOUT_LINK(expires_in), NULL },
    { "expires_at", 0, ngx_payout_check_expires_at,
      NGX_PAYOUT_LINK(expires_at), NULL },

    { "name", 0, ngx_payout_check_string,
      NGX_PAYOUT_LINK_P(recipient.name), &ngx_payout_rule_name },
    { "email", 0, ngx_payout_check_email,
      NGX_PAYOUT_LINK_P(recipient.email), NULL },
    { "phone", 0, ngx_payout_check_phone,
      NGX_PAYOUT_LINK_P(recipient.phone), NULL },
    { "methods", 0, ngx_payout_check_methods,
      NGX_PAYOUT_LINK(methods), NULL },

    { "narration", 0, ngx_payout_check_string,
      NGX_PAYOUT_LINK_P(narration), &ngx_payout_rule_narration },
    { "idempotency_key", 0, ngx_payout_check_string,
      NGX_PAYOUT_LINK_P(idempotency_key), &ngx_payout_rule_idempotency_key },
    /* these two take the payout request itself, for its flags */
    { "webhook_urls", 0, ngx_payout_check_webhook_urls,
      NGX_PAYOUT_LINK(payout), NULL },
    { "webhook_secret", 0, ngx_payout_check_secret,
      NGX_PAYOUT_LINK_P(webhook_secret), NULL },
    { "metadata", 0, ngx_payout_check_metadata,
      NGX_PAYOUT_LINK_P(metadata), NULL },

    { NULL, 0, NULL, 0, NULL }
};


int
ngx_payout_validate_link(json_t *body, unsigned flags, long now,
    ngx_payout_link_input_t *out, ngx_payout_error_t *err)
{
    long  in;

    memset(out, 0, sizeof(ngx_payout_link_input_t));
    out->payout.flags = flags;

    if (ngx_payout_validate_fields(body, ngx_payout_link_fields, out, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    if (out->expires_in && out->expires_at) {
        return ngx_payout_fail(err, "conflicting_parameters", "expires_at",
                               "Give expires_in or expires_at, not both.");
    }

    if (out->expires_at) {
        in = out->expires_at - now;

        if (in < NGX_PAYOUT_LINK_EXPIRES_MIN
            || in > NGX_PAYOUT_LINK_EXPIRES_MAX)
        {
            return ngx_payout_fail(err, "invalid_parameter", "expires_at",
                                   "expires_at must be from %d seconds to "
                                   "%d days from now.",
                                   NGX_PAYOUT_LINK_EXPIRES_MIN,
                                   NGX_PAYOUT_LINK_EXPIRES_MAX / 86400);
        }

        out->expires = out->expires_at;

    } else {
        out->expires = now + (out->expires_in
                              ? out->expires_in
                              : NGX_PAYOUT_LINK_EXPIRES_DEFAULT);
    }

    out->payout.recipient.gateway = out->payout.gateway;

    return NGX_PAYOUT_OK;
}


const char *
ngx_payout_link_methods_text(unsigned methods, char *buf, size_t size)
{
    size_t      n;
    size_t      i;

    n = 0;

    if (size < sizeof("{bank_account,mobile_money}")) {
        return NULL;
    }

    buf[n++] = '{';

    for (i = 0; ngx_payout_link_methods[i].name; i++) {
        if (!(methods & ngx_payout_link_methods[i].bit)) {
            continue;
        }

        if (n > 1) {
            buf[n++] = ',';
        }

        memcpy(buf + n, ngx_payout_link_methods[i].name,
               strlen(ngx_payout_link_methods[i].name));
        n += strlen(ngx_payout_link_methods[i].name);
    }

    buf[n++] = '}';
    buf[n] = '\0';

    return buf;
}


/* a non-empty array of distinct names from ngx_payout_link_methods */

static int
ngx_payout_check_methods(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    char        quoted[NGX_PAYOUT_QUOTE_LEN + 4];
    size_t      i, len;
    json_t     *m;
    unsigned    bits, bit;
    size_t      k;
    const char *s;

    if (!json_is_array(value) || json_array_size(value) == 0) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be a non-empty array of "
                               "\"bank_account\" and \"mobile_money\".",
                               f->name);
    }

    bits = 0;

    json_array_foreach(value, i, m) {

        if (!json_is_string(m)) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s[%zu] must be a string, not %s.",
                                   f->name, i, ngx_payout_json_type_name(m));
        }

        s = json_string_value(m);
        len = json_string_length(m);
        bit = 0;

        for (k = 0; ngx_payout_link_methods[k].name; k++) {
            if (len == strlen(ngx_payout_link_methods[k].name)
                && memcmp(s, ngx_payout_link_methods[k].name, len) == 0)
            {
                bit = ngx_payout_link_methods[k].bit;
                break;
            }
        }

        if (bit == 0) {
            ngx_payout_quote(s, len, quoted);
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s[%zu] \"%s\" is not a method: use "
                                   "\"bank_account\" or \"mobile_money\".",
                                   f->name, i, quoted);
        }

        if (bits & bit) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s[%zu] repeats \"%s\".", f->name, i,
                                   ngx_payout_link_methods[k].name);
        }

        bits |= bit;
    }

    *(unsigned *) p = bits;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_check_expires_in(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    json_int_t  n;

    if (!json_is_integer(value)) {
        return ngx_payout_type_error(err, f->name,
                                     "an integer number of seconds", value);
    }

    n = json_integer_value(value);

    if (n < NGX_PAYOUT_LINK_EXPIRES_MIN || n > NGX_PAYOUT_LINK_EXPIRES_MAX) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be from %d to %d seconds (90 "
                               "days).", f->name,
                               NGX_PAYOUT_LINK_EXPIRES_MIN,
                               NGX_PAYOUT_LINK_EXPIRES_MAX);
    }

    *(long *) p = (long) n;

    return NGX_PAYOUT_OK;
}


static int
ngx_payout_check_expires_at(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    long         t;
    size_t       len;
    const char  *s;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    t = ngx_payout_parse_time(s, len);

    if (t <= 0) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be an RFC 3339 date-time such as "
                               "\"2026-05-01T12:00:00Z\".", f->name);
    }

    *(long *) p = t;

    return NGX_PAYOUT_OK;
}


/*
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM); 't' and 'z' and a
 * space for 'T' as RFC 3339 allows.  Years 1970 to 9999.
 */

long
ngx_payout_parse_time(const char *s, size_t len)
{
    long    y, mo, d, h, mi, sec, off, days;
    size_t  i;
    static const int  mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };

    if (len < 20 || len > 64
        || !ngx_payout_digits(s, 4) || s[4] != '-'
        || !ngx_payout_digits(s + 5, 2) || s[7] != '-'
        || !ngx_payout_digits(s + 8, 2)
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || !ngx_payout_digits(s + 11, 2) || s[13] != ':'
        || !ngx_payout_digits(s + 14, 2) || s[16] != ':'
        || !ngx_payout_digits(s + 17, 2))
    {
        return -1;
    }

    y = strtol(s, NULL, 10);
    mo = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    h = (s[11] - '0') * 10 + (s[12] - '0');
    mi = (s[14] - '0') * 10 + (s[15] - '0');
    sec = (s[17] - '0') * 10 + (s[18] - '0');

    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]
        || (mo == 2 && d == 29
            && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        || h > 23 || mi > 59 || sec > 60)
    {
        return -1;
    }

    i = 19;

    if (s[i] == '.') {
        i++;

        if (i >= len || !ngx_payout_digits(s + i, 1)) {
            return -1;
        }

        while (i < len && ngx_payout_digits(s + i, 1)) {
            i++;
        }
    }

    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        off = 0;

    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-')
               && ngx_payout_digits(s + i + 1, 2) && s[i + 3] == ':'
               && ngx_payout_digits(s + i + 4, 2))
    {
        off = ((s[i + 1] - '0') * 10 + (s[i + 2] - '0')) * 3600
              + ((s[i + 4] - '0') * 10 + (s[i + 5] - '0')) * 60;

        if (off >= 24 * 3600) {
            return -1;
        }

        if (s[i] == '-') {
            off = -off;
        }

    } else {
        return -1;
    }

    days = ngx_payout_days_from_civil(y, mo, d);

    return days * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec) - off;
}


static int
ngx_payout_digits(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's) */

static long
ngx_payout_days_from_civil(long y, long m, long d)
{
    long  era, yoe, doy, doe;

    y -= (m <= 2);
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}
