/* placeholder: the sandbox provider is being written */

#include "ngx_http_payout.h"


char *
ngx_http_payout_sandbox(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return "is not available yet";
}


ngx_int_t
ngx_http_payout_sandbox_init_process(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_payout_sandbox_exit_process(ngx_cycle_t *cycle)
{
}
