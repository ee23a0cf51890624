/*
 * The SSRF guard's address classes.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"


static int
is_private(const char *text)
{
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));

    if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        return ngx_payout_addr_is_private((struct sockaddr *) &sin);
    }

    assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
    sin6.sin6_family = AF_INET6;

    return ngx_payout_addr_is_private((struct sockaddr *) &sin6);
}


/*
 * One row per special-purpose range: its first and last address are
 * refused; the neighbours just outside it (NULL where the neighbour is
 * itself special) are not.
 */

typedef struct {
    const char  *range;
    const char  *first;
    const char  *last;
    const char  *before;
    const char  *after;
} net_range_case_t;


static const net_range_case_t  ipv4_ranges[] = {
    { "0.0.0.0/8", "0.0.0.0", "0.255.255.255", NULL, "1.0.0.0" },
    { "10.0.0.0/8", "10.0.0.0", "10.255.255.255", "9.255.255.255",
      "11.0.0.0" },
    { "100.64.0.0/10", "100.64.0.0", "100.127.255.255", "100.63.255.255",
      "100.128.0.0" },
    { "127.0.0.0/8", "127.0.0.0", "127.255.255.255", "126.255.255.255",
      "128.0.0.0" },
    { "169.254.0.0/16", "169.254.0.0", "169.254.255.255", "169.253.255.255",
      "169.255.0.0" },
    { "172.16.0.0/12", "172.16.0.0", "172.31.255.255", "172.15.255.255",
      "172.32.0.0" },
    { "192.0.0.0/24", "192.0.0.0", "192.0.0.255", "191.255.255.255",
      "192.0.1.0" },
    { "192.0.0.0/29 DS-Lite", "192.0.0.0", "192.0.0.7", NULL, NULL },
    { "192.0.0.8/32 dummy", "192.0.0.8", "192.0.0.8", NULL, NULL },
    { "192.0.0.9/32 PCP anycast", "192.0.0.9", "192.0.0.9", NULL, NULL },
    { "192.0.0.10/32 TURN anycast", "192.0.0.10", "192.0.0.10", NULL,
      NULL },
    { "192.0.0.170/31 NAT64 discovery", "192.0.0.170", "192.0.0.171", NULL,
      NULL },
    { "192.0.2.0/24", "192.0.2.0", "192.0.2.255", "192.0.1.255",
      "192.0.3.0" },
    { "192.31.196.0/24", "192.31.196.0", "192.31.196.255",
      "192.31.195.255", "192.31.197.0" },
    { "192.52.193.0/24", "192.52.193.0", "192.52.193.255",
      "192.52.192.255", "192.52.194.0" },
    { "192.88.99.0/24", "192.88.99.0", "192.88.99.255", "192.88.98.255",
      "192.88.100.0" },
    { "192.168.0.0/16", "192.168.0.0", "192.168.255.255",
      "192.167.255.255", "192.169.0.0" },
    { "192.175.48.0/24", "192.175.48.0", "192.175.48.255",
      "192.175.47.255", "192.175.49.0" },
    { "198.18.0.0/15", "198.18.0.0", "198.19.255.255", "198.17.255.255",
      "198.20.0.0" },
    { "198.51.100.0/24", "198.51.100.0", "198.51.100.255", "198.51.99.255",
      "198.51.101.0" },
    { "203.0.113.0/24", "203.0.113.0", "203.0.113.255", "203.0.112.255",
      "203.0.114.0" },
    { "224.0.0.0/4", "224.0.0.0", "239.255.255.255", "223.255.255.255",
      NULL },
    { "240.0.0.0/4", "240.0.0.0", "255.255.255.254", NULL, NULL },
    { "255.255.255.255/32", "255.255.255.255", "255.255.255.255", NULL,
      NULL },
};


