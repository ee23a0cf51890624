/*
 * payoutctl: the operator CLI of the payout gateway.  It applies the SQL
 * migrations and manages tenants and API keys.  API keys are stored only as
 * their 16-character prefix and the SHA-256 of the whole key; the key itself
 * is printed once, by "key create", and never again.
 *
 * Exit codes: 0 success, 1 operational error, 2 usage error.
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <libpq-fe.h>

#include "ngx_payout_core.h"


#define PAYOUTCTL_OK             0
#define PAYOUTCTL_ERROR          1
#define PAYOUTCTL_USAGE          2

/* "payout" in ASCII; any fixed number works as long as it never changes */
#define PAYOUTCTL_MIGRATE_LOCK   "123563951486324"

/* a prefix collision needs two equal 8-character base62 strings */
#define PAYOUTCTL_KEY_ATTEMPTS   5

/* a key file holds one key and perhaps a newline; refuse anything big */
#define PAYOUTCTL_KEY_FILE_MAX   4096

#define PAYOUTCTL_TIME_FORMAT    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define PAYOUTCTL_UTC(col)                                                    \
    "to_char(" col " AT TIME ZONE 'UTC', " PAYOUTCTL_TIME_FORMAT ")"

#define PAYOUTCTL_SQLSTATE_UNDEFINED_TABLE   "42P01"
#define PAYOUTCTL_SQLSTATE_CHECK_VIOLATION   "23514"


typedef struct {
    const char   *database;
    const char   *migrations;
} payoutctl_conf_t;


typedef struct {
    long          version;
    char         *name;
} payoutctl_migration_t;


typedef struct {
    payoutctl_migration_t  *elts;
    size_t                  nelts;
} payoutctl_migrations_t;


static void payoutctl_usage(FILE *f);
static void payoutctl_error(const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));
static void payoutctl_pq_error(const char *what, const PGresult *res);
static void payoutctl_notice(void *arg, const char *message);
static size_t payoutctl_trim(const char *s, size_t len);
static int payoutctl_opt(int argc, char **argv, int *i, const char *name,
    const char **value);
static int payoutctl_unexpected(const char *cmd, const char *arg);

static PGconn *payoutctl_connect(payoutctl_conf_t *conf);
static PGresult *payoutctl_query(PGconn *conn, const char *sql, int nparams,
    const char *const *params, const char *what);
static int payoutctl_command(PGconn *conn, const char *sql,
    const char *what);
static void payoutctl_print_table(const PGresult *res);
static int payoutctl_tenant_id(PGconn *conn, const char *name, char *id,
    size_t size);
static char *payoutctl_read(FILE *f, const char *name, size_t max,
    size_t *len);

static int payoutctl_migrate(payoutctl_conf_t *conf, int argc, char **argv);
static int payoutctl_migrations_read(const char *dir,
    payoutctl_migrations_t *list);
static void payoutctl_migrations_free(payoutctl_migrations_t *list);
static int payoutctl_migration_version(const char *name, long *version);
static int payoutctl_migration_cmp(const void *one, const void *two);
static int payoutctl_migrate_lock(PGconn *conn);
static PGresult *payoutctl_migrate_applied(PGconn *conn, int *exists);
static int payoutctl_migrate_find(const PGresult *applied, long version);
static int payoutctl_migrate_apply(PGconn *conn, const char *dir,
    const payoutctl_migration_t *m);
static int payoutctl_migrate_status(PGconn *conn,
    const payoutctl_migrations_t *list);

static int payoutctl_tenant(payoutctl_conf_t *conf, int argc, char **argv);
static int payoutctl_tenant_create(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_tenant_list(payoutctl_conf_t *conf, int argc,
    char **argv);

static int payoutctl_key(payoutctl_conf_t *conf, int argc, char **argv);
static int payoutctl_key_create(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_key_insert(PGconn *conn, const char *tenant_id,
    int mode, char *key, char *row_id, size_t size);
static int payoutctl_key_list(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_key_revoke(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_key_verify(payoutctl_conf_t *conf, int argc,
    char **argv);


int
main(int argc, char **argv)
{
    int                rc;
    int                i;
    const char        *value, *cmd;
    payoutctl_conf_t   conf;

    conf.database = getenv("PAYOUT_DATABASE");
    conf.migrations = getenv("PAYOUT_MIGRATIONS");

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            payoutctl_usage(stdout);
            return PAYOUTCTL_OK;
        }

        rc = payoutctl_opt(argc, argv, &i, "--database", &value);
        if (rc == 1) {
            conf.database = value;
            continue;
        }

        if (rc == 0) {
            rc = payoutctl_opt(argc, argv, &i, "--migrations", &value);
            if (rc == 1) {
                conf.migrations = value;
                continue;
            }
        }

        if (rc == 0) {
            payoutctl_error("unknown option \"%s\"", argv[i]);
        }

        payoutctl_usage(stderr);
        return PAYOUTCTL_USAGE;
    }

    if (i == argc) {
        payoutctl_usage(stderr);
        return PAYOUTCTL_USAGE;
    }

    /* an empty variable means "not set", as it does for libpq's PG* ones */

    if (conf.database != NULL && conf.database[0] == '\0') {
        conf.database = NULL;
    }

    if (conf.migrations == NULL || conf.migrations[0] == '\0') {
        conf.migrations = "sql";
    }

    cmd = argv[i++];

    if (strcmp(cmd, "migrate") == 0) {
        rc = payoutctl_migrate(&conf, argc - i, argv + i);

    } else if (strcmp(cmd, "tenant") == 0) {
        rc = payoutctl_tenant(&conf, argc - i, argv + i);

    } else if (strcmp(cmd, "key") == 0) {
        rc = payoutctl_key(&conf, argc - i, argv + i);

    } else if (strcmp(cmd, "help") == 0) {
        payoutctl_usage(stdout);
        rc = PAYOUTCTL_OK;

    } else {
        payoutctl_error("unknown command \"%s\"", cmd);
        payoutctl_usage(stderr);
        rc = PAYOUTCTL_USAGE;
    }

    /* a full disk or closed pipe must not pass for success */

    errno = 0;

    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == PAYOUTCTL_OK) {
            payoutctl_error("cannot write to stdout: %s",
                            errno ? strerror(errno) : "write error");
        }

        return PAYOUTCTL_ERROR;
    }

    return rc;
}


