/*
 * Directives with arguments of their own: the master key file and the
 * gateways.  Secrets are read from files at configuration time, so they
 * never sit in nginx.conf.
 */

#include "ngx_http_payout.h"
#include "core/ngx_payout_connector.h"


static ngx_int_t ngx_http_payout_read_secret(ngx_conf_t *cf,
    ngx_str_t *path, ngx_str_t *out);
static char *ngx_http_payout_gateway_connector(ngx_conf_t *cf,
    ngx_http_payout_gateway_t *gw, ngx_array_t *own);
static char *ngx_http_payout_gateway_url(ngx_conf_t *cf,
    ngx_http_payout_gateway_t *gw);
static ngx_uint_t ngx_http_payout_loopback(u_char *host, size_t len);
static char *ngx_http_payout_gateway_check(ngx_conf_t *cf,
    ngx_http_payout_main_conf_t *pmcf, ngx_http_payout_gateway_t *gw);
static ngx_int_t ngx_http_payout_gateway_callback(ngx_conf_t *cf,
    ngx_http_payout_main_conf_t *pmcf, ngx_http_payout_gateway_t *gw);
static void *ngx_http_payout_conf_alloc(void *data, size_t size);


char *
ngx_http_payout_master_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf = conf;

    u_char      key[NGX_PAYOUT_MASTER_KEY_LEN];
    ngx_str_t  *value, text;

    if (pmcf->has_keys) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_payout_read_secret(cf, &value[1], &text) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_payout_master_key_parse(text.data, text.len, key)
        != NGX_PAYOUT_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must hold 64 hex characters "
                           "(e.g. the output of \"openssl rand -hex 32\")",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_payout_keys_derive(key, &pmcf->keys);
    ngx_explicit_memzero(key, sizeof(key));
    ngx_explicit_memzero(text.data, text.len);

    pmcf->master_key_file = value[1];
    pmcf->has_keys = 1;

    return NGX_CONF_OK;
}


/*
 * payout_public_url URL: an absolute http(s) URL with a host and no query
 * or fragment, kept without its trailing slash so paths append to it.
 */

char *
ngx_http_payout_public_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf = conf;

    u_char     *host, *end;
    ngx_str_t  *value, url;

    if (pmcf->public_url.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    if (url.len > 8 && ngx_strncasecmp(url.data, (u_char *) "https://", 8)
                       == 0)
    {
        host = url.data + 8;
        pmcf->public_https = 1;

    } else if (url.len > 7
               && ngx_strncasecmp(url.data, (u_char *) "http://", 7) == 0)
    {
        host = url.data + 7;

    } else {
        return "must start with \"https://\" or \"http://\"";
    }

    end = url.data + url.len;

    while (end > host && end[-1] == '/') {
        end--;
    }

    url.len = end - url.data;

    if (host == end || *host == '/' || *host == ':') {
        return "has no host";
    }

    for ( /* void */ ; host < end; host++) {
        if (*host == '?' || *host == '#' || *host <= ' ' || *host >= 0x7f) {
            return "must have no query, fragment, space or control "
                   "character";
        }
    }

    pmcf->public_url = url;

    return NGX_CONF_OK;
}


/*
 * payout_gateway NAME connector=C [mode=test|live] [url=U] [secret_file=F]
 *                [webhook_secret_file=F] [ca_file=F] [timeout=T];
 */

