/*
 * The help text, apart from main(): every subcommand's "--help" prints
 * it, so it sits below them all instead of in the file that calls them.
 */

#include "payoutctl.h"


void
payoutctl_usage(FILE *f)
{
    fputs(
"usage: payoutctl [--database CONNINFO] [--migrations DIR] COMMAND ...\n"
"\n"
"commands:\n"
"  migrate [--sandbox] [--status]       apply pending migrations, or list\n"
"                                       them with their state; --sandbox\n"
"                                       also the sandbox's (schema sandbox)\n"
"  tenant create NAME [--if-not-exists] create a tenant\n"
"  tenant update NAME --display-name TEXT\n"
"                                       who pays, as payout-link pages say\n"
"                                       it (at most 100 characters; \"\"\n"
"                                       clears it)\n"
"  tenant list                          list tenants\n"
"  key create --tenant NAME --mode test|live\n"
"                                       create an API key and print it once\n"
"  key list [--tenant NAME]             list keys (prefixes only)\n"
"  key revoke PREFIX|KEY                revoke a key\n"
"  key verify [--file PATH]             check a key read from PATH or stdin\n"
"  status [--max-backlog-age SECONDS] [--window SECONDS]\n"
"                                       the gateway's health: exit 0 ok, 1\n"
"                                       needs attention, 2 no database\n"
"\n"
"options:\n"
"  --database CONNINFO   libpq connection string or URI (default:\n"
"                        $PAYOUT_DATABASE, else the PG* variables)\n"
"  --migrations DIR      the SQL tree (default: $PAYOUT_MIGRATIONS,\n"
"                        else ./sql)\n"
"  -h, --help            show this help\n"
"\n"
"exit status: 0 success, 1 error, 2 usage error\n", f);
}
