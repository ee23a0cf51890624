/*
 * libcurl multi on nginx's event loop.
 *
 * libcurl tells us which sockets to watch (socket callback) and when to
 * call it back (timer callback); we register those sockets with nginx as
 * level-triggered events and hand readiness back to curl_multi_socket_
 * action().  Finished transfers are collected after every action.
 *
 * Each worker has two multi handles, and so two connection caches: one
 * for the operator's own destinations (provider calls, the sandbox's
 * webhooks) and one for merchant webhooks.  libcurl reuses a kept-alive
 * connection for any later request to the same host and port, without
 * resolving or connecting again: with one cache, a merchant webhook to
 * a provider's host:port would ride the provider's connection to a
 * private address the SSRF guard never saw.  Webhooks still keep their
 * connections alive for later webhooks to the same host.
 *
 * libcurl may close a socket before it says CURL_POLL_REMOVE (7.88 does
 * when a connect times out), and the number may name another socket by
 * then: each watched socket is remembered by its inode, and one that is
 * gone is forgotten without touching epoll.
 */

#include <arpa/inet.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include "ngx_http_payout_http.h"
#include "core/ngx_payout_text.h"


typedef struct {
    CURLM         *multi;
    ngx_event_t    timer;
    ngx_log_t     *log;
    ngx_uint_t     running;
} ngx_http_payout_http_multi_t;


/* a socket libcurl asked us to watch */
typedef struct {
    ngx_connection_t  *connection;
    ino_t              ino;
} ngx_http_payout_http_sock_t;


static int ngx_http_payout_http_socket_cb(CURL *easy, curl_socket_t s,
    int what, void *userp, void *socketp);
static int ngx_http_payout_http_timer_cb(CURLM *multi, long timeout_ms,
    void *userp);
static ngx_http_payout_http_multi_t *ngx_http_payout_http_multi_create(
    ngx_cycle_t *cycle);
static ngx_http_payout_http_sock_t *ngx_http_payout_http_watch(
    ngx_http_payout_http_multi_t *m, curl_socket_t s);
static void ngx_http_payout_http_unwatch(ngx_http_payout_http_multi_t *m,
    curl_socket_t s, ngx_http_payout_http_sock_t *sk);
static ngx_uint_t ngx_http_payout_http_gone(curl_socket_t s,
    ngx_http_payout_http_sock_t *sk);
static void ngx_http_payout_http_event_handler(ngx_event_t *ev);
static void ngx_http_payout_http_timer_handler(ngx_event_t *ev);
static void ngx_http_payout_http_action(ngx_http_payout_http_multi_t *m,
    curl_socket_t s, int flags);
static void ngx_http_payout_http_collect(ngx_http_payout_http_multi_t *m);
static void ngx_http_payout_http_finish(ngx_http_payout_http_req_t *hr,
    CURLcode code);