char *
ngx_http_payout_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf = conf;

    char                       *rv;
    ngx_str_t                  *value, v, path, **p;
    ngx_uint_t                  i;
    ngx_array_t                 own;
    ngx_http_payout_gateway_t  *gw;

    value = cf->args->elts;

    if (pmcf->gateways == NULL) {
        pmcf->gateways = ngx_array_create(cf->pool, 4,
                                          sizeof(ngx_http_payout_gateway_t));
        if (pmcf->gateways == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_payout_find_gateway(pmcf, (char *) value[1].data,
                                     value[1].len))
    {
        return "is duplicate";
    }

    for (i = 0; i < value[1].len; i++) {
        u_char  c = value[1].data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
              || c == '-') || i >= 32)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid gateway name \"%V\": use up to 32 "
                               "of a-z, 0-9, \"_\" and \"-\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    gw = ngx_array_push(pmcf->gateways);
    if (gw == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&own, cf->temp_pool, 4, sizeof(ngx_str_t *))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(gw, sizeof(ngx_http_payout_gateway_t));
    gw->name = value[1];
    gw->timeout = 10000;
    gw->livemode = NGX_CONF_UNSET;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "connector=", 10) == 0) {
            gw->connector.data = value[i].data + 10;
            gw->connector.len = value[i].len - 10;

        } else if (ngx_strcmp(value[i].data, "mode=test") == 0) {
            gw->livemode = 0;

        } else if (ngx_strcmp(value[i].data, "mode=live") == 0) {
            gw->livemode = 1;

        } else if (ngx_strncmp(value[i].data, "mode=", 5) == 0) {
            return "has an invalid mode: use mode=test or mode=live";

        } else if (ngx_strncmp(value[i].data, "url=", 4) == 0) {
            gw->url.data = value[i].data + 4;
            gw->url.len = value[i].len - 4;

            while (gw->url.len && gw->url.data[gw->url.len - 1] == '/') {
                gw->url.len--;
            }

            gw->url.data[gw->url.len] = '\0';

        } else if (ngx_strncmp(value[i].data, "secret_file=", 12) == 0) {
            path.data = value[i].data + 12;
            path.len = value[i].len - 12;

            if (ngx_http_payout_read_secret(cf, &path, &gw->secret)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strncmp(value[i].data, "webhook_secret_file=", 20)
                   == 0)
        {
            path.data = value[i].data + 20;
            path.len = value[i].len - 20;

            if (ngx_http_payout_read_secret(cf, &path, &gw->webhook_secret)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (ngx_strncmp(value[i].data, "ca_file=", 8) == 0) {
            gw->ca_file.data = value[i].data + 8;
            gw->ca_file.len = value[i].len - 8;

        } else if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            v.data = value[i].data + 8;
            v.len = value[i].len - 8;

            gw->timeout = ngx_parse_time(&v, 0);
            if (gw->timeout == (ngx_msec_t) NGX_ERROR || gw->timeout == 0) {
                return "has an invalid timeout";
            }

        } else {
            /* the connector's own, once it is known */
            p = ngx_array_push(&own);
            if (p == NULL) {
                return NGX_CONF_ERROR;
            }

            *p = &value[i];
        }
    }

    rv = ngx_http_payout_gateway_connector(cf, gw, &own);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /*
     * A connector that moves no money (the sandbox) is test mode only.
     * A real provider's mode is never guessed, since test keys paying
     * out real money, or live keys "paying" into a test account, are
     * both wrong.
     */

    if (gw->livemode == NGX_CONF_UNSET) {
        if (!(gw->actions->caps & NGX_PAYOUT_CAP_TEST_ONLY)) {
            return "needs mode=test or mode=live";
        }

        gw->livemode = 0;
    }

    if ((gw->actions->caps & NGX_PAYOUT_CAP_TEST_ONLY) && gw->livemode) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gateway \"%V\": the %s connector is test "
                           "mode only, \"mode=live\" is not allowed",
                           &gw->name, gw->actions->name);
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_payout_gateway_url(cf, gw);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_payout_gateway_check(cf, pmcf, gw);
}


/*
 * url= or the provider's production URL.  Plain http:// only to this
 * host (tests, a local proxy_pass location): a secret sent in the clear
 * anywhere else is readable on the way.
 */

