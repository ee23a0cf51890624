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
        "::ffff:8.8.8.8", "2002:0808:0808::",
    };

    (void) state;

    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (is_private(allowed[i])) {
            fail_msg("%s should be allowed", allowed[i]);
        }
    }
}


int
run_net_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_allowed),
    };

    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
