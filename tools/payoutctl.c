/*
 * payoutctl: the operator CLI of the payout gateway.  It applies the SQL
 * migrations (sql/schema, sql/functions, sql/sandbox) and manages tenants and API keys.  API keys are stored only as
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
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <libpq-fe.h>

#include "ngx_payout_core.h"


#define PAYOUTCTL_OK             0
#define PAYOUTCTL_ERROR          1
#define PAYOUTCTL_USAGE          2

/* "payout" in ASCII; any fixed number works as long as it never changes */
#define PAYOUTCTL_MIGRATE_LOCK   "123563951486324"

#define PAYOUTCTL_MIGRATIONS_DDL                                              \
    "CREATE TABLE %sschema_migrations ("                                      \
    " version integer PRIMARY KEY,"                                           \
    " name text NOT NULL,"                                                    \
    " applied_at timestamptz NOT NULL DEFAULT now(),"                         \
    " checksum text)"

#define PAYOUTCTL_FUNCTIONS_DDL                                               \
    "CREATE TABLE %sschema_functions ("                                       \
    " name text PRIMARY KEY,"                                                 \
    " checksum text NOT NULL,"                                                \
    " applied_at timestamptz NOT NULL DEFAULT now())"

#define PAYOUTCTL_SANDBOX_SQL                                                 \
    "SELECT to_regclass('sandbox.schema_migrations') IS NOT NULL"

/* the old layout's sandbox: its tables in the gateway's own schema */
#define PAYOUTCTL_OLD_SANDBOX_SQL                                             \
    "SELECT EXISTS (SELECT 1 FROM pg_class c"                                 \
    " JOIN pg_namespace n ON n.oid = c.relnamespace"                          \
    " WHERE n.nspname = current_schema()"                                     \
    " AND c.relname = 'sandbox_transfers')"

#define PAYOUTCTL_OLD_SANDBOX_FILE   "from_old_layout.sql"

#define PAYOUTCTL_STATUS_WIDTH   32

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


/* a SQL file, read and hashed; version 0 in functions/ */

typedef struct {
    long          version;
    char         *name;
    char         *sql;
    size_t        len;
    char          checksum[2 * 32 + 1];
} payoutctl_migration_t;


typedef struct {
    payoutctl_migration_t  *elts;
    size_t                  nelts;
} payoutctl_migrations_t;


/* the gateway's files, or the sandbox's */

typedef struct {
    const char              *name;      /* "" or "sandbox/", in messages */
    const char              *prefix;    /* "" or "sandbox.", its tables */
    char                     dir[PATH_MAX];
    unsigned                 present:1;
    unsigned                 layout:1;  /* 0: a DIR of the old layout */
    payoutctl_migrations_t   schema;
    payoutctl_migrations_t   functions;
} payoutctl_component_t;


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
static int payoutctl_component_read(payoutctl_component_t *c,
    const char *dir, const char *name, const char *prefix);
static void payoutctl_component_free(payoutctl_component_t *c);
static int payoutctl_migrations_read(const char *dir,
    payoutctl_migrations_t *list, int versioned);
static void payoutctl_migrations_free(payoutctl_migrations_t *list);
static int payoutctl_migration_version(const char *name, long *version);
static int payoutctl_migration_cmp(const void *one, const void *two);
static int payoutctl_migration_load(const char *dir,
    payoutctl_migration_t *m);
static int payoutctl_migrate_lock(PGconn *conn);
static int payoutctl_migrate_exists(PGconn *conn, const char *sql);
static PGresult *payoutctl_migrate_recorded(PGconn *conn,
    const payoutctl_component_t *c, int functions, int *state);
static int payoutctl_migrate_find(const PGresult *rec,
    const payoutctl_migration_t *m);
static int payoutctl_migrate_component(PGconn *conn,
    payoutctl_component_t *c, int *any);
static int payoutctl_migrate_sandbox(PGconn *conn, const char *dir,
    int old);
static int payoutctl_migrate_run(PGconn *conn, const char *what,
    const char *pre, const char *sql, const char *post, int nparams,
    const char *const *params);