static void ngx_http_payout_http_release(ngx_http_payout_http_req_t *hr);
static size_t ngx_http_payout_http_write_cb(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static curl_socket_t ngx_http_payout_http_open_cb(void *clientp,
    curlsocktype purpose, struct curl_sockaddr *address);
static int ngx_http_payout_http_prereq_cb(void *clientp, char *primary_ip,
    char *local_ip, int primary_port, int local_port);
static void ngx_http_payout_http_request_cleanup(void *data);


/* [0]: the operator's destinations, [1]: merchant webhooks (guard_ssrf) */
static ngx_http_payout_http_multi_t  *ngx_http_payout_multi[2];


ngx_int_t
ngx_http_payout_http_init(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "payout: curl_global_init() failed");
        return NGX_ERROR;
    }

    for (i = 0; i < 2; i++) {
        ngx_http_payout_multi[i] = ngx_http_payout_http_multi_create(cycle);
        if (ngx_http_payout_multi[i] == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_http_payout_http_multi_t *
ngx_http_payout_http_multi_create(ngx_cycle_t *cycle)
{
    ngx_http_payout_http_multi_t  *m;

    m = ngx_pcalloc(cycle->pool, sizeof(ngx_http_payout_http_multi_t));
    if (m == NULL) {
        return NULL;
    }

    m->multi = curl_multi_init();
    if (m->multi == NULL) {
        return NULL;
    }

    m->log = cycle->log;
    m->timer.handler = ngx_http_payout_http_timer_handler;
    m->timer.data = m;
    m->timer.log = cycle->log;
    m->timer.cancelable = 1;

    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_payout_http_socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_payout_http_timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);

    return m;
}


void
ngx_http_payout_http_done(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_payout_http_multi_t  *m;

    for (i = 0; i < 2; i++) {
        m = ngx_http_payout_multi[i];

        if (m == NULL) {
            continue;
        }

        if (m->timer.timer_set) {
            ngx_del_timer(&m->timer);
        }

        /* transfers still running belong to requests that are gone too */
        if (m->multi) {
            curl_multi_cleanup(m->multi);
            m->multi = NULL;
        }

        ngx_http_payout_multi[i] = NULL;
    }

    curl_global_cleanup();
}


ngx_int_t
ngx_http_payout_http_header(ngx_http_payout_http_req_t *hr,
    const char *fmt, ...)
{
    char                buf[1024];
    va_list             args;
    struct curl_slist  *list;

    va_start(args, fmt);
    ngx_vslprintf((u_char *) buf, (u_char *) buf + sizeof(buf) - 1, fmt,
                  args)[0] = '\0';
    va_end(args);

    list = curl_slist_append(hr->headers, buf);
    if (list == NULL) {
        return NGX_ERROR;
    }

    hr->headers = list;

    return NGX_OK;
}


ngx_int_t
ngx_http_payout_http_start(ngx_http_payout_http_req_t *hr)
{
    CURL                          *easy;
#if (NGX_DEBUG)
    char                           url[256];
#endif
    CURLMcode                      mc;
    ngx_http_payout_http_multi_t  *m;

    m = ngx_http_payout_multi[hr->guard_ssrf];

    if (m == NULL) {
        return NGX_ERROR;
    }

    easy = curl_easy_init();
    if (easy == NULL) {
        return NGX_ERROR;
    }

    hr->easy = easy;
    hr->buf = NULL;
    hr->buf_size = 0;
    hr->buf_cap = 0;
    hr->too_large = 0;
    hr->refused = 0;
    hr->status = 0;
    hr->error = CURLE_OK;
    hr->errbuf[0] = '\0';
    hr->started = ngx_current_msec;

    if (hr->max_response == 0) {
        hr->max_response = 1024 * 1024;
    }

    curl_easy_setopt(easy, CURLOPT_URL, hr->url);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, hr);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, hr->errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) hr->timeout);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) ngx_min(hr->timeout, 10000));
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "ngx_http_payout_module");

    /* environment proxies never see provider secrets or webhooks */
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");

    if (hr->ca_file) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, hr->ca_file);
    }

    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, hr->method);

    if (hr->body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, hr->body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) hr->body_len);

    } else if (ngx_strcmp(hr->method, "GET") == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }

    /* no "Expect: 100-continue" round trip */
    hr->headers = curl_slist_append(hr->headers, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hr->headers);

    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                     ngx_http_payout_http_write_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, hr);

    if (hr->guard_ssrf && !hr->allow_private) {
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION,
                         ngx_http_payout_http_open_cb);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, hr);
        curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION,
                         ngx_http_payout_http_prereq_cb);
        curl_easy_setopt(easy, CURLOPT_PREREQDATA, hr);
    }

    mc = curl_multi_add_handle(m->multi, easy);

    if (mc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ERR, hr->log, 0,
                      "payout: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(mc));
        ngx_http_payout_http_release(hr);
        return NGX_ERROR;
    }

    m->running++;

    /* a transfer in flight keeps a worker that is shutting down alive */
    m->timer.cancelable = 0;

#if (NGX_DEBUG)
    /* a URL's userinfo and query may hold credentials */
    ngx_payout_url_redact(url, sizeof(url), hr->url);

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, hr->log, 0,
                   "payout http: %s %s added, %M ms, %s, %ui running",
                   hr->method, url, hr->timeout,
                   !hr->guard_ssrf ? "operator's destination"
                   : hr->allow_private ? "webhook, private allowed"
                   : "webhook, SSRF guard", m->running);