static const net_range_case_t  ipv6_ranges[] = {
    { "::/128", "::", "::", NULL, NULL },
    { "::1/128", "::1", "::1", NULL, NULL },
    { "::/96 IPv4-compatible", "::", "::ffff:ffff", NULL, NULL },
    { "::/96 IPv4-compatible, public v4", "::8.8.8.8", "::1.1.1.1", NULL,
      NULL },
    { "::ffff:0:0/96 mapped", "::ffff:0.0.0.0", "::ffff:255.255.255.255",
      NULL, NULL },
    { "::ffff:0:0:0/96 SIIT translated", "::ffff:0:0.0.0.0",
      "::ffff:0:255.255.255.255", NULL, NULL },
    { "::ffff:0:0:0/96 SIIT, public v4", "::ffff:0:8.8.8.8",
      "::ffff:0:1.1.1.1", NULL, NULL },
    { "64:ff9b::/96 NAT64", "64:ff9b::", "64:ff9b::ffff:ffff", NULL, NULL },
    { "64:ff9b:1::/48 NAT64 local use", "64:ff9b:1::",
      "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "64:ff9b:1::/48, public v4", "64:ff9b:1::808:808",
      "64:ff9b:1:0:0:0:808:808", NULL, NULL },
    { "100::/64 discard-only", "100::", "100::ffff:ffff:ffff:ffff", NULL,
      NULL },
    { "100:0:0:1::/64 dummy", "100:0:0:1::",
      "100:0:0:1:ffff:ffff:ffff:ffff", NULL, NULL },
    { "2001::/23 IETF protocol assignments", "2001::",
      "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, "2001:200::" },
    { "2001::/32 Teredo", "2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
      NULL, NULL },
    { "2001:1::1/128 PCP anycast", "2001:1::1", "2001:1::1", NULL, NULL },
    { "2001:1::2/128 TURN anycast", "2001:1::2", "2001:1::2", NULL, NULL },
    { "2001:1::3/128 DNS-SD SRP anycast", "2001:1::3", "2001:1::3", NULL,
      NULL },
    { "2001:2::/48 benchmarking", "2001:2::",
      "2001:2:0:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "2001:3::/32 AMT", "2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff",
      NULL, NULL },
    { "2001:4:112::/48 AS112-v6", "2001:4:112::",
      "2001:4:112:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "2001:10::/28 ORCHID", "2001:10::",
      "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "2001:20::/28 ORCHIDv2", "2001:20::",
      "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "2001:30::/28 DRIP", "2001:30::",
      "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "2001:db8::/32 documentation", "2001:db8::",
      "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::" },
    { "2002::/16 6to4", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2003::" },
    { "2620:4f:8000::/48 AS112 direct delegation", "2620:4f:8000::",
      "2620:4f:8000:ffff:ffff:ffff:ffff:ffff",
      "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", "2620:4f:8001::" },
    { "3fff::/20 documentation", "3fff::",
      "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
      "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::" },
    { "5f00::/16 SRv6 SIDs", "5f00::",
      "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "fc00::/7 unique local", "fc00::",
      "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "fe80::/10 link-local", "fe80::",
      "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "fec0::/10 site-local", "fec0::",
      "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "ff00::/8 multicast", "ff00::",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL },
    { "outside 2000::/3", "::1:0:0", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      NULL, "2000::" },
    { "outside 2000::/3, above", "4000::",
      "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
};


/* every wrong answer is reported, not only the first */

static void
check_ranges(const net_range_case_t *cases, size_t n)
{
    int                      wrong;
    size_t                   i;
    const net_range_case_t  *c;

    wrong = 0;

    for (i = 0; i < n; i++) {
        c = &cases[i];

        if (!is_private(c->first)) {
            print_error("%s: first %s should be refused\n", c->range,
                        c->first);
            wrong++;
        }

        if (!is_private(c->last)) {
            print_error("%s: last %s should be refused\n", c->range,
                        c->last);
            wrong++;
        }

        if (c->before && is_private(c->before)) {
            print_error("%s: %s just before should be allowed\n", c->range,
                        c->before);
            wrong++;
        }

        if (c->after && is_private(c->after)) {
            print_error("%s: %s just after should be allowed\n", c->range,
                        c->after);
            wrong++;
        }
    }

    assert_int_equal(wrong, 0);
}


static void
test_ipv4_special_purpose(void **state)
{
    (void) state;

    check_ranges(ipv4_ranges, sizeof(ipv4_ranges) / sizeof(ipv4_ranges[0]));
}


static void
test_ipv6_special_purpose(void **state)
{
    (void) state;

    check_ranges(ipv6_ranges, sizeof(ipv6_ranges) / sizeof(ipv6_ranges[0]));
}


/* the IPv6 forms that carry an IPv4 address are judged by it */

static void
test_embedded_ipv4(void **state)
{
    size_t  i;

    static const char  *refused[] = {
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:192.88.99.1",
        "::ffff:100.64.0.1", "::ffff:192.0.0.9", "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe", "64:ff9b::c01f:c401", "2002:7f00:1::",
        "2002:c058:6301::", "2002:a00:1:ffff:ffff:ffff:ffff:ffff",
        "2002:e000:1::",
    };

    static const char  *allowed[] = {
        "::ffff:8.8.8.8", "::ffff:1.1.1.1", "64:ff9b::808:808",
        "64:ff9b::101:101", "2002:808:808::", "2002:101:101:1::1",
    };

    (void) state;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (!is_private(refused[i])) {
            fail_msg("%s should be refused", refused[i]);
        }
    }

    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (is_private(allowed[i])) {
            fail_msg("%s should be allowed", allowed[i]);
        }
    }
}


static void
test_refused(void **state)
{
    size_t  i;

    static const char  *refused[] = {
        "127.0.0.1", "127.1.2.3", "0.0.0.0", "10.1.2.3", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "198.18.0.1", "224.0.0.1", "255.255.255.255", "::", "::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1",
        "64:ff9b::7f00:1", "2002:7f00:1::", "fc00::1", "fd12:3456::1",
        "fe80::1", "ff02::1",
    };

    (void) state;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (!is_private(refused[i])) {
            fail_msg("%s should be refused", refused[i]);
        }
    }
}


static void
test_allowed(void **state)
{
    size_t  i;

    static const char  *allowed[] = {
        "8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255",
        "100.128.0.1", "192.169.0.1", "2606:4700::1111",
        "2001:4860:4860::8888", "2a00:1450:4001::200e", "2c0f:fb50::1",
        "::ffff:8.8.8.8", "2002:0808:0808::", "223.255.255.255",
        "1.0.0.1", "9.9.9.9",
    };

    (void) state;

    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (is_private(allowed[i])) {
            fail_msg("%s should be allowed", allowed[i]);
        }
    }
}


/* what is neither IPv4 nor IPv6 is refused */

static void
test_other_family(void **state)
{
    struct sockaddr  sa;

    (void) state;

    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;

    assert_true(ngx_payout_addr_is_private(&sa));
}


int
run_net_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_ipv4_special_purpose),
        cmocka_unit_test(test_ipv6_special_purpose),
        cmocka_unit_test(test_embedded_ipv4),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_other_family),
    };

    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
