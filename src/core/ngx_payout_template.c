/*
 * Templates: compiled into a flat list of nodes (text, value, section
 * jumps), so that rendering is one loop with no parsing and no
 * recursion.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_payout_template.h"


enum {
    NGX_PAYOUT_TPL_TEXT = 0,
    NGX_PAYOUT_TPL_VALUE,
    NGX_PAYOUT_TPL_IF,           /* false: to jump */
    NGX_PAYOUT_TPL_UNLESS,       /* true: to jump */
    NGX_PAYOUT_TPL_ELSE,         /* reached from the first branch: jump */
    NGX_PAYOUT_TPL_END
};


typedef struct {
    int        op;
    unsigned   index;           /* VALUE, IF, UNLESS: names[index] */
    size_t     off;             /* TEXT: in the template's copy */
    size_t     len;
    size_t     jump;            /* IF, UNLESS, ELSE: a node number */
} ngx_payout_tpl_node_t;


struct ngx_payout_template_s {
    char                    *text;
    ngx_payout_tpl_node_t   *nodes;
    size_t                   n;
    size_t                   size;
};


typedef struct {
    size_t     node;            /* the IF or UNLESS */
    size_t     else_node;       /* 0: no else yet */
    unsigned   line;
    int        op;
} ngx_payout_tpl_open_t;


static ngx_payout_tpl_node_t *ngx_payout_tpl_push(ngx_payout_template_t *t,
    int op);
static int ngx_payout_tpl_name(const char *p, size_t len,
    const char *const *names, unsigned *index,
    ngx_payout_template_error_t *err);
static unsigned ngx_payout_tpl_line(const char *src, const char *p);
static int ngx_payout_tpl_fail(ngx_payout_template_error_t *err,
    unsigned line, const char *reason);


ngx_payout_template_t *
ngx_payout_template_compile(const char *src, size_t len,
    const char *const *names, ngx_payout_template_error_t *err)
{
    int                     op;
    size_t                  depth, tlen;
    unsigned                line, index;
    const char             *p, *end, *open, *close, *tag;
    ngx_payout_template_t  *t;
    ngx_payout_tpl_node_t  *node;
    ngx_payout_tpl_open_t   stack[NGX_PAYOUT_TEMPLATE_DEPTH];

    err->line = 0;
    err->reason[0] = '\0';

    if (len > NGX_PAYOUT_TEMPLATE_MAX) {
        ngx_payout_tpl_fail(err, 1, "the template is larger than 256k");
        return NULL;
    }

    t = calloc(1, sizeof(ngx_payout_template_t));
    if (t == NULL) {
        return NULL;
    }

    t->text = malloc(len + 1);
    if (t->text == NULL) {
        goto failed;
    }

    memcpy(t->text, src, len);
    t->text[len] = '\0';

    p = t->text;
    end = t->text + len;
    depth = 0;

    while (p < end) {
        open = NULL;

        for (tag = p; tag + 1 < end; tag++) {
            if (tag[0] == '{' && tag[1] == '{') {
                open = tag;
                break;
            }
        }

        if (open == NULL) {
            open = end;
        }

        if (open > p) {
            node = ngx_payout_tpl_push(t, NGX_PAYOUT_TPL_TEXT);
            if (node == NULL) {
                goto failed;
            }

            node->off = p - t->text;
            node->len = open - p;
        }

        if (open == end) {
            break;
        }

        line = ngx_payout_tpl_line(t->text, open);
        close = NULL;

        for (tag = open + 2; tag + 1 < end; tag++) {
            if (tag[0] == '}' && tag[1] == '}') {
                close = tag;
                break;
            }

            if (tag[0] == '{' && tag[1] == '{') {
                break;
            }
        }

        if (close == NULL) {
            ngx_payout_tpl_fail(err, line, "\"{{\" is not closed by \"}}\"");
            goto failed;
        }

        tag = open + 2;
        tlen = close - tag;
        p = close + 2;

        if (tlen && (tag[0] == '{' || tag[0] == '&')) {
            ngx_payout_tpl_fail(err, line, "unescaped output ({{{...}}}, "
                                "{{&...}}) is not supported: every value "
                                "is HTML-escaped");
            goto failed;
        }

        if (tlen && tag[0] == '!') {
            continue;
        }

        while (tlen && (tag[0] == ' ' || tag[0] == '\t')) {
            tag++;
            tlen--;
        }

        while (tlen && (tag[tlen - 1] == ' ' || tag[tlen - 1] == '\t')) {
            tlen--;
        }

        if (tlen > 4 && memcmp(tag, "#if ", 4) == 0) {
            op = NGX_PAYOUT_TPL_IF;
            tag += 4;
            tlen -= 4;

        } else if (tlen > 8 && memcmp(tag, "#unless ", 8) == 0) {
            op = NGX_PAYOUT_TPL_UNLESS;
            tag += 8;
            tlen -= 8;

        } else if (tlen == 4 && memcmp(tag, "else", 4) == 0) {
            if (depth == 0 || stack[depth - 1].else_node) {
                ngx_payout_tpl_fail(err, line, depth
                                    ? "a second {{else}} in one section"
                                    : "{{else}} outside a section");
                goto failed;
            }

            node = ngx_payout_tpl_push(t, NGX_PAYOUT_TPL_ELSE);
            if (node == NULL) {
                goto failed;
            }

            stack[depth - 1].else_node = t->n - 1;
            t->nodes[stack[depth - 1].node].jump = t->n;
            continue;

        } else if ((tlen == 3 && memcmp(tag, "/if", 3) == 0)
                   || (tlen == 7 && memcmp(tag, "/unless", 7) == 0))
        {
            op = (tlen == 3) ? NGX_PAYOUT_TPL_IF : NGX_PAYOUT_TPL_UNLESS;

            if (depth == 0) {
                ngx_payout_tpl_fail(err, line, "a section is closed that "
                                    "was never opened");
                goto failed;
            }

            if (stack[depth - 1].op != op) {
                ngx_payout_tpl_fail(err, line, op == NGX_PAYOUT_TPL_IF
                                    ? "{{/if}} closes an {{#unless}}"
                                    : "{{/unless}} closes an {{#if}}");
                goto failed;
            }

            node = ngx_payout_tpl_push(t, NGX_PAYOUT_TPL_END);
            if (node == NULL) {
                goto failed;
            }

            depth--;

            if (stack[depth].else_node) {
                t->nodes[stack[depth].else_node].jump = t->n;

            } else {
                t->nodes[stack[depth].node].jump = t->n;
            }

            continue;

        } else if (tlen && (tag[0] == '#' || tag[0] == '/' || tag[0] == '>'
                            || tag[0] == '^'))
        {
            ngx_payout_tpl_fail(err, line, "unknown tag: sections are "
                                "{{#if name}}, {{#unless name}}, {{else}} "
                                "and their {{/if}}, {{/unless}}");
            goto failed;

        } else {
            op = NGX_PAYOUT_TPL_VALUE;
        }

        if (ngx_payout_tpl_name(tag, tlen, names, &index, err)
            != NGX_PAYOUT_OK)
        {
            err->line = line;
            goto failed;
        }

        node = ngx_payout_tpl_push(t, op);
        if (node == NULL) {
            goto failed;
        }

        node->index = index;

        if (op == NGX_PAYOUT_TPL_VALUE) {
            continue;
        }

        if (depth == NGX_PAYOUT_TEMPLATE_DEPTH) {
            ngx_payout_tpl_fail(err, line, "sections nested deeper than 8");
            goto failed;
        }

        stack[depth].node = t->n - 1;
        stack[depth].else_node = 0;
        stack[depth].line = line;
        stack[depth].op = op;
        depth++;
    }

    if (depth) {
        ngx_payout_tpl_fail(err, stack[depth - 1].line,
                            stack[depth - 1].op == NGX_PAYOUT_TPL_IF
                            ? "{{#if}} is not closed by {{/if}}"
                            : "{{#unless}} is not closed by {{/unless}}");
        goto failed;
    }

    return t;

failed:

    ngx_payout_template_free(t);
    return NULL;
}


