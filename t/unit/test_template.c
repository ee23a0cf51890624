/*
 * Templates (ngx_payout_template.c): every value HTML-escaped, sections,
 * and compile errors with their line and reason.
 */

#include <string.h>

#include "unit.h"
#include "ngx_payout_template.h"


typedef struct {
    char   out[4096];
    size_t len;
    size_t limit;           /* refuse writes past this; 0: none */
} unit_tpl_out_t;


static const char *const  unit_tpl_names[] = {
    "name", "amount", "empty", "unset", "flag", NULL
};

static const char  *unit_tpl_values[5];


static const char *
unit_tpl_value(void *data, unsigned index, size_t *len)
{
    const char  *v;

    (void) data;

    v = unit_tpl_values[index];
    *len = v ? strlen(v) : 0;

    return v;
}


static int
unit_tpl_write(void *data, const char *p, size_t len)
{
    unit_tpl_out_t  *o = data;

    if ((o->limit && o->len + len > o->limit)
        || o->len + len >= sizeof(o->out))
    {
        return NGX_PAYOUT_ERROR;
    }

    memcpy(o->out + o->len, p, len);
    o->len += len;
    o->out[o->len] = '\0';

    return NGX_PAYOUT_OK;
}


/* compile and render src, or fail the test */
static const char *
unit_tpl(const char *src, unit_tpl_out_t *o)
{
    ngx_payout_template_t        *t;
    ngx_payout_template_error_t   err;

    memset(o, 0, sizeof(unit_tpl_out_t));

    t = ngx_payout_template_compile(src, strlen(src), unit_tpl_names, &err);
    if (t == NULL) {
        print_error("compile: line %u: %s\n", err.line, err.reason);
        fail();
    }

    assert_int_equal(ngx_payout_template_render(t, unit_tpl_value, NULL,
                                                unit_tpl_write, o),
                     NGX_PAYOUT_OK);
    ngx_payout_template_free(t);

    return o->out;
}


static void
unit_tpl_fails(const char *src, unsigned line, const char *reason)
{
    ngx_payout_template_t        *t;
    ngx_payout_template_error_t   err;

    t = ngx_payout_template_compile(src, strlen(src), unit_tpl_names, &err);
    assert_null(t);
    assert_int_equal(err.line, line);

    if (strstr(err.reason, reason) == NULL) {
        print_error("reason \"%s\" lacks \"%s\"\n", err.reason, reason);
        fail();
    }
}


static void
unit_tpl_reset(void)
{
    unit_tpl_values[0] = "Ada";
    unit_tpl_values[1] = "NGN 2,500.00";
    unit_tpl_values[2] = "";
    unit_tpl_values[3] = NULL;
    unit_tpl_values[4] = "1";
}


static void
test_template_values(void **state)
{
    unit_tpl_out_t  o;

    (void) state;
    unit_tpl_reset();

    assert_string_equal(unit_tpl("", &o), "");
    assert_string_equal(unit_tpl("plain text", &o), "plain text");
    assert_string_equal(unit_tpl("Hi {{name}}, {{ amount }}!", &o),
                        "Hi Ada, NGN 2,500.00!");
    assert_string_equal(unit_tpl("[{{empty}}][{{unset}}]", &o), "[][]");
    assert_string_equal(unit_tpl("a {{! a comment }}b", &o), "a b");
    /* braces that are no tag stay text */
    assert_string_equal(unit_tpl("{ } }} {x}", &o), "{ } }} {x}");
    assert_string_equal(unit_tpl("{{name}}{{name}}", &o), "AdaAda");
}


static void
test_template_escaping(void **state)
{
    size_t          i;
    unit_tpl_out_t  o;
    char            big[1500], want[1500 * 6 + 1];

    (void) state;
    unit_tpl_reset();

    unit_tpl_values[0] = "<script>alert(\"x\" & 'y')</script>";
    assert_string_equal(unit_tpl("<p title=\"{{name}}\">{{name}}</p>", &o),
        "<p title=\"&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)"
        "&lt;/script&gt;\">&lt;script&gt;alert(&quot;x&quot; &amp; "
        "&#39;y&#39;)&lt;/script&gt;</p>");

    /* every value, not only some: the amount too */
    unit_tpl_values[1] = "<b>";
    assert_string_equal(unit_tpl("{{amount}}", &o), "&lt;b&gt;");

    /* an entity in a value is escaped again, not passed through */
    unit_tpl_values[0] = "&lt;";
    assert_string_equal(unit_tpl("{{name}}", &o), "&amp;lt;");

    /* a value longer than the renderer's slice */
    for (i = 0; i < sizeof(big) - 1; i++) {
        big[i] = (i % 3 == 0) ? '"' : 'a';
    }

    big[sizeof(big) - 1] = '\0';
    assert_int_equal(ngx_payout_html_escape(NULL, big, strlen(big)),
                     500 * 6 + 999);
    want[ngx_payout_html_escape(want, big, strlen(big))] = '\0';

    unit_tpl_values[0] = big;
    assert_string_equal(unit_tpl("{{name}}", &o), want);

    /* a value that looks like a tag is not expanded */
    unit_tpl_values[0] = "{{amount}}";
    assert_string_equal(unit_tpl("{{name}}", &o), "{{amount}}");
}