static int payoutctl_migrate_status(PGconn *conn, payoutctl_component_t *gw,
    payoutctl_component_t *sbx, int sandbox);
static int payoutctl_migrate_status_part(PGconn *conn,
    payoutctl_component_t *c);

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
"  migrate [--sandbox] [--status]       apply pending migrations, or list\n"
"                                       them with their state; --sandbox\n"
"                                       also the sandbox's (schema sandbox)\n"
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
"  --migrations DIR      the SQL tree (default: $PAYOUT_MIGRATIONS,\n"
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


/*
 * migrate: the SQL files of the gateway (DIR/schema, DIR/functions) and,
 * on request, of the sandbox (DIR/sandbox/schema, DIR/sandbox/functions,
 * in schema sandbox).  Schema files are versioned and applied once each,
 * recorded in schema_migrations; function files hold CREATE OR REPLACE
 * and are applied again whenever their SHA-256 differs from the one
 * recorded in schema_functions.  A row of schema_migrations without a
 * checksum was recorded by the old layout (sql/NNN_*.sql, tables and
 * functions mixed): its version stands for the schema file of the same
 * number, if any, and nothing of it is applied again.
 */

static int
payoutctl_migrate(payoutctl_conf_t *conf, int argc, char **argv)
{
    int                     i, rc, status, sandbox, installed, old, any;
    PGconn                 *conn;
    payoutctl_component_t   gw, sbx;

    status = 0;
    sandbox = 0;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0) {
            status = 1;
            continue;
        }

        if (strcmp(argv[i], "--sandbox") == 0) {
            sandbox = 1;
            continue;
        }

        return payoutctl_unexpected("migrate", argv[i]);
    }

    /* a missing or ambiguous directory should fail before touching the db */

    if (payoutctl_component_read(&gw, conf->migrations, "", "")
        != PAYOUTCTL_OK)
    {
        return PAYOUTCTL_ERROR;
    }

    rc = PAYOUTCTL_ERROR;
    conn = NULL;

    if (payoutctl_component_read(&sbx, conf->migrations, "sandbox/",
                                 "sandbox.")
        != PAYOUTCTL_OK)
    {
        goto done;
    }

    if (sandbox && !sbx.present) {
        payoutctl_error("--sandbox: there is no %s/sandbox/schema",
                        conf->migrations);
        goto done;
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        goto done;
    }

    if (status) {
        installed = payoutctl_migrate_exists(conn, PAYOUTCTL_SANDBOX_SQL);
        if (installed < 0) {
            goto done;
        }

        rc = payoutctl_migrate_status(conn, &gw, &sbx, sandbox || installed);
        goto done;
    }

    /*
     * The lock comes before CREATE TABLE: two concurrent "IF NOT EXISTS"
     * creations can still collide on the catalog's unique indexes.
     */

    if (payoutctl_migrate_lock(conn) != PAYOUTCTL_OK) {
        goto done;
    }

    any = 0;

    if (payoutctl_migrate_component(conn, &gw, &any) != PAYOUTCTL_OK) {
        goto done;
    }

    installed = payoutctl_migrate_exists(conn, PAYOUTCTL_SANDBOX_SQL);
    old = payoutctl_migrate_exists(conn, PAYOUTCTL_OLD_SANDBOX_SQL);

    if (installed < 0 || old < 0) {
        goto done;
    }

    /* once installed, the sandbox is kept up to date by every migrate */

    if ((sandbox || installed) && sbx.present) {

        if (!installed) {
            if (payoutctl_migrate_sandbox(conn, conf->migrations, old)
                != PAYOUTCTL_OK)
            {
                goto done;
            }

            any = 1;
        }

        if (payoutctl_migrate_component(conn, &sbx, &any) != PAYOUTCTL_OK) {
            goto done;
        }

    } else if (old && gw.layout) {
        payoutctl_error("note: the old layout's sandbox tables "
                        "(sandbox_transfers, sandbox_events) are still "
                        "here; \"migrate --sandbox\" moves them into "
                        "schema sandbox, and docs/operations.md says how "
                        "to drop them where no sandbox is configured");
    }

    if (!any) {
        printf("database is up to date\n");
    }

    rc = PAYOUTCTL_OK;

