/*
 * payoutctl status: what an operator (or cron, or a health check) needs
 * to see at once: the database reachable, the migrations applied, the
 * webhook backlog and its oldest pending delivery, stuck payouts and
 * dead deliveries, from payout_metrics() (sql/functions/metrics.sql),
 * the query the gateway's /metrics runs.
 *
 * Exit status: 0 healthy; 1 something needs attention (pending
 * migrations, stuck payouts, dead deliveries, a pending delivery older
 * than --max-backlog-age, 300 s by default); 2 the database cannot be
 * reached (or a usage error).
 */

#include "payoutctl.h"


#define PAYOUTCTL_STATUS_SQL                                                  \
    "SELECT metric, coalesce(sum(value), 0)::bigint "                         \
    "FROM payout_metrics(p_window_s => $1::bigint) "                          \
    "WHERE metric IN ('backlog', 'oldest', 'stuck', 'dead') "                 \
    "GROUP BY metric"


static int payoutctl_status_seconds(const char *opt, const char *value,
    long *out);


int
payoutctl_status(payoutctl_conf_t *conf, int argc, char **argv)
{
    int          i, rc, pending;
    long         max_age, window, backlog, oldest, stuck, dead, v;
    char         param[32];
    PGconn      *conn;
    PGresult    *res;
    const char  *value, *metric, *params[1];

    max_age = 300;
    window = 86400;

    for (i = 0; i < argc; i++) {
        rc = payoutctl_opt(argc, argv, &i, "--max-backlog-age", &value);
        if (rc == 1) {
            if (payoutctl_status_seconds("--max-backlog-age", value,
                                         &max_age) != PAYOUTCTL_OK)
            {
                return PAYOUTCTL_USAGE;
            }

            continue;
        }

        if (rc == 0) {
            rc = payoutctl_opt(argc, argv, &i, "--window", &value);
            if (rc == 1) {
                if (payoutctl_status_seconds("--window", value, &window)
                    != PAYOUTCTL_OK)
                {
                    return PAYOUTCTL_USAGE;
                }

                continue;
            }
        }

        if (rc == 0) {
            return payoutctl_unexpected("status", argv[i]);
        }

        return PAYOUTCTL_USAGE;
    }

    conn = payoutctl_connect(conf);
    if (conn == NULL) {
        printf("database          unreachable\n");
        return PAYOUTCTL_USAGE;
    }

    printf("database          reachable\n");

    rc = PAYOUTCTL_OK;

    pending = payoutctl_migrate_pending(conn, conf->migrations);

    if (pending < 0) {
        printf("migrations        unknown\n");
        rc = PAYOUTCTL_ERROR;

    } else if (pending > 0) {
        printf("migrations        %d pending (payoutctl migrate)\n",
               pending);
        rc = PAYOUTCTL_ERROR;

    } else {
        printf("migrations        applied\n");
    }

    snprintf(param, sizeof(param), "%ld", window);
    params[0] = param;

    res = payoutctl_query(conn, PAYOUTCTL_STATUS_SQL, 1, params,
                          "cannot read the gateway's state");
    if (res == NULL) {
        PQfinish(conn);
        return PAYOUTCTL_ERROR;
    }

    backlog = oldest = stuck = dead = 0;

    for (i = 0; i < PQntuples(res); i++) {
        metric = PQgetvalue(res, i, 0);
        v = atol(PQgetvalue(res, i, 1));

        if (strcmp(metric, "backlog") == 0) {
            backlog = v;

        } else if (strcmp(metric, "oldest") == 0) {
            oldest = v;

        } else if (strcmp(metric, "stuck") == 0) {
            stuck = v;

        } else if (strcmp(metric, "dead") == 0) {
            dead = v;
        }
    }

    PQclear(res);
    PQfinish(conn);

    printf("webhook backlog   %ld pending\n", backlog);
    printf("oldest pending    %ld s%s\n", oldest,
           oldest > max_age ? " (older than --max-backlog-age)" : "");
    printf("stuck payouts     %ld (pending past %ld s)\n", stuck, window);
    printf("dead deliveries   %ld\n", dead);

    if (oldest > max_age || stuck > 0 || dead > 0) {
        rc = PAYOUTCTL_ERROR;
    }

    printf("status            %s\n",
           rc == PAYOUTCTL_OK ? "ok" : "needs attention");

    return rc;
}


static int
payoutctl_status_seconds(const char *opt, const char *value, long *out)
{
    char  *end;
    long   n;

    errno = 0;
    n = strtol(value, &end, 10);

    if (errno != 0 || end == value || *end != '\0' || n < 0
        || n > 100L * 365 * 86400)
    {
        payoutctl_error("%s: \"%s\" is not a number of seconds", opt,
                        value);
        return PAYOUTCTL_USAGE;
    }

    *out = n;

    return PAYOUTCTL_OK;
}