static void
payoutctl_usage(FILE *f)
{
    fputs(
"usage: payoutctl [--database CONNINFO] [--migrations DIR] COMMAND ...\n"
"\n"
"commands:\n"
"  migrate [--status]                   apply pending migrations, or list\n"
"                                       them with their state\n"
"  tenant create NAME [--if-not-exists] create a tenant\n"
"  tenant list                          list tenants\n"
"  key create --tenant NAME --mode test|live\n"
"                                       create an API key and print it once\n"
"  key list [--tenant NAME]             list keys (prefixes only)\n"
"  key revoke PREFIX|KEY                revoke a key\n"
"  key verify [--file PATH]             check a key read from PATH or stdin\n"
"\n"
"options:\n"
"  --database CONNINFO   libpq connection string or URI (default:\n"
"                        $PAYOUT_DATABASE, else the PG* variables)\n"
"  --migrations DIR      migrations directory (default: $PAYOUT_MIGRATIONS,\n"
"                        else ./sql)\n"
"  -h, --help            show this help\n"
"\n"
"exit status: 0 success, 1 error, 2 usage error\n", f);
}


static void
payoutctl_error(const char *fmt, ...)
{
    va_list  args;

    fputs("payoutctl: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


static void
payoutctl_pq_error(const char *what, const PGresult *res)
{
    const char  *msg, *detail, *hint, *state;

    msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    if (msg == NULL) {
        /* a client-side failure, such as a lost connection */
        msg = PQresultErrorMessage(res);
        payoutctl_error("%s: %.*s", what, (int) payoutctl_trim(msg,
                        strlen(msg)), msg);
        return;
    }

    payoutctl_error("%s: %s", what, msg);

    detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    if (detail != NULL) {
        payoutctl_error("detail: %s", detail);
    }

    hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    if (hint != NULL) {
        payoutctl_error("hint: %s", hint);
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state != NULL
        && strcmp(state, PAYOUTCTL_SQLSTATE_UNDEFINED_TABLE) == 0)
    {
        payoutctl_error("is the database migrated? "
                        "run \"payoutctl migrate\" first");
    }
}


static void
payoutctl_notice(void *arg, const char *message)
{
    (void) arg;

    payoutctl_error("%.*s", (int) payoutctl_trim(message, strlen(message)),
                    message);
}


/* the length of s without trailing white space */

static size_t
payoutctl_trim(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'
                       || s[len - 1] == ' ' || s[len - 1] == '\t'))
    {
        len--;
    }

    return len;
}


/*
 * Matches "--name VALUE" and "--name=VALUE" at argv[*i]: 1 and *value set
 * on a match, 0 if argv[*i] is another option, -1 if the value is missing.
 */

static int
payoutctl_opt(int argc, char **argv, int *i, const char *name,
    const char **value)
{
    size_t       len;
    const char  *arg;

    arg = argv[*i];
    len = strlen(name);

    if (strncmp(arg, name, len) != 0) {
        return 0;
    }

    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }

    if (arg[len] != '\0') {
        return 0;
    }

    if (*i + 1 >= argc) {
        payoutctl_error("option %s needs a value", name);
        return -1;
    }

    *i += 1;
    *value = argv[*i];

    return 1;
}


/* also where "payoutctl key create --help" ends up, so it helps there */

static int
payoutctl_unexpected(const char *cmd, const char *arg)
{
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        payoutctl_usage(stdout);
        return PAYOUTCTL_OK;
    }

    if (arg[0] == '-' && arg[1] != '\0') {
        payoutctl_error("%s: unknown option \"%s\"", cmd, arg);

    } else {
        payoutctl_error("%s: unexpected argument \"%s\"", cmd, arg);
    }

    payoutctl_error("see \"payoutctl --help\"");

    return PAYOUTCTL_USAGE;
}


static PGconn *
payoutctl_connect(payoutctl_conf_t *conf)
{
    PGconn      *conn;
    const char  *msg;
    const char  *keywords[3], *values[3];

    /*
     * expand_dbname lets --database be a conninfo string, a URI or a plain
     * database name; NULL leaves everything to libpq's defaults.
     */

    keywords[0] = "fallback_application_name";
    values[0] = "payoutctl";
    keywords[1] = "dbname";
    values[1] = conf->database;
    keywords[2] = NULL;
    values[2] = NULL;

    if (conf->database == NULL) {
        keywords[1] = NULL;
    }

    conn = PQconnectdbParams(keywords, values, 1);

    if (conn == NULL) {
        payoutctl_error("cannot connect to the database: out of memory");
        return NULL;
    }

    if (PQstatus(conn) != CONNECTION_OK) {
        msg = PQerrorMessage(conn);
        payoutctl_error("cannot connect to the database: %.*s",
                        (int) payoutctl_trim(msg, strlen(msg)), msg);
        PQfinish(conn);
        return NULL;
    }

    PQsetNoticeProcessor(conn, payoutctl_notice, NULL);

    return conn;
}


/* runs a query that returns rows; NULL (and a message) on failure */

static PGresult *
payoutctl_query(PGconn *conn, const char *sql, int nparams,
    const char *const *params, const char *what)
{
    PGresult  *res;

    res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        payoutctl_pq_error(what, res);
        PQclear(res);
        return NULL;
    }

    return res;
}


static int
payoutctl_command(PGconn *conn, const char *sql, const char *what)
{
    PGresult  *res;

    res = PQexec(conn, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK
        && PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        payoutctl_pq_error(what, res);
        PQclear(res);
        return PAYOUTCTL_ERROR;
    }

    PQclear(res);

    return PAYOUTCTL_OK;
}


/* column names upper-cased as the header, then aligned rows */

