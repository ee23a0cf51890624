/*
 * payoutctl migrate.
 */

#include "payoutctl.h"


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

int
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


/*
 * For payoutctl status: how many of the gateway's files are not applied
 * (schema files pending, function files pending or changed); -1 when
 * they cannot be read or compared.
 */

int
payoutctl_migrate_pending(PGconn *conn, const char *dir)
{
    int                     n, row, state, functions;
    size_t                  k;
    PGresult               *rec;
    payoutctl_component_t   gw;
    payoutctl_migrations_t *list;

    if (payoutctl_component_read(&gw, dir, "", "") != PAYOUTCTL_OK) {
        return -1;
    }

    n = 0;

    for (functions = 0; functions < (gw.layout ? 2 : 1); functions++) {
        list = functions ? &gw.functions : &gw.schema;

        rec = payoutctl_migrate_recorded(conn, &gw, functions, &state);
        if (rec == NULL) {
            n = -1;
            break;
        }

        for (k = 0; k < list->nelts; k++) {
            row = payoutctl_migrate_find(rec, &list->elts[k]);

            if (row < 0
                || (functions && (PQgetisnull(rec, row, 3)
                                  || strcmp(PQgetvalue(rec, row, 3),
                                            list->elts[k].checksum) != 0)))
            {
                n++;
            }
        }

        PQclear(rec);
    }

    payoutctl_component_free(&gw);

    return n;
}
