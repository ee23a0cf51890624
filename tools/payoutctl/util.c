/*
 * What the subcommands share: messages, options, the connection, queries,
 * tables, files.
 */

#include "payoutctl.h"


static void payoutctl_notice(void *arg, const char *message);


void
payoutctl_error(const char *fmt, ...)
{
    va_list  args;

    fputs("payoutctl: ", stderr);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


void
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

size_t
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

int
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

int
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


PGconn *
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

PGresult *
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


int
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

void
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

int
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

char *
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