done:

    /* closing the session releases the advisory lock */

    if (conn != NULL) {
        PQfinish(conn);
    }

    payoutctl_component_free(&gw);
    payoutctl_component_free(&sbx);

    return rc;
}


/*
 * The files of one part: DIR/schema and DIR/functions for the gateway,
 * DIR/sandbox/schema and DIR/sandbox/functions for the sandbox.  A DIR
 * without schema/ is of the old layout: its NNN_*.sql files are schema
 * files (functions included), recorded without checksums, as the old
 * payoutctl did, and it has no sandbox part.
 */

static int
payoutctl_component_read(payoutctl_component_t *c, const char *dir,
    const char *name, const char *prefix)
{
    struct stat  st;
    char         path[PATH_MAX];

    memset(c, 0, sizeof(payoutctl_component_t));

    c->name = name;
    c->prefix = prefix;

    if ((size_t) snprintf(c->dir, sizeof(c->dir), "%s/%s", dir, name)
            >= sizeof(c->dir)
        || (size_t) snprintf(path, sizeof(path), "%sschema", c->dir)
            >= sizeof(path))
    {
        payoutctl_error("%s: path is too long", dir);
        return PAYOUTCTL_ERROR;
    }

    c->layout = (stat(path, &st) == 0 && S_ISDIR(st.st_mode));

    if (!c->layout && name[0] != '\0') {
        /* this tree has no sandbox part */
        return PAYOUTCTL_OK;
    }

    c->present = 1;

    if (!c->layout) {
        snprintf(c->dir, sizeof(c->dir), "%s", dir);
        return payoutctl_migrations_read(dir, &c->schema, 1);
    }

    if (payoutctl_migrations_read(path, &c->schema, 1) != PAYOUTCTL_OK) {
        return PAYOUTCTL_ERROR;
    }

    if ((size_t) snprintf(path, sizeof(path), "%sfunctions", c->dir)
        >= sizeof(path))
    {
        payoutctl_error("%s: path is too long", dir);
        return PAYOUTCTL_ERROR;
    }

    return payoutctl_migrations_read(path, &c->functions, 0);
}


static void
payoutctl_component_free(payoutctl_component_t *c)
{
    payoutctl_migrations_free(&c->schema);
    payoutctl_migrations_free(&c->functions);
}


/*
 * Versioned: "NNN_name.sql" files ordered by number; otherwise every
 * "name.sql" file ordered by name.  Each is read and hashed here.
 */

static int
payoutctl_migrations_read(const char *dir, payoutctl_migrations_t *list,
    int versioned)
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

        len = strlen(de->d_name);

        if (len < 5 || de->d_name[0] == '.'
            || strcmp(de->d_name + len - 4, ".sql") != 0)
        {
            continue;
        }

        version = 0;

        if (versioned
            && payoutctl_migration_version(de->d_name, &version)
               != PAYOUTCTL_OK)
        {
            /* a misnamed migration would otherwise be skipped silently */

            payoutctl_error("warning: ignoring %s/%s: not named "
                            "NNN_name.sql", dir, de->d_name);
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
        memset(p, 0, sizeof(payoutctl_migration_t));
        p->version = version;
        p->name = strdup(de->d_name);

        if (p->name == NULL) {
            payoutctl_error("out of memory");
            goto failed;
        }

        list->nelts++;

        if (payoutctl_migration_load(dir, p) != PAYOUTCTL_OK) {
            goto failed;
        }
    }

    closedir(d);

    if (list->nelts > 1) {
        qsort(list->elts, list->nelts, sizeof(payoutctl_migration_t),
              payoutctl_migration_cmp);
    }

    /* two files with one number would be applied in an arbitrary order */

    for (k = 1; versioned && k < list->nelts; k++) {
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
        free(list->elts[k].sql);
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
    const char  *p;

    v = 0;

    for (p = name; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');

        if (v > INT_MAX) {
            return PAYOUTCTL_ERROR;
        }
    }

    if (p == name || *p != '_') {
        return PAYOUTCTL_ERROR;
    }

    *version = v;

    return PAYOUTCTL_OK;
}


