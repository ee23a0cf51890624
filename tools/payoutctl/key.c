/*
 * payoutctl key create, list, revoke, verify.
 */

#include "payoutctl.h"


/* a prefix collision needs two equal 8-character base62 strings */
#define PAYOUTCTL_KEY_ATTEMPTS   5

/* a key file holds one key and perhaps a newline; refuse anything big */
#define PAYOUTCTL_KEY_FILE_MAX   4096


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