static char *
ngx_http_payout_gateway_url(ngx_conf_t *cf, ngx_http_payout_gateway_t *gw)
{
    u_char  *host, *end, *p;

    if (gw->url.len == 0) {
        if (gw->actions->default_url == NULL) {
            return "needs url=";
        }

        gw->url.data = (u_char *) gw->actions->default_url;
        gw->url.len = ngx_strlen(gw->actions->default_url);
    }

    if (gw->url.len > 8
        && ngx_strncasecmp(gw->url.data, (u_char *) "https://", 8) == 0)
    {
        return NGX_CONF_OK;
    }

    if (gw->url.len <= 7
        || ngx_strncasecmp(gw->url.data, (u_char *) "http://", 7) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gateway \"%V\": url= must start with "
                           "https:// (or http:// for a loopback host)",
                           &gw->name);
        return NGX_CONF_ERROR;
    }

    /* the authority's host, after any user info, without the port */

    host = gw->url.data + 7;
    end = host;

    while (end < gw->url.data + gw->url.len
           && *end != '/' && *end != '?' && *end != '#')
    {
        end++;
    }

    for (p = host; p < end; p++) {
        if (*p == '@') {
            host = p + 1;
        }
    }

    if (host < end && *host == '[') {
        p = ngx_strlchr(host, end, ']');

        if (p) {
            host++;
            end = p;
        }

    } else {
        p = ngx_strlchr(host, end, ':');

        if (p) {
            end = p;
        }
    }

    if (!ngx_http_payout_loopback(host, end - host)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gateway \"%V\": an http:// url= is allowed "
                           "only for a loopback host (127.0.0.0/8, ::1, "
                           "localhost), use https://", &gw->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_payout_loopback(u_char *host, size_t len)
{
    in_addr_t  addr;

    if (len == 9 && ngx_strncasecmp(host, (u_char *) "localhost", 9) == 0)
    {
        return 1;
    }

    if (len == 3 && ngx_strncmp(host, "::1", 3) == 0) {
        return 1;
    }

    addr = ngx_inet_addr(host, len);

    return addr != INADDR_NONE && (ntohl(addr) >> 24) == 127;
}


/* the connector's word on the account it is given, in its mode */

static char *
ngx_http_payout_gateway_check(ngx_conf_t *cf,
    ngx_http_payout_main_conf_t *pmcf, ngx_http_payout_gateway_t *gw)
{
    const char            *why;
    ngx_payout_account_t   acct;

    if (gw->actions->check == NULL) {
        return NGX_CONF_OK;
    }

    ngx_memzero(&acct, sizeof(ngx_payout_account_t));

    acct.conf = gw->actions_conf;
    acct.secret = (char *) gw->secret.data;
    acct.secret_len = gw->secret.len;
    acct.webhook_secret = (char *) gw->webhook_secret.data;
    acct.webhook_secret_len = gw->webhook_secret.len;
    acct.keys = &pmcf->keys;
    acct.url = (char *) gw->url.data;
    acct.mem.alloc = ngx_http_payout_conf_alloc;
    acct.mem.data = cf->pool;

    why = gw->actions->check(&acct, (int) gw->livemode);

    if (why) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gateway \"%V\": %s",
                           &gw->name, why);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Once every directive is known: a provider that forgets an idempotency
 * key after key_ttl would take a reconciler's re-send after that as a new
 * payment.
 */

char *
ngx_http_payout_gateways_init(ngx_conf_t *cf,
    ngx_http_payout_main_conf_t *pmcf)
{
    ngx_uint_t                  i;
    ngx_http_payout_gateway_t  *gw;

    if (pmcf->gateways == NULL) {
        return NGX_CONF_OK;
    }

    gw = pmcf->gateways->elts;

    for (i = 0; i < pmcf->gateways->nelts; i++) {
        if (ngx_http_payout_gateway_callback(cf, pmcf, &gw[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (gw[i].actions->key_ttl > 0
            && pmcf->reconcile_window > (time_t) gw[i].actions->key_ttl)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "gateway \"%V\": payout_reconcile_window "
                               "%T is longer than the %s provider keeps an "
                               "idempotency key (%l seconds)", &gw[i].name,
                               pmcf->reconcile_window, gw[i].actions->name,
                               gw[i].actions->key_ttl);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * Where the provider calls back: payout_public_url, the provider webhook
 * location and the gateway's name; none without either.
 */

static ngx_int_t
ngx_http_payout_gateway_callback(ngx_conf_t *cf,
    ngx_http_payout_main_conf_t *pmcf, ngx_http_payout_gateway_t *gw)
{
    u_char     *p;
    ngx_str_t  *prefix;

    prefix = &pmcf->hooks_prefix;

    if (pmcf->public_url.len == 0 || prefix->len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(cf->pool, pmcf->public_url.len + 1 + prefix->len
                              + gw->name.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    gw->callback_url.data = p;

    p = ngx_cpymem(p, pmcf->public_url.data, pmcf->public_url.len);

    if (prefix->data[0] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, prefix->data, prefix->len);
    p = ngx_cpymem(p, gw->name.data, gw->name.len);
    *p = '\0';

    gw->callback_url.len = p - gw->callback_url.data;

    return NGX_OK;
}


/* connector= resolved to its table; the settings it alone knows */

static char *
ngx_http_payout_gateway_connector(ngx_conf_t *cf,
    ngx_http_payout_gateway_t *gw, ngx_array_t *own)
{
    int                 rc;
    char                names[256];
    u_char             *eq;
    ngx_str_t          *v, name, key, val;
    ngx_uint_t          i;
    ngx_payout_mem_t    mem;

    if (gw->connector.len == 0) {
        return "needs connector=";
    }

    gw->actions = ngx_payout_connector_find((char *) gw->connector.data,
                                            gw->connector.len);

    if (gw->actions == NULL) {
        ngx_payout_connector_names(names, sizeof(names));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown connector \"%V\", known: %s",
                           &gw->connector, names);
        return NGX_CONF_ERROR;
    }

    mem.alloc = ngx_http_payout_conf_alloc;
    mem.data = cf->pool;

    for (i = 0; i < own->nelts; i++) {
        v = ((ngx_str_t **) own->elts)[i];
        eq = ngx_strlchr(v->data, v->data + v->len, '=');

        rc = NGX_PAYOUT_DECLINED;

        if (eq && gw->actions->configure) {
            key.data = v->data;
            key.len = eq - v->data;
            val.data = eq + 1;
            val.len = v->data + v->len - eq - 1;

            /*
             * X_file=PATH: the connector's key X, read as secret_file=
             * is (e.g. rsa_key_file= gives the PEM text as rsa_key); the
             * content goes to configure() only, never to a log line
             */
            if (key.len > 5
                && ngx_strncmp(key.data + key.len - 5, "_file", 5) == 0)
            {
                key.len -= 5;

                if (ngx_http_payout_read_secret(cf, &val, &val) != NGX_OK) {
                    return NGX_CONF_ERROR;
                }
            }

            rc = gw->actions->configure(&mem, &gw->actions_conf,
                                        (char *) key.data, key.len,
                                        (char *) val.data, val.len);
        }

        if (rc == NGX_PAYOUT_OK) {
            continue;
        }

        /* its name only: a misspelt "secret=..." may follow */
        name = *v;

        if (eq) {
            name.len = eq - name.data + 1;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           rc == NGX_PAYOUT_DECLINED
                           ? "invalid parameter \"%V%s\""
                           : "invalid value of parameter \"%V%s\"",
                           &name, eq ? "..." : "");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_payout_conf_alloc(void *data, size_t size)
{
    return ngx_pcalloc(data, size);
}


ngx_http_payout_gateway_t *
ngx_http_payout_find_gateway(ngx_http_payout_main_conf_t *pmcf,
    const char *name, size_t len)
{
    ngx_uint_t                  i;
    ngx_http_payout_gateway_t  *gw;

    if (pmcf->gateways == NULL) {
        return NULL;
    }

    gw = pmcf->gateways->elts;

    for (i = 0; i < pmcf->gateways->nelts; i++) {
        if (gw[i].name.len == len
            && ngx_strncmp(gw[i].name.data, name, len) == 0)
        {
            return &gw[i];
        }
    }

    return NULL;
}


/* a secret file's content, trailing white space removed */

static ngx_int_t
ngx_http_payout_read_secret(ngx_conf_t *cf, ngx_str_t *path, ngx_str_t *out)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t        name;
    ngx_file_info_t  fi;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a readable secret file", &name);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    if (ngx_file_access(&fi) & S_IROTH) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "secret file \"%V\" is readable by every user, "
                           "make it chmod 600", &name);
    }

    out->data = ngx_pnalloc(cf->pool, ngx_file_size(&fi) + 1);
    if (out->data == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, out->data, ngx_file_size(&fi));
    ngx_close_file(fd);

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &name);
        return NGX_ERROR;
    }

    while (n && (out->data[n - 1] == '\n' || out->data[n - 1] == '\r'
                 || out->data[n - 1] == ' '))
    {
        n--;
    }

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%V\" is empty", &name);
        return NGX_ERROR;
    }

    out->data[n] = '\0';
    out->len = n;

    return NGX_OK;
}


/* payout_webhook_schedule 0 5s 5m 30m 2h ...; the first try, then retries */

char *
ngx_http_payout_webhook_schedule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf = conf;

    long        *delay;
    time_t       t;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (pmcf->webhook_schedule) {
        return "is duplicate";
    }

    value = cf->args->elts;

    pmcf->webhook_schedule = ngx_array_create(cf->pool, cf->args->nelts,
                                              sizeof(long));
    if (pmcf->webhook_schedule == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        t = ngx_parse_time(&value[i], 1);

        if (t == (time_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid delay \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        delay = ngx_array_push(pmcf->webhook_schedule);
        if (delay == NULL) {
            return NGX_CONF_ERROR;
        }

        *delay = (long) t;
    }

    return NGX_CONF_OK;
}


/*
 * payout_reconcile_backoff time [max]: the first ten checks of a payout
 * are time apart, the later ones from ten times that, doubling, up to
 * max (1h unless given).
 */

char *
ngx_http_payout_reconcile_backoff(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_payout_main_conf_t  *pmcf = conf;

    ngx_int_t    t[2];
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (pmcf->reconcile_backoff != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    t[1] = 3600000;

    for (i = 1; i < cf->args->nelts; i++) {
        t[i - 1] = ngx_parse_time(&value[i], 0);

        if (t[i - 1] == NGX_ERROR || t[i - 1] == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid time \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (t[1] < t[0]) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the longest wait %Mms is shorter than the "
                           "first %Mms", (ngx_msec_t) t[1],
                           (ngx_msec_t) t[0]);
        return NGX_CONF_ERROR;
    }

    pmcf->reconcile_backoff = (ngx_msec_t) t[0];
    pmcf->reconcile_backoff_max = (ngx_msec_t) t[1];

    return NGX_CONF_OK;
}