#endif

    return NGX_OK;
}


void
ngx_http_payout_http_cancel(ngx_http_payout_http_req_t *hr)
{
    ngx_http_payout_http_multi_t  *m;

    if (hr->easy == NULL) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, hr->log, 0,
                   "payout http: %s canceled", hr->method);

    m = ngx_http_payout_multi[hr->guard_ssrf];

    if (m) {
        curl_multi_remove_handle(m->multi, hr->easy);
        m->running--;
    }

    ngx_http_payout_http_release(hr);
}


ngx_int_t
ngx_http_payout_http_start_for_request(ngx_http_request_t *r,
    ngx_http_payout_http_req_t *hr)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_payout_http_request_cleanup;
    cln->data = hr;

    return ngx_http_payout_http_start(hr);
}


static void
ngx_http_payout_http_request_cleanup(void *data)
{
    ngx_http_payout_http_cancel(data);
}


static int
ngx_http_payout_http_socket_cb(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp)
{
    ngx_connection_t              *c;
    ngx_http_payout_http_sock_t   *sk;
    ngx_http_payout_http_multi_t  *m;

    m = userp;
    sk = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            ngx_http_payout_http_unwatch(m, s, sk);
        }

        return 0;
    }

    /* the number names another socket now: the one we watched is gone */
    if (sk && ngx_http_payout_http_gone(s, sk)) {
        ngx_http_payout_http_unwatch(m, s, sk);
        sk = NULL;
    }

    if (sk == NULL) {
        sk = ngx_http_payout_http_watch(m, s);
        if (sk == NULL) {
            return -1;
        }
    }

    c = sk->connection;

    if ((what & CURL_POLL_IN) && !c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return -1;
        }

    } else if (!(what & CURL_POLL_IN) && c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            return -1;
        }
    }

    if ((what & CURL_POLL_OUT) && !c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return -1;
        }

    } else if (!(what & CURL_POLL_OUT) && c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            return -1;
        }
    }

    return 0;
}


static ngx_http_payout_http_sock_t *
ngx_http_payout_http_watch(ngx_http_payout_http_multi_t *m, curl_socket_t s)
{
    struct stat                   st;
    ngx_connection_t             *c;
    ngx_http_payout_http_sock_t  *sk;

    if (fstat(s, &st) == -1) {
        ngx_log_error(NGX_LOG_ALERT, m->log, ngx_errno,
                      "payout: fstat() of a libcurl socket failed");
        return NULL;
    }

    sk = ngx_alloc(sizeof(ngx_http_payout_http_sock_t), m->log);
    if (sk == NULL) {
        return NULL;
    }

    c = ngx_get_connection(s, m->log);
    if (c == NULL) {
        ngx_free(sk);
        return NULL;
    }

    c->data = m;
    c->read->handler = ngx_http_payout_http_event_handler;
    c->write->handler = ngx_http_payout_http_event_handler;
    c->read->log = m->log;
    c->write->log = m->log;

    sk->connection = c;
    sk->ino = st.st_ino;

    curl_multi_assign(m->multi, s, sk);

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, m->log, 0,
                   "payout http: watching fd:%d", s);

    return sk;
}


static void
ngx_http_payout_http_unwatch(ngx_http_payout_http_multi_t *m,
    curl_socket_t s, ngx_http_payout_http_sock_t *sk)
{
    ngx_uint_t  gone;

    gone = ngx_http_payout_http_gone(s, sk);

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, m->log, 0,
                   "payout http: unwatching fd:%d%s", s,
                   gone ? ", closed" : "");

    /* a closed socket has left epoll by itself; never touch its number */
    ngx_http_payout_forget_socket(sk->connection, gone);
    ngx_free(sk);

    curl_multi_assign(m->multi, s, NULL);
}


void
ngx_http_payout_forget_socket(ngx_connection_t *c, ngx_uint_t closed)
{
    ngx_uint_t  flags;

    flags = closed ? NGX_CLOSE_EVENT : 0;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, flags);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, flags);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


/* whether s no longer names the socket sk watched */