static void
payoutctl_print_table(const PGresult *res)
{
    int      row, col, ncols, nrows, len;
    int     *width;
    char    *p;
    size_t   n;
    char     name[64];

    ncols = PQnfields(res);
    nrows = PQntuples(res);

    width = calloc(ncols, sizeof(int));
    if (width == NULL) {
        payoutctl_error("out of memory");
        return;
    }

    for (col = 0; col < ncols; col++) {
        width[col] = (int) strlen(PQfname(res, col));

        for (row = 0; row < nrows; row++) {
            len = PQgetlength(res, row, col);
            if (len > width[col]) {
                width[col] = len;
            }
        }
    }

    for (col = 0; col < ncols; col++) {
        n = strlen(PQfname(res, col));
        n = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
        memcpy(name, PQfname(res, col), n);
        name[n] = '\0';

        for (p = name; *p; p++) {
            if (*p >= 'a' && *p <= 'z') {
                *p -= 'a' - 'A';
            }
        }

        if (col + 1 < ncols) {
            printf("%-*s  ", width[col], name);

        } else {
            printf("%s\n", name);
        }
    }

    for (row = 0; row < nrows; row++) {
        for (col = 0; col < ncols; col++) {
            if (col + 1 < ncols) {
                printf("%-*s  ", width[col], PQgetvalue(res, row, col));

            } else {
                printf("%s\n", PQgetvalue(res, row, col));
            }
        }
    }

    free(width);
}


/* 1 and the id as text if the tenant exists, 0 if not, -1 on error */

static int
payoutctl_tenant_id(PGconn *conn, const char *name, char *id, size_t size)
{
    PGresult  *res;

    res = payoutctl_query(conn, "SELECT id FROM tenants WHERE name = $1",
                          1, &name, "cannot look up the tenant");
    if (res == NULL) {
        return -1;
    }

    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }

    snprintf(id, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);

    return 1;
}


/* reads a whole stream into a NUL-terminated buffer; refuses NUL bytes */

static char *
payoutctl_read(FILE *f, const char *name, size_t max, size_t *len)
{
    char    *buf, *p;
    size_t   size, n;

    size = 8192;
    n = 0;

    buf = malloc(size);
    if (buf == NULL) {
        payoutctl_error("%s: out of memory", name);
        return NULL;
    }

    for ( ;; ) {
        if (size - n < 2) {
            if (max && size > max) {
                payoutctl_error("%s: file is too large", name);
                goto failed;
            }

            p = realloc(buf, size * 2);
            if (p == NULL) {
                payoutctl_error("%s: out of memory", name);
                goto failed;
            }

            buf = p;
            size *= 2;
        }

        n += fread(buf + n, 1, size - n - 1, f);

        if (ferror(f)) {
            payoutctl_error("cannot read %s: %s", name, strerror(errno));
            goto failed;
        }

        if (feof(f)) {
            break;
        }
    }

    if (max && n > max) {
        payoutctl_error("%s: file is too large", name);
        goto failed;
    }

    if (memchr(buf, '\0', n) != NULL) {
        payoutctl_error("%s: file contains a NUL byte", name);
        goto failed;
    }

    buf[n] = '\0';
    *len = n;

    return buf;

failed:

    /* the buffer may hold a key */
    OPENSSL_cleanse(buf, size);
    free(buf);

    return NULL;
}


static int
payoutctl_migrate(payoutctl_conf_t *conf, int argc, char **argv)
{
    int                      i, rc, status, exists, applied_any, row;
    size_t                   k;
    PGconn                  *conn;
    PGresult                *applied;
    const char              *name;
    payoutctl_migrations_t   list;

    status = 0;
    applied = NULL;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0) {
            status = 1;
            continue;
        }

        return payoutctl_unexpected("migrate", argv[i]);
    }

    /* a missing or ambiguous directory should fail before touching the db */

    if (payoutctl_migrations_read(conf->migrations, &list) != PAYOUTCTL_OK) {
        return PAYOUTCTL_ERROR;
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        payoutctl_migrations_free(&list);
        return PAYOUTCTL_ERROR;
    }

    if (status) {
        rc = payoutctl_migrate_status(conn, &list);
        goto done;
    }

    rc = PAYOUTCTL_ERROR;

    /*
     * The lock comes before CREATE TABLE: two concurrent "IF NOT EXISTS"
     * creations can still collide on the catalog's unique indexes.
     */

    if (payoutctl_migrate_lock(conn) != PAYOUTCTL_OK) {
        goto done;
    }

    applied = payoutctl_migrate_applied(conn, &exists);
    if (applied == NULL) {
        goto done;
    }

    if (!exists) {
        if (payoutctl_command(conn,
                "CREATE TABLE schema_migrations ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                "cannot create schema_migrations")
            != PAYOUTCTL_OK)
        {
            goto done;
        }
    }

    for (row = 0; row < PQntuples(applied); row++) {
        for (k = 0; k < list.nelts; k++) {
            if (list.elts[k].version == atol(PQgetvalue(applied, row, 0))) {
                break;
            }
        }

        name = PQgetvalue(applied, row, 1);

        if (k == list.nelts) {
            payoutctl_error("warning: %s is applied but not in %s",
                            name, conf->migrations);

        } else if (strcmp(list.elts[k].name, name) != 0) {
            payoutctl_error("warning: %s is applied as %s",
                            list.elts[k].name, name);
        }
    }

    applied_any = 0;

    for (k = 0; k < list.nelts; k++) {
        if (payoutctl_migrate_find(applied, list.elts[k].version) >= 0) {
            continue;
        }

        if (payoutctl_migrate_apply(conn, conf->migrations, &list.elts[k])
            != PAYOUTCTL_OK)
        {
            goto done;
        }

        printf("applied %s\n", list.elts[k].name);
        fflush(stdout);
        applied_any = 1;
    }

    if (!applied_any) {
        printf("database is up to date\n");
    }

    rc = PAYOUTCTL_OK;

done:

    /* closing the session releases the advisory lock */

    if (applied != NULL) {
        PQclear(applied);
    }

    PQfinish(conn);
    payoutctl_migrations_free(&list);

    return rc;
}


