/*
 * payoutctl: the command line, and its usage message.  payoutctl.h says
 * what the tool does and how its files divide it.
 */

#include "payoutctl.h"


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

    } else if (strcmp(cmd, "status") == 0) {
        rc = payoutctl_status(&conf, argc - i, argv + i);

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
