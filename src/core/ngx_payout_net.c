/*
 * Which addresses outbound webhooks may not reach: everything that is not
 * a public unicast address, including the IPv6 forms that embed an IPv4
 * address (mapped, compatible, NAT64, 6to4), so "::ffff:127.0.0.1" is
 * caught like 127.0.0.1.
 */

#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "ngx_payout_core.h"


static int ngx_payout_ipv4_is_private(const unsigned char *a);


int
ngx_payout_addr_is_private(const struct sockaddr *sa)
{
    const unsigned char        *a;
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };
    static const unsigned char  compat[12] = { 0 };
    static const unsigned char  nat64[12] = {
        0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
    };

    if (sa->sa_family == AF_INET) {
        sin = (const struct sockaddr_in *) sa;
        return ngx_payout_ipv4_is_private(
                   (const unsigned char *) &sin->sin_addr.s_addr);
    }

    if (sa->sa_family != AF_INET6) {
        return 1;
    }

    sin6 = (const struct sockaddr_in6 *) sa;
    a = sin6->sin6_addr.s6_addr;

    if (memcmp(a, mapped, 12) == 0 || memcmp(a, compat, 12) == 0
        || memcmp(a, nat64, 12) == 0)
    {
        /* also covers :: and ::1, whose "IPv4 part" is 0.0.0.x */
        return ngx_payout_ipv4_is_private(a + 12);
    }

    if (a[0] == 0x20 && a[1] == 0x02) {
        return ngx_payout_ipv4_is_private(a + 2);          /* 6to4 */
    }

    return (a[0] & 0xfe) == 0xfc                           /* fc00::/7 */
           || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)      /* fe80::/10 */
           || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)      /* fec0::/10 */
           || a[0] == 0xff                                 /* multicast */
           || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d
               && a[3] == 0xb8);                           /* 2001:db8:: */
}


static int
ngx_payout_ipv4_is_private(const unsigned char *a)
{
    return a[0] == 0                                       /* 0/8 */
           || a[0] == 10                                   /* 10/8 */
           || (a[0] == 100 && (a[1] & 0xc0) == 64)         /* 100.64/10 */
           || a[0] == 127                                  /* loopback */
           || (a[0] == 169 && a[1] == 254)                 /* link-local */
           || (a[0] == 172 && (a[1] & 0xf0) == 16)         /* 172.16/12 */
           || (a[0] == 192 && a[1] == 0 && a[2] == 0)      /* 192.0.0/24 */
           || (a[0] == 192 && a[1] == 0 && a[2] == 2)      /* TEST-NET-1 */
           || (a[0] == 192 && a[1] == 168)                 /* 192.168/16 */
           || (a[0] == 198 && (a[1] & 0xfe) == 18)         /* 198.18/15 */
           || (a[0] == 198 && a[1] == 51 && a[2] == 100)   /* TEST-NET-2 */
           || (a[0] == 203 && a[1] == 0 && a[2] == 113)    /* TEST-NET-3 */
           || a[0] >= 224;                                 /* multicast,
                                                              reserved */
}