static int
payoutctl_migrations_read(const char *dir, payoutctl_migrations_t *list)
{
    DIR                    *d;
    long                    version;
    size_t                  k, len, nalloc;
    struct dirent          *de;
    payoutctl_migration_t  *p;

    list->elts = NULL;
    list->nelts = 0;
    nalloc = 0;

    d = opendir(dir);
    if (d == NULL) {
        payoutctl_error("cannot open migrations directory %s: %s",
                        dir, strerror(errno));
        return PAYOUTCTL_ERROR;
    }

    for ( ;; ) {
        errno = 0;
        de = readdir(d);

        if (de == NULL) {
            if (errno != 0) {
                payoutctl_error("cannot read migrations directory %s: %s",
                                dir, strerror(errno));
                goto failed;
            }

            break;
        }

        if (payoutctl_migration_version(de->d_name, &version)
            != PAYOUTCTL_OK)
        {
            /* a misnamed migration would otherwise be skipped silently */

            len = strlen(de->d_name);

            if (len >= 4 && strcmp(de->d_name + len - 4, ".sql") == 0) {
                payoutctl_error("warning: ignoring %s/%s: not named "
                                "NNN_name.sql", dir, de->d_name);
            }

            continue;
        }

        if (list->nelts == nalloc) {
            nalloc = nalloc ? nalloc * 2 : 16;
            p = realloc(list->elts, nalloc * sizeof(payoutctl_migration_t));
            if (p == NULL) {
                payoutctl_error("out of memory");
                goto failed;
            }

            list->elts = p;
        }

        p = &list->elts[list->nelts];
        p->version = version;
        p->name = strdup(de->d_name);

        if (p->name == NULL) {
            payoutctl_error("out of memory");
            goto failed;
        }

        list->nelts++;
    }

    closedir(d);

    if (list->nelts > 1) {
        qsort(list->elts, list->nelts, sizeof(payoutctl_migration_t),
              payoutctl_migration_cmp);
    }

    /* two files with one number would be applied in an arbitrary order */

    for (k = 1; k < list->nelts; k++) {
        if (list->elts[k].version == list->elts[k - 1].version) {
            payoutctl_error("%s and %s have the same version number",
                            list->elts[k - 1].name, list->elts[k].name);
            payoutctl_migrations_free(list);
            return PAYOUTCTL_ERROR;
        }
    }

    return PAYOUTCTL_OK;

failed:

    closedir(d);
    payoutctl_migrations_free(list);

    return PAYOUTCTL_ERROR;
}


static void
payoutctl_migrations_free(payoutctl_migrations_t *list)
{
    size_t  k;

    for (k = 0; k < list->nelts; k++) {
        free(list->elts[k].name);
    }

    free(list->elts);

    list->elts = NULL;
    list->nelts = 0;
}


/* "NNN_anything.sql": the version is the leading number */

static int
payoutctl_migration_version(const char *name, long *version)
{
    long         v;
    size_t       len;
    const char  *p;

    v = 0;

    for (p = name; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');

        if (v > INT_MAX) {
            return PAYOUTCTL_ERROR;
        }
    }

    len = strlen(name);

    if (p == name || *p != '_' || len < 4
        || strcmp(name + len - 4, ".sql") != 0)
    {
        return PAYOUTCTL_ERROR;
    }

    *version = v;

    return PAYOUTCTL_OK;
}


static int
payoutctl_migration_cmp(const void *one, const void *two)
{
    const payoutctl_migration_t  *a = one, *b = two;

    return (a->version > b->version) - (a->version < b->version);
}


static int
payoutctl_migrate_lock(PGconn *conn)
{
    PGresult  *res;
    int        locked;

    res = payoutctl_query(conn,
                          "SELECT pg_try_advisory_lock("
                          PAYOUTCTL_MIGRATE_LOCK ")",
                          0, NULL, "cannot take the migration lock");
    if (res == NULL) {
        return PAYOUTCTL_ERROR;
    }

    locked = (PQgetvalue(res, 0, 0)[0] == 't');
    PQclear(res);

    if (locked) {
        return PAYOUTCTL_OK;
    }

    payoutctl_error("waiting for another migrate to finish");

    return payoutctl_command(conn,
                             "SELECT pg_advisory_lock("
                             PAYOUTCTL_MIGRATE_LOCK ")",
                             "cannot take the migration lock");
}


/*
 * The applied migrations as (version, name, applied_at) rows ordered by
 * version; an empty result and *exists = 0 if there is no table yet.
 */

static PGresult *
payoutctl_migrate_applied(PGconn *conn, int *exists)
{
    PGresult  *res;

    res = payoutctl_query(conn,
                          "SELECT to_regclass('schema_migrations')"
                          " IS NOT NULL",
                          0, NULL, "cannot read schema_migrations");
    if (res == NULL) {
        return NULL;
    }

    *exists = (PQgetvalue(res, 0, 0)[0] == 't');
    PQclear(res);

    if (*exists) {
        return payoutctl_query(conn,
                               "SELECT version, name, "
                               PAYOUTCTL_UTC("applied_at")
                               " FROM schema_migrations ORDER BY version",
                               0, NULL, "cannot read schema_migrations");
    }

    return payoutctl_query(conn,
                           "SELECT 0::integer, ''::text, ''::text "
                           "WHERE false",
                           0, NULL, "cannot read schema_migrations");
}


/* the row of version in the applied migrations, or -1 */

static int
payoutctl_migrate_find(const PGresult *applied, long version)
{
    int  row;

    for (row = 0; row < PQntuples(applied); row++) {
        if (atol(PQgetvalue(applied, row, 0)) == version) {
            return row;
        }
    }

    return -1;
}


