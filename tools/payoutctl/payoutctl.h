/*
 * payoutctl: the operator CLI of the payout gateway.  It applies the SQL
 * migrations (sql/schema, sql/functions, sql/sandbox) and manages tenants
 * and API keys.  API keys are stored only as their 16-character prefix
 * and the SHA-256 of the whole key; the key itself is printed once, by
 * "key create", and never again.
 *
 * One file per subcommand group (migrate.c, tenant.c, key.c), main.c
 * with the command line, util.c with what they share.
 *
 * Exit codes: 0 success, 1 operational error, 2 usage error.
 */

#ifndef _PAYOUTCTL_H_INCLUDED_
#define _PAYOUTCTL_H_INCLUDED_


#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <libpq-fe.h>

#include "ngx_payout_core.h"


#define PAYOUTCTL_OK             0
#define PAYOUTCTL_ERROR          1
#define PAYOUTCTL_USAGE          2

#define PAYOUTCTL_TIME_FORMAT    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define PAYOUTCTL_UTC(col)                                                    \
    "to_char(" col " AT TIME ZONE 'UTC', " PAYOUTCTL_TIME_FORMAT ")"

#define PAYOUTCTL_SQLSTATE_UNDEFINED_TABLE   "42P01"
#define PAYOUTCTL_SQLSTATE_CHECK_VIOLATION   "23514"


typedef struct {
    const char   *database;
    const char   *migrations;
} payoutctl_conf_t;


void payoutctl_usage(FILE *f);
void payoutctl_error(const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));
void payoutctl_pq_error(const char *what, const PGresult *res);
size_t payoutctl_trim(const char *s, size_t len);
int payoutctl_opt(int argc, char **argv, int *i, const char *name,
    const char **value);
int payoutctl_unexpected(const char *cmd, const char *arg);
PGconn *payoutctl_connect(payoutctl_conf_t *conf);
PGresult *payoutctl_query(PGconn *conn, const char *sql, int nparams,
    const char *const *params, const char *what);
int payoutctl_command(PGconn *conn, const char *sql,
    const char *what);
void payoutctl_print_table(const PGresult *res);
int payoutctl_tenant_id(PGconn *conn, const char *name, char *id,
    size_t size);
char *payoutctl_read(FILE *f, const char *name, size_t max,
    size_t *len);

int payoutctl_migrate(payoutctl_conf_t *conf, int argc, char **argv);
int payoutctl_tenant(payoutctl_conf_t *conf, int argc, char **argv);
int payoutctl_key(payoutctl_conf_t *conf, int argc, char **argv);
int payoutctl_status(payoutctl_conf_t *conf, int argc, char **argv);
int payoutctl_migrate_pending(PGconn *conn, const char *dir);


#endif /* _PAYOUTCTL_H_INCLUDED_ */