void
ngx_payout_template_free(ngx_payout_template_t *t)
{
    if (t == NULL) {
        return;
    }

    free(t->text);
    free(t->nodes);
    free(t);
}


int
ngx_payout_template_render(const ngx_payout_template_t *t,
    ngx_payout_template_value_pt value, void *vdata,
    ngx_payout_template_write_pt write, void *wdata)
{
    char                         buf[512];
    size_t                       i, vlen, k, n, step;
    const char                  *v;
    const ngx_payout_tpl_node_t  *node;

    i = 0;

    while (i < t->n) {
        node = &t->nodes[i];

        switch (node->op) {

        case NGX_PAYOUT_TPL_TEXT:
            if (write(wdata, t->text + node->off, node->len)
                != NGX_PAYOUT_OK)
            {
                return NGX_PAYOUT_ERROR;
            }

            i++;
            break;

        case NGX_PAYOUT_TPL_VALUE:
            v = value(vdata, node->index, &vlen);

            /* in slices that escape into buf: at most 6 bytes each */
            for (k = 0; v && k < vlen; k += step) {
                step = vlen - k;

                if (step > sizeof(buf) / 6) {
                    step = sizeof(buf) / 6;
                }

                n = ngx_payout_html_escape(buf, v + k, step);

                if (write(wdata, buf, n) != NGX_PAYOUT_OK) {
                    return NGX_PAYOUT_ERROR;
                }
            }

            i++;
            break;

        case NGX_PAYOUT_TPL_IF:
        case NGX_PAYOUT_TPL_UNLESS:
            v = value(vdata, node->index, &vlen);

            if ((v != NULL && vlen > 0) == (node->op == NGX_PAYOUT_TPL_IF))
            {
                i++;

            } else {
                i = node->jump;
            }

            break;

        case NGX_PAYOUT_TPL_ELSE:
            i = node->jump;
            break;

        default: /* NGX_PAYOUT_TPL_END */
            i++;
            break;
        }
    }

    return NGX_PAYOUT_OK;
}