static int
payoutctl_migrate_apply(PGconn *conn, const char *dir,
    const payoutctl_migration_t *m)
{
    int              ok;
    FILE            *f;
    char            *sql, *msg;
    size_t           len;
    PGresult        *res;
    ExecStatusType   st;
    const char      *params[2];
    char             path[PATH_MAX], version[32];

    if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, m->name)
        >= sizeof(path))
    {
        payoutctl_error("%s/%s: path is too long", dir, m->name);
        return PAYOUTCTL_ERROR;
    }

    f = fopen(path, "r");
    if (f == NULL) {
        payoutctl_error("cannot open %s: %s", path, strerror(errno));
        return PAYOUTCTL_ERROR;
    }

    sql = payoutctl_read(f, path, 0, &len);
    fclose(f);

    if (sql == NULL) {
        return PAYOUTCTL_ERROR;
    }

    if (payoutctl_command(conn, "BEGIN", "cannot begin a transaction")
        != PAYOUTCTL_OK)
    {
        free(sql);
        return PAYOUTCTL_ERROR;
    }

    /*
     * The whole file in one simple-query message: libpq returns the result
     * of the last statement, or the first error, which names the line.
     */

    res = PQexec(conn, sql);
    free(sql);

    st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK
        && st != PGRES_EMPTY_QUERY)
    {
        msg = PQresultErrorMessage(res);
        payoutctl_error("%s failed: %.*s", m->name,
                        (int) payoutctl_trim(msg, strlen(msg)), msg);
        PQclear(res);
        goto rollback;
    }

    PQclear(res);

    /* a COMMIT inside the file would have ended our transaction early */

    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        payoutctl_error("%s failed: it ended the transaction; migrations "
                        "must not contain BEGIN, COMMIT or ROLLBACK, and "
                        "part of it may be committed", m->name);
        goto rollback;
    }

    snprintf(version, sizeof(version), "%ld", m->version);
    params[0] = version;
    params[1] = m->name;

    res = PQexecParams(conn,
                       "INSERT INTO schema_migrations (version, name) "
                       "VALUES ($1, $2)",
                       2, NULL, params, NULL, NULL, 0);

    ok = (PQresultStatus(res) == PGRES_COMMAND_OK);
    if (!ok) {
        payoutctl_pq_error(m->name, res);
    }

    PQclear(res);

    if (!ok) {
        goto rollback;
    }

    /* deferred constraints are checked at COMMIT, so it can fail too */

    res = PQexec(conn, "COMMIT");

    ok = (PQresultStatus(res) == PGRES_COMMAND_OK);
    if (!ok) {
        msg = PQresultErrorMessage(res);
        payoutctl_error("%s failed at commit: %.*s", m->name,
                        (int) payoutctl_trim(msg, strlen(msg)), msg);
    }

    PQclear(res);

    return ok ? PAYOUTCTL_OK : PAYOUTCTL_ERROR;

rollback:

    /* not after a COMMIT in the file: the server would warn */

    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        res = PQexec(conn, "ROLLBACK");
        PQclear(res);
    }

    return PAYOUTCTL_ERROR;
}


static int
payoutctl_migrate_status(PGconn *conn, const payoutctl_migrations_t *list)
{
    int        row, exists, width;
    size_t     k, len;
    PGresult  *applied;

    applied = payoutctl_migrate_applied(conn, &exists);
    if (applied == NULL) {
        return PAYOUTCTL_ERROR;
    }

    width = (int) strlen("MIGRATION");

    for (k = 0; k < list->nelts; k++) {
        len = strlen(list->elts[k].name);
        width = (int) len > width ? (int) len : width;
    }

    for (row = 0; row < PQntuples(applied); row++) {
        len = strlen(PQgetvalue(applied, row, 1));
        width = (int) len > width ? (int) len : width;
    }

    printf("%-*s  %-7s  %s\n", width, "MIGRATION", "STATUS", "APPLIED_AT");

    for (k = 0; k < list->nelts; k++) {
        row = payoutctl_migrate_find(applied, list->elts[k].version);

        if (row < 0) {
            printf("%-*s  pending\n", width, list->elts[k].name);

        } else {
            printf("%-*s  applied  %s\n", width, list->elts[k].name,
                   PQgetvalue(applied, row, 2));
        }
    }

    /* recorded versions whose file is gone: an older tree or a rename */

    for (row = 0; row < PQntuples(applied); row++) {
        for (k = 0; k < list->nelts; k++) {
            if (list->elts[k].version == atol(PQgetvalue(applied, row, 0))) {
                break;
            }
        }

        if (k == list->nelts) {
            printf("%-*s  applied  %s (no file)\n", width,
                   PQgetvalue(applied, row, 1), PQgetvalue(applied, row, 2));
        }
    }

    PQclear(applied);

    return PAYOUTCTL_OK;
}


static int
payoutctl_tenant(payoutctl_conf_t *conf, int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "create") == 0) {
        return payoutctl_tenant_create(conf, argc - 1, argv + 1);
    }

    if (argc > 0 && strcmp(argv[0], "list") == 0) {
        return payoutctl_tenant_list(conf, argc - 1, argv + 1);
    }

    if (argc == 0) {
        payoutctl_error("tenant: missing subcommand (create or list)");

    } else {
        payoutctl_error("tenant: unknown subcommand \"%s\"", argv[0]);
    }

    return PAYOUTCTL_USAGE;
}


static int
payoutctl_tenant_create(payoutctl_conf_t *conf, int argc, char **argv)
{
    int          i, rc, if_not_exists;
    PGconn      *conn;
    PGresult    *res;
    const char  *name, *state;

    name = NULL;
    if_not_exists = 0;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--if-not-exists") == 0) {
            if_not_exists = 1;
            continue;
        }

        if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
            continue;
        }

        return payoutctl_unexpected("tenant create", argv[i]);
    }

    if (name == NULL) {
        payoutctl_error("tenant create: missing tenant NAME");
        return PAYOUTCTL_USAGE;
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        return PAYOUTCTL_ERROR;
    }

    /* ON CONFLICT tells "exists" apart without an error in the server log */

    res = PQexecParams(conn,
                       "INSERT INTO tenants (name) VALUES ($1) "
                       "ON CONFLICT (name) DO NOTHING RETURNING id",
                       1, NULL, &name, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        if (state != NULL
            && strcmp(state, PAYOUTCTL_SQLSTATE_CHECK_VIOLATION) == 0)
        {
            payoutctl_error("invalid tenant name \"%s\": use 1 to 63 "
                            "characters a-z, 0-9, \"_\" and \"-\", starting "
                            "with a letter or digit", name);

        } else {
            payoutctl_pq_error("cannot create the tenant", res);
        }

        rc = PAYOUTCTL_ERROR;

    } else if (PQntuples(res) == 0) {
        payoutctl_error("tenant \"%s\" already exists", name);
        rc = if_not_exists ? PAYOUTCTL_OK : PAYOUTCTL_ERROR;

    } else {
        printf("created tenant %s (id %s)\n", name, PQgetvalue(res, 0, 0));
        rc = PAYOUTCTL_OK;
    }

    PQclear(res);
    PQfinish(conn);

    return rc;
}