static ngx_uint_t
ngx_http_payout_http_gone(curl_socket_t s, ngx_http_payout_http_sock_t *sk)
{
    struct stat  st;

    return fstat(s, &st) == -1 || st.st_ino != sk->ino;
}


static int
ngx_http_payout_http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_http_payout_http_multi_t  *m;

    m = userp;

    if (m->timer.timer_set) {
        ngx_del_timer(&m->timer);
    }

    if (timeout_ms >= 0) {
        /* 0 means "now": the next turn of the loop, not from in here */
        ngx_add_timer(&m->timer, (ngx_msec_t) timeout_ms);
    }

    return 0;
}


static void
ngx_http_payout_http_event_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    ngx_http_payout_http_action(c->data, c->fd,
                                ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN);
}


static void
ngx_http_payout_http_timer_handler(ngx_event_t *ev)
{
    ngx_http_payout_http_action(ev->data, CURL_SOCKET_TIMEOUT, 0);
}


static void
ngx_http_payout_http_action(ngx_http_payout_http_multi_t *m,
    curl_socket_t s, int flags)
{
    int  running;

    if (m->multi == NULL) {
        return;
    }

    curl_multi_socket_action(m->multi, s, flags, &running);

    ngx_http_payout_http_collect(m);
}


static void
ngx_http_payout_http_collect(ngx_http_payout_http_multi_t *m)
{
    int                          left;
    CURLMsg                     *msg;
    ngx_http_payout_http_req_t  *hr;

    while (m->multi && (msg = curl_multi_info_read(m->multi, &left))
                       != NULL)
    {

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &hr);
        curl_multi_remove_handle(m->multi, msg->easy_handle);
        m->running--;

        ngx_http_payout_http_finish(hr, msg->data.result);
    }

    if (m->running == 0) {
        m->timer.cancelable = 1;
    }
}


static void
ngx_http_payout_http_finish(ngx_http_payout_http_req_t *hr, CURLcode code)
{
    long                  status;
    char                  url[256];
    u_char               *buf;
    struct curl_header   *h;

    status = 0;
    curl_easy_getinfo(hr->easy, CURLINFO_RESPONSE_CODE, &status);

    hr->status = (code == CURLE_OK) ? status : 0;

    ngx_str_null(&hr->retry_after);

    if (code == CURLE_OK
        && curl_easy_header(hr->easy, "Retry-After", 0, CURLH_HEADER, -1,
                            &h) == CURLHE_OK)
    {
        hr->retry_after.len = ngx_min(ngx_strlen(h->value),
                                      sizeof(hr->retry_after_buf));
        hr->retry_after.data = ngx_cpymem(hr->retry_after_buf, h->value,
                                          hr->retry_after.len)
                               - hr->retry_after.len;
    }
    hr->error = code;
    hr->elapsed = ngx_current_msec - hr->started;

    if (hr->too_large) {
        hr->error_text = "response too large";

    } else if (hr->refused && code != CURLE_OK) {
        /* not when a refused address was followed by one that worked */
        hr->error_text = "destination address not allowed";

    } else if (code != CURLE_OK) {
        /* curl cuts its message by bytes; it is stored as text */
        ngx_payout_utf8_cut(hr->errbuf, sizeof(hr->errbuf), hr->errbuf,
                            ngx_strlen(hr->errbuf));
        hr->error_text = hr->errbuf[0] ? hr->errbuf
                                       : (char *) curl_easy_strerror(code);

    } else {
        hr->error_text = NULL;
    }

    /* a URL's userinfo and query may hold credentials */
    ngx_payout_url_redact(url, sizeof(url), hr->url);

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, hr->log, 0,
                   "payout http: %s %s done: status %l, %M ms, %s",
                   hr->method, url, hr->status, hr->elapsed,
                   hr->error_text ? hr->error_text : "no error");

    if (code != CURLE_OK) {
        ngx_log_error(NGX_LOG_WARN, hr->log, 0,
                      "payout: %s %s failed: %s", hr->method, url,
                      hr->error_text);
    }

    /*
     * Let go of everything but the response first: the handler may free
     * the memory hr lives in.
     */

    buf = hr->buf;
    hr->buf = NULL;
    hr->response.data = buf;
    hr->response.len = hr->buf_size;

    ngx_http_payout_http_release(hr);

    hr->handler(hr);

    if (buf) {
        ngx_free(buf);
    }
}


