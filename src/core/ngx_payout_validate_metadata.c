/*
 * metadata, on payouts and recipients: a flat object of bounded keys and
 * scalar values that PostgreSQL's jsonb accepts.
 */

#include <string.h>

#include "ngx_payout_validate_field.h"


int
ngx_payout_check_metadata(json_t *value, const ngx_payout_field_t *f,
    void *p, ngx_payout_error_t *err)
{
    char         quoted[NGX_PAYOUT_QUOTE_LEN + 4];
    size_t       key_len, size;
    json_t      *v;
    const char  *key;

    if (!json_is_object(value)) {
        return ngx_payout_type_error(err, f->name, "an object", value);
    }

    if (json_object_size(value) > NGX_PAYOUT_METADATA_KEYS) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s may have at most %d keys.", f->name,
                               NGX_PAYOUT_METADATA_KEYS);
    }

    json_object_foreach(value, key, v) {
        key_len = ngx_payout_key_len(key);
        ngx_payout_quote(key, key_len, quoted);

        if (key_len == 0 || key_len > NGX_PAYOUT_METADATA_KEY_LEN) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s keys must be 1 to %d bytes long; "
                                   "\"%s\" is not.", f->name,
                                   NGX_PAYOUT_METADATA_KEY_LEN, quoted);
        }

        /* PostgreSQL's jsonb refuses \u0000: refuse it here, as a 400 */

        if (strlen(key) != key_len
            || (json_is_string(v)
                && strlen(json_string_value(v)) != json_string_length(v)))
        {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s must not contain NUL characters "
                                   "(in \"%s\").", f->name, quoted);
        }

        if (json_is_object(v) || json_is_array(v)) {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s values must be strings, numbers, "
                                   "booleans or null; \"%s\" is %s.",
                                   f->name, quoted,
                                   ngx_payout_json_type_name(v));
        }

        if (json_is_string(v)
            && json_string_length(v) > NGX_PAYOUT_METADATA_VALUE_LEN)
        {
            return ngx_payout_fail(err, "invalid_parameter", f->name,
                                   "%s value \"%s\" must be at most %d "
                                   "bytes long.", f->name, quoted,
                                   NGX_PAYOUT_METADATA_VALUE_LEN);
        }
    }

    /* what is stored is the compact serialisation: bound that */

    size = json_dumpb(value, NULL, 0, JSON_COMPACT);

    if (size == 0 || size > NGX_PAYOUT_MAX_METADATA) {
        return ngx_payout_fail(err, "invalid_parameter", f->name,
                               "%s must be at most %d bytes long as "
                               "compact JSON.", f->name,
                               NGX_PAYOUT_MAX_METADATA);
    }

    *(json_t **) p = value;

    return NGX_PAYOUT_OK;
}