static int
payoutctl_tenant_list(payoutctl_conf_t *conf, int argc, char **argv)
{
    PGconn    *conn;
    PGresult  *res;

    (void) argv;

    if (argc > 0) {
        return payoutctl_unexpected("tenant list", argv[0]);
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        return PAYOUTCTL_ERROR;
    }

    res = payoutctl_query(conn,
                          "SELECT t.id, t.name, "
                          PAYOUTCTL_UTC("t.created_at") " AS created_at, "
                          "(SELECT count(*) FROM api_keys k"
                          " WHERE k.tenant_id = t.id"
                          " AND k.revoked_at IS NULL) AS active_keys "
                          "FROM tenants t ORDER BY t.name",
                          0, NULL, "cannot list tenants");

    PQfinish(conn);

    if (res == NULL) {
        return PAYOUTCTL_ERROR;
    }

    payoutctl_print_table(res);
    PQclear(res);

    return PAYOUTCTL_OK;
}


static int
payoutctl_key(payoutctl_conf_t *conf, int argc, char **argv)
{
    const char  *sub;

    if (argc == 0) {
        payoutctl_error("key: missing subcommand "
                        "(create, list, revoke or verify)");
        return PAYOUTCTL_USAGE;
    }

    sub = argv[0];

    if (strcmp(sub, "create") == 0) {
        return payoutctl_key_create(conf, argc - 1, argv + 1);
    }

    if (strcmp(sub, "list") == 0) {
        return payoutctl_key_list(conf, argc - 1, argv + 1);
    }

    if (strcmp(sub, "revoke") == 0) {
        return payoutctl_key_revoke(conf, argc - 1, argv + 1);
    }

    if (strcmp(sub, "verify") == 0) {
        return payoutctl_key_verify(conf, argc - 1, argv + 1);
    }

    payoutctl_error("key: unknown subcommand \"%s\"", sub);

    return PAYOUTCTL_USAGE;
}


static int
payoutctl_key_create(payoutctl_conf_t *conf, int argc, char **argv)
{
    int          i, rc, mode, found, ok;
    PGconn      *conn;
    PGresult    *res;
    const char  *tenant, *mode_name, *value, *param;
    char         key[NGX_PAYOUT_KEY_LEN + 1];
    char         tenant_id[32], row_id[32];

    tenant = NULL;
    mode_name = NULL;

    for (i = 0; i < argc; i++) {
        rc = payoutctl_opt(argc, argv, &i, "--tenant", &value);
        if (rc == 1) {
            tenant = value;
            continue;
        }

        if (rc == 0) {
            rc = payoutctl_opt(argc, argv, &i, "--mode", &value);
            if (rc == 1) {
                mode_name = value;
                continue;
            }
        }

        if (rc < 0) {
            return PAYOUTCTL_USAGE;
        }

        return payoutctl_unexpected("key create", argv[i]);
    }

    if (tenant == NULL || mode_name == NULL) {
        payoutctl_error("key create: --tenant NAME and --mode test|live "
                        "are required");
        return PAYOUTCTL_USAGE;
    }

    if (strcmp(mode_name, "test") == 0) {
        mode = NGX_PAYOUT_KEY_MODE_TEST;

    } else if (strcmp(mode_name, "live") == 0) {
        mode = NGX_PAYOUT_KEY_MODE_LIVE;

    } else {
        payoutctl_error("key create: --mode must be \"test\" or \"live\"");
        return PAYOUTCTL_USAGE;
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        return PAYOUTCTL_ERROR;
    }

    rc = PAYOUTCTL_ERROR;

    found = payoutctl_tenant_id(conn, tenant, tenant_id, sizeof(tenant_id));

    if (found == 0) {
        payoutctl_error("unknown tenant \"%s\"", tenant);
    }

    if (found != 1) {
        goto done;
    }

    if (payoutctl_key_insert(conn, tenant_id, mode, key, row_id,
                             sizeof(row_id))
        != PAYOUTCTL_OK)
    {
        goto done;
    }

    /* the key alone on stdout, so "> file" captures exactly the key */

    ok = (printf("%s\n", key) >= 0 && fflush(stdout) == 0 && !ferror(stdout));

    if (!ok) {
        /* nobody has the key, so it must not stay usable */

        payoutctl_error("cannot write the key to stdout: %s",
                        strerror(errno));

        param = row_id;
        res = PQexecParams(conn,
                           "UPDATE api_keys SET revoked_at = now() "
                           "WHERE id = $1",
                           1, NULL, &param, NULL, NULL, 0);

        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            payoutctl_error("key %.*s was revoked",
                            NGX_PAYOUT_KEY_PREFIX_LEN, key);

        } else {
            payoutctl_pq_error("cannot revoke the unwritten key", res);
            payoutctl_error("revoke it with \"payoutctl key revoke %.*s\"",
                            NGX_PAYOUT_KEY_PREFIX_LEN, key);
        }

        PQclear(res);
        goto done;
    }

    payoutctl_error("created %s key %.*s for tenant \"%s\"; the key is shown "
                    "only this once, store it now", mode_name,
                    NGX_PAYOUT_KEY_PREFIX_LEN, key, tenant);

    rc = PAYOUTCTL_OK;