/* by version, then by name: function files all have version 0 */

static int
payoutctl_migration_cmp(const void *one, const void *two)
{
    const payoutctl_migration_t  *a = one, *b = two;

    if (a->version != b->version) {
        return (a->version > b->version) - (a->version < b->version);
    }

    return strcmp(a->name, b->name);
}


static int
payoutctl_migration_load(const char *dir, payoutctl_migration_t *m)
{
    FILE          *f;
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];
    char           path[PATH_MAX];

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

    m->sql = payoutctl_read(f, path, 0, &m->len);
    fclose(f);

    if (m->sql == NULL) {
        return PAYOUTCTL_ERROR;
    }

    if (EVP_Digest(m->sql, m->len, md, &n, EVP_sha256(), NULL) != 1
        || n != 32)
    {
        payoutctl_error("%s: cannot compute its SHA-256", path);
        return PAYOUTCTL_ERROR;
    }

    ngx_payout_hex_encode(md, n, m->checksum);
    m->checksum[2 * n] = '\0';

    return PAYOUTCTL_OK;
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


/* 1 or 0 as the boolean query says, -1 on error */

static int
payoutctl_migrate_exists(PGconn *conn, const char *sql)
{
    int        yes;
    PGresult  *res;

    res = payoutctl_query(conn, sql, 0, NULL, "cannot read the catalog");
    if (res == NULL) {
        return -1;
    }

    yes = (PQgetvalue(res, 0, 0)[0] == 't');
    PQclear(res);

    return yes;
}


/*
 * The recorded files of a part as (version, name, applied_at, checksum)
 * rows: schema_migrations ordered by version, or schema_functions
 * (version 0) by name.  *state: 0 no table yet (an empty result), 1 a
 * schema_migrations of the old layout (no checksum column), 2 current.
 */

static PGresult *
payoutctl_migrate_recorded(PGconn *conn, const payoutctl_component_t *c,
    int functions, int *state)
{
    PGresult    *res;
    const char  *param;
    char         table[64], sql[256];

    snprintf(table, sizeof(table), "%sschema_%s", c->prefix,
             functions ? "functions" : "migrations");
    param = table;

    res = payoutctl_query(conn,
                          "SELECT c.oid IS NOT NULL, EXISTS ("
                          "SELECT 1 FROM pg_attribute a "
                          "WHERE a.attrelid = c.oid "
                          "AND a.attname = 'checksum' "
                          "AND NOT a.attisdropped) "
                          "FROM (SELECT to_regclass($1) AS oid) c",
                          1, &param, "cannot read the migrations' record");
    if (res == NULL) {
        return NULL;
    }

    *state = PQgetvalue(res, 0, 0)[0] != 't' ? 0
             : PQgetvalue(res, 0, 1)[0] != 't' ? 1 : 2;
    PQclear(res);

    if (*state == 0) {
        snprintf(sql, sizeof(sql), "SELECT 0, ''::text, ''::text, "
                 "''::text WHERE false");

    } else {
        snprintf(sql, sizeof(sql), "SELECT %s, name, "
                 PAYOUTCTL_UTC("applied_at") ", %s FROM %s ORDER BY %s",
                 functions ? "0" : "version",
                 *state == 2 ? "checksum" : "NULL::text", table,
                 functions ? "name" : "version");
    }

    return payoutctl_query(conn, sql, 0, NULL,
                           "cannot read the migrations' record");
}


/* the row of a file in what payoutctl_migrate_recorded() returned, or -1 */

static int
payoutctl_migrate_find(const PGresult *rec, const payoutctl_migration_t *m)
{
    int  row;

    for (row = 0; row < PQntuples(rec); row++) {
        if (m->version
            ? atol(PQgetvalue(rec, row, 0)) == m->version
            : strcmp(PQgetvalue(rec, row, 1), m->name) == 0)
        {
            return row;
        }
    }

    return -1;
}


/* the schema files still pending, then the function files that changed */

