/*
 * The connectors' memory callback for the tests: the glue points it at a
 * pool, the tests at a list freed at the end of each test.
 */

#include <stdlib.h>

#include "unit.h"


void *
unit_mem_alloc(void *data, size_t size)
{
    unit_mem_t  *m = data;

    if (m->n == UNIT_MEM_BLOCKS) {
        return NULL;
    }

    m->blocks[m->n] = calloc(1, size);

    return m->blocks[m->n++];
}


void
unit_mem_free(unit_mem_t *m)
{
    while (m->n) {
        free(m->blocks[--m->n]);
    }
}
