/*
 * Templates: compile arbitrary input and render what compiles.
 *
 * Invariants: compile either succeeds or gives a line within the input
 * and a reason; a rendering never holds a raw < > " ' from a value (every
 * value here is markup), so the output's special characters all come
 * from the template's own text.
 */

#include <string.h>

#include "fuzz.h"

#include "ngx_payout_template.h"


static const char *const  fuzz_tpl_names[] = {
    "a", "b", "empty", NULL
};


typedef struct {
    size_t  len;
    size_t  specials;
} fuzz_tpl_out_t;


static const char *
fuzz_tpl_value(void *data, unsigned index, size_t *len)
{
    static const char *const  values[] = { "<x y='1'>&\"", "b", "" };

    (void) data;

    FUZZ_CHECK(index < 3);
    *len = strlen(values[index]);

    return values[index];
}


static int
fuzz_tpl_write(void *data, const char *p, size_t len)
{
    size_t           i;
    fuzz_tpl_out_t  *o = data;

    for (i = 0; i < len; i++) {
        o->specials += (p[i] == '<' || p[i] == '>' || p[i] == '"'
                        || p[i] == '\'');
    }

    o->len += len;

    return NGX_PAYOUT_OK;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                        i, lines, specials;
    fuzz_tpl_out_t                o;
    ngx_payout_template_t        *t;
    ngx_payout_template_error_t   err;

    t = ngx_payout_template_compile((const char *) data, size,
                                    fuzz_tpl_names, &err);

    lines = 1;
    specials = 0;

    for (i = 0; i < size; i++) {
        lines += (data[i] == '\n');
        specials += (data[i] == '<' || data[i] == '>' || data[i] == '"'
                     || data[i] == '\'');
    }

    if (t == NULL) {
        FUZZ_CHECK(err.line >= 1 && err.line <= lines);
        FUZZ_CHECK(err.reason[0] != '\0');
        return 0;
    }

    memset(&o, 0, sizeof(o));
    FUZZ_CHECK(ngx_payout_template_render(t, fuzz_tpl_value, NULL,
                                          fuzz_tpl_write, &o)
               == NGX_PAYOUT_OK);

    /* each text node is rendered at most once: no loops */
    FUZZ_CHECK(o.specials <= specials);

    ngx_payout_template_free(t);

    return 0;
}
