/*
 * Sealed secrets as read back from the database (ngx_payout_open), and
 * sealing.  Input: a byte giving the length of the aad, the aad, then
 * the blob (also used as a plaintext).
 *
 * Invariants: a blob not sealed under the key never opens; what is sealed
 * opens to itself under the same aad, and not under another aad, nor with
 * any single byte of the blob changed.
 */

#include "fuzz.h"

#include "ngx_payout_core.h"
#include "ngx_payout_crypto.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t              aad_len, len, out_len, i;
    unsigned char       master[NGX_PAYOUT_MASTER_KEY_LEN];
    unsigned char      *out, *sealed;
    const uint8_t      *aad, *blob;
    ngx_payout_keys_t   keys;

    if (size == 0) {
        return 0;
    }

    aad_len = data[0];

    if (aad_len > size - 1) {
        aad_len = size - 1;
    }

    aad = data + 1;
    blob = aad + aad_len;
    len = size - 1 - aad_len;

    memset(master, 0x5a, sizeof(master));
    ngx_payout_keys_derive(master, &keys);

    out = malloc(len + 1);
    sealed = malloc(len + NGX_PAYOUT_SEAL_OVERHEAD);
    FUZZ_CHECK(out != NULL && sealed != NULL);

    /* whatever the input, it was not sealed under this key */

    out_len = (size_t) -1;
    FUZZ_CHECK(ngx_payout_open(&keys, aad, aad_len, blob, len, out, &out_len)
               == NGX_PAYOUT_ERROR);
    FUZZ_CHECK(out_len == (size_t) -1);

    /* seal, open */

    FUZZ_CHECK(ngx_payout_seal(&keys, aad, aad_len, blob, len, sealed)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(ngx_payout_open(&keys, aad, aad_len, sealed,
                               len + NGX_PAYOUT_SEAL_OVERHEAD, out, &out_len)
               == NGX_PAYOUT_OK);
    FUZZ_CHECK(out_len == len);
    FUZZ_CHECK(len == 0 || memcmp(out, blob, len) == 0);

    /* bound to its aad: a longer one fails */

    FUZZ_CHECK(ngx_payout_open(&keys, data, aad_len + 1, sealed,
                               len + NGX_PAYOUT_SEAL_OVERHEAD, out, &out_len)
               == NGX_PAYOUT_ERROR);

    /* one changed byte anywhere fails */

    i = (size_t) data[size - 1] * 31 % (len + NGX_PAYOUT_SEAL_OVERHEAD);
    sealed[i] ^= 0x80;
    FUZZ_CHECK(ngx_payout_open(&keys, aad, aad_len, sealed,
                               len + NGX_PAYOUT_SEAL_OVERHEAD, out, &out_len)
               == NGX_PAYOUT_ERROR);

    free(out);
    free(sealed);

    return 0;
}