done:

    OPENSSL_cleanse(key, sizeof(key));
    PQfinish(conn);

    return rc;
}


/*
 * Generates a key into key and stores its prefix and hash, with a fresh
 * key whenever the prefix is taken; only the prefix is unique.
 */

static int
payoutctl_key_insert(PGconn *conn, const char *tenant_id, int mode, char *key,
    char *row_id, size_t size)
{
    int             attempt, inserted;
    PGresult       *res;
    const char     *params[4];
    unsigned char   hash[NGX_PAYOUT_KEY_HASH_LEN];
    char            prefix[NGX_PAYOUT_KEY_PREFIX_LEN + 1];
    char            hex[2 * NGX_PAYOUT_KEY_HASH_LEN + 1];

    for (attempt = 0; attempt < PAYOUTCTL_KEY_ATTEMPTS; attempt++) {

        if (ngx_payout_apikey_generate(mode, key, NGX_PAYOUT_KEY_LEN + 1)
            != NGX_PAYOUT_OK)
        {
            payoutctl_error("cannot generate a key: no random bytes");
            return PAYOUTCTL_ERROR;
        }

        memcpy(prefix, key, NGX_PAYOUT_KEY_PREFIX_LEN);
        prefix[NGX_PAYOUT_KEY_PREFIX_LEN] = '\0';

        ngx_payout_apikey_hash((unsigned char *) key, NGX_PAYOUT_KEY_LEN,
                               hash);
        ngx_payout_hex_encode(hash, NGX_PAYOUT_KEY_HASH_LEN, hex);
        hex[2 * NGX_PAYOUT_KEY_HASH_LEN] = '\0';

        params[0] = tenant_id;
        params[1] = (mode == NGX_PAYOUT_KEY_MODE_LIVE) ? "live" : "test";
        params[2] = prefix;
        params[3] = hex;

        res = PQexecParams(conn,
                           "INSERT INTO api_keys"
                           " (tenant_id, mode, key_prefix, key_hash) "
                           "VALUES ($1, $2, $3, decode($4, 'hex')) "
                           "ON CONFLICT (key_prefix) DO NOTHING "
                           "RETURNING id",
                           4, NULL, params, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            payoutctl_pq_error("cannot store the key", res);
            PQclear(res);
            return PAYOUTCTL_ERROR;
        }

        inserted = (PQntuples(res) == 1);

        if (inserted) {
            snprintf(row_id, size, "%s", PQgetvalue(res, 0, 0));
        }

        PQclear(res);

        if (inserted) {
            return PAYOUTCTL_OK;
        }
    }

    payoutctl_error("cannot store the key: %d prefix collisions in a row",
                    PAYOUTCTL_KEY_ATTEMPTS);

    return PAYOUTCTL_ERROR;
}


static int
payoutctl_key_list(payoutctl_conf_t *conf, int argc, char **argv)
{
    int          i, rc, found;
    PGconn      *conn;
    PGresult    *res;
    const char  *tenant, *value;
    char         tenant_id[32];

    tenant = NULL;

    for (i = 0; i < argc; i++) {
        rc = payoutctl_opt(argc, argv, &i, "--tenant", &value);
        if (rc == 1) {
            tenant = value;
            continue;
        }

        if (rc < 0) {
            return PAYOUTCTL_USAGE;
        }

        return payoutctl_unexpected("key list", argv[i]);
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        return PAYOUTCTL_ERROR;
    }

    /* an unknown tenant is an error, not an empty list */

    if (tenant != NULL) {
        found = payoutctl_tenant_id(conn, tenant, tenant_id,
                                    sizeof(tenant_id));
        if (found != 1) {
            if (found == 0) {
                payoutctl_error("unknown tenant \"%s\"", tenant);
            }

            PQfinish(conn);
            return PAYOUTCTL_ERROR;
        }
    }

    res = payoutctl_query(conn,
                          "SELECT k.key_prefix AS prefix, t.name AS tenant,"
                          " k.mode, "
                          PAYOUTCTL_UTC("k.created_at") " AS created_at, "
                          "coalesce(" PAYOUTCTL_UTC("k.revoked_at")
                          ", 'active') AS revoked_at "
                          "FROM api_keys k"
                          " JOIN tenants t ON t.id = k.tenant_id "
                          "WHERE $1::text IS NULL OR t.name = $1 "
                          "ORDER BY t.name, k.id",
                          1, &tenant, "cannot list keys");

    PQfinish(conn);

    if (res == NULL) {
        return PAYOUTCTL_ERROR;
    }

    payoutctl_print_table(res);
    PQclear(res);

    return PAYOUTCTL_OK;
}


