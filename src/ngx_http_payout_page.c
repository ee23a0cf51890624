/*
 * The payout-link page: a recipient opens payout_public_url/pay/{token},
 * enters bank or mobile-money details, and the link is claimed.
 *
 *   GET  /pay/{token}          the form (open), the status page (claimed,
 *                              for the browser that claimed it), 404, 410
 *   POST /pay/{token}          CSRF check -> the API's own recipient
 *                              validation -> payout_link_claim() -> the
 *                              send starts -> 303 to the status page
 *   GET  /pay/{token}/status   pending (refreshing itself), paid, failed
 *   GET  /pay/payout.css       the stylesheet (CSP style-src 'self')
 *
 * The token is looked up only as its SHA-256.  It is read in the rewrite
 * phase and masked in the request's URI and request line, so nothing
 * logged later (limit_req, the access log's $request, $request_uri and
 * $uri, an error's "request:") holds it.
 *
 * CSRF: a random nonce in a cookie (HttpOnly, SameSite=Strict, Path the
 * page's location, Secure when payout_public_url is https) and, in the
 * form, HMAC(token key, link uuid, nonce).  A POST whose field does not
 * match its cookie is refused with a page before anything is written.
 * The browser that claims a link gets a second cookie,
 * HMAC(token key, link uuid), which lets it, and only it, see the status
 * page of a claimed link.
 */

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ngx_http_payout_page.h"
#include "ngx_http_payout_page_html.h"
#include "ngx_http_payout_pg.h"
#include "ngx_http_payout_gateway.h"
#include "ngx_http_payout_recipients.h"
#include "ngx_http_payout_secrets.h"
#include "core/ngx_payout_template.h"
#include "core/ngx_payout_text.h"
#include "core/ngx_payout_validate.h"


/* the pages, as files in html/payout/ or payout_link_templates DIR */
enum {
    NGX_HTTP_PAYOUT_PAGE_FORM = 0,
    NGX_HTTP_PAYOUT_PAGE_STATUS,
    NGX_HTTP_PAYOUT_PAGE_NOTFOUND,
    NGX_HTTP_PAYOUT_PAGE_GONE,
    NGX_HTTP_PAYOUT_PAGE_REFUSED,
    NGX_HTTP_PAYOUT_PAGE_UNAVAILABLE,
    NGX_HTTP_PAYOUT_PAGE_N
};

static const char *const  ngx_http_payout_page_names[] = {
    "form.html", "status.html", "notfound.html", "gone.html",
    "refused.html", "unavailable.html"
};

#define NGX_HTTP_PAYOUT_PAGE_CSS  "payout.css"


/*
 * The form's fields, named as in the API's recipient, in one order for
 * the posted values, the template values and the errors.
 */
enum {
    NGX_HTTP_PAYOUT_FIELD_TYPE = 0,
    NGX_HTTP_PAYOUT_FIELD_NAME,
    NGX_HTTP_PAYOUT_FIELD_EMAIL,
    NGX_HTTP_PAYOUT_FIELD_PHONE,
    NGX_HTTP_PAYOUT_FIELD_BANK_NUMBER,
    NGX_HTTP_PAYOUT_FIELD_BANK_ACCOUNT_NAME,
    NGX_HTTP_PAYOUT_FIELD_BANK_CODE,
    NGX_HTTP_PAYOUT_FIELD_BANK_NAME,
    NGX_HTTP_PAYOUT_FIELD_MOBILE_NUMBER,
    NGX_HTTP_PAYOUT_FIELD_MOBILE_PROVIDER,
    NGX_HTTP_PAYOUT_FIELD_CSRF,
    NGX_HTTP_PAYOUT_FIELD_N
};

static const char *const  ngx_http_payout_page_fields[] = {
    "recipient_type", "name", "email", "phone", "bank_account_number",
    "bank_account_name", "bank_code", "bank_name", "mobile_money_number",
    "mobile_money_provider", "csrf"
};

/* the first field of each destination's, and the end of both */
#define NGX_HTTP_PAYOUT_FIELD_BANK_FIRST    NGX_HTTP_PAYOUT_FIELD_BANK_NUMBER
#define NGX_HTTP_PAYOUT_FIELD_MOBILE_FIRST  NGX_HTTP_PAYOUT_FIELD_MOBILE_NUMBER
#define NGX_HTTP_PAYOUT_FIELD_LAST          NGX_HTTP_PAYOUT_FIELD_CSRF


/* what the templates may print: the fields, then their errors, then ... */
enum {
    NGX_HTTP_PAYOUT_V_ERROR_FIELD = NGX_HTTP_PAYOUT_FIELD_CSRF,
    NGX_HTTP_PAYOUT_V_CSRF = 2 * NGX_HTTP_PAYOUT_FIELD_CSRF,
    NGX_HTTP_PAYOUT_V_CSS,
    NGX_HTTP_PAYOUT_V_PAYER,
    NGX_HTTP_PAYOUT_V_AMOUNT,
    NGX_HTTP_PAYOUT_V_NARRATION,
    NGX_HTTP_PAYOUT_V_EXPIRES_AT,
    NGX_HTTP_PAYOUT_V_ERROR,
    NGX_HTTP_PAYOUT_V_BOTH_METHODS,
    NGX_HTTP_PAYOUT_V_METHOD_BANK,
    NGX_HTTP_PAYOUT_V_METHOD_MOBILE,
    NGX_HTTP_PAYOUT_V_TYPE_BANK,
    NGX_HTTP_PAYOUT_V_TYPE_MOBILE,
    NGX_HTTP_PAYOUT_V_STATUS,
    NGX_HTTP_PAYOUT_V_STATUS_PENDING,
    NGX_HTTP_PAYOUT_V_STATUS_SUCCESS,
    NGX_HTTP_PAYOUT_V_STATUS_FAILED,
    NGX_HTTP_PAYOUT_V_FAILURE_REASON,
    NGX_HTTP_PAYOUT_V_PAYOUT_UUID,
    NGX_HTTP_PAYOUT_V_REFRESH,
    NGX_HTTP_PAYOUT_V_REASON_EXPIRED,
    NGX_HTTP_PAYOUT_V_REASON_CANCELED,
    NGX_HTTP_PAYOUT_V_REASON_CLAIMED,
    NGX_HTTP_PAYOUT_V_N
};

static const char *const  ngx_http_payout_page_values[] = {
    "recipient_type", "name", "email", "phone", "bank_account_number",
    "bank_account_name", "bank_code", "bank_name", "mobile_money_number",
    "mobile_money_provider",
    "error_recipient_type", "error_name", "error_email", "error_phone",
    "error_bank_account_number", "error_bank_account_name",
    "error_bank_code", "error_bank_name", "error_mobile_money_number",
    "error_mobile_money_provider",
    "csrf", "css", "payer", "amount", "narration", "expires_at", "error",
    "both_methods", "method_bank", "method_mobile", "type_bank",
    "type_mobile", "status", "status_pending", "status_success",
    "status_failed", "failure_reason", "payout_uuid", "refresh",
    "reason_expired", "reason_canceled", "reason_claimed",
    NULL
};


static const char  ngx_http_payout_page_sql[] =
    "SELECT p.link_uuid, p.status, p.tenant_name, p.display_name, "
    "p.amount, p.currency, p.gateway, p.livemode, p.narration, p.name, "
    "p.email, p.phone, array_to_string(p.methods, ','), "
    "to_char(p.expires_at AT TIME ZONE 'UTC', "
    "'FMDD Mon YYYY, HH24:MI \"UTC\"'), "
    "p.payout_uuid, p.payout_status, p.failure_reason, l.tenant_id "
    "FROM payout_link_page(p_token_hash => $1::bytea) p "
    "JOIN payout_links l ON l.id = p.link_id";

enum {
    NGX_HTTP_PAYOUT_PAGE_LINK_UUID = 0,
    NGX_HTTP_PAYOUT_PAGE_STATUS_COL,
    NGX_HTTP_PAYOUT_PAGE_TENANT_NAME,
    NGX_HTTP_PAYOUT_PAGE_DISPLAY_NAME,
    NGX_HTTP_PAYOUT_PAGE_AMOUNT,
    NGX_HTTP_PAYOUT_PAGE_CURRENCY,
    NGX_HTTP_PAYOUT_PAGE_GATEWAY,
    NGX_HTTP_PAYOUT_PAGE_LIVEMODE,
    NGX_HTTP_PAYOUT_PAGE_NARRATION,
    NGX_HTTP_PAYOUT_PAGE_NAME,
    NGX_HTTP_PAYOUT_PAGE_EMAIL,
    NGX_HTTP_PAYOUT_PAGE_PHONE,
    NGX_HTTP_PAYOUT_PAGE_METHODS,
    NGX_HTTP_PAYOUT_PAGE_EXPIRES_AT,
    NGX_HTTP_PAYOUT_PAGE_PAYOUT_UUID,
    NGX_HTTP_PAYOUT_PAGE_PAYOUT_STATUS,
    NGX_HTTP_PAYOUT_PAGE_FAILURE_REASON,
    NGX_HTTP_PAYOUT_PAGE_TENANT_ID
};