static void
ngx_http_payout_http_release(ngx_http_payout_http_req_t *hr)
{
    if (hr->easy) {
        curl_easy_cleanup(hr->easy);
        hr->easy = NULL;
    }

    if (hr->headers) {
        curl_slist_free_all(hr->headers);
        hr->headers = NULL;
    }

    if (hr->buf) {
        ngx_free(hr->buf);
        hr->buf = NULL;
    }

    hr->buf_cap = 0;
}


static size_t
ngx_http_payout_http_write_cb(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    size_t                       n, cap;
    u_char                      *p;
    ngx_http_payout_http_req_t  *hr;

    hr = userdata;
    n = size * nmemb;

    if (hr->buf_size + n > hr->max_response) {
        hr->too_large = 1;
        return 0;
    }

    if (hr->buf_size + n > hr->buf_cap) {

        /* grow by doubling; max_response bounds it */
        cap = hr->buf_cap ? hr->buf_cap : 4096;
        while (cap < hr->buf_size + n) {
            cap *= 2;
        }

        p = ngx_alloc(cap, hr->log);
        if (p == NULL) {
            return 0;
        }

        if (hr->buf) {
            ngx_memcpy(p, hr->buf, hr->buf_size);
            ngx_free(hr->buf);
        }

        hr->buf = p;
        hr->buf_cap = cap;
    }

    ngx_memcpy(hr->buf + hr->buf_size, ptr, n);
    hr->buf_size += n;

    return n;
}


/*
 * The SSRF guard looks at the address libcurl is about to connect to,
 * after resolution and for every address tried, so a name that resolves
 * to 127.0.0.1 is refused like the literal address.
 */

static curl_socket_t
ngx_http_payout_http_open_cb(void *clientp, curlsocktype purpose,
    struct curl_sockaddr *address)
{
#if (NGX_DEBUG)
    size_t                       len;
    u_char                       text[NGX_SOCKADDR_STRLEN];
#endif
    ngx_http_payout_http_req_t  *hr;

    hr = clientp;

    if (purpose != CURLSOCKTYPE_IPCXN
        || ngx_payout_addr_is_private(&address->addr))
    {
#if (NGX_DEBUG)
        len = ngx_sock_ntop(&address->addr, address->addrlen, text,
                            sizeof(text), 1);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, hr->log, 0,
                       "payout http: SSRF guard refused to connect to %*s",
                       len, text);
#endif

        hr->refused = 1;
        return CURL_SOCKET_BAD;
    }

    return socket(address->family, address->socktype, address->protocol);
}


/*
 * And it looks at the peer of the connection every request goes out on,
 * new or reused, just before the request is sent: the guard holds for
 * every request, whichever connection libcurl picked for it.
 */

static int
ngx_http_payout_http_prereq_cb(void *clientp, char *primary_ip,
    char *local_ip, int primary_port, int local_port)
{
    struct sockaddr_in           sin;
    struct sockaddr_in6          sin6;
    ngx_http_payout_http_req_t  *hr;

    hr = clientp;

    ngx_memzero(&sin, sizeof(struct sockaddr_in));
    ngx_memzero(&sin6, sizeof(struct sockaddr_in6));

    if (inet_pton(AF_INET, primary_ip, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;

        if (!ngx_payout_addr_is_private((struct sockaddr *) &sin)) {
            return CURL_PREREQFUNC_OK;
        }

    } else if (inet_pton(AF_INET6, primary_ip, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;

        if (!ngx_payout_addr_is_private((struct sockaddr *) &sin6)) {
            return CURL_PREREQFUNC_OK;
        }
    }

    /* private, or not an address we can judge */
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, hr->log, 0,
                   "payout http: SSRF guard refused the connection to "
                   "%s port %d", primary_ip, primary_port);

    hr->refused = 1;

    return CURL_PREREQFUNC_ABORT;
}