static int
payoutctl_key_revoke(payoutctl_conf_t *conf, int argc, char **argv)
{
    int          i, rc, mode;
    size_t       len;
    PGconn      *conn;
    PGresult    *res;
    const char  *arg, *param;
    char         prefix[NGX_PAYOUT_KEY_PREFIX_LEN + 1];

    arg = NULL;

    for (i = 0; i < argc; i++) {
        if (argv[i][0] != '-' && arg == NULL) {
            arg = argv[i];
            continue;
        }

        return payoutctl_unexpected("key revoke", argv[i]);
    }

    if (arg == NULL) {
        payoutctl_error("key revoke: missing key PREFIX");
        return PAYOUTCTL_USAGE;
    }

    /*
     * Only a prefix or a well-formed whole key: anything else might be a
     * mistyped secret, so it is not echoed back.
     */

    len = strlen(arg);

    if (len != NGX_PAYOUT_KEY_PREFIX_LEN
        && (len != NGX_PAYOUT_KEY_LEN
            || ngx_payout_apikey_parse((const unsigned char *) arg, len,
                                       &mode)
               != NGX_PAYOUT_OK))
    {
        payoutctl_error("key revoke: expected a %d-character key prefix "
                        "such as sk_test_AbCd1234, or a whole key",
                        NGX_PAYOUT_KEY_PREFIX_LEN);
        return PAYOUTCTL_USAGE;
    }

    memcpy(prefix, arg, NGX_PAYOUT_KEY_PREFIX_LEN);
    prefix[NGX_PAYOUT_KEY_PREFIX_LEN] = '\0';
    param = prefix;

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        return PAYOUTCTL_ERROR;
    }

    rc = PAYOUTCTL_ERROR;

    res = payoutctl_query(conn,
                          "UPDATE api_keys k SET revoked_at = now() "
                          "FROM tenants t "
                          "WHERE t.id = k.tenant_id AND k.key_prefix = $1"
                          " AND k.revoked_at IS NULL "
                          "RETURNING t.name",
                          1, &param, "cannot revoke the key");
    if (res == NULL) {
        goto done;
    }

    if (PQntuples(res) == 1) {
        printf("revoked %s (tenant %s)\n", prefix, PQgetvalue(res, 0, 0));
        PQclear(res);
        rc = PAYOUTCTL_OK;
        goto done;
    }

    PQclear(res);

    res = payoutctl_query(conn,
                          "SELECT " PAYOUTCTL_UTC("revoked_at")
                          " FROM api_keys WHERE key_prefix = $1",
                          1, &param, "cannot look up the key");
    if (res == NULL) {
        goto done;
    }

    if (PQntuples(res) == 0) {
        payoutctl_error("unknown key %s", prefix);

    } else {
        payoutctl_error("key %s is already revoked (at %s)", prefix,
                        PQgetvalue(res, 0, 0));
    }

    PQclear(res);

done:

    PQfinish(conn);

    return rc;
}


static int
payoutctl_key_verify(payoutctl_conf_t *conf, int argc, char **argv)
{
    int             i, rc, mode;
    FILE           *f;
    char           *buf, *key;
    size_t          len;
    PGconn         *conn;
    PGresult       *res;
    const char     *path, *value, *param, *mode_name;
    unsigned char   hash[NGX_PAYOUT_KEY_HASH_LEN];
    unsigned char   stored[NGX_PAYOUT_KEY_HASH_LEN];
    char            prefix[NGX_PAYOUT_KEY_PREFIX_LEN + 1];

    path = NULL;

    for (i = 0; i < argc; i++) {
        rc = payoutctl_opt(argc, argv, &i, "--file", &value);
        if (rc == 1) {
            path = value;
            continue;
        }

        if (rc < 0) {
            return PAYOUTCTL_USAGE;
        }

        return payoutctl_unexpected("key verify", argv[i]);
    }

    if (path == NULL || strcmp(path, "-") == 0) {
        buf = payoutctl_read(stdin, "stdin", PAYOUTCTL_KEY_FILE_MAX, &len);

    } else {
        f = fopen(path, "r");
        if (f == NULL) {
            payoutctl_error("cannot open %s: %s", path, strerror(errno));
            return PAYOUTCTL_ERROR;
        }

        buf = payoutctl_read(f, path, PAYOUTCTL_KEY_FILE_MAX, &len);
        fclose(f);
    }

    if (buf == NULL) {
        return PAYOUTCTL_ERROR;
    }

    /* tolerate the newline "key create > file" wrote, and editors' ones */

    key = buf;

    while (len > 0 && (*key == ' ' || *key == '\t' || *key == '\r'
                       || *key == '\n'))
    {
        key++;
        len--;
    }

    len = payoutctl_trim(key, len);

    rc = PAYOUTCTL_ERROR;
    conn = NULL;

    if (ngx_payout_apikey_parse((unsigned char *) key, len, &mode)
        != NGX_PAYOUT_OK)
    {
        payoutctl_error("invalid: not an API key (expected sk_test_ or "
                        "sk_live_ and %d base62 characters)",
                        NGX_PAYOUT_KEY_RANDOM_LEN);
        goto done;
    }

    memcpy(prefix, key, NGX_PAYOUT_KEY_PREFIX_LEN);
    prefix[NGX_PAYOUT_KEY_PREFIX_LEN] = '\0';
    param = prefix;

    ngx_payout_apikey_hash((unsigned char *) key, len, hash);

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        goto done;
    }

    /* hex, so the result does not depend on the server's bytea_output */

    res = payoutctl_query(conn,
                          "SELECT encode(k.key_hash, 'hex'), k.mode, t.name,"
                          " k.revoked_at IS NOT NULL "
                          "FROM api_keys k"
                          " JOIN tenants t ON t.id = k.tenant_id "
                          "WHERE k.key_prefix = $1",
                          1, &param, "cannot look up the key");
    if (res == NULL) {
        goto done;
    }

    mode_name = (mode == NGX_PAYOUT_KEY_MODE_LIVE) ? "live" : "test";

    if (PQntuples(res) == 0) {
        payoutctl_error("invalid: unknown key %s", prefix);

    } else if (PQgetlength(res, 0, 0) != 2 * NGX_PAYOUT_KEY_HASH_LEN
               || ngx_payout_hex_decode(PQgetvalue(res, 0, 0),
                                        2 * NGX_PAYOUT_KEY_HASH_LEN, stored)
                  != NGX_PAYOUT_OK)
    {
        payoutctl_error("invalid: key %s has a malformed stored hash",
                        prefix);

    } else if (!ngx_payout_apikey_hash_equal(hash, stored)) {
        payoutctl_error("invalid: key %s does not match the stored hash",
                        prefix);

    } else if (strcmp(PQgetvalue(res, 0, 1), mode_name) != 0) {
        payoutctl_error("invalid: key %s is stored as mode %s",
                        prefix, PQgetvalue(res, 0, 1));

    } else if (PQgetvalue(res, 0, 3)[0] == 't') {
        payoutctl_error("invalid: key %s is revoked", prefix);

    } else {
        printf("valid: %s tenant=%s mode=%s\n", prefix,
               PQgetvalue(res, 0, 2), mode_name);
        rc = PAYOUTCTL_OK;
    }

    PQclear(res);

done:

    if (conn != NULL) {
        PQfinish(conn);
    }

    OPENSSL_cleanse(buf, strlen(buf));
    free(buf);

    return rc;
}