static int
payoutctl_migrate_component(PGconn *conn, payoutctl_component_t *c,
    int *any)
{
    int                     rc, row, state, fstate;
    size_t                  k, n;
    PGresult               *rec, *frec;
    const char             *name, *sum, *params[3];
    payoutctl_migration_t  *m;
    char                    ddl[512], sql[256], version[32];

    rec = payoutctl_migrate_recorded(conn, c, 0, &state);
    if (rec == NULL) {
        return PAYOUTCTL_ERROR;
    }

    PQclear(rec);

    fstate = 2;

    if (c->layout) {
        frec = payoutctl_migrate_recorded(conn, c, 1, &fstate);
        if (frec == NULL) {
            return PAYOUTCTL_ERROR;
        }

        PQclear(frec);
    }

    /* the record itself: made, or moved on from the old layout */

    n = 0;
    ddl[0] = '\0';

    if (state == 0) {
        n += snprintf(ddl + n, sizeof(ddl) - n, PAYOUTCTL_MIGRATIONS_DDL ";",
                      c->prefix);

    } else if (state == 1) {
        n += snprintf(ddl + n, sizeof(ddl) - n, "ALTER TABLE "
                      "%sschema_migrations ADD COLUMN checksum text;",
                      c->prefix);
    }

    if (fstate == 0) {
        n += snprintf(ddl + n, sizeof(ddl) - n, PAYOUTCTL_FUNCTIONS_DDL ";",
                      c->prefix);
    }

    if (n > 0) {
        if (payoutctl_migrate_run(conn, "schema_migrations", ddl, NULL, NULL,
                                  0, NULL)
            != PAYOUTCTL_OK)
        {
            return PAYOUTCTL_ERROR;
        }

        if (state == 1 && c->layout) {
            printf("moved schema_migrations on from the old layout: its "
                   "versions stay applied\n");
            *any = 1;
        }
    }

    rec = payoutctl_migrate_recorded(conn, c, 0, &state);
    if (rec == NULL) {
        return PAYOUTCTL_ERROR;
    }

    rc = PAYOUTCTL_ERROR;
    frec = NULL;

    for (row = 0; row < PQntuples(rec); row++) {
        for (k = 0; k < c->schema.nelts; k++) {
            if (c->schema.elts[k].version == atol(PQgetvalue(rec, row, 0))) {
                break;
            }
        }

        name = PQgetvalue(rec, row, 1);
        sum = PQgetisnull(rec, row, 3) ? NULL : PQgetvalue(rec, row, 3);

        if (k == c->schema.nelts) {
            /* the old layout's functions-only files have no schema file */

            if (sum != NULL || !c->layout) {
                payoutctl_error("warning: %s%s is applied but not in %s%s",
                                c->name, name, c->dir,
                                c->layout ? "schema" : "");
            }

        } else if (strcmp(c->schema.elts[k].name, name) != 0) {
            payoutctl_error("warning: %s is applied as %s",
                            c->schema.elts[k].name, name);

        } else if (sum != NULL
                   && strcmp(sum, c->schema.elts[k].checksum) != 0)
        {
            payoutctl_error("warning: %s%s%s has changed since it was "
                            "applied; schema files are applied once: put "
                            "a change in a new file", c->name,
                            c->layout ? "schema/" : "", name);
        }
    }

    snprintf(sql, sizeof(sql), "INSERT INTO %sschema_migrations "
             "(version, name, checksum) VALUES ($1, $2, $3)", c->prefix);

    for (k = 0; k < c->schema.nelts; k++) {
        m = &c->schema.elts[k];

        if (payoutctl_migrate_find(rec, m) >= 0) {
            continue;
        }

        snprintf(version, sizeof(version), "%ld", m->version);
        params[0] = version;
        params[1] = m->name;
        params[2] = c->layout ? m->checksum : NULL;

        if (payoutctl_migrate_run(conn, m->name, NULL, m->sql, sql, 3,
                                  params)
            != PAYOUTCTL_OK)
        {
            goto done;
        }

        printf("applied %s%s%s\n", c->name, c->layout ? "schema/" : "",
               m->name);
        fflush(stdout);
        *any = 1;
    }

    frec = payoutctl_migrate_recorded(conn, c, 1, &fstate);
    if (frec == NULL) {
        goto done;
    }

    snprintf(sql, sizeof(sql), "INSERT INTO %sschema_functions "
             "(name, checksum) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
             "SET checksum = EXCLUDED.checksum, applied_at = now()",
             c->prefix);

    for (k = 0; k < c->functions.nelts; k++) {
        m = &c->functions.elts[k];
        row = payoutctl_migrate_find(frec, m);

        if (row >= 0 && strcmp(PQgetvalue(frec, row, 3), m->checksum) == 0) {
            continue;
        }

        params[0] = m->name;
        params[1] = m->checksum;

        if (payoutctl_migrate_run(conn, m->name, NULL, m->sql, sql, 2,
                                  params)
            != PAYOUTCTL_OK)
        {
            goto done;
        }

        printf("%s %sfunctions/%s%s\n", row < 0 ? "applied" : "re-applied",
               c->name, m->name, row < 0 ? "" : " (changed)");
        fflush(stdout);
        *any = 1;
    }

    rc = PAYOUTCTL_OK;

done:

    PQclear(rec);

    if (frec != NULL) {
        PQclear(frec);
    }

    return rc;
}