/*
 * $15 and $17 are the recipient parameters a link's form never has
 * (account_id, balance_id): always NULL, selected only so that the
 * recipient parameters are the same as a payout's.
 */
static const char  ngx_http_payout_claim_sql[] =
    "SELECT outcome, payout_id, payout_uuid, tenant_id, "
    "$15::text AS account_id, $17::text AS balance_id "
    "FROM payout_link_claim(p_token_hash => $1::bytea, p_type => $2, "
    "p_fingerprint => $3::bytea, p_name => $4, p_email => $5, "
    "p_phone => $6, p_bank_code => $7, p_bank_name => $8, "
    "p_bank_account_name => $9, p_account_enc => $10::bytea, "
    "p_account_last4 => $11, p_mm_provider => $12, p_mm_enc => $13::bytea, "
    "p_mm_last4 => $14, p_country => $16)";

/*
 * A link another request claimed: is its payout's recipient the one this
 * form names?  Then this is the same claim again (a double click, two
 * tabs): its status is shown.  A new statement, so that it sees the
 * claim that committed while payout_link_claim() waited for the lock.
 */
static const char  ngx_http_payout_same_sql[] =
    "SELECT EXISTS (SELECT 1 FROM payouts p "
    "JOIN recipients r ON r.id = p.recipient_id "
    "WHERE p.id = $1 AND r.fingerprint = $2::bytea)";

enum {
    NGX_HTTP_PAYOUT_SAME_RECIPIENT = 0
};

enum {
    NGX_HTTP_PAYOUT_CLAIM_OUTCOME = 0,
    NGX_HTTP_PAYOUT_CLAIM_PAYOUT_ID,
    NGX_HTTP_PAYOUT_CLAIM_PAYOUT_UUID,
    NGX_HTTP_PAYOUT_CLAIM_TENANT_ID
};


#define NGX_HTTP_PAYOUT_PAGE_NONCE_LEN  32      /* hex of 16 random bytes */
#define NGX_HTTP_PAYOUT_PAGE_MAC_LEN    64      /* hex of an HMAC-SHA256 */
#define NGX_HTTP_PAYOUT_PAGE_REFRESH    "3"     /* seconds, while pending */
#define NGX_HTTP_PAYOUT_PAGE_MASK       "[token]"

/* nginx has no name for 410 Gone */
#define NGX_HTTP_PAYOUT_GONE            410

#define ngx_http_payout_page_alnum(c)                                        \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z')               \
     || ((c) >= '0' && (c) <= '9'))


typedef struct {
    ngx_payout_template_t      *t[NGX_HTTP_PAYOUT_PAGE_N];
    ngx_str_t                   css;
} ngx_http_payout_page_set_t;


typedef struct {
    ngx_http_request_t         *request;
    ngx_str_t                   token;        /* a copy; the URI is masked */
    ngx_uint_t                  status_page;  /* /pay/{token}/status */
    u_char                      hash[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN];

    ngx_str_t                   form[NGX_HTTP_PAYOUT_FIELD_N];
    ngx_str_t                   v[NGX_HTTP_PAYOUT_V_N];
    ngx_uint_t                  form_bad;     /* not form-encoded UTF-8 */

    /* the link */
    ngx_str_t                   link_uuid;
    ngx_str_t                   gateway;
    ngx_str_t                   methods;
    int64_t                     tenant_id;
    ngx_uint_t                  livemode;
    ngx_str_t                   nonce;        /* the CSRF cookie's */
    ngx_uint_t                  new_nonce;
    ngx_uint_t                  claimed;      /* by another request */
    u_char                      fingerprint[NGX_HTTP_PAYOUT_DIGEST_HEX_LEN];

    /* points into a JSON object freed with the request */
    ngx_payout_recipient_input_t  in;
} ngx_http_payout_page_ctx_t;


typedef struct {
    u_char                     *pos;
    u_char                     *last;
} ngx_http_payout_page_out_t;


static ngx_int_t ngx_http_payout_page_handler(ngx_http_request_t *r);
static ngx_http_payout_page_ctx_t *ngx_http_payout_page_prepare(
    ngx_http_request_t *r);
