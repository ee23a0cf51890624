/*
 * Which addresses outbound webhooks may not reach: everything that is not
 * normal, globally routed unicast.  The tables below are the IANA IPv4
 * and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates,
 * as of 2024), plus multicast and the deprecated site-local range.
 *
 * Every range in the registries is refused, including the few marked
 * "globally reachable" (AS112, AMT, the anycast PCP/TURN/DNS-SD
 * addresses, ORCHIDv2, DRIP): a merchant's webhook endpoint is never one
 * of them, and refusing what is not normal unicast is the safe default.
 *
 * The IPv6 forms that embed an IPv4 address in a way the kernel or a
 * translator routes to it (mapped, NAT64's well-known prefix, 6to4) are
 * judged by that address, so "::ffff:127.0.0.1" is caught like
 * 127.0.0.1 and "::ffff:8.8.8.8" is allowed like 8.8.8.8.  IPv6 outside
 * 2000::/3, the only space IANA allocates for global unicast, is refused.
 */

#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "ngx_payout_core.h"


typedef struct {
    unsigned char  addr[16];
    unsigned       bits;
    int            embed;     /* offset of an embedded IPv4 address, or -1 */
} ngx_payout_net_range_t;


static int ngx_payout_ipv4_is_private(const unsigned char *a);
static int ngx_payout_net_match(const unsigned char *a,
    const unsigned char *prefix, unsigned bits);


static const ngx_payout_net_range_t  ngx_payout_ipv4_special[] = {
    { { 0, 0, 0, 0 }, 8, -1 },                  /* "this network" */
    { { 10, 0, 0, 0 }, 8, -1 },                 /* private */
    { { 100, 64, 0, 0 }, 10, -1 },              /* shared (CGN) */
    { { 127, 0, 0, 0 }, 8, -1 },                /* loopback */
    { { 169, 254, 0, 0 }, 16, -1 },             /* link-local */
    { { 172, 16, 0, 0 }, 12, -1 },              /* private */
    { { 192, 0, 0, 0 }, 24, -1 },               /* IETF protocol
                                                   assignments: DS-Lite
                                                   /29, dummy, PCP, TURN,
                                                   NAT64 discovery */
    { { 192, 0, 2, 0 }, 24, -1 },               /* TEST-NET-1 */
    { { 192, 31, 196, 0 }, 24, -1 },            /* AS112-v4 */
    { { 192, 52, 193, 0 }, 24, -1 },            /* AMT */
    { { 192, 88, 99, 0 }, 24, -1 },             /* 6to4 relay anycast */
    { { 192, 168, 0, 0 }, 16, -1 },             /* private */
    { { 192, 175, 48, 0 }, 24, -1 },            /* AS112 direct
                                                   delegation */
    { { 198, 18, 0, 0 }, 15, -1 },              /* benchmarking */
    { { 198, 51, 100, 0 }, 24, -1 },            /* TEST-NET-2 */
    { { 203, 0, 113, 0 }, 24, -1 },             /* TEST-NET-3 */
    { { 224, 0, 0, 0 }, 4, -1 },                /* multicast */
    { { 240, 0, 0, 0 }, 4, -1 },                /* reserved, and
                                                   255.255.255.255 */
};


static const ngx_payout_net_range_t  ngx_payout_ipv6_special[] = {
    /* judged by the IPv4 address they carry */
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 12 },   /* mapped */
    { { 0, 0x64, 0xff, 0x9b }, 96, 12 },        /* NAT64 well-known */
    { { 0x20, 0x02 }, 16, 2 },                  /* 6to4 */

    /*
     * Inside ::/8 and so refused by the 2000::/3 rule too; listed for
     * the registry's sake: ::/128, ::1/128, IPv4-compatible ::/96,
     * SIIT's ::ffff:0:0:0/96.
     */
    { { 0 }, 96, -1 },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 }, 96, -1 },
    { { 0, 0x64, 0xff, 0x9b, 0, 0x01 }, 48, -1 },   /* NAT64 local use */
    { { 0x01, 0x00 }, 64, -1 },                 /* discard-only */
    { { 0x01, 0x00, 0, 0, 0, 0, 0, 0x01 }, 64, -1 },    /* dummy prefix */

    { { 0x20, 0x01, 0x00, 0x00 }, 23, -1 },     /* IETF protocol
                                                   assignments: Teredo,
                                                   PCP, TURN, DNS-SD,
                                                   benchmarking, AMT,
                                                   AS112, ORCHID(v2),
                                                   DRIP */
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, -1 },     /* documentation */
    { { 0x26, 0x20, 0x00, 0x4f, 0x80, 0x00 }, 48, -1 },     /* AS112
                                                   direct delegation */
    { { 0x3f, 0xff }, 20, -1 },                 /* documentation */
    { { 0x5f, 0x00 }, 16, -1 },                 /* SRv6 SIDs */
    { { 0xfc }, 7, -1 },                        /* unique local */
    { { 0xfe, 0x80 }, 10, -1 },                 /* link-local */
    { { 0xfe, 0xc0 }, 10, -1 },                 /* site-local */
    { { 0xff }, 8, -1 },                        /* multicast */
};


#define ngx_payout_net_nelts(a)  (sizeof(a) / sizeof((a)[0]))


int
ngx_payout_addr_is_private(const struct sockaddr *sa)
{
    size_t                         i;
    const unsigned char           *a;
    const struct sockaddr_in      *sin;
    const struct sockaddr_in6     *sin6;
    const ngx_payout_net_range_t  *r;

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

    for (i = 0; i < ngx_payout_net_nelts(ngx_payout_ipv6_special); i++) {
        r = &ngx_payout_ipv6_special[i];

        if (ngx_payout_net_match(a, r->addr, r->bits)) {
            return r->embed < 0 ? 1 : ngx_payout_ipv4_is_private(a + r->embed);
        }
    }

    /* not in 2000::/3, global unicast */
    return (a[0] & 0xe0) != 0x20;
}


static int
ngx_payout_ipv4_is_private(const unsigned char *a)
{
    size_t  i;

    for (i = 0; i < ngx_payout_net_nelts(ngx_payout_ipv4_special); i++) {
        if (ngx_payout_net_match(a, ngx_payout_ipv4_special[i].addr,
                                 ngx_payout_ipv4_special[i].bits))
        {
            return 1;
        }
    }

    return 0;
}


static int
ngx_payout_net_match(const unsigned char *a, const unsigned char *prefix,
    unsigned bits)
{
    unsigned  n, mask;

    n = bits / 8;

    if (memcmp(a, prefix, n) != 0) {
        return 0;
    }

    if (bits % 8 == 0) {
        return 1;
    }

    mask = (0xff00 >> (bits % 8)) & 0xff;

    return (a[n] & mask) == (prefix[n] & mask);
}