/*
 * Schema sandbox and its record, in one transaction with the move of
 * the old layout's sandbox tables when the database has them.
 */

static int
payoutctl_migrate_sandbox(PGconn *conn, const char *dir, int old)
{
    int                     rc;
    char                    ddl[512];
    payoutctl_migration_t   m;
    char                    path[PATH_MAX];

    memset(&m, 0, sizeof(payoutctl_migration_t));
    m.name = PAYOUTCTL_OLD_SANDBOX_FILE;

    if (old) {
        snprintf(path, sizeof(path), "%s/sandbox", dir);

        if (payoutctl_migration_load(path, &m) != PAYOUTCTL_OK) {
            free(m.sql);
            return PAYOUTCTL_ERROR;
        }
    }

    snprintf(ddl, sizeof(ddl), "CREATE SCHEMA sandbox; "
             PAYOUTCTL_MIGRATIONS_DDL "; " PAYOUTCTL_FUNCTIONS_DDL,
             "sandbox.", "sandbox.");

    rc = payoutctl_migrate_run(conn,
                               old ? "sandbox/" PAYOUTCTL_OLD_SANDBOX_FILE
                                   : "schema sandbox",
                               ddl, m.sql, NULL, 0, NULL);
    free(m.sql);

    if (rc != PAYOUTCTL_OK) {
        return PAYOUTCTL_ERROR;
    }

    if (old) {
        printf("moved the old layout's sandbox tables into schema sandbox\n");

    } else {
        printf("created schema sandbox\n");
    }

    return PAYOUTCTL_OK;
}


/*
 * One transaction: pre (SQL of our own), then a file's SQL, then post
 * (its record, with params), then COMMIT.
 */