static void ngx_http_payout_page_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_payout_page_path(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc);
static void ngx_http_payout_page_mask(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc);
static ngx_int_t ngx_http_payout_page_form_parse(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc);
static void ngx_http_payout_page_link(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_page_link_values(
    ngx_http_payout_page_ctx_t *pc, PGresult *res);
static ngx_int_t ngx_http_payout_page_show_form(
    ngx_http_payout_page_ctx_t *pc, ngx_uint_t status);
static ngx_int_t ngx_http_payout_page_show_status(
    ngx_http_payout_page_ctx_t *pc, PGresult *res);
static ngx_int_t ngx_http_payout_page_submit(ngx_http_payout_page_ctx_t *pc);
static ngx_int_t ngx_http_payout_page_validate(
    ngx_http_payout_page_ctx_t *pc);
static void ngx_http_payout_page_claimed(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_page_same(ngx_http_payout_page_ctx_t *pc,
    int64_t payout_id);
static void ngx_http_payout_page_same_done(ngx_http_payout_pg_query_t *q,
    PGresult *res);
static ngx_int_t ngx_http_payout_page_claimer(
    ngx_http_payout_page_ctx_t *pc);
static ngx_int_t ngx_http_payout_page_run(ngx_http_payout_page_ctx_t *pc,
    ngx_http_payout_pg_query_t *q, ngx_http_payout_pg_handler_pt handler);
static void ngx_http_payout_page_send(ngx_http_payout_page_ctx_t *pc,
    int64_t tenant_id, int64_t payout_id);
static ngx_int_t ngx_http_payout_page_see_status(
    ngx_http_payout_page_ctx_t *pc, ngx_uint_t claimer);
static ngx_int_t ngx_http_payout_page_gone(ngx_http_payout_page_ctx_t *pc,
    ngx_uint_t reason);
static ngx_int_t ngx_http_payout_page_send_page(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc, ngx_uint_t page, ngx_uint_t status);
static ngx_int_t ngx_http_payout_page_simple(ngx_http_request_t *r,
    ngx_uint_t page, ngx_uint_t status);
static ngx_int_t ngx_http_payout_page_headers(ngx_http_request_t *r);
static const char *ngx_http_payout_page_value(void *data, unsigned index,
    size_t *len);
static int ngx_http_payout_page_count(void *data, const char *p,
    size_t len);
static int ngx_http_payout_page_write(void *data, const char *p,
    size_t len);
static ngx_int_t ngx_http_payout_page_cookie(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_payout_page_mac(ngx_http_request_t *r,
    const char *purpose, ngx_str_t *link_uuid, ngx_str_t *nonce,
    u_char *hex);
static ngx_int_t ngx_http_payout_page_csrf(ngx_http_payout_page_ctx_t *pc);
static ngx_int_t ngx_http_payout_page_is_claimer(
    ngx_http_payout_page_ctx_t *pc);
static ngx_int_t ngx_http_payout_page_set_cookie(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_payout_page_set_v(ngx_http_payout_page_ctx_t *pc,
    ngx_uint_t v, const char *s);
static ngx_http_payout_page_set_t *ngx_http_payout_page_defaults(
    ngx_conf_t *cf);
static ngx_int_t ngx_http_payout_page_compile(ngx_conf_t *cf,
    ngx_http_payout_page_set_t *set, ngx_uint_t i, u_char *src, size_t len,
    ngx_str_t *file);
static void ngx_http_payout_page_cleanup(void *data);
static void ngx_http_payout_page_json_cleanup(void *data);


/* payout_link_page: the location serves payout-link pages */

char *
ngx_http_payout_link_page(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_payout_loc_conf_t  *plcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (plcf->link_page != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_payout_page_handler;

    plcf->link_page = 1;
    plcf->link_prefix = clcf->name;

    while (plcf->link_prefix.len
           && plcf->link_prefix.data[plcf->link_prefix.len - 1] != '/')
    {
        plcf->link_prefix.len--;
    }

    if (plcf->link_prefix.len == 0) {
        return "needs a location that ends in \"/\", e.g. location /pay/";
    }

    return NGX_CONF_OK;
}


/*
 * payout_link_templates DIR: each of the pages found in DIR replaces its
 * default (a page missing there keeps it).  A template that does not
 * compile stops nginx -t with its file and line.
 */

char *
ngx_http_payout_link_templates(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_payout_loc_conf_t  *plcf = conf;

    u_char                       *p;
    ssize_t                       n;
    ngx_fd_t                      fd;
    ngx_str_t                    *value, dir, file;
    ngx_uint_t                    i;
    ngx_file_info_t               fi;
    ngx_http_payout_page_set_t   *set, *defaults;

    if (plcf->link_templates != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    dir = value[1];

    if (ngx_conf_full_name(cf->cycle, &dir, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_file_info(dir.data, &fi) == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "payout_link_templates \"%V\" is not a directory",
                           &dir);
        return NGX_CONF_ERROR;
    }

    defaults = ngx_http_payout_page_defaults(cf);
    if (defaults == NULL) {
        return NGX_CONF_ERROR;
    }

    set = ngx_pcalloc(cf->pool, sizeof(ngx_http_payout_page_set_t));
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    *set = *defaults;

    for (i = 0; i <= NGX_HTTP_PAYOUT_PAGE_N; i++) {
        p = (u_char *) (i < NGX_HTTP_PAYOUT_PAGE_N
                        ? ngx_http_payout_page_names[i]
                        : NGX_HTTP_PAYOUT_PAGE_CSS);

        file.len = dir.len + 1 + ngx_strlen(p);
        file.data = ngx_pnalloc(cf->pool, file.len + 1);
        if (file.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(file.data, "%V/%s%Z", &dir, p);

        fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

        if (fd == NGX_INVALID_FILE) {
            if (ngx_errno == NGX_ENOENT) {
                continue;
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_open_file_n " \"%V\" failed", &file);
            return NGX_CONF_ERROR;
        }

        if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
            || ngx_file_size(&fi) > NGX_PAYOUT_TEMPLATE_MAX)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is not a readable template of at "
                               "most 256k", &file);
            ngx_close_file(fd);
            return NGX_CONF_ERROR;
        }

        p = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
        if (p == NULL) {
            ngx_close_file(fd);
            return NGX_CONF_ERROR;
        }

        n = ngx_read_fd(fd, p, ngx_file_size(&fi));
        ngx_close_file(fd);

        if (n < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               ngx_read_fd_n " \"%V\" failed", &file);
            return NGX_CONF_ERROR;
        }

        if (i == NGX_HTTP_PAYOUT_PAGE_N) {
            set->css.data = p;
            set->css.len = n;
            continue;
        }

        if (ngx_http_payout_page_compile(cf, set, i, p, n, &file)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    plcf->link_templates = set;

    return NGX_CONF_OK;
}


/*
 * payout_link_frame_ancestors 'none' | 'self' | source...: who may frame
 * the page (CSP frame-ancestors).  A source is a scheme ("https:") or an
 * origin, with nothing that could end the directive.
 */

char *
ngx_http_payout_link_frame_ancestors(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_payout_loc_conf_t  *plcf = conf;

    u_char      *p;
    size_t       len;
    ngx_str_t   *value;
    ngx_uint_t   i, k;

    if (plcf->link_frame_ancestors.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "takes no empty source";
        }

        if ((ngx_strcmp(value[i].data, "'none'") == 0
             || ngx_strcmp(value[i].data, "none") == 0)
            && cf->args->nelts > 2)
        {
            return "takes 'none' only alone";
        }

        for (k = 0; k < value[i].len; k++) {
            p = &value[i].data[k];

            if (!ngx_http_payout_page_alnum(*p)
                && ngx_strchr("'.:/*-_[]", *p) == NULL)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                    "payout_link_frame_ancestors: \"%V\" is not a CSP "
                    "source ('none', 'self', https:, or an origin such as "
                    "https://shop.example)", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        /* and room for the quotes of a bare keyword */
        len += value[i].len + 3;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    plcf->link_frame_ancestors.data = p;

    for (i = 1; i < cf->args->nelts; i++) {
        if (i > 1) {
            *p++ = ' ';
        }

        /* the bare keywords, as nginx's quoting makes them easy to lose */
        if (ngx_strcmp(value[i].data, "none") == 0
            || ngx_strcmp(value[i].data, "self") == 0)
        {
            p = ngx_sprintf(p, "'%V'", &value[i]);
            continue;
        }

        p = ngx_cpymem(p, value[i].data, value[i].len);
    }

    plcf->link_frame_ancestors.len = p - plcf->link_frame_ancestors.data;

    return NGX_CONF_OK;
}


char *
ngx_http_payout_page_merge(ngx_conf_t *cf, ngx_http_payout_loc_conf_t *prev,
    ngx_http_payout_loc_conf_t *conf)
{
    u_char                       *p;
    ngx_http_payout_main_conf_t  *pmcf;

    static const char  csp[] =
        "default-src 'none'; style-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors ";

    ngx_conf_merge_value(conf->link_page, prev->link_page, 0);
    ngx_conf_merge_str_value(conf->link_prefix, prev->link_prefix, "");
    ngx_conf_merge_str_value(conf->link_frame_ancestors,
                             prev->link_frame_ancestors, "'none'");

    if (conf->link_templates == NULL) {
        conf->link_templates = prev->link_templates;
    }

    if (!conf->link_page) {
        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);

    if (!pmcf->has_keys || pmcf->database.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "payout_link_page needs payout_database and "
                           "payout_master_key_file (its CSRF tokens and "
                           "sealed account numbers)");
        return NGX_CONF_ERROR;
    }

    if (conf->link_templates == NULL) {
        conf->link_templates = ngx_http_payout_page_defaults(cf);
        if (conf->link_templates == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    conf->link_csp.len = sizeof(csp) - 1 + conf->link_frame_ancestors.len;
    conf->link_csp.data = ngx_pnalloc(cf->pool, conf->link_csp.len + 1);
    if (conf->link_csp.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(conf->link_csp.data, csp, sizeof(csp) - 1);
    p = ngx_cpymem(p, conf->link_frame_ancestors.data,
                   conf->link_frame_ancestors.len);
    *p = '\0';

    return NGX_CONF_OK;
}


/* the compiled-in pages (html/payout/), compiled once per configuration */

static ngx_http_payout_page_set_t *
ngx_http_payout_page_defaults(ngx_conf_t *cf)
{
    ngx_str_t                           file;
    ngx_uint_t                          i;
    ngx_http_payout_page_set_t         *set;
    ngx_http_payout_main_conf_t        *pmcf;
    const ngx_http_payout_page_file_t  *f;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_payout_module);

    if (pmcf->link_defaults) {
        return pmcf->link_defaults;
    }

    set = ngx_pcalloc(cf->pool, sizeof(ngx_http_payout_page_set_t));
    if (set == NULL) {
        return NULL;
    }

    for (f = ngx_http_payout_page_files; f->name; f++) {
        file.data = (u_char *) f->name;
        file.len = ngx_strlen(f->name);

        if (ngx_strcmp(f->name, NGX_HTTP_PAYOUT_PAGE_CSS) == 0) {
            set->css.data = (u_char *) f->data;
            set->css.len = f->len;
            continue;
        }

        for (i = 0; i < NGX_HTTP_PAYOUT_PAGE_N; i++) {
            if (ngx_strcmp(f->name, ngx_http_payout_page_names[i]) == 0
                && ngx_http_payout_page_compile(cf, set, i,
                                                (u_char *) f->data, f->len,
                                                &file)
                   != NGX_OK)
            {
                return NULL;
            }
        }
    }

    for (i = 0; i < NGX_HTTP_PAYOUT_PAGE_N; i++) {
        if (set->t[i] == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the module was built without its page "
                               "\"%s\" (html/payout/)",
                               ngx_http_payout_page_names[i]);
            return NULL;
        }
    }

    pmcf->link_defaults = set;

    return set;
}


static ngx_int_t
ngx_http_payout_page_compile(ngx_conf_t *cf, ngx_http_payout_page_set_t *set,
    ngx_uint_t i, u_char *src, size_t len, ngx_str_t *file)
{
    ngx_pool_cleanup_t           *cln;
    ngx_payout_template_t        *t;
    ngx_payout_template_error_t   err;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    t = ngx_payout_template_compile((char *) src, len,
                                    ngx_http_payout_page_values, &err);
    if (t == NULL) {
        if (err.line == 0) {
            return NGX_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "payout_link_templates: \"%V\", line %ui: %s",
                           file, (ngx_uint_t) err.line, err.reason);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_payout_page_cleanup;
    cln->data = t;
    set->t[i] = t;

    return NGX_OK;
}


static void
ngx_http_payout_page_cleanup(void *data)
{
    ngx_payout_template_free(data);
}


static void
ngx_http_payout_page_json_cleanup(void *data)
{
    json_decref(data);
}


static ngx_int_t
ngx_http_payout_page_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_payout_loc_conf_t  *plcf;
    ngx_http_payout_page_ctx_t  *pc;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_payout_add_header(r, "Allow", "GET, HEAD, POST")
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_payout_page_simple(r, NGX_HTTP_PAYOUT_PAGE_NOTFOUND,
                                           NGX_HTTP_NOT_ALLOWED);
    }

    /* the stylesheet */
    if (r->uri.len == plcf->link_prefix.len + sizeof("payout.css") - 1
        && ngx_strncmp(r->uri.data + plcf->link_prefix.len,
                       NGX_HTTP_PAYOUT_PAGE_CSS, sizeof("payout.css") - 1)
           == 0
        && r->method != NGX_HTTP_POST)
    {
        ngx_http_payout_page_set_t  *set = plcf->link_templates;

        if (ngx_http_discard_request_body(r) != NGX_OK
            || ngx_http_payout_page_headers(r) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_payout_send_body(r, NGX_HTTP_OK,
                                              "text/css; charset=utf-8",
                                              set->css.data, set->css.len);
    }

    /* read and masked in the rewrite phase already, as a rule */
    pc = ngx_http_payout_page_prepare(r);
    if (pc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pc->token.len == 0) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_payout_page_simple(r, NGX_HTTP_PAYOUT_PAGE_NOTFOUND,
                                           NGX_HTTP_NOT_FOUND);
    }

    if (r->method == NGX_HTTP_POST) {
        if (pc->status_page) {
            if (ngx_http_discard_request_body(r) != NGX_OK
                || ngx_http_payout_add_header(r, "Allow", "GET, HEAD")
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_payout_page_simple(r,
                       NGX_HTTP_PAYOUT_PAGE_NOTFOUND, NGX_HTTP_NOT_ALLOWED);
        }

        if (r->headers_in.content_type == NULL
            || r->headers_in.content_type->value.len
               < sizeof("application/x-www-form-urlencoded") - 1
            || ngx_strncasecmp(r->headers_in.content_type->value.data,
                   (u_char *) "application/x-www-form-urlencoded",
                   sizeof("application/x-www-form-urlencoded") - 1) != 0)
        {
            if (ngx_http_discard_request_body(r) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_payout_page_simple(r,
                       NGX_HTTP_PAYOUT_PAGE_REFUSED,
                       NGX_HTTP_UNSUPPORTED_MEDIA_TYPE);
        }

        if (r->headers_in.content_length_n > NGX_HTTP_PAYOUT_PAGE_BODY_MAX) {
            if (ngx_http_discard_request_body(r) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_payout_page_simple(r,
                       NGX_HTTP_PAYOUT_PAGE_REFUSED,
                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE);
        }
    }

    /* a GET's body, if any, is read and ignored like a POST's is parsed */
    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_payout_page_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The rewrite phase, before limit_req, access and anything else that may
 * log the request: the token is read and masked now.
 */

ngx_int_t
ngx_http_payout_page_rewrite(ngx_http_request_t *r)
{
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    if (plcf->link_page
        && ngx_http_payout_page_prepare(r) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/* the request's page context, its token read from the URI (once) */

static ngx_http_payout_page_ctx_t *
ngx_http_payout_page_prepare(ngx_http_request_t *r)
{
    ngx_http_payout_ctx_t       *ctx;
    ngx_http_payout_loc_conf_t  *plcf;
    ngx_http_payout_page_ctx_t  *pc;

    ctx = ngx_http_payout_get_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->page) {
        return ctx->page;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    pc = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_page_ctx_t));
    if (pc == NULL) {
        return NULL;
    }

    pc->request = r;
    ctx->page = pc;

    /* the stylesheet's URI holds nothing to hide */
    if (r->uri.len == plcf->link_prefix.len + sizeof("payout.css") - 1
        && ngx_strncmp(r->uri.data + plcf->link_prefix.len,
                       NGX_HTTP_PAYOUT_PAGE_CSS, sizeof("payout.css") - 1)
           == 0)
    {
        return pc;
    }

    if (ngx_http_payout_page_path(r, pc) == NGX_ERROR) {
        return NULL;
    }

    return pc;
}


static void
ngx_http_payout_page_body(ngx_http_request_t *r)
{
    u_char                       hash[32];
    ngx_int_t                    rc;
    ngx_http_payout_ctx_t       *ctx;
    ngx_http_payout_pg_query_t  *q;
    ngx_http_payout_page_ctx_t  *pc;

    ctx = ngx_http_payout_get_ctx(r);
    pc = ctx->page;

    if (r->method == NGX_HTTP_POST) {
        rc = ngx_http_payout_page_form_parse(r, pc);

        if (rc != NGX_OK) {
            ngx_http_finalize_request(r, rc == NGX_DECLINED
                ? ngx_http_payout_page_simple(r, NGX_HTTP_PAYOUT_PAGE_REFUSED,
                      NGX_HTTP_REQUEST_ENTITY_TOO_LARGE)
                : NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    ngx_payout_sha256(pc->token.data, pc->token.len, hash);
    pc->hash[0] = '\\';
    pc->hash[1] = 'x';
    ngx_hex_dump(pc->hash + 2, hash, sizeof(hash));

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_page_sql);
    if (q == NULL
        || ngx_http_payout_pg_param(q, pc->hash, sizeof(pc->hash)) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_payout_page_run(pc, q, ngx_http_payout_page_link);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * {prefix}{token} or {prefix}{token}/status: the token is copied, then
 * masked in what nginx logs.  NGX_DECLINED: no such page.
 */

static ngx_int_t
ngx_http_payout_page_path(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc)
{
    u_char                      *p, *end, *start;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    if (r->uri.len < plcf->link_prefix.len) {
        return NGX_DECLINED;
    }

    start = r->uri.data + plcf->link_prefix.len;
    end = r->uri.data + r->uri.len;

    for (p = start; p < end; p++) {
        if (!(ngx_http_payout_page_alnum(*p) || *p == '-' || *p == '_')) {
            break;
        }
    }

    /* the shape of a link's token: anything else is looked up nowhere */
    if (!ngx_payout_link_token_valid((char *) start, p - start)) {
        ngx_http_payout_page_mask(r, pc);
        return NGX_DECLINED;
    }

    if (p < end) {
        if ((size_t) (end - p) != sizeof("/status") - 1
            || ngx_strncmp(p, "/status", sizeof("/status") - 1) != 0)
        {
            ngx_http_payout_page_mask(r, pc);
            return NGX_DECLINED;
        }

        pc->status_page = 1;
    }

    pc->token.len = p - start;
    pc->token.data = ngx_pnalloc(r->pool, pc->token.len);
    if (pc->token.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(pc->token.data, start, pc->token.len);

    ngx_http_payout_page_mask(r, pc);

    return NGX_OK;
}


/*
 * The URI, the unparsed URI and the request line without the token:
 * what the access log's $uri, $request_uri and $request print, and the
 * "request:" of any error logged from here on.
 */

static void
ngx_http_payout_page_mask(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc)
{
    u_char                      *p;
    size_t                       len;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    len = plcf->link_prefix.len + sizeof(NGX_HTTP_PAYOUT_PAGE_MASK) - 1
          + sizeof("/status") - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        /* nothing can be logged with the token: keep only the prefix */
        r->uri.len = plcf->link_prefix.len;
        r->unparsed_uri = r->uri;
        r->request_line = r->method_name;
        return;
    }

    r->uri.data = p;
    p = ngx_cpymem(p, plcf->link_prefix.data, plcf->link_prefix.len);
    p = ngx_cpymem(p, NGX_HTTP_PAYOUT_PAGE_MASK,
                   sizeof(NGX_HTTP_PAYOUT_PAGE_MASK) - 1);

    if (pc->status_page) {
        p = ngx_cpymem(p, "/status", sizeof("/status") - 1);
    }

    r->uri.len = p - r->uri.data;
    r->unparsed_uri = r->uri;
    r->args.len = 0;

    len = r->method_name.len + 1 + r->uri.len + 1 + r->http_protocol.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        r->request_line = r->method_name;
        return;
    }

    r->request_line.data = p;
    p = ngx_cpymem(p, r->method_name.data, r->method_name.len);
    *p++ = ' ';
    p = ngx_cpymem(p, r->uri.data, r->uri.len);

    if (r->http_protocol.len) {
        *p++ = ' ';
        p = ngx_cpymem(p, r->http_protocol.data, r->http_protocol.len);
    }

    r->request_line.len = p - r->request_line.data;
}


/*
 * application/x-www-form-urlencoded: the known fields, each once (a
 * second one is ignored), decoded; others are ignored.  NGX_DECLINED: too
 * large.
 */

static ngx_int_t
ngx_http_payout_page_form_parse(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc)
{
    u_char      *p, *end, *key, *eq, *amp, *dst, *src;
    size_t       klen;
    ngx_str_t    body, *f;
    ngx_uint_t   i;

    if (ngx_http_payout_read_request_body(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len > NGX_HTTP_PAYOUT_PAGE_BODY_MAX) {
        return NGX_DECLINED;
    }

    p = body.data;
    end = body.data + body.len;

    while (p < end) {
        key = p;
        amp = ngx_strlchr(p, end, '&');

        if (amp == NULL) {
            amp = end;
        }

        p = amp + 1;
        eq = ngx_strlchr(key, amp, '=');

        if (eq == NULL) {
            continue;
        }

        klen = eq - key;

        for (i = 0; i < NGX_HTTP_PAYOUT_FIELD_N; i++) {
            if (ngx_strlen(ngx_http_payout_page_fields[i]) == klen
                && ngx_strncmp(key, ngx_http_payout_page_fields[i], klen)
                   == 0)
            {
                break;
            }
        }

        if (i == NGX_HTTP_PAYOUT_FIELD_N || pc->form[i].data) {
            continue;
        }

        f = &pc->form[i];
        f->data = ngx_pnalloc(r->pool, amp - eq);
        if (f->data == NULL) {
            return NGX_ERROR;
        }

        for (src = eq + 1; src < amp; src++) {
            if (*src == '+') {
                *src = ' ';
            }
        }

        src = eq + 1;
        dst = f->data;
        ngx_unescape_uri(&dst, &src, amp - eq - 1, 0);
        f->len = dst - f->data;

        /* what the browser adds around what was typed */
        while (f->len && (f->data[0] == ' ' || f->data[0] == '\t')) {
            f->data++;
            f->len--;
        }

        while (f->len && (f->data[f->len - 1] == ' '
                          || f->data[f->len - 1] == '\t'))
        {
            f->len--;
        }

        /* kept for the form, and NUL-terminated for the validator */
        f->data[f->len] = '\0';

        if (!ngx_payout_utf8_valid((char *) f->data, f->len)) {
            pc->form_bad = 1;
            f->len = 0;
        }
    }

    return NGX_OK;
}


static void
ngx_http_payout_page_link(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_int_t                    rc;
    ngx_str_t                    status;
    ngx_uint_t                   claimer;
    ngx_http_request_t          *r;
    ngx_http_payout_page_ctx_t  *pc;

    pc = q->data;
    r = pc->request;

    if (q->status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE) {
        ngx_http_payout_finalize(r, ngx_http_payout_page_simple(r,
                                    NGX_HTTP_PAYOUT_PAGE_UNAVAILABLE,
                                    NGX_HTTP_SERVICE_UNAVAILABLE));
        return;
    }

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) > 1) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (PQntuples(res) == 0) {
        ngx_http_payout_finalize(r, ngx_http_payout_page_simple(r,
                                    NGX_HTTP_PAYOUT_PAGE_NOTFOUND,
                                    NGX_HTTP_NOT_FOUND));
        return;
    }

    if (ngx_http_payout_page_link_values(pc, res) != NGX_OK) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_PAGE_STATUS_COL,
                            &status);

    if (ngx_strcmp(status.data, "open") == 0) {
        if (pc->status_page) {
            /* nothing to show yet: back to the form */
            rc = ngx_http_payout_page_see_status(pc, 0);

        } else if (r->method == NGX_HTTP_POST) {
            rc = ngx_http_payout_page_submit(pc);

        } else {
            rc = ngx_http_payout_page_show_form(pc, NGX_HTTP_OK);
        }

    } else if (ngx_strcmp(status.data, "claimed") == 0) {
        claimer = (ngx_http_payout_page_is_claimer(pc) == NGX_OK);

        if (!claimer && r->method == NGX_HTTP_POST) {
            /* the same details again are the same claim (see _same) */
            pc->claimed = 1;
            rc = ngx_http_payout_page_submit(pc);

        } else if (!claimer) {
            rc = ngx_http_payout_page_gone(pc,
                                          NGX_HTTP_PAYOUT_V_REASON_CLAIMED);

        } else if (r->method == NGX_HTTP_POST || !pc->status_page) {
            /* the same form again: nothing changes, its status shows */
            rc = ngx_http_payout_page_see_status(pc, 1);

        } else {
            rc = ngx_http_payout_page_show_status(pc, res);
        }

    } else {
        rc = ngx_http_payout_page_gone(pc,
                 ngx_strcmp(status.data, "canceled") == 0
                 ? NGX_HTTP_PAYOUT_V_REASON_CANCELED
                 : NGX_HTTP_PAYOUT_V_REASON_EXPIRED);
    }

    if (rc != NGX_DONE) {
        ngx_http_payout_finalize(r, rc);
    }
}


/* what every page of the link shows: who pays, how much, until when */

static ngx_int_t
ngx_http_payout_page_link_values(ngx_http_payout_page_ctx_t *pc,
    PGresult *res)
{
    char                          money[64];
    size_t                        n;
    ngx_str_t                     currency, *v;
    ngx_uint_t                    i;
    ngx_pool_t                   *pool;
    const ngx_payout_currency_t  *cur;

    static const struct {
        ngx_uint_t  value;
        int         col;
    } copies[] = {
        { NGX_HTTP_PAYOUT_V_NARRATION, NGX_HTTP_PAYOUT_PAGE_NARRATION },
        { NGX_HTTP_PAYOUT_V_EXPIRES_AT, NGX_HTTP_PAYOUT_PAGE_EXPIRES_AT },
        { NGX_HTTP_PAYOUT_V_PAYOUT_UUID, NGX_HTTP_PAYOUT_PAGE_PAYOUT_UUID },
        { NGX_HTTP_PAYOUT_V_FAILURE_REASON,
          NGX_HTTP_PAYOUT_PAGE_FAILURE_REASON },
        { NGX_HTTP_PAYOUT_FIELD_NAME, NGX_HTTP_PAYOUT_PAGE_NAME },
        { NGX_HTTP_PAYOUT_FIELD_EMAIL, NGX_HTTP_PAYOUT_PAGE_EMAIL },
        { NGX_HTTP_PAYOUT_FIELD_PHONE, NGX_HTTP_PAYOUT_PAGE_PHONE }
    };

    pool = pc->request->pool;
    v = pc->v;

    for (i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
        if (ngx_http_payout_pg_copy(pool, res, 0, copies[i].col,
                                    &v[copies[i].value]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_payout_pg_copy(pool, res, 0,
                                NGX_HTTP_PAYOUT_PAGE_DISPLAY_NAME,
                                &v[NGX_HTTP_PAYOUT_V_PAYER]) != NGX_OK
        || (v[NGX_HTTP_PAYOUT_V_PAYER].len == 0
            && ngx_http_payout_pg_copy(pool, res, 0,
                                       NGX_HTTP_PAYOUT_PAGE_TENANT_NAME,
                                       &v[NGX_HTTP_PAYOUT_V_PAYER])
               != NGX_OK)
        || ngx_http_payout_pg_copy(pool, res, 0,
                                   NGX_HTTP_PAYOUT_PAGE_LINK_UUID,
                                   &pc->link_uuid) != NGX_OK
        || ngx_http_payout_pg_copy(pool, res, 0, NGX_HTTP_PAYOUT_PAGE_GATEWAY,
                                   &pc->gateway) != NGX_OK
        || ngx_http_payout_pg_copy(pool, res, 0, NGX_HTTP_PAYOUT_PAGE_METHODS,
                                   &pc->methods) != NGX_OK
        || pc->link_uuid.data == NULL || pc->gateway.data == NULL
        || pc->methods.data == NULL)
    {
        return NGX_ERROR;
    }

    pc->tenant_id = ngx_http_payout_pg_int(res, 0,
                                           NGX_HTTP_PAYOUT_PAGE_TENANT_ID);
    pc->livemode = ngx_http_payout_pg_bool(res, 0,
                                           NGX_HTTP_PAYOUT_PAGE_LIVEMODE);

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_PAGE_CURRENCY, &currency);
    cur = ngx_payout_currency_find((char *) currency.data, currency.len);

    n = ngx_payout_money_format(money, sizeof(money),
                                ngx_http_payout_pg_int(res, 0,
                                    NGX_HTTP_PAYOUT_PAGE_AMOUNT),
                                cur ? cur->exponent : 2,
                                (char *) currency.data);

    v[NGX_HTTP_PAYOUT_V_AMOUNT].data = ngx_pnalloc(pool, n + 1);
    if (v[NGX_HTTP_PAYOUT_V_AMOUNT].data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(v[NGX_HTTP_PAYOUT_V_AMOUNT].data, money, n + 1);
    v[NGX_HTTP_PAYOUT_V_AMOUNT].len = n;

    if (ngx_strstr(pc->methods.data, "bank_account")) {
        ngx_str_set(&v[NGX_HTTP_PAYOUT_V_METHOD_BANK], "1");
    }

    if (ngx_strstr(pc->methods.data, "mobile_money")) {
        ngx_str_set(&v[NGX_HTTP_PAYOUT_V_METHOD_MOBILE], "1");
    }

    if (v[NGX_HTTP_PAYOUT_V_METHOD_BANK].len
        && v[NGX_HTTP_PAYOUT_V_METHOD_MOBILE].len)
    {
        ngx_str_set(&v[NGX_HTTP_PAYOUT_V_BOTH_METHODS], "1");
    }

    return NGX_OK;
}


/*
 * The form, with the link's hints or what was posted, and a CSRF token
 * bound to the link and to the browser's cookie (set now if it has none).
 */

static ngx_int_t
ngx_http_payout_page_show_form(ngx_http_payout_page_ctx_t *pc,
    ngx_uint_t status)
{
    u_char               rnd[NGX_HTTP_PAYOUT_PAGE_NONCE_LEN / 2], *mac;
    ngx_str_t           *v, *type;
    ngx_http_request_t  *r;

    r = pc->request;
    v = pc->v;

    if (pc->nonce.len == 0
        && (ngx_http_payout_page_cookie(r, "cookie_payout_csrf", &pc->nonce)
            != NGX_OK
            || pc->nonce.len != NGX_HTTP_PAYOUT_PAGE_NONCE_LEN))
    {
        pc->nonce.data = ngx_pnalloc(r->pool, NGX_HTTP_PAYOUT_PAGE_NONCE_LEN);
        if (pc->nonce.data == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_hex_dump(pc->nonce.data, rnd, sizeof(rnd));
        pc->nonce.len = NGX_HTTP_PAYOUT_PAGE_NONCE_LEN;
        pc->new_nonce = 1;
    }

    if (pc->new_nonce
        && ngx_http_payout_page_set_cookie(r, "payout_csrf", pc->nonce.data,
                                           pc->nonce.len) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mac = ngx_pnalloc(r->pool, NGX_HTTP_PAYOUT_PAGE_MAC_LEN);
    if (mac == NULL
        || ngx_http_payout_page_mac(r, "csrf", &pc->link_uuid, &pc->nonce,
                                    mac) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v[NGX_HTTP_PAYOUT_V_CSRF].data = mac;
    v[NGX_HTTP_PAYOUT_V_CSRF].len = NGX_HTTP_PAYOUT_PAGE_MAC_LEN;

    /* the radio's choice, kept; bank account when nothing was chosen */
    type = &v[NGX_HTTP_PAYOUT_FIELD_TYPE];

    if ((type->len == sizeof("mobile_money") - 1
         && ngx_strncmp(type->data, "mobile_money", type->len) == 0)
        || !v[NGX_HTTP_PAYOUT_V_METHOD_BANK].len)
    {
        ngx_str_set(&v[NGX_HTTP_PAYOUT_V_TYPE_MOBILE], "1");

    } else {
        ngx_str_set(&v[NGX_HTTP_PAYOUT_V_TYPE_BANK], "1");
    }

    return ngx_http_payout_page_send_page(r, pc, NGX_HTTP_PAYOUT_PAGE_FORM,
                                          status);
}


static ngx_int_t
ngx_http_payout_page_show_status(ngx_http_payout_page_ctx_t *pc,
    PGresult *res)
{
    ngx_str_t  status;
    ngx_uint_t  v;

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_PAGE_PAYOUT_STATUS,
                            &status);

    if (ngx_strcmp(status.data, "success") == 0) {
        v = NGX_HTTP_PAYOUT_V_STATUS_SUCCESS;
        ngx_str_set(&pc->v[NGX_HTTP_PAYOUT_V_STATUS], "paid");

    } else if (ngx_strcmp(status.data, "canceled") == 0) {
        v = NGX_HTTP_PAYOUT_V_STATUS_FAILED;
        ngx_str_set(&pc->v[NGX_HTTP_PAYOUT_V_STATUS], "failed");

    } else {
        v = NGX_HTTP_PAYOUT_V_STATUS_PENDING;
        ngx_str_set(&pc->v[NGX_HTTP_PAYOUT_V_STATUS], "pending");
        ngx_str_set(&pc->v[NGX_HTTP_PAYOUT_V_REFRESH],
                    NGX_HTTP_PAYOUT_PAGE_REFRESH);
    }

    ngx_str_set(&pc->v[v], "1");

    return ngx_http_payout_page_send_page(pc->request, pc,
                                          NGX_HTTP_PAYOUT_PAGE_STATUS,
                                          NGX_HTTP_OK);
}


/* POST /pay/{token} on an open link */

static ngx_int_t
ngx_http_payout_page_submit(ngx_http_payout_page_ctx_t *pc)
{
    ngx_int_t                    rc;
    ngx_uint_t                   i;
    ngx_http_request_t          *r;
    ngx_http_payout_ctx_t       *ctx;
    ngx_http_payout_pg_query_t  *q;

    r = pc->request;

    if (ngx_http_payout_page_csrf(pc) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "payout link %V: form refused, its CSRF token does "
                      "not match its cookie", &pc->link_uuid);

        return ngx_http_payout_page_send_page(r, pc,
                                              NGX_HTTP_PAYOUT_PAGE_REFUSED,
                                              NGX_HTTP_FORBIDDEN);
    }

    /* what was typed is shown again, whatever happens next */
    for (i = 0; i < NGX_HTTP_PAYOUT_FIELD_CSRF; i++) {
        if (pc->form[i].data) {
            pc->v[i] = pc->form[i];
        }
    }

    rc = ngx_http_payout_page_validate(pc);

    if (rc == NGX_DECLINED && pc->claimed) {
        /* never the form of a claimed link */
        return ngx_http_payout_page_gone(pc,
                                         NGX_HTTP_PAYOUT_V_REASON_CLAIMED);
    }

    if (rc != NGX_OK) {
        return rc == NGX_DECLINED
               ? ngx_http_payout_page_show_form(pc, NGX_HTTP_BAD_REQUEST)
               : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the recipient's parameters are a payout's, sealed for the tenant */
    ctx = ngx_http_payout_get_ctx(r);
    ctx->auth.tenant_id = pc->tenant_id;
    ctx->auth.livemode = pc->livemode;

    if (ngx_http_payout_recipient_fingerprint(r, pc->tenant_id,
                                              (char *) pc->gateway.data,
                                              &pc->in, pc->fingerprint)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_claim_sql);
    if (q == NULL
        || ngx_http_payout_pg_param(q, pc->hash, sizeof(pc->hash)) != NGX_OK
        || ngx_http_payout_recipient_params(r, ctx, &pc->in,
                                            (char *) pc->gateway.data, q)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_page_run(pc, q, ngx_http_payout_page_claimed);
}


/*
 * The form as the API's recipient: the same validator, so the same
 * rules and messages as POST /payouts.  NGX_DECLINED: the message is set
 * next to its field (or above the form).
 */

static ngx_int_t
ngx_http_payout_page_validate(ngx_http_payout_page_ctx_t *pc)
{
    json_t              *body, *s;
    ngx_str_t           *f, *type;
    ngx_uint_t           i, skip_from, skip_to, allowed;
    ngx_pool_cleanup_t  *cln;
    ngx_payout_error_t   err;

    f = pc->form;
    type = &f[NGX_HTTP_PAYOUT_FIELD_TYPE];

    if (pc->form_bad) {
        return ngx_http_payout_page_set_v(pc, NGX_HTTP_PAYOUT_V_ERROR,
                   "The form held text that is not valid UTF-8; please "
                   "type it again.");
    }

    cln = ngx_pool_cleanup_add(pc->request->pool, 0);
    body = json_object();

    if (cln == NULL || body == NULL) {
        json_decref(body);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_payout_page_json_cleanup;
    cln->data = body;

    if (json_object_set_new(body, "gateway",
                            json_string((char *) pc->gateway.data)) != 0)
    {
        return NGX_ERROR;
    }

    /* only the chosen destination's fields: the other's are left over */
    skip_from = 0;
    skip_to = 0;

    if (type->len == sizeof("bank_account") - 1
        && ngx_strncmp(type->data, "bank_account", type->len) == 0)
    {
        skip_from = NGX_HTTP_PAYOUT_FIELD_MOBILE_FIRST;
        skip_to = NGX_HTTP_PAYOUT_FIELD_LAST;

    } else if (type->len == sizeof("mobile_money") - 1
               && ngx_strncmp(type->data, "mobile_money", type->len) == 0)
    {
        skip_from = NGX_HTTP_PAYOUT_FIELD_BANK_FIRST;
        skip_to = NGX_HTTP_PAYOUT_FIELD_MOBILE_FIRST;
    }

    for (i = 0; i < NGX_HTTP_PAYOUT_FIELD_CSRF; i++) {
        if (f[i].len == 0 || (i >= skip_from && i < skip_to)) {
            continue;
        }

        s = json_stringn((char *) f[i].data, f[i].len);

        if (s == NULL
            || json_object_set_new(body, ngx_http_payout_page_fields[i], s)
               != 0)
        {
            return NGX_ERROR;
        }
    }

    /* the json is kept until the request ends: in points into it */
    if (ngx_payout_validate_recipient(body, &pc->in, &err)
        != NGX_PAYOUT_OK)
    {
        for (i = 0; i < NGX_HTTP_PAYOUT_FIELD_CSRF; i++) {
            if (err.field
                && ngx_strcmp(err.field, ngx_http_payout_page_fields[i]) == 0)
            {
                return ngx_http_payout_page_set_v(pc,
                           NGX_HTTP_PAYOUT_V_ERROR_FIELD + i, err.message);
            }
        }

        return ngx_http_payout_page_set_v(pc, NGX_HTTP_PAYOUT_V_ERROR,
                                          err.message);
    }

    allowed = (pc->in.type == NGX_PAYOUT_RECIPIENT_BANK)
              ? pc->v[NGX_HTTP_PAYOUT_V_METHOD_BANK].len
              : (pc->in.type == NGX_PAYOUT_RECIPIENT_MOBILE)
                ? pc->v[NGX_HTTP_PAYOUT_V_METHOD_MOBILE].len : 0;

    if (!allowed) {
        /* above the form: a one-method form has no choice to mark */
        return ngx_http_payout_page_set_v(pc, NGX_HTTP_PAYOUT_V_ERROR,
                   pc->v[NGX_HTTP_PAYOUT_V_METHOD_BANK].len
                   ? "This link pays only to a bank account."
                   : "This link pays only to a mobile money wallet.");
    }

    return NGX_OK;
}


static void
ngx_http_payout_page_claimed(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_int_t                    rc;
    ngx_str_t                    outcome;
    ngx_http_request_t          *r;
    ngx_http_payout_page_ctx_t  *pc;

    pc = q->data;
    r = pc->request;

    if (q->status == NGX_HTTP_PAYOUT_PG_UNAVAILABLE) {
        ngx_http_payout_finalize(r, ngx_http_payout_page_simple(r,
                                    NGX_HTTP_PAYOUT_PAGE_UNAVAILABLE,
                                    NGX_HTTP_SERVICE_UNAVAILABLE));
        return;
    }

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1) {
        ngx_http_payout_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_payout_pg_text(res, 0, NGX_HTTP_PAYOUT_CLAIM_OUTCOME, &outcome);

    if (ngx_strcmp(outcome.data, "created") == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "payout link %V claimed", &pc->link_uuid);

        rc = ngx_http_payout_page_claimer(pc);

        /* committed as pending_created: sent now, whatever the browser */
        ngx_http_payout_page_send(pc,
            ngx_http_payout_pg_int(res, 0, NGX_HTTP_PAYOUT_CLAIM_TENANT_ID),
            ngx_http_payout_pg_int(res, 0, NGX_HTTP_PAYOUT_CLAIM_PAYOUT_ID));

    } else if (ngx_strcmp(outcome.data, "existing") == 0) {
        /* claimed while this request waited: by whom? */
        if (ngx_http_payout_page_is_claimer(pc) == NGX_OK) {
            rc = ngx_http_payout_page_see_status(pc, 1);

        } else {
            rc = ngx_http_payout_page_same(pc,
                     ngx_http_payout_pg_int(res, 0,
                                            NGX_HTTP_PAYOUT_CLAIM_PAYOUT_ID));
        }

    } else if (ngx_strcmp(outcome.data, "canceled") == 0) {
        rc = ngx_http_payout_page_gone(pc, NGX_HTTP_PAYOUT_V_REASON_CANCELED);

    } else if (ngx_strcmp(outcome.data, "expired") == 0) {
        rc = ngx_http_payout_page_gone(pc, NGX_HTTP_PAYOUT_V_REASON_EXPIRED);

    } else {
        rc = ngx_http_payout_page_simple(r, NGX_HTTP_PAYOUT_PAGE_NOTFOUND,
                                         NGX_HTTP_NOT_FOUND);
    }

    if (rc != NGX_DONE) {
        ngx_http_payout_finalize(r, rc);
    }
}


/* NGX_DONE: the answer comes from ngx_http_payout_page_same_done() */

static ngx_int_t
ngx_http_payout_page_same(ngx_http_payout_page_ctx_t *pc, int64_t payout_id)
{
    ngx_http_request_t          *r;
    ngx_http_payout_pg_query_t  *q;

    r = pc->request;

    q = ngx_http_payout_pg_query_create(r->pool, r->connection->log,
                                        ngx_http_payout_same_sql);
    if (q == NULL
        || ngx_http_payout_pg_param_int(q, payout_id) != NGX_OK
        || ngx_http_payout_pg_param(q, pc->fingerprint,
                                    sizeof(pc->fingerprint)) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_page_run(pc, q, ngx_http_payout_page_same_done);
}


/* NGX_DONE: q runs, and handler answers; else the answer to give now */

static ngx_int_t
ngx_http_payout_page_run(ngx_http_payout_page_ctx_t *pc,
    ngx_http_payout_pg_query_t *q, ngx_http_payout_pg_handler_pt handler)
{
    ngx_int_t  rc;

    q->handler = handler;
    q->data = pc;

    rc = ngx_http_payout_pg_run_for_request(pc->request, q);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    return rc == NGX_DECLINED
           ? ngx_http_payout_page_simple(pc->request,
                                         NGX_HTTP_PAYOUT_PAGE_UNAVAILABLE,
                                         NGX_HTTP_SERVICE_UNAVAILABLE)
           : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_payout_page_same_done(ngx_http_payout_pg_query_t *q, PGresult *res)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_payout_page_ctx_t  *pc;

    pc = q->data;
    r = pc->request;

    if (q->status != NGX_HTTP_PAYOUT_PG_OK || PQntuples(res) != 1) {
        ngx_http_payout_finalize(r, q->status
                                    == NGX_HTTP_PAYOUT_PG_UNAVAILABLE
            ? ngx_http_payout_page_simple(r, NGX_HTTP_PAYOUT_PAGE_UNAVAILABLE,
                                          NGX_HTTP_SERVICE_UNAVAILABLE)
            : NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_payout_pg_bool(res, 0, NGX_HTTP_PAYOUT_SAME_RECIPIENT)) {
        rc = ngx_http_payout_page_claimer(pc);

    } else {
        rc = ngx_http_payout_page_gone(pc, NGX_HTTP_PAYOUT_V_REASON_CLAIMED);
    }

    ngx_http_payout_finalize(r, rc);
}


/* this browser made the claim: its cookie, and to the status page */

static ngx_int_t
ngx_http_payout_page_claimer(ngx_http_payout_page_ctx_t *pc)
{
    u_char              *mac;
    ngx_http_request_t  *r;

    r = pc->request;
    mac = ngx_pnalloc(r->pool, NGX_HTTP_PAYOUT_PAGE_MAC_LEN);

    if (mac == NULL
        || ngx_http_payout_page_mac(r, "claim", &pc->link_uuid, NULL, mac)
           != NGX_OK
        || ngx_http_payout_page_set_cookie(r, "payout_claim", mac,
                                           NGX_HTTP_PAYOUT_PAGE_MAC_LEN)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_page_see_status(pc, 1);
}


/*
 * The send runs in its own pool, with no handler: it records its result
 * even when the browser has long gone.  If it cannot start, the payout
 * stays pending_created and the reconciler sends it.
 */

static void
ngx_http_payout_page_send(ngx_http_payout_page_ctx_t *pc, int64_t tenant_id,
    int64_t payout_id)
{
    ngx_http_request_t           *r;
    ngx_http_payout_send_t       *s;
    ngx_http_payout_main_conf_t  *pmcf;

    r = pc->request;
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    s = ngx_http_payout_send_create(pmcf, r->connection->log);
    if (s == NULL) {
        return;
    }

    s->tenant_id = tenant_id;
    s->payout_id = payout_id;

    (void) ngx_http_payout_send_start(s);
}


/*
 * 303 to the status page (claimer) or to the form.  The Location is
 * relative, so the token is not written out again.
 */

static ngx_int_t
ngx_http_payout_page_see_status(ngx_http_payout_page_ctx_t *pc,
    ngx_uint_t claimer)
{
    u_char              *p;
    size_t               len;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = pc->request;

    len = pc->token.len + sizeof("/status") - 1 + 2;
    p = ngx_pnalloc(r->pool, len);
    h = ngx_list_push(&r->headers_out.headers);

    if (p == NULL || h == NULL || ngx_http_payout_page_headers(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* from /pay/{token} or /pay/{token}/status, to one of the two */
    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value.data = p;

    if (pc->status_page) {
        p = ngx_cpymem(p, claimer ? "status" : "../", claimer ? 6 : 3);

        if (!claimer) {
            p = ngx_cpymem(p, pc->token.data, pc->token.len);
        }

    } else {
        p = ngx_cpymem(p, pc->token.data, pc->token.len);

        if (claimer) {
            p = ngx_cpymem(p, "/status", sizeof("/status") - 1);
        }
    }

    h->value.len = p - h->value.data;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    r->headers_out.location = h;

    return ngx_http_payout_send_body(r, NGX_HTTP_SEE_OTHER,
                                          "text/plain; charset=utf-8",
                                          (u_char *) "See the status page.\n",
                                          sizeof("See the status page.\n")
                                          - 1);
}


static ngx_int_t
ngx_http_payout_page_gone(ngx_http_payout_page_ctx_t *pc, ngx_uint_t reason)
{
    ngx_str_set(&pc->v[reason], "1");

    return ngx_http_payout_page_send_page(pc->request, pc,
                                          NGX_HTTP_PAYOUT_PAGE_GONE,
                                          NGX_HTTP_PAYOUT_GONE);
}


/* a page that shows nothing of a link: 404, 403, 413, 503 */

static ngx_int_t
ngx_http_payout_page_simple(ngx_http_request_t *r, ngx_uint_t page,
    ngx_uint_t status)
{
    ngx_http_payout_page_ctx_t  *pc;

    pc = ngx_pcalloc(r->pool, sizeof(ngx_http_payout_page_ctx_t));
    if (pc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pc->request = r;

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_payout_set_retry_after(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_page_send_page(r, pc, page, status);
}


static ngx_int_t
ngx_http_payout_page_send_page(ngx_http_request_t *r,
    ngx_http_payout_page_ctx_t *pc, ngx_uint_t page, ngx_uint_t status)
{
    size_t                       len;
    ngx_http_payout_page_set_t  *set;
    ngx_http_payout_page_out_t   out;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);
    set = plcf->link_templates;

    /* the stylesheet beside the pages: {prefix}payout.css */
    len = plcf->link_prefix.len + sizeof(NGX_HTTP_PAYOUT_PAGE_CSS) - 1;
    pc->v[NGX_HTTP_PAYOUT_V_CSS].data = ngx_pnalloc(r->pool, len);
    if (pc->v[NGX_HTTP_PAYOUT_V_CSS].data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(pc->v[NGX_HTTP_PAYOUT_V_CSS].data,
                          plcf->link_prefix.data, plcf->link_prefix.len),
               NGX_HTTP_PAYOUT_PAGE_CSS, sizeof(NGX_HTTP_PAYOUT_PAGE_CSS) - 1);
    pc->v[NGX_HTTP_PAYOUT_V_CSS].len = len;

    /* once to size the page, once to write it */
    len = 0;
    (void) ngx_payout_template_render(set->t[page],
                                      ngx_http_payout_page_value, pc,
                                      ngx_http_payout_page_count, &len);

    out.pos = ngx_pnalloc(r->pool, len ? len : 1);
    if (out.pos == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out.last = out.pos + len;

    if (ngx_payout_template_render(set->t[page], ngx_http_payout_page_value,
                                   pc, ngx_http_payout_page_write, &out)
        != NGX_PAYOUT_OK
        || ngx_http_payout_page_headers(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_payout_send_body(r, status,
                                          "text/html; charset=utf-8",
                                          out.last - len, len);
}


ngx_int_t
ngx_http_payout_page_foreign(ngx_http_request_t *r)
{
    ngx_http_payout_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_payout_module);

    if (ctx && ctx->own_response) {
        return NGX_OK;
    }

    return ngx_http_payout_page_headers(r);
}


/* what every answer of the page carries, once */

static ngx_int_t
ngx_http_payout_page_headers(ngx_http_request_t *r)
{
    ngx_http_payout_ctx_t       *ctx;
    ngx_http_payout_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);

    ctx = ngx_http_payout_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->own_response = 1;

    if (ngx_http_payout_add_header(r, "Content-Security-Policy",
                                   (char *) plcf->link_csp.data) != NGX_OK
        || ngx_http_payout_add_header(r, "Cache-Control", "no-store")
           != NGX_OK
        || ngx_http_payout_add_header(r, "Referrer-Policy", "no-referrer")
           != NGX_OK
        || ngx_http_payout_add_header(r, "X-Content-Type-Options", "nosniff")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static const char *
ngx_http_payout_page_value(void *data, unsigned index, size_t *len)
{
    ngx_http_payout_page_ctx_t  *pc = data;

    *len = pc->v[index].len;

    return (const char *) pc->v[index].data;
}


static int
ngx_http_payout_page_count(void *data, const char *p, size_t len)
{
    size_t  *n = data;

    (void) p;
    *n += len;

    return NGX_PAYOUT_OK;
}


static int
ngx_http_payout_page_write(void *data, const char *p, size_t len)
{
    ngx_http_payout_page_out_t  *out = data;

    if ((size_t) (out->last - out->pos) < len) {
        return NGX_PAYOUT_ERROR;
    }

    out->pos = ngx_cpymem(out->pos, p, len);

    return NGX_PAYOUT_OK;
}


/* $cookie_NAME, through nginx's own variable: NGX_DECLINED if absent */

static ngx_int_t
ngx_http_payout_page_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t                   var;
    ngx_http_variable_value_t  *vv;

    var.data = (u_char *) name;
    var.len = ngx_strlen(name);

    vv = ngx_http_get_variable(r, &var, ngx_hash_key(var.data, var.len));

    if (vv == NULL || vv->not_found || vv->len == 0) {
        ngx_str_null(value);
        return NGX_DECLINED;
    }

    value->data = vv->data;
    value->len = vv->len;

    return NGX_OK;
}


/* hex of HMAC(token key, "payout-link-" purpose ":" uuid [":" nonce]) */

static ngx_int_t
ngx_http_payout_page_mac(ngx_http_request_t *r, const char *purpose,
    ngx_str_t *link_uuid, ngx_str_t *nonce, u_char *hex)
{
    u_char                        msg[128], *p, mac[32];
    ngx_http_payout_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    if (link_uuid->len > 40 || (nonce && nonce->len > 40)) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(msg, "payout-link-%s:%V", purpose, link_uuid);

    if (nonce) {
        p = ngx_sprintf(p, ":%V", nonce);
    }

    ngx_payout_hmac_sha256(pmcf->keys.token, sizeof(pmcf->keys.token), msg,
                           p - msg, mac);
    ngx_hex_dump(hex, mac, sizeof(mac));

    return NGX_OK;
}


/* both the cookie and the form's field, and the field made from it */

static ngx_int_t
ngx_http_payout_page_csrf(ngx_http_payout_page_ctx_t *pc)
{
    u_char      want[NGX_HTTP_PAYOUT_PAGE_MAC_LEN];
    ngx_str_t  *got;

    got = &pc->form[NGX_HTTP_PAYOUT_FIELD_CSRF];

    if (ngx_http_payout_page_cookie(pc->request, "cookie_payout_csrf",
                                    &pc->nonce) != NGX_OK
        || pc->nonce.len != NGX_HTTP_PAYOUT_PAGE_NONCE_LEN
        || got->len != NGX_HTTP_PAYOUT_PAGE_MAC_LEN
        || ngx_http_payout_page_mac(pc->request, "csrf", &pc->link_uuid,
                                    &pc->nonce, want) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return CRYPTO_memcmp(want, got->data, sizeof(want)) == 0
           ? NGX_OK : NGX_DECLINED;
}


/* did this browser claim the link?  Its payout_claim cookie says */

static ngx_int_t
ngx_http_payout_page_is_claimer(ngx_http_payout_page_ctx_t *pc)
{
    u_char     want[NGX_HTTP_PAYOUT_PAGE_MAC_LEN];
    ngx_str_t  got;

    if (ngx_http_payout_page_cookie(pc->request, "cookie_payout_claim", &got)
        != NGX_OK
        || got.len != NGX_HTTP_PAYOUT_PAGE_MAC_LEN
        || ngx_http_payout_page_mac(pc->request, "claim", &pc->link_uuid,
                                    NULL, want) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return CRYPTO_memcmp(want, got.data, sizeof(want)) == 0
           ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_payout_page_set_cookie(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    u_char                       *p;
    ngx_table_elt_t              *h;
    ngx_http_payout_loc_conf_t   *plcf;
    ngx_http_payout_main_conf_t  *pmcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_payout_module);
    pmcf = ngx_http_get_module_main_conf(r, ngx_http_payout_module);

    p = ngx_pnalloc(r->pool, ngx_strlen(name) + 1 + len
                             + sizeof("; Path=; HttpOnly; SameSite=Strict; "
                                      "Secure") + plcf->link_prefix.len);
    h = ngx_list_push(&r->headers_out.headers);

    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_sprintf(p, "%s=", name);
    p = ngx_cpymem(p, value, len);
    p = ngx_sprintf(p, "; Path=%V; HttpOnly; SameSite=Strict",
                    &plcf->link_prefix);

    if (pmcf->public_https) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    h->value.len = p - h->value.data;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_payout_page_set_v(ngx_http_payout_page_ctx_t *pc, ngx_uint_t v,
    const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    pc->v[v].data = ngx_pnalloc(pc->request->pool, len + 1);
    if (pc->v[v].data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(pc->v[v].data, s, len + 1);
    pc->v[v].len = len;

    return NGX_DECLINED;
}