static void
test_template_sections(void **state)
{
    unit_tpl_out_t  o;

    (void) state;
    unit_tpl_reset();

    assert_string_equal(unit_tpl("{{#if flag}}yes{{/if}}", &o), "yes");
    assert_string_equal(unit_tpl("{{#if empty}}yes{{/if}}.", &o), ".");
    assert_string_equal(unit_tpl("{{#if unset}}yes{{else}}no{{/if}}", &o),
                        "no");
    assert_string_equal(unit_tpl("{{#if name}}yes{{else}}no{{/if}}", &o),
                        "yes");
    assert_string_equal(unit_tpl("{{#unless unset}}u{{/unless}}", &o), "u");
    assert_string_equal(unit_tpl("{{#unless flag}}u{{else}}v{{/unless}}",
                                 &o), "v");
    assert_string_equal(unit_tpl("{{#if flag}}a{{#if unset}}b{{else}}c"
                                 "{{#unless empty}}d{{/unless}}{{/if}}e"
                                 "{{/if}}f", &o), "acdef");
    assert_string_equal(unit_tpl("{{#if unset}}a{{#if flag}}b{{/if}}c"
                                 "{{else}}{{name}}{{/if}}", &o), "Ada");
    assert_string_equal(unit_tpl("{{#if flag}}{{/if}}x", &o), "x");
}


static void
test_template_errors(void **state)
{
    ngx_payout_template_error_t  err;

    (void) state;

    unit_tpl_fails("a\nb {{name", 2, "not closed");
    unit_tpl_fails("{{{name}}}", 1, "unescaped");
    unit_tpl_fails("x\n\n{{&name}}", 3, "unescaped");
    unit_tpl_fails("{{nope}}", 1, "unknown value \"nope\"");
    unit_tpl_fails("{{Name}}", 1, "a name is");
    unit_tpl_fails("{{}}", 1, "a name is");
    unit_tpl_fails("{{na me}}", 1, "a name is");
    unit_tpl_fails("{{#each name}}{{/each}}", 1, "unknown tag");
    unit_tpl_fails("{{#if nope}}{{/if}}", 1, "unknown value");
    unit_tpl_fails("\n{{#if name}}\n", 2, "{{#if}} is not closed");
    unit_tpl_fails("{{#unless name}}", 1, "{{#unless}} is not closed");
    unit_tpl_fails("{{/if}}", 1, "never opened");
    unit_tpl_fails("{{#if name}}\n{{/unless}}", 2, "closes an {{#if}}");
    unit_tpl_fails("{{#unless name}}{{/if}}", 1, "closes an {{#unless}}");
    unit_tpl_fails("{{else}}", 1, "outside a section");
    unit_tpl_fails("{{#if name}}{{else}}\n{{else}}{{/if}}", 2, "second");
    unit_tpl_fails("{{#if name}}{{name {{/if}}", 1, "not closed");
    unit_tpl_fails("{{#if flag}}{{#if flag}}{{#if flag}}{{#if flag}}"
                   "{{#if flag}}{{#if flag}}{{#if flag}}{{#if flag}}"
                   "{{#if flag}}", 1, "deeper");
    unit_tpl_fails("{{#if }}", 1, "unknown tag");

    /* a NUL in a tag is not a name */
    assert_null(ngx_payout_template_compile("{{na\0e}}", 8, unit_tpl_names,
                                            &err));
    assert_int_equal(err.line, 1);
}


static void
test_template_write_refused(void **state)
{
    unit_tpl_out_t                o;
    ngx_payout_template_t        *t;
    ngx_payout_template_error_t   err;

    (void) state;
    unit_tpl_reset();

    t = ngx_payout_template_compile("abc{{name}}def", 14, unit_tpl_names,
                                    &err);
    assert_non_null(t);

    memset(&o, 0, sizeof(o));
    o.limit = 4;
    assert_int_equal(ngx_payout_template_render(t, unit_tpl_value, NULL,
                                                unit_tpl_write, &o),
                     NGX_PAYOUT_ERROR);

    assert_true(ngx_payout_template_uses(t, 0));
    assert_false(ngx_payout_template_uses(t, 1));

    ngx_payout_template_free(t);
    ngx_payout_template_free(NULL);
}


static void
test_money_format(void **state)
{
    char  buf[64];

    (void) state;

    assert_int_equal(ngx_payout_money_format(buf, sizeof(buf), 250000, 2,
                                             "NGN"), 12);
    assert_string_equal(buf, "NGN 2,500.00");
    ngx_payout_money_format(buf, sizeof(buf), 5, 2, "USD");
    assert_string_equal(buf, "USD 0.05");
    ngx_payout_money_format(buf, sizeof(buf), 0, 2, "USD");
    assert_string_equal(buf, "USD 0.00");
    ngx_payout_money_format(buf, sizeof(buf), 1000, 0, "JPY");
    assert_string_equal(buf, "JPY 1,000");
    ngx_payout_money_format(buf, sizeof(buf), 999, 0, "JPY");
    assert_string_equal(buf, "JPY 999");
    ngx_payout_money_format(buf, sizeof(buf), 1234567891, 3, "KWD");
    assert_string_equal(buf, "KWD 1,234,567.891");
    ngx_payout_money_format(buf, sizeof(buf), 1000000000000000LL, 2, "NGN");
    assert_string_equal(buf, "NGN 10,000,000,000,000.00");
    ngx_payout_money_format(buf, sizeof(buf), -150, 2, "EUR");
    assert_string_equal(buf, "EUR -1.50");
    ngx_payout_money_format(buf, sizeof(buf), INT64_MIN, 0, "X");
    assert_string_equal(buf, "X -9,223,372,036,854,775,808");
    assert_int_equal(ngx_payout_money_format(buf, 8, 250000, 2, "NGN"), 0);
}


int
run_template_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_template_values),
        cmocka_unit_test(test_template_escaping),
        cmocka_unit_test(test_template_sections),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_template_write_refused),
        cmocka_unit_test(test_money_format),
    };

    return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
