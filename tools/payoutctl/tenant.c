/*
 * payoutctl tenant create, tenant update, tenant list.
 */

#include "payoutctl.h"


static int payoutctl_tenant_create(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_tenant_update(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_tenant_list(payoutctl_conf_t *conf, int argc,
    char **argv);
static const char *payoutctl_display_name_check(const char *s);


/* what a payout-link page shows as the payer, in characters */
#define PAYOUTCTL_DISPLAY_NAME_MAX  100


int
payoutctl_tenant(payoutctl_conf_t *conf, int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "create") == 0) {
        return payoutctl_tenant_create(conf, argc - 1, argv + 1);
    }

    if (argc > 0 && strcmp(argv[0], "update") == 0) {
        return payoutctl_tenant_update(conf, argc - 1, argv + 1);
    }

    if (argc > 0 && strcmp(argv[0], "list") == 0) {
        return payoutctl_tenant_list(conf, argc - 1, argv + 1);
    }

    if (argc == 0) {
        payoutctl_error("tenant: missing subcommand (create, update or "
                        "list)");

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


/*
 * tenant update NAME --display-name TEXT: who pays, as a payout link's
 * page says it; "" clears it (the page then shows the tenant's name).
 */

static int
payoutctl_tenant_update(payoutctl_conf_t *conf, int argc, char **argv)
{
    int          i, rc, given;
    PGconn      *conn;
    PGresult    *res;
    const char  *name, *display, *why, *params[2];

    name = NULL;
    display = NULL;
    given = 0;

    for (i = 0; i < argc; i++) {
        switch (payoutctl_opt(argc, argv, &i, "--display-name", &display)) {
        case 1:
            if (given) {
                return payoutctl_unexpected("tenant update", argv[i]);
            }

            given = 1;
            continue;
        case -1:
            return PAYOUTCTL_USAGE;
        }

        if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
            continue;
        }

        return payoutctl_unexpected("tenant update", argv[i]);
    }

    if (name == NULL) {
        payoutctl_error("tenant update: missing tenant NAME");
        return PAYOUTCTL_USAGE;
    }

    if (!given) {
        payoutctl_error("tenant update: nothing to update "
                        "(--display-name TEXT)");
        return PAYOUTCTL_USAGE;
    }

    why = payoutctl_display_name_check(display);
    if (why != NULL) {
        payoutctl_error("invalid display name: %s", why);
        return PAYOUTCTL_USAGE;
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        return PAYOUTCTL_ERROR;
    }

    params[0] = name;
    params[1] = display[0] ? display : NULL;

    res = PQexecParams(conn,
                       "UPDATE tenants SET display_name = $2 "
                       "WHERE name = $1 RETURNING id",
                       2, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        payoutctl_pq_error("cannot update the tenant", res);
        rc = PAYOUTCTL_ERROR;

    } else if (PQntuples(res) == 0) {
        payoutctl_error("no tenant \"%s\"", name);
        rc = PAYOUTCTL_ERROR;

    } else if (display[0]) {
        printf("tenant %s: display name \"%s\"\n", name, display);
        rc = PAYOUTCTL_OK;

    } else {
        printf("tenant %s: display name cleared\n", name);
        rc = PAYOUTCTL_OK;
    }

    PQclear(res);
    PQfinish(conn);

    return rc;
}


/* NULL, or what is wrong: UTF-8 text, no control characters, at most
 * PAYOUTCTL_DISPLAY_NAME_MAX characters; "" is allowed (clears it) */

static const char *
payoutctl_display_name_check(const char *s)
{
    size_t                n, more;
    const unsigned char  *p;

    n = 0;
    more = 0;

    for (p = (const unsigned char *) s; *p; p++) {

        if (more) {
            if ((*p & 0xc0) != 0x80) {
                return "it is not UTF-8 text";
            }

            more--;
            continue;
        }

        if (*p < 0x20 || *p == 0x7f) {
            return "it has a control character";
        }

        if (*p >= 0x80) {
            if (*p >= 0xc2 && *p <= 0xdf) {
                more = 1;

            } else if (*p >= 0xe0 && *p <= 0xef) {
                more = 2;

            } else if (*p >= 0xf0 && *p <= 0xf4) {
                more = 3;

            } else {
                return "it is not UTF-8 text";
            }
        }

        n++;
    }

    if (more) {
        return "it is not UTF-8 text";
    }

    if (n > PAYOUTCTL_DISPLAY_NAME_MAX) {
        return "use at most 100 characters";
    }

    if (n && (s[0] == ' ' || s[strlen(s) - 1] == ' ')) {
        return "it starts or ends with a space";
    }

    return NULL;
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
                          "coalesce(t.display_name, '') AS display_name, "
                          "coalesce(t.display_name, '') AS display_name, "
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
