/*
 * Where webhooks go and how they are signed: POST /webhook-endpoints, a
 * payout's webhook_urls (through ngx_payout_url_check()) and its
 * webhook_secret.
 */

#include <string.h>

#include "ngx_payout_validate_field.h"


static int ngx_payout_check_endpoint_url(json_t *value,
    const ngx_payout_field_t *f, void *p, ngx_payout_error_t *err);
static int ngx_payout_url_error(const char *name, long index,
    const char *s, size_t len, unsigned flags, ngx_payout_error_t *err);


static const ngx_payout_field_t  ngx_payout_endpoint_fields[] = {
    { "url", NGX_PAYOUT_F_REQUIRED, ngx_payout_check_endpoint_url, 0, NULL },

    { NULL, 0, NULL, 0, NULL }
};


int
ngx_payout_validate_endpoint(json_t *body, unsigned flags,
    ngx_payout_endpoint_input_t *out, ngx_payout_error_t *err)
{
    memset(out, 0, sizeof(ngx_payout_endpoint_input_t));
    out->flags = flags;

    return ngx_payout_validate_fields(body, ngx_payout_endpoint_fields, out,
                                      err);
}


/*
 * The signer's key (ngx_payout_webhook_key()) of a "whsec_" secret is its
 * base64 part decoded: strict base64 of 24 to 64 bytes, so every secret
 * accepted here signs, and verifies with Standard Webhooks libraries.
 */

const char *
ngx_payout_secret_check(const char *s, size_t len)
{
    size_t  i, pad;

    if (len < 6 || memcmp(s, "whsec_", 6) != 0) {
        if (len == 0 || len > NGX_PAYOUT_SECRET_LEN) {
            return "must be 1 to 256 bytes long";
        }

        return ngx_payout_has_control(s, len)
               ? "must not contain control characters" : NULL;
    }

    s += 6;
    len -= 6;
    pad = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '=' && i + 2 >= len) {
            pad++;
            continue;
        }

        if (pad || !(ngx_payout_char_class((unsigned char) s[i])
                     & NGX_PAYOUT_C_ALNUM
                     || s[i] == '+' || s[i] == '/'))
        {
            return "must be \"whsec_\" followed by base64 (standard "
                   "alphabet, padded)";
        }
    }

    if (len % 4) {
        return "must be \"whsec_\" followed by base64 (standard "
               "alphabet, padded)";
    }

    if (len / 4 * 3 - pad < NGX_PAYOUT_WHSEC_MIN
        || len / 4 * 3 - pad > NGX_PAYOUT_WHSEC_MAX)
    {
        return "must be \"whsec_\" followed by the base64 of 24 to 64 "
               "bytes";
    }

    return NULL;
}


/* p: the create request itself, for its flags */

int
ngx_payout_check_webhook_urls(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t                i;
    json_t               *url;
    ngx_payout_create_t  *c;

    c = p;

    if (!json_is_array(value)) {
        return ngx_payout_type_error(err, f->name, "an array of URLs", value);
    }

    if (json_array_size(value) > NGX_PAYOUT_MAX_WEBHOOK_URLS) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s may list at most %d URLs.", f->name,
                               NGX_PAYOUT_MAX_WEBHOOK_URLS);
    }

    json_array_foreach(value, i, url) {

        if (!json_is_string(url)) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s[%zu] must be a string, not %s.",
                                   f->name, i,
                                   ngx_payout_json_type_name(url));
        }

        if (ngx_payout_url_error(f->name, (long) i, json_string_value(url),
                                 json_string_length(url), c->flags, err))
        {
            return NGX_PAYOUT_ERROR;
        }
    }

    /* an empty list is the same as none */

    c->webhook_urls = json_array_size(value) ? value : NULL;

    return NGX_PAYOUT_OK;
}


/* p: the endpoint request itself, for its flags */

static int
ngx_payout_check_endpoint_url(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t                        len;
    const char                   *s;
    ngx_payout_endpoint_input_t  *e;

    e = p;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK
        || ngx_payout_url_error(f->name, -1, s, len, e->flags, err))
    {
        return NGX_PAYOUT_ERROR;
    }

    e->url = s;

    return NGX_PAYOUT_OK;
}


int
ngx_payout_check_secret(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    size_t       len;
    const char  *s, *why;

    if (ngx_payout_string_value(value, f->name, &s, &len, err)
        != NGX_PAYOUT_OK)
    {
        return NGX_PAYOUT_ERROR;
    }

    /* never quoted: it is a secret */

    why = ngx_payout_secret_check(s, len);

    if (why) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s %s.", f->name, why);
    }

    *(const char **) p = s;

    return NGX_PAYOUT_OK;
}


/* a failed ngx_payout_url_check() as a 400 on name, or name[index] */

static int
ngx_payout_url_error(const char *name, long index, const char *s,
    size_t len, unsigned flags, ngx_payout_error_t *err)
{
    char  why[192];

    if (ngx_payout_url_check(s, len, flags, why, sizeof(why))
        == NGX_PAYOUT_OK)
    {
        return 0;
    }

    if (index < 0) {
        ngx_payout_fail(err, "invalid_parameter", name, "%s %s.", name, why);

    } else {
        ngx_payout_fail(err, "invalid_parameter", name, "%s[%ld] %s.", name,
                        index, why);
    }

    return 1;
}
