/*
 * payoutctl tenant create, tenant list.
 */

#include "payoutctl.h"


static int payoutctl_tenant_create(payoutctl_conf_t *conf, int argc,
    char **argv);
static int payoutctl_tenant_list(payoutctl_conf_t *conf, int argc,
    char **argv);


int
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
