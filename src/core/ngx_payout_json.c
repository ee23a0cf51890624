/*
 * JSON helpers: the API's error body, and strict parsing of request bodies
 * (objects only, duplicate keys rejected, valid UTF-8).
 */

#include <string.h>
#include <stdio.h>

#include "ngx_payout_core.h"


typedef struct {
    int          status;
    const char  *code;
    const char  *message;
} ngx_payout_status_error_t;


static json_t *ngx_payout_json_text(const char *s, const char *fallback);


static const ngx_payout_status_error_t  ngx_payout_status_errors[] = {
    { 400, "bad_request", "The request could not be understood." },
    { 401, "unauthorized", "A valid API key is required." },
    { 403, "forbidden", "Access to this resource is forbidden." },
    { 404, "not_found", "No such resource." },
    { 405, "method_not_allowed", "This method is not allowed here." },
    { 408, "request_timeout", "The request took too long to arrive." },
    { 409, "conflict", "The request conflicts with the current state." },
    { 411, "length_required", "A Content-Length is required." },
    { 413, "body_too_large", "The request body is too large." },
    { 414, "uri_too_long", "The request URI is too long." },
    { 415, "unsupported_media_type",
      "The request body must be application/json." },
    { 422, "unprocessable", "The request could not be processed." },
    { 429, "rate_limited", "Too many requests; slow down." },
    { 500, "internal_error", "An internal error occurred." },
    { 502, "bad_gateway", "An upstream service answered badly." },
    { 503, "service_unavailable",
      "The service is temporarily unavailable; retry later." },
    { 504, "gateway_timeout", "An upstream service did not answer in time." },
    { 0, NULL, NULL }
};


char *
ngx_payout_json_error(const char *code, const char *message,
    const char *field, size_t *len)
{
    char    *out;
    json_t  *root, *err;

    root = json_object();
    err = json_object();

    if (root == NULL || err == NULL) {
        json_decref(root);
        json_decref(err);
        return NULL;
    }

    if (json_object_set_new(err, "code",
                            ngx_payout_json_text(code, "error")) != 0
        || json_object_set_new(err, "message",
                               ngx_payout_json_text(message,
                                                    "Invalid request."))
           != 0
        || (field && json_object_set_new(err, "field",
                                         ngx_payout_json_text(field, "?"))
                     != 0))
    {
        json_decref(err);
        json_decref(root);
        return NULL;
    }

    if (json_object_set_new(root, "error", err) != 0) {
        json_decref(root);
        return NULL;
    }

    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);

    if (out && len) {
        *len = strlen(out);
    }

    return out;
}


/* a message may quote input cut mid-character: never drop the member */

static json_t *
ngx_payout_json_text(const char *s, const char *fallback)
{
    json_t  *j;

    j = json_string(s);

    return j ? j : json_string(fallback);
}


const char *
ngx_payout_error_code_for_status(int status)
{
    const ngx_payout_status_error_t  *e;

    for (e = ngx_payout_status_errors; e->code; e++) {
        if (e->status == status) {
            return e->code;
        }
    }

    return status >= 500 ? "internal_error" : "bad_request";
}


const char *
ngx_payout_error_message_for_status(int status)
{
    const ngx_payout_status_error_t  *e;

    for (e = ngx_payout_status_errors; e->code; e++) {
        if (e->status == status) {
            return e->message;
        }
    }

    return status >= 500 ? "An internal error occurred."
                         : "The request could not be understood.";
}


json_t *
ngx_payout_json_parse_body(const unsigned char *buf, size_t len, char *err,
    size_t err_size)
{
    json_t        *json;
    json_error_t   jerr;

    if (len == 0) {
        snprintf(err, err_size, "The request body is empty; "
                 "a JSON object is required.");
        return NULL;
    }

    json = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (json == NULL) {
        snprintf(err, err_size, "Malformed JSON at line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        return NULL;
    }

    if (!json_is_object(json)) {
        json_decref(json);
        snprintf(err, err_size, "The request body must be a JSON object.");
        return NULL;
    }

    return json;
}