int
ngx_payout_template_uses(const ngx_payout_template_t *t, unsigned index)
{
    size_t  i;

    for (i = 0; i < t->n; i++) {
        if (t->nodes[i].op != NGX_PAYOUT_TPL_TEXT
            && t->nodes[i].op != NGX_PAYOUT_TPL_ELSE
            && t->nodes[i].op != NGX_PAYOUT_TPL_END
            && t->nodes[i].index == index)
        {
            return 1;
        }
    }

    return 0;
}


size_t
ngx_payout_html_escape(char *dst, const char *src, size_t len)
{
    size_t       i, n, elen;
    const char  *e;

    n = 0;

    for (i = 0; i < len; i++) {
        switch (src[i]) {
        case '&':  e = "&amp;";  elen = 5; break;
        case '<':  e = "&lt;";   elen = 4; break;
        case '>':  e = "&gt;";   elen = 4; break;
        case '"':  e = "&quot;"; elen = 6; break;
        case '\'': e = "&#39;";  elen = 5; break;
        default:   e = NULL;     elen = 1; break;
        }

        if (dst) {
            if (e) {
                memcpy(dst + n, e, elen);

            } else {
                dst[n] = src[i];
            }
        }

        n += elen;
    }

    return n;
}


size_t
ngx_payout_money_format(char *buf, size_t size, int64_t amount,
    int exponent, const char *currency)
{
    int       i, n, neg, group;
    char      digits[32], out[64];
    size_t    len, clen;
    uint64_t  v;

    neg = (amount < 0);
    v = neg ? (uint64_t) 0 - (uint64_t) amount : (uint64_t) amount;

    /* the digits, at least exponent + 1 of them, backwards */
    n = 0;

    do {
        digits[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v || n <= exponent);

    len = 0;

    for (i = 0; i < exponent; i++) {
        out[len++] = digits[i];
    }

    if (exponent > 0) {
        out[len++] = '.';
    }

    for (group = 0, i = exponent; i < n; i++, group++) {
        if (group && group % 3 == 0) {
            out[len++] = ',';
        }

        out[len++] = digits[i];
    }

    if (neg) {
        out[len++] = '-';
    }

    clen = strlen(currency);

    if (clen + 1 + len + 1 > size) {
        return 0;
    }

    memcpy(buf, currency, clen);
    buf[clen] = ' ';

    for (i = 0; i < (int) len; i++) {
        buf[clen + 1 + i] = out[len - 1 - i];
    }

    buf[clen + 1 + len] = '\0';

    return clen + 1 + len;
}


static ngx_payout_tpl_node_t *
ngx_payout_tpl_push(ngx_payout_template_t *t, int op)
{
    size_t                  size;
    ngx_payout_tpl_node_t  *nodes, *node;

    if (t->n == t->size) {
        size = t->size ? 2 * t->size : 32;
        nodes = realloc(t->nodes, size * sizeof(ngx_payout_tpl_node_t));
        if (nodes == NULL) {
            return NULL;
        }

        t->nodes = nodes;
        t->size = size;
    }

    node = &t->nodes[t->n++];
    memset(node, 0, sizeof(ngx_payout_tpl_node_t));
    node->op = op;

    return node;
}


static int
ngx_payout_tpl_name(const char *p, size_t len, const char *const *names,
    unsigned *index, ngx_payout_template_error_t *err)
{
    size_t    i;
    unsigned  k;

    if (len == 0 || len > NGX_PAYOUT_TEMPLATE_NAME_MAX) {
        snprintf(err->reason, sizeof(err->reason),
                 "a name is 1 to %d of a-z, 0-9 and _",
                 NGX_PAYOUT_TEMPLATE_NAME_MAX);
        return NGX_PAYOUT_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '_'))
        {
            snprintf(err->reason, sizeof(err->reason),
                     "a name is 1 to %d of a-z, 0-9 and _",
                     NGX_PAYOUT_TEMPLATE_NAME_MAX);
            return NGX_PAYOUT_ERROR;
        }
    }

    for (k = 0; names[k]; k++) {
        if (strlen(names[k]) == len && memcmp(names[k], p, len) == 0) {
            *index = k;
            return NGX_PAYOUT_OK;
        }
    }

    /* the name is [a-z0-9_]{1,32}: safe to quote */
    snprintf(err->reason, sizeof(err->reason), "unknown value \"%.*s\"",
             (int) len, p);

    return NGX_PAYOUT_ERROR;
}


static unsigned
ngx_payout_tpl_line(const char *src, const char *p)
{
    unsigned  line;

    for (line = 1; src < p; src++) {
        line += (*src == '\n');
    }

    return line;
}


static int
ngx_payout_tpl_fail(ngx_payout_template_error_t *err, unsigned line,
    const char *reason)
{
    err->line = line;
    snprintf(err->reason, sizeof(err->reason), "%s", reason);

    return NGX_PAYOUT_ERROR;
}