static int
payoutctl_migrate_run(PGconn *conn, const char *what, const char *pre,
    const char *sql, const char *post, int nparams,
    const char *const *params)
{
    int              ok;
    char            *msg;
    PGresult        *res;
    ExecStatusType   st;

    if (payoutctl_command(conn, "BEGIN", "cannot begin a transaction")
        != PAYOUTCTL_OK)
    {
        return PAYOUTCTL_ERROR;
    }

    if (pre != NULL && payoutctl_command(conn, pre, what) != PAYOUTCTL_OK) {
        goto rollback;
    }

    if (sql != NULL) {

        /*
         * The whole file in one simple-query message: libpq returns the
         * result of the last statement, or the first error, which names
         * the line.
         */

        res = PQexec(conn, sql);
        st = PQresultStatus(res);

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK
            && st != PGRES_EMPTY_QUERY)
        {
            msg = PQresultErrorMessage(res);
            payoutctl_error("%s failed: %.*s", what,
                            (int) payoutctl_trim(msg, strlen(msg)), msg);
            PQclear(res);
            goto rollback;
        }

        PQclear(res);

        /* a COMMIT inside the file would have ended our transaction early */

        if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
            payoutctl_error("%s failed: it ended the transaction; migrations "
                            "must not contain BEGIN, COMMIT or ROLLBACK, and "
                            "part of it may be committed", what);
            goto rollback;
        }
    }

    if (post != NULL) {
        res = PQexecParams(conn, post, nparams, NULL, params, NULL, NULL, 0);

        ok = (PQresultStatus(res) == PGRES_COMMAND_OK);
        if (!ok) {
            payoutctl_pq_error(what, res);
        }

        PQclear(res);

        if (!ok) {
            goto rollback;
        }
    }

    /* deferred constraints are checked at COMMIT, so it can fail too */

    res = PQexec(conn, "COMMIT");

    ok = (PQresultStatus(res) == PGRES_COMMAND_OK);
    if (!ok) {
        msg = PQresultErrorMessage(res);
        payoutctl_error("%s failed at commit: %.*s", what,
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
payoutctl_migrate_status(PGconn *conn, payoutctl_component_t *gw,
    payoutctl_component_t *sbx, int sandbox)
{
    printf("%-*s  %-7s  %s\n", PAYOUTCTL_STATUS_WIDTH, "MIGRATION", "STATUS",
           "APPLIED_AT");

    if (payoutctl_migrate_status_part(conn, gw) != PAYOUTCTL_OK) {
        return PAYOUTCTL_ERROR;
    }

    if (!sbx->present) {
        return PAYOUTCTL_OK;
    }

    if (!sandbox) {
        printf("%-*s  not installed (migrate --sandbox)\n",
               PAYOUTCTL_STATUS_WIDTH, sbx->name);
        return PAYOUTCTL_OK;
    }

    return payoutctl_migrate_status_part(conn, sbx);
}


static int
payoutctl_migrate_status_part(PGconn *conn, payoutctl_component_t *c)
{
    int                     row, state, functions;
    size_t                  k;
    PGresult               *rec;
    const char             *dir, *sum;
    payoutctl_migrations_t *list;
    char                    name[PATH_MAX];

    for (functions = 0; functions < 2; functions++) {
        list = functions ? &c->functions : &c->schema;
        dir = !c->layout ? "" : functions ? "functions/" : "schema/";

        rec = payoutctl_migrate_recorded(conn, c, functions, &state);
        if (rec == NULL) {
            return PAYOUTCTL_ERROR;
        }

        for (k = 0; k < list->nelts; k++) {
            snprintf(name, sizeof(name), "%s%s%s", c->name, dir,
                     list->elts[k].name);
            row = payoutctl_migrate_find(rec, &list->elts[k]);

            if (row < 0) {
                printf("%-*s  pending\n", PAYOUTCTL_STATUS_WIDTH, name);
                continue;
            }

            sum = PQgetisnull(rec, row, 3) ? NULL : PQgetvalue(rec, row, 3);

            printf("%-*s  %-7s  %s\n", PAYOUTCTL_STATUS_WIDTH, name,
                   functions && strcmp(sum, list->elts[k].checksum) != 0
                   ? "changed" : "applied", PQgetvalue(rec, row, 2));
        }

        /* recorded files that are gone: an older tree, a rename, the old
         * layout's files whose functions are in functions/ now */

        for (row = 0; row < PQntuples(rec); row++) {
            for (k = 0; k < list->nelts; k++) {
                if (payoutctl_migrate_find(rec, &list->elts[k]) == row) {
                    break;
                }
            }

            if (k < list->nelts) {
                continue;
            }

            snprintf(name, sizeof(name), "%s%s%s", c->name, dir,
                     PQgetvalue(rec, row, 1));
            printf("%-*s  applied  %s (%s)\n", PAYOUTCTL_STATUS_WIDTH, name,
                   PQgetvalue(rec, row, 2),
                   PQgetisnull(rec, row, 3) ? "old layout" : "no file");
        }

        PQclear(rec);

        if (!c->layout) {
            break;
        }
    }

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
