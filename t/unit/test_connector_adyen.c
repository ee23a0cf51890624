/*
 * The Adyen connector as the registry hands it out: settings and the
 * account check; every request it builds (method, path, headers, exact
 * JSON) and the account identification it picks (IBAN, ukLocal, usLocal,
 * auLocal, numberAndBic); the answers it parses (the spec's examples,
 * Adyen's error object, each answer class); webhook signatures (the
 * vector from adyen-node-api-library, one computed here with openssl,
 * tampered); events (the spec's webhook examples); and the status table
 * against the spec's enum.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_payout_connector.h"
#include "ngx_payout_connector_adyen.h"
#include "ngx_payout_validate.h"
#include "ngx_payout_text.h"


#define REF   "4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7"
#define KEY   "AQEyhmfxK4_test_api_key"
#define BA    "BAB8B2C3D4E5F6G7H8D9J6GD4"

/* vectors/README.md, banking webhook: the key and HmacSignature */
#define VECTOR_KEY                                                           \
    "11223344D785FBAE710E7F943F307971BB61B21281C98C9129B3D4018A57B2EB"
#define VECTOR_SIG  "UVBzHbDayhfT1XgaRGAkuKvxwoxrLoVCBdfi3WZU8lI="

/* vectors/adyen-accountHolderCreated.json, 1778 bytes, no newline */
#define VECTOR_BODY                                                          \
    "{\n"                                                                    \
    "    \"data\": {\n"                                                      \
    "      \"balancePlatform\": \"YOUR_BALANCE_PLATFORM\",\n"                \
    "      \"accountHolder\": {\n"                                           \
    "        \"contactDetails\": {\n"                                        \
    "          \"email\": \"test@adyen.com\",\n"                             \
    "          \"phone\": {\n"                                               \
    "            \"number\": \"0612345678\",\n"                              \
    "            \"type\": \"mobile\"\n"                                     \
    "          },\n"                                                         \
    "          \"address\": {\n"                                             \
    "            \"houseNumberOrName\": \"23\",\n"                           \
    "            \"city\": \"Amsterdam\",\n"                                 \
    "            \"country\": \"NL\",\n"                                     \
    "            \"postalCode\": \"12345\",\n"                               \
    "            \"street\": \"Main Street 1\"\n"                            \
    "          }\n"                                                          \
    "        },\n"                                                           \
    "        \"description\": \"Shelly Eller\",\n"                           \
    "        \"legalEntityId\": \"LE00000000000000000001\",\n"               \
    "        \"reference\": \"YOUR_REFERENCE-2412C\",\n"                     \
    "        \"capabilities\": {\n"                                          \
    "          \"issueCard\": {\n"                                           \
    "            \"enabled\": true,\n"                                       \
    "            \"requested\": true,\n"                                     \
    "            \"allowed\": false,\n"                                      \
    "            \"verificationStatus\": \"pending\"\n"                      \
    "          },\n"                                                         \
    "          \"receiveFromTransferInstrument\": {\n"                       \
    "            \"enabled\": true,\n"                                       \
    "            \"requested\": true,\n"                                     \
    "            \"allowed\": false,\n"                                      \
    "            \"verificationStatus\": \"pending\"\n"                      \
    "          },\n"                                                         \
    "          \"sendToTransferInstrument\": {\n"                            \
    "            \"enabled\": true,\n"                                       \
    "            \"requested\": true,\n"                                     \
    "            \"allowed\": false,\n"                                      \
    "            \"verificationStatus\": \"pending\"\n"                      \
    "          },\n"                                                         \
    "          \"sendToBalanceAccount\": {\n"                                \
    "            \"enabled\": true,\n"                                       \
    "            \"requested\": true,\n"                                     \
    "            \"allowed\": false,\n"                                      \
    "            \"verificationStatus\": \"pending\"\n"                      \
    "          },\n"                                                         \
    "          \"receiveFromBalanceAccount\": {\n"                           \
    "            \"enabled\": true,\n"                                       \
    "            \"requested\": true,\n"                                     \
    "            \"allowed\": false,\n"                                      \
    "            \"verificationStatus\": \"pending\"\n"                      \
    "          }\n"                                                          \
    "        },\n"                                                           \
    "        \"id\": \"AH00000000000000000001\",\n"                          \
    "        \"status\": \"active\"\n"                                       \
    "      }\n"                                                              \
    "    },\n"                                                               \
    "    \"environment\": \"test\",\n"                                       \
    "    \"timestamp\": \"2024-12-15T15:42:03+01:00\",\n"                    \
    "    \"type\": \"balancePlatform.accountHolder.created\"\n"              \
    "  }"

/*
 * A transfer event signed here with the vector's key: printf '%s' BODY |
 * openssl dgst -sha256 -mac HMAC -macopt hexkey:VECTOR_KEY -binary | base64
 */
#define OWN_BODY                                                             \
    "{\"data\":{\"id\":\"6JKRLZ8LOT47J7RY\",\"category\":\"bank\","         \
    "\"direction\":\"outgoing\",\"reference\":"                             \
    "\"4c56e5c2-7ef0-4db0-8d2e-5e980f3f3bc7\",\"status\":\"booked\"},"     \
    "\"environment\":\"test\",\"type\":\"balancePlatform.transfer.updated\"}"
#define OWN_SIG  "mrBswyU4Gu90ATZ7FMpAElD2CcpRzyxpVNiPHs27D5A="

/* adyen-TransferService-v4.json and the notification spec's examples */
#define SPEC_SEPA_202                                                        \
    "{\"id\":\"1W1UG35U8A9J5ZLG\",\"accountHolder\":{\"description\":\""     \
    "Your account holder description\",\"id\":\"AH3227C223222C5GXQXF658"     \
    "WB\",\"reference\":\"Your account holder reference\"},\"amount\":{"     \
    "\"value\":110000,\"currency\":\"EUR\"},\"balanceAccount\":{\"descr"     \
    "iption\":\"Your balance account description\",\"id\":\"BAB8B2C3D4E"     \
    "5F6G7H8D9J6GD4\",\"reference\":\"Your balance account reference\"}"     \
    ",\"category\":\"bank\",\"categoryData\":{\"priority\":\"regular\","     \
    "\"type\":\"bank\"},\"counterparty\":{\"bankAccount\":{\"accountHol"     \
    "der\":{\"fullName\":\"A. Klaassen\"},\"accountIdentification\":{\""     \
    "type\":\"iban\",\"iban\":\"NL91ABNA0417164300\"}}},\"paymentInstru"     \
    "ment\":{\"description\":\"Your payment instrument description\",\""     \
    "id\":\"PI3222G223222G59347DAA265\",\"reference\":\"Your payment in"     \
    "strument reference\"},\"referenceForBeneficiary\":\"Your-reference"     \
    "-sent-to-the-beneficiary\",\"reference\":\"Your internal reference"     \
    " for the transfer\",\"description\":\"Your description for the tra"     \
    "nsfer\",\"direction\":\"outgoing\",\"reason\":\"pending\",\"status"     \
    "\":\"received\"}"

#define SPEC_GET_200                                                         \
    "{\"balancePlatform\":\"YOUR_BALANCE_PLATFORM\",\"creationDate\":\""     \
    "2021-05-03T15:20:06+02:00\",\"id\":\"1W1UG35QQEBJLHZ8\",\"accountH"     \
    "older\":{\"description\":\"S. Eller - Staff 123\",\"id\":\"AH32272"     \
    "223222B5CZW6QZ2V34\"},\"amount\":{\"currency\":\"EUR\",\"value\":5"     \
    "400},\"balanceAccount\":{\"description\":\"My Balance Account\",\""     \
    "id\":\"BA3227C223222B5B9SCR82TMV\"},\"category\":\"internal\",\"ca"     \
    "tegoryData\":{\"type\":\"internal\"},\"counterparty\":{\"balanceAc"     \
    "countId\":\"BA00000000000000000000001\"},\"description\":\"Your de"     \
    "scription\",\"direction\":\"outgoing\",\"reason\":\"approved\",\"r"     \
    "eference\":\"312M2060T6S4UOIF\",\"status\":\"booked\",\"balances\""     \
    ":[{\"balance\":-5400,\"currency\":\"EUR\",\"received\":0,\"reserve"     \
    "d\":0}],\"events\":[{\"bookingDate\":\"2021-05-03T14:53:39+01:00\""     \
    ",\"id\":\"EVJN4233Q22322375JQ72V55G92ZXF\",\"mutations\":[{\"curre"     \
    "ncy\":\"EUR\",\"received\":-5400}],\"status\":\"received\",\"type\""    \
    ":\"accounting\",\"valueDate\":\"2021-05-03T14:53:39+01:00\"},{\"bo"     \
    "okingDate\":\"2021-05-03T14:53:39+01:00\",\"id\":\"EVJN4233Q223223"     \
    "75JQ72V55GB4TPV\",\"mutations\":[{\"currency\":\"EUR\",\"received\""    \
    ":5400,\"reserved\":-5400}],\"status\":\"authorised\",\"type\":\"ac"     \
    "counting\",\"valueDate\":\"2021-05-03T14:53:39+01:00\"},{\"booking"     \
    "Date\":\"2021-05-03T14:53:39+01:00\",\"id\":\"EVJN4233Q22322375JQ7"     \
    "2V55GD53HZ\",\"mutations\":[{\"balance\":-5400,\"currency\":\"EUR\""    \
    ",\"received\":0,\"reserved\":5400}],\"status\":\"booked\",\"transa"     \
    "ctionId\":\"EVJN4233Q22322375JQ72V55GD53HZEUR\",\"type\":\"account"     \
    "ing\",\"valueDate\":\"2021-05-03T14:53:39+01:00\"}],\"sequenceNumb"     \
    "er\":3,\"type\":\"internalTransfer\"}"

#define SPEC_HOOK_CREATED                                                    \
    "{\"data\":{\"accountHolder\":{\"description\":\"Your description o"     \
    "f the account holder\",\"id\":\"AH00000000000000000000001\",\"refe"     \
    "rence\":\"Your reference for the account holder\"},\"amount\":{\"c"     \
    "urrency\":\"EUR\",\"value\":10000},\"balanceAccount\":{\"descripti"     \
    "on\":\"Your description of the balance account from where the amou"     \
    "nt is debited\",\"id\":\"BA00000000000000000000001\",\"reference\""     \
    ":\"Your reference for the balance account\"},\"balancePlatform\":\""    \
    "YOUR_BALANCE_PLATFORM\",\"balances\":[{\"currency\":\"EUR\",\"rece"     \
    "ived\":-10000}],\"category\":\"bank\",\"categoryData\":{\"priority"     \
    "\":\"regular\",\"type\":\"bank\"},\"creationDate\":\"2023-02-28T13"     \
    ":30:05+02:00\",\"description\":\"Your user description of the tran"     \
    "sfer\",\"direction\":\"outgoing\",\"events\":[{\"bookingDate\":\"2"     \
    "023-02-28T13:30:18+02:00\",\"id\":\"EVJN00000000000000000000000001"     \
    "\",\"mutations\":[{\"currency\":\"EUR\",\"received\":-10000}],\"st"     \
    "atus\":\"received\",\"type\":\"accounting\"}],\"id\":\"6JKRLZ8LOT4"     \
    "7J7RY\",\"reason\":\"approved\",\"reference\":\"Your user referenc"     \
    "e for the transfer\",\"referenceForBeneficiary\":\"Your user refer"     \
    "ence for the beneficiary\",\"sequenceNumber\":1,\"transactionRules"     \
    "Result\":{\"allHardBlockRulesPassed\":true},\"status\":\"received\""    \
    ",\"type\":\"bankTransfer\"},\"environment\":\"test\",\"timestamp\""     \
    ":\"2023-02-28T13:27:05+02:00\",\"type\":\"balancePlatform.transfer"     \
    ".created\"}"

#define SPEC_HOOK_BOOKED                                                     \
    "{\"data\":{\"accountHolder\":{\"description\":\"Your description o"     \
    "f the account holder\",\"id\":\"AH00000000000000000000001\",\"refe"     \
    "rence\":\"Your reference for the account holder\"},\"amount\":{\"c"     \
    "urrency\":\"EUR\",\"value\":10000},\"balanceAccount\":{\"descripti"     \
    "on\":\"Your description of the balance account from where the amou"     \
    "nt is debited\",\"id\":\"BA00000000000000000000001\",\"reference\""     \
    ":\"Your reference for the balance account\"},\"balancePlatform\":\""    \
    "YOUR_BALANCE_PLATFORM\",\"balances\":[{\"balance\":-10000,\"curren"     \
    "cy\":\"EUR\",\"received\":0,\"reserved\":0}],\"category\":\"bank\""     \
    ",\"categoryData\":{\"priority\":\"regular\",\"type\":\"bank\"},\"c"     \
    "ounterparty\":{\"transferInstrumentId\":\"SE0000000000000000000000"     \
    "1\"},\"creationDate\":\"2023-02-28T13:30:05+02:00\",\"description\""    \
    ":\"Your user description of the transfer\",\"direction\":\"outgoin"     \
    "g\",\"events\":[{\"bookingDate\":\"2023-02-28T13:30:18+02:00\",\"i"     \
    "d\":\"EVJN00000000000000000000000001\",\"mutations\":[{\"currency\""    \
    ":\"EUR\",\"received\":-10000}],\"status\":\"received\",\"type\":\""     \
    "accounting\"},{\"bookingDate\":\"2023-02-28T13:30:18+02:00\",\"id\""    \
    ":\"EVJN00000000000000000000000002\",\"mutations\":[{\"currency\":\""    \
    "EUR\",\"received\":10000,\"reserved\":-10000}],\"status\":\"author"     \
    "ised\",\"type\":\"accounting\"},{\"bookingDate\":\"2023-02-28T13:3"     \
    "0:18+02:00\",\"id\":\"EVJN00000000000000000000000003\",\"mutations"     \
    "\":[{\"balance\":-10000,\"currency\":\"EUR\",\"received\":0,\"rese"     \
    "rved\":10000}],\"status\":\"booked\",\"transactionId\":\"EVJN00000"     \
    "000000000000000000003EUR\",\"type\":\"accounting\",\"valueDate\":\""    \
    "2023-03-01T12:58:25+01:00\"}],\"id\":\"6JKRLZ8LOT47J7RY\",\"reason"     \
    "\":\"approved\",\"reference\":\"Your user reference for the transf"     \
    "er\",\"referenceForBeneficiary\":\"Your user reference for the ben"     \
    "eficiary\",\"sequenceNumber\":3,\"transactionRulesResult\":{\"allH"     \
    "ardBlockRulesPassed\":true},\"status\":\"booked\",\"type\":\"bankT"     \
    "ransfer\"},\"environment\":\"test\",\"timestamp\":\"2023-02-28T13:"     \
    "27:05+02:00\",\"type\":\"balancePlatform.transfer.updated\"}"

#define SPEC_HOOK_INCOMING                                                   \
    "{\"data\":{\"id\":\"2WT1N05XXY7P9XH9\",\"type\":\"internalTransfer"     \
    "\",\"accountHolder\":{\"description\":\"Your description of the ac"     \
    "count holder of the target balance account\",\"id\":\"AH0000000000"     \
    "0000000000002\",\"reference\":\"Your reference of the account hold"     \
    "er\"},\"amount\":{\"currency\":\"EUR\",\"value\":1000},\"balanceAc"     \
    "count\":{\"description\":\"Your description of the target balance "     \
    "account\",\"id\":\"BA00000000000000000000002\"},\"balancePlatform\""    \
    ":\"YOUR_BALANCE_PLATFORM\",\"balances\":[{\"currency\":\"EUR\",\"r"     \
    "eceived\":1000}],\"category\":\"internal\",\"creationDate\":\"2023"     \
    "-02-28T13:30:05+02:00\",\"description\":\"Your description of the "     \
    "transfer\",\"direction\":\"incoming\",\"events\":[{\"bookingDate\""     \
    ":\"2023-02-28T13:30:18+02:00\",\"id\":\"JDRF0000000000000000000000"     \
    "0001\",\"mutations\":[{\"currency\":\"EUR\",\"received\":1000}],\""     \
    "status\":\"received\",\"type\":\"accounting\"}],\"reason\":\"appro"     \
    "ved\",\"reference\":\"Your reference of the transfer\",\"reference"     \
    "ForBeneficiary\":\"Your-reference-for-the-recipient-of-the-transfe"     \
    "r-request\",\"sequenceNumber\":1,\"status\":\"received\"},\"enviro"     \
    "nment\":\"test\",\"timestamp\":\"2023-02-28T13:27:05+02:00\",\"typ"     \
    "e\":\"balancePlatform.transfer.created\"}"


typedef struct {
    unit_mem_t             m;
    ngx_payout_account_t   acct;
    void                  *conf;
} fixture_t;


static const ngx_payout_connector_t *
adyen(void)
{
    const ngx_payout_connector_t  *c;

    c = ngx_payout_connector_find("adyen", 5);
    assert_non_null(c);

    return c;
}


static int
set(fixture_t *f, const char *key, const char *value)
{
    return adyen()->configure(&f->acct.mem, &f->conf, key, strlen(key),
                              value, strlen(value));
}


static void
fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof(fixture_t));
    f->acct.mem.alloc = unit_mem_alloc;
    f->acct.mem.data = &f->m;
    f->acct.secret = KEY;
    f->acct.secret_len = sizeof(KEY) - 1;
    f->acct.webhook_secret = VECTOR_KEY;
    f->acct.webhook_secret_len = sizeof(VECTOR_KEY) - 1;
    assert_int_equal(set(f, "balance_account", BA), NGX_PAYOUT_OK);
    f->acct.conf = f->conf;
}


/* the spec's payout-local-transfer-sepa request, as our transfer */

static void
sepa(ngx_payout_transfer_t *t)
{
    memset(t, 0, sizeof(ngx_payout_transfer_t));
    t->reference = REF;
    t->amount = 110000;
    t->currency = "EUR";
    t->type = NGX_PAYOUT_RECIPIENT_BANK;
    t->account_number = "NL91ABNA0417164300";
    t->account_name = "A. Klaassen";
    t->narration = "Your description for the transfer";
}


static void
assert_headers(const ngx_payout_call_t *call, const char **want)
{
    size_t  i;

    for (i = 0; want[i]; i++) {
        assert_true(i < call->nheaders);
        assert_string_equal(call->headers[i], want[i]);
    }

    assert_int_equal(call->nheaders, i);
}


static void
assert_body(const ngx_payout_call_t *call, const char *want)
{
    assert_non_null(call->body);
    assert_string_equal(call->body, want);
    assert_int_equal(call->body_len, strlen(want));
}


static int
build(fixture_t *f, ngx_payout_op_e op, const ngx_payout_transfer_t *t,
    ngx_payout_call_t *call)
{
    return adyen()->build(&f->acct, op, t, call);
}


#define BODY_HEAD(value, currency)                                           \
    "{\"amount\":{\"value\":" value ",\"currency\":\"" currency "\"},"     \
    "\"balanceAccountId\":\"" BA "\",\"category\":\"bank\","               \
    "\"counterparty\":{\"bankAccount\":{\"accountHolder\":{\"fullName\":"  \
    "\"A. Klaassen\"},\"accountIdentification\":"


static void
test_table(void **state)
{
    const ngx_payout_connector_t  *c;
    char                           names[64];

    (void) state;

    c = adyen();
    assert_string_equal(c->name, "adyen");
    assert_null(c->default_url);
    assert_int_equal(c->key_ttl, 7 * 86400);
    assert_int_equal(c->caps, NGX_PAYOUT_CAP_RESUBMIT_SAME_KEY
                              | NGX_PAYOUT_CAP_FAILS_AFTER_PAID);

    ngx_payout_connector_names(names, sizeof(names));
    assert_non_null(strstr(names, "adyen"));
}


static void
test_configure(void **state)
{
    fixture_t  f;

    (void) state;

    memset(&f, 0, sizeof(f));
    f.acct.mem.alloc = unit_mem_alloc;
    f.acct.mem.data = &f.m;

    assert_int_equal(set(&f, "balance", BA), NGX_PAYOUT_DECLINED);
    assert_int_equal(set(&f, "account", "acct_1"), NGX_PAYOUT_DECLINED);
    assert_int_equal(set(&f, "merchant_account", "X"), NGX_PAYOUT_DECLINED);
    assert_null(f.conf);

    assert_int_equal(set(&f, "balance_account", BA), NGX_PAYOUT_OK);
    assert_non_null(f.conf);
    assert_int_equal(set(&f, "balance_account", "BA"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance_account", "AH3227C223222C5GXQXF6"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance_account", "BA1/../x"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "balance_account", "BA1\"x"), NGX_PAYOUT_ERROR);

    assert_int_equal(set(&f, "priority", "regular"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "priority", "fast"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "priority", "instant"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "priority", "wire"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "priority", "crossBorder"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "priority", "internal"), NGX_PAYOUT_OK);
    assert_int_equal(set(&f, "priority", "Fast"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "priority", "urgent"), NGX_PAYOUT_ERROR);
    assert_int_equal(set(&f, "priority", ""), NGX_PAYOUT_ERROR);

    unit_mem_free(&f.m);
}


static void
test_check(void **state)
{
    fixture_t    f;
    const char  *msg;

    (void) state;

    fixture_init(&f);

#define CHECK(key, live)                                                     \
    (f.acct.secret = key, f.acct.secret_len = strlen(key),                   \
     adyen()->check(&f.acct, live))

    /* the key shows no mode: either mode takes it */
    assert_null(CHECK(KEY, 0));
    assert_null(CHECK(KEY, 1));

    msg = CHECK("AQE key", 0);
    assert_non_null(msg);
    assert_null(strstr(msg, "AQE"));
    assert_non_null(CHECK("AQE\r\nX: y", 0));
    assert_non_null(CHECK("", 0));

    /* the HMAC key: hex, an even number of digits */
    f.acct.webhook_secret = "abc";
    f.acct.webhook_secret_len = 3;
    assert_non_null(CHECK(KEY, 0));
    f.acct.webhook_secret = "whsec_abcd";
    f.acct.webhook_secret_len = 10;
    assert_non_null(CHECK(KEY, 0));
    f.acct.webhook_secret = "00ff";
    f.acct.webhook_secret_len = 4;
    assert_null(CHECK(KEY, 0));
    f.acct.webhook_secret = NULL;
    f.acct.webhook_secret_len = 0;
    assert_null(CHECK(KEY, 0));

    /* balance_account= is required */
    f.acct.conf = NULL;
    assert_non_null(CHECK(KEY, 0));
#undef CHECK

    f.acct.conf = f.conf;
    f.acct.secret = NULL;
    f.acct.secret_len = 0;
    assert_non_null(adyen()->check(&f.acct, 0));

    unit_mem_free(&f.m);
}


static void
test_build_iban(void **state)
{
    fixture_t              f;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    static const char  *initiate[] = {
        "x-api-key: " KEY,
        "Content-Type: application/json",
        "Idempotency-Key: " REF,
        NULL
    };

    (void) state;

    fixture_init(&f);
    sepa(&t);

    /* the spec's payout-local-transfer-sepa, with our references */
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_string_equal(call.method, "POST");
    assert_string_equal(call.path, "/transfers");
    assert_headers(&call, initiate);
    assert_body(&call, BODY_HEAD("110000", "EUR")
                "{\"type\":\"iban\",\"iban\":\"NL91ABNA0417164300\"}}},"
                "\"priority\":\"regular\",\"reference\":\"" REF "\","
                "\"referenceForBeneficiary\":"
                "\"Yourdescriptionforthetransfer\","
                "\"description\":\"Your description for the transfer\"}");

    /* a BIC with the IBAN; priority=; narration cut to the limits */
    assert_int_equal(set(&f, "priority", "instant"), NGX_PAYOUT_OK);
    t.bank_code = "ABNANL2A";
    t.reference = "4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7";
    t.narration = "Invoice 7 & May/fees: \xc3\xa9t\xc3\xa9 2026 "
                  "0123456789012345678901234567890123456789";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_headers(&call, initiate);
    assert_body(&call, BODY_HEAD("110000", "EUR")
                "{\"type\":\"iban\",\"iban\":\"NL91ABNA0417164300\","
                "\"bic\":\"ABNANL2A\"}}},"
                "\"priority\":\"instant\",\"reference\":\"" REF "\","
                "\"referenceForBeneficiary\":"
                "\"Invoice7Mayfeest2026012345678901234\","
                "\"description\":\"Invoice 7 May/fees: t 2026 "
                "0123456789012345678901234567890123456789\"}");

    /* no narration, or one with nothing Adyen takes: neither field */
    t.narration = NULL;
    t.bank_code = "not a bic";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, BODY_HEAD("110000", "EUR")
                "{\"type\":\"iban\",\"iban\":\"NL91ABNA0417164300\"}}},"
                "\"priority\":\"instant\",\"reference\":\"" REF "\"}");
    t.narration = "&&& \xe2\x82\xac";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, BODY_HEAD("110000", "EUR")
                "{\"type\":\"iban\",\"iban\":\"NL91ABNA0417164300\"}}},"
                "\"priority\":\"instant\",\"reference\":\"" REF "\"}");

    /* zero- and three-decimal currencies: minor units as they are */
    t.currency = "JPY";
    t.amount = 1000;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body,
                           "{\"value\":1000,\"currency\":\"JPY\"}"));
    t.currency = "KWD";
    t.amount = 12345;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body,
                           "{\"value\":12345,\"currency\":\"KWD\"}"));

    /* a long description is cut at 140 */
    sepa(&t);
    t.narration = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "\"description\":\""));
    assert_int_equal(strlen(strstr(call.body, "\"description\":\""))
                     - strlen("\"description\":\"\"}"), 140);

    unit_mem_free(&f.m);
}


static void
test_build_local(void **state)
{
    fixture_t              f;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    (void) state;

    fixture_init(&f);

    /* the spec's payout-local-transfer-us */
    sepa(&t);
    t.currency = "USD";
    t.account_number = "123456789";
    t.bank_code = "011000138";
    t.narration = "Rent";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, BODY_HEAD("110000", "USD")
                "{\"type\":\"usLocal\",\"accountNumber\":\"123456789\","
                "\"routingNumber\":\"011000138\"}}},"
                "\"priority\":\"regular\",\"reference\":\"" REF "\","
                "\"referenceForBeneficiary\":\"Rent\","
                "\"description\":\"Rent\"}");

    /* a routing number with a bad checksum is no routing number */
    t.bank_code = "011000139";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);

    /* GBP: sort code and account number */
    sepa(&t);
    t.currency = "GBP";
    t.account_number = "31926819";
    t.bank_code = "601613";
    t.narration = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, BODY_HEAD("110000", "GBP")
                "{\"type\":\"ukLocal\",\"accountNumber\":\"31926819\","
                "\"sortCode\":\"601613\"}}},"
                "\"priority\":\"regular\",\"reference\":\"" REF "\"}");

    /* a GBP IBAN is an IBAN */
    t.account_number = "GB82WEST12345698765432";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "{\"type\":\"iban\",\"iban\":"
                                      "\"GB82WEST12345698765432\"}"));

    /* AUD: BSB and account number */
    t.currency = "AUD";
    t.account_number = "123456";
    t.bank_code = "062000";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "{\"type\":\"auLocal\","
                                      "\"accountNumber\":\"123456\","
                                      "\"bsbCode\":\"062000\"}"));

    /* anything else: the account number with bank_code as the BIC */
    sepa(&t);
    t.account_number = "123456789";
    t.bank_code = "BOFAUS3NXXX";
    t.narration = "Fees";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_body(&call, BODY_HEAD("110000", "EUR")
                "{\"type\":\"numberAndBic\",\"accountNumber\":\"123456789\","
                "\"bic\":\"BOFAUS3NXXX\"}}},"
                "\"priority\":\"regular\",\"reference\":\"" REF "\","
                "\"referenceForBeneficiary\":\"Fees\","
                "\"description\":\"Fees\"}");

    /* a GBP account that is not a UK one, given a BIC */
    t.currency = "GBP";
    assert_non_null(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call)
                    == NGX_PAYOUT_OK ? "ok" : NULL);
    assert_non_null(strstr(call.body, "\"numberAndBic\""));

    /* an IBAN with a bad checksum, no bank code: nothing to send */
    sepa(&t);
    t.account_number = "NL91ABNA0417164301";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    t.bank_code = "ABNANL2A";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "\"numberAndBic\""));
    t.bank_code = "ABNA";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    t.bank_code = "ABNANL2AXXXX";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);

    /* a BIC in lower case is sent in upper case */
    sepa(&t);
    t.bank_code = "abnanl2a";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_OK);
    assert_non_null(strstr(call.body, "\"bic\":\"ABNANL2A\"}"));

    unit_mem_free(&f.m);
}


static void
test_build_other(void **state)
{
    fixture_t              f;
    ngx_payout_op_e        op;
    ngx_payout_call_t      call;
    ngx_payout_transfer_t  t;

    static const char  *lookup[] = {
        "x-api-key: " KEY,
        NULL
    };

    (void) state;

    fixture_init(&f);
    sepa(&t);

    /* no gateway id: nothing to look up, the reconciler resubmits */
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_DECLINED);
    t.gateway_id = "";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_DECLINED);

    t.gateway_id = "1W1UG35U8A9J5ZLG";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_OK);
    assert_string_equal(call.method, "GET");
    assert_string_equal(call.path, "/transfers/1W1UG35U8A9J5ZLG");
    assert_headers(&call, lookup);
    assert_null(call.body);

    t.gateway_id = "1W1/../../grants";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_LOOKUP, &t, &call),
                     NGX_PAYOUT_ERROR);

    /* no cancel, nothing to enroll or finalize */
    t.gateway_id = "1W1UG35U8A9J5ZLG";
    for (op = NGX_PAYOUT_OP_CANCEL; op <= NGX_PAYOUT_OP_FINALIZE; op++) {
        assert_int_equal(build(&f, op, &t, &call), NGX_PAYOUT_DECLINED);
    }

    /* bank accounts only */
    t.type = NGX_PAYOUT_RECIPIENT_MOBILE;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_DECLINED);
    t.type = NGX_PAYOUT_RECIPIENT_CONNECTED;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_DECLINED);
    t.type = NGX_PAYOUT_RECIPIENT_BALANCE;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_DECLINED);

    /* bad input never reaches Adyen */
    sepa(&t);
    t.amount = 0;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    sepa(&t);
    t.currency = "eur";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    sepa(&t);
    t.reference = "not-a-uuid";
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    sepa(&t);
    t.account_name = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    sepa(&t);
    t.account_number = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);

    /* no balance account, no key */
    sepa(&t);
    f.acct.conf = NULL;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);
    f.acct.conf = f.conf;
    f.acct.secret = NULL;
    f.acct.secret_len = 0;
    assert_int_equal(build(&f, NGX_PAYOUT_OP_INITIATE, &t, &call),
                     NGX_PAYOUT_ERROR);

    unit_mem_free(&f.m);
}


static void
test_iban(void **state)
{
    (void) state;

    assert_true(ngx_payout_adyen_iban_valid("NL91ABNA0417164300"));
    assert_true(ngx_payout_adyen_iban_valid("DE89370400440532013000"));
    assert_true(ngx_payout_adyen_iban_valid("GB82WEST12345698765432"));
    assert_true(ngx_payout_adyen_iban_valid("NO9386011117947"));
    assert_false(ngx_payout_adyen_iban_valid("NL91ABNA0417164301"));
    assert_false(ngx_payout_adyen_iban_valid("nl91abna0417164300"));
    assert_false(ngx_payout_adyen_iban_valid("NL91 ABNA 0417 1643 00"));
    assert_false(ngx_payout_adyen_iban_valid("0123456789012345"));
    assert_false(ngx_payout_adyen_iban_valid("NL91"));
    assert_false(ngx_payout_adyen_iban_valid(""));
}


static void
parse(const char *body, long status, ngx_payout_op_e op,
    ngx_payout_result_t *res)
{
    fixture_t            f;
    ngx_payout_answer_t  a;

    fixture_init(&f);
    memset(&a, 0, sizeof(a));
    a.status = status;
    a.body = body;
    a.body_len = body ? strlen(body) : 0;

    memset(res, 0x5a, sizeof(ngx_payout_result_t));
    adyen()->parse(&f.acct, op, &a, res);

    assert_true(memchr(res->gateway_id, '\0', sizeof(res->gateway_id)));
    assert_true(memchr(res->reason, '\0', sizeof(res->reason)));
    assert_string_equal(res->next_action, "");

    unit_mem_free(&f.m);
}


static void
test_parse_examples(void **state)
{
    ngx_payout_result_t  res;

    (void) state;

    /* the spec's 202 to payout-local-transfer-sepa: received */
    parse(SPEC_SEPA_202, 202, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_string_equal(res.gateway_id, "1W1UG35U8A9J5ZLG");
    assert_string_equal(res.reason, "");

    /* GET /transfers/{id}: booked */
    parse(SPEC_GET_200, 200, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_SUCCESS);
    assert_string_equal(res.gateway_id, "1W1UG35QQEBJLHZ8");

    /* refused and returned say why */
    parse("{\"id\":\"1W1\",\"status\":\"refused\",\"reason\":"
          "\"notEnoughBalance\"}", 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "notEnoughBalance");
    parse("{\"id\":\"1W1\",\"status\":\"returned\"}", 200,
          NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "returned");

    /* a status that is no payout's word, no id, a bad id */
    parse("{\"id\":\"1W1\",\"status\":\"chargeback\"}", 200,
          NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.gateway_id, "");
    parse("{\"status\":\"booked\"}", 200, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("{\"id\":\"1W1/x\",\"status\":\"booked\"}", 200,
          NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.gateway_id, "");
}


static void
test_parse_answers(void **state)
{
    size_t               i;
    ngx_payout_result_t  res;

    static const long  unknown[] = { 409, 429, 500, 502, 503, 0, 302, 404 };

    static const char  invalid[] =
        "{\"type\":\"https://docs.adyen.com/errors/validation\","
        "\"title\":\"Invalid transfer information provided\","
        "\"status\":422,\"detail\":\"Not valid\",\"invalidFields\":"
        "[{\"name\":\"counterparty.bankAccount.accountIdentification.iban\","
        "\"value\":\"NL91\",\"message\":\"Invalid IBAN\"}],"
        "\"errorCode\":\"30_112\"}";

    (void) state;

    /* a bad key or a missing role: the payout fails, nothing else moves */
    parse("{\"status\":401,\"errorCode\":\"000\",\"message\":"
          "\"HTTP Status Response - Unauthorized\",\"errorType\":"
          "\"security\"}", 401, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(res.reason, "gateway_auth_failed");
    parse(NULL, 403, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_FAILURE);
    parse(NULL, 403, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);
    assert_string_equal(res.reason, "gateway_auth_failed");

    /* Adyen's error object: rejected with its code, detail and field */
    parse(invalid, 422, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "30_112: Not valid (counterparty."
                        "bankAccount.accountIdentification.iban)");
    parse("{\"errorCode\":\"14_002\",\"title\":\"Bad request\","
          "\"status\":400,\"type\":\"x\"}", 400, NGX_PAYOUT_OP_INITIATE,
          &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_string_equal(res.reason, "14_002: Bad request");

    /* other operations: a definite no, the payout unchanged */
    parse(invalid, 422, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);
    assert_int_equal(res.state, -1);
    parse(invalid, 404, NGX_PAYOUT_OP_LOOKUP, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_REFUSED);

    /* the same key still in progress: the first may yet execute */
    parse("{\"errorCode\":\"704\",\"title\":\"Request already processed "
          "or in progress\",\"status\":422}", 422, NGX_PAYOUT_OP_INITIATE,
          &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_int_equal(res.state, -1);

    /* not Adyen's error object: no word */
    parse("<html>Bad Request</html>", 400, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("{\"errorCode\":\"30_112\"}", 422, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    assert_string_equal(res.reason, "");

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        parse(invalid, unknown[i], NGX_PAYOUT_OP_INITIATE, &res);
        assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
        assert_int_equal(res.state, -1);
    }

    /* the reason is cut between characters */
    parse("{\"errorCode\":\"30_112\",\"detail\":\"\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "x\"}", 422, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.state, NGX_PAYOUT_CANCELED_REJECTED);
    assert_true(ngx_payout_utf8_valid(res.reason, strlen(res.reason)));

    /* 2xx but unreadable */
    parse("{\"id\":\"1W1\",\"status\":", 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse("", 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
    parse(NULL, 200, NGX_PAYOUT_OP_INITIATE, &res);
    assert_int_equal(res.outcome, NGX_PAYOUT_OUTCOME_UNKNOWN);
}


static int
verify(const char *name, const char *sig, const char *body,
    const char *key)
{
    fixture_t            f;
    ngx_payout_hook_t    hook;
    ngx_payout_header_t  h[2];
    int                  rc;

    fixture_init(&f);
    f.acct.webhook_secret = key;
    f.acct.webhook_secret_len = key ? strlen(key) : 0;

    h[0].name = "Content-Type";
    h[0].name_len = 12;
    h[0].value = "application/json";
    h[0].value_len = 16;
    h[1].name = name;
    h[1].name_len = strlen(name);
    h[1].value = sig;
    h[1].value_len = strlen(sig);

    hook.headers = h;
    hook.nheaders = 2;
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    rc = adyen()->verify(&f.acct, &hook, 1700000000);
    unit_mem_free(&f.m);

    return rc;
}


static void
test_verify(void **state)
{
    char                 sig[NGX_PAYOUT_ADYEN_SIG_LEN + 1], body[2048];
    fixture_t            f;
    ngx_payout_hook_t    hook;
    ngx_payout_header_t  h[2];

    (void) state;

    assert_int_equal(strlen(VECTOR_BODY), 1778);

    /* the banking-webhook vector: the raw body, the hex-decoded key */
    assert_int_equal(verify("HmacSignature", VECTOR_SIG, VECTOR_BODY,
                            VECTOR_KEY), NGX_PAYOUT_OK);
    assert_int_equal(verify("hmacsignature", VECTOR_SIG, VECTOR_BODY,
                            VECTOR_KEY), NGX_PAYOUT_OK);
    assert_int_equal(ngx_payout_adyen_sign(VECTOR_KEY, 64,
                         (const unsigned char *) VECTOR_BODY, 1778, sig),
                     NGX_PAYOUT_OK);
    assert_string_equal(sig, VECTOR_SIG);

    /* the key's hex digits in lower case are the same key */
    assert_int_equal(verify("HmacSignature", VECTOR_SIG, VECTOR_BODY,
                            "11223344d785fbae710e7f943f307971bb61b21281c98c"
                            "9129b3d4018a57b2eb"), NGX_PAYOUT_OK);

    /* a transfer event signed with openssl */
    assert_int_equal(verify("HmacSignature", OWN_SIG, OWN_BODY, VECTOR_KEY),
                     NGX_PAYOUT_OK);

    /* one byte added or changed; another key; the key as text */
    snprintf(body, sizeof(body), "%s ", OWN_BODY);
    assert_int_equal(verify("HmacSignature", OWN_SIG, body, VECTOR_KEY),
                     NGX_PAYOUT_ERROR);
    snprintf(body, sizeof(body), "%s", OWN_BODY);
    body[20] ^= 1;
    assert_int_equal(verify("HmacSignature", OWN_SIG, body, VECTOR_KEY),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify("HmacSignature", OWN_SIG, OWN_BODY,
                            "00" VECTOR_KEY), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("HmacSignature", OWN_SIG, OWN_BODY, "xyz"),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify("HmacSignature", OWN_SIG, OWN_BODY, NULL),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(ngx_payout_adyen_sign("abc", 3,
                         (const unsigned char *) "x", 1, sig),
                     NGX_PAYOUT_ERROR);

    /* malformed signatures, another header */
    assert_int_equal(verify("HmacSignature", "", OWN_BODY, VECTOR_KEY),
                     NGX_PAYOUT_ERROR);
    assert_int_equal(verify("HmacSignature",
                            "mrBswyU4Gu90ATZ7FMpAElD2CcpRzyxpVNiPHs27D5A",
                            OWN_BODY, VECTOR_KEY), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("HmacSignature",
                            "mrBswyU4Gu90ATZ7FMpAElD2CcpRzyxpVNiPHs27D5B=",
                            OWN_BODY, VECTOR_KEY), NGX_PAYOUT_ERROR);
    assert_int_equal(verify("X-Hmac-Signature", OWN_SIG, OWN_BODY,
                            VECTOR_KEY), NGX_PAYOUT_ERROR);

    /* two HmacSignature headers: which one? */
    fixture_init(&f);
    h[0].name = "HmacSignature";
    h[0].name_len = 13;
    h[0].value = OWN_SIG;
    h[0].value_len = strlen(OWN_SIG);
    h[1] = h[0];
    hook.headers = h;
    hook.nheaders = 2;
    hook.body = (const unsigned char *) OWN_BODY;
    hook.body_len = strlen(OWN_BODY);
    assert_int_equal(adyen()->verify(&f.acct, &hook, 0), NGX_PAYOUT_ERROR);
    hook.nheaders = 1;
    assert_int_equal(adyen()->verify(&f.acct, &hook, 0), NGX_PAYOUT_OK);
    unit_mem_free(&f.m);
}


static int
event(const char *body, ngx_payout_event_t *ev)
{
    int                rc;
    fixture_t          f;
    ngx_payout_hook_t  hook;

    fixture_init(&f);
    memset(&hook, 0, sizeof(hook));
    hook.body = (const unsigned char *) body;
    hook.body_len = strlen(body);

    memset(ev, 0x5a, sizeof(ngx_payout_event_t));

    rc = adyen()->event(&f.acct, &hook, ev);
    unit_mem_free(&f.m);

    return rc;
}


#define EVENT(type, data)                                                    \
    "{\"data\":" data ",\"environment\":\"test\",\"type\":\"" type "\"}"


static void
test_event(void **state)
{
    ngx_payout_event_t  ev;

    (void) state;

    /* the spec's examples: its reference is not our uuid */
    assert_int_equal(event(SPEC_HOOK_CREATED, &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, "");
    assert_string_equal(ev.result.gateway_id, "6JKRLZ8LOT47J7RY");
    assert_int_equal(ev.result.state, NGX_PAYOUT_PENDING_PROMISE);
    assert_int_equal(ev.result.outcome, NGX_PAYOUT_OUTCOME_STATE);
    assert_int_equal(ev.follow_up, NGX_PAYOUT_FOLLOW_NONE);

    assert_int_equal(event(SPEC_HOOK_BOOKED, &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.result.gateway_id, "6JKRLZ8LOT47J7RY");
    assert_int_equal(ev.result.state, NGX_PAYOUT_SUCCESS);

    /* an incoming internal transfer is nobody's payout */
    assert_int_equal(event(SPEC_HOOK_INCOMING, &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(ev.result.state, -1);

    /* ours, by our reference (upper case too) */
    assert_int_equal(event(OWN_BODY, &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, REF);
    assert_int_equal(ev.result.state, NGX_PAYOUT_SUCCESS);

    assert_int_equal(event(EVENT("balancePlatform.transfer.updated",
        "{\"id\":\"6JK\",\"reference\":"
        "\"4C56E5C2-7EF0-4DB0-8D2E-5E980F3F3BC7\",\"status\":\"returned\","
        "\"reason\":\"counterpartyAccountClosed\"}"), &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, REF);
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_FAILURE);
    assert_string_equal(ev.result.reason, "counterpartyAccountClosed");

    assert_int_equal(event(EVENT("balancePlatform.transfer.updated",
        "{\"id\":\"6JK\",\"reference\":\"'; DROP TABLE payouts\","
        "\"status\":\"failed\"}"), &ev), NGX_PAYOUT_OK);
    assert_string_equal(ev.reference, "");
    assert_int_equal(ev.result.state, NGX_PAYOUT_CANCELED_FAILURE);

    /* not ours to act on */
    assert_int_equal(event(EVENT("balancePlatform.transfer.updated",
        "{\"id\":\"6JK\",\"status\":\"captured\"}"), &ev),
        NGX_PAYOUT_DECLINED);
    assert_int_equal(ev.result.state, -1);
    assert_string_equal(ev.result.gateway_id, "");
    assert_int_equal(event(EVENT("balancePlatform.transfer.updated",
        "{\"id\":\"6JK\",\"category\":\"card\",\"status\":\"booked\"}"),
        &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("balancePlatform.accountHolder.created",
        "{\"id\":\"6JK\",\"status\":\"booked\"}"), &ev),
        NGX_PAYOUT_DECLINED);
    assert_int_equal(event(EVENT("balancePlatform.transfer.updated",
        "{\"status\":\"booked\"}"), &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event(VECTOR_BODY, &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("not json", &ev), NGX_PAYOUT_DECLINED);
    assert_int_equal(event("[]", &ev), NGX_PAYOUT_DECLINED);
    assert_string_equal(ev.reference, "");
}


/*
 * Every value of Transfer.status in adyen-TransferService-v4.json (the
 * notification spec's TransferData has the same enum), and nothing else,
 * is in the table.
 */

static void
test_status_table(void **state)
{
    size_t                         i, j;
    const ngx_payout_connector_t  *c;

    static const char  *spec[] = {
        "adviceAuthorised", "adviceRefused", "approvalPending",
        "atmWithdrawal", "atmWithdrawalReversalPending",
        "atmWithdrawalReversed", "authAdjustmentAuthorised",
        "authAdjustmentError", "authAdjustmentRefused", "authorised",
        "bankTransfer", "bankTransferPending", "booked", "bookingPending",
        "cancelled", "capturePending", "captureReversalPending",
        "captureReversed", "captured", "capturedExternally", "chargeback",
        "chargebackExternally", "chargebackPending",
        "chargebackReversalPending", "chargebackReversed", "credited",
        "depositCorrection", "depositCorrectionPending", "dispute",
        "disputeClosed", "disputeExpired", "disputeNeedsReview", "error",
        "expired", "failed", "fee", "feePending", "interchangeAdjusted",
        "internalTransfer", "internalTransferPending", "invoiceDeduction",
        "invoiceDeductionPending", "manualCorrectionPending",
        "manuallyCorrected", "matchedStatement", "matchedStatementPending",
        "merchantPayin", "merchantPayinPending", "merchantPayinReversed",
        "merchantPayinReversedPending", "miscCost", "miscCostPending",
        "paymentCost", "paymentCostPending", "pending", "pendingApproval",
        "pendingExecution", "received", "refundPending",
        "refundReversalPending", "refundReversed", "refunded",
        "refundedExternally", "refused", "rejected", "reserveAdjustment",
        "reserveAdjustmentPending", "returned", "reversed",
        "secondChargeback", "secondChargebackPending", "undefined",
    };

    (void) state;

    c = adyen();
    assert_int_equal(c->nstatuses, sizeof(spec) / sizeof(spec[0]));

    for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
        for (j = 0; j < c->nstatuses; j++) {
            if (strcmp(c->statuses[j].status, spec[i]) == 0) {
                break;
            }
        }

        assert_true(j < c->nstatuses);
        assert_int_equal(ngx_payout_adyen_transfer_state(spec[i]),
                         c->statuses[j].state);
        assert_true(c->statuses[j].state >= -1
                    && c->statuses[j].state < NGX_PAYOUT_NSTATES);
    }

    /* the statuses, as documented */
    assert_int_equal(ngx_payout_adyen_transfer_state("received"),
                     NGX_PAYOUT_PENDING_PROMISE);
    assert_int_equal(ngx_payout_adyen_transfer_state("authorised"),
                     NGX_PAYOUT_PENDING_PROMISE);
    assert_int_equal(ngx_payout_adyen_transfer_state("pending"),
                     NGX_PAYOUT_PENDING_PROMISE);
    assert_int_equal(ngx_payout_adyen_transfer_state("booked"),
                     NGX_PAYOUT_SUCCESS);
    assert_int_equal(ngx_payout_adyen_transfer_state("failed"),
                     NGX_PAYOUT_CANCELED_FAILURE);
    assert_int_equal(ngx_payout_adyen_transfer_state("refused"),
                     NGX_PAYOUT_CANCELED_REJECTED);
    assert_int_equal(ngx_payout_adyen_transfer_state("returned"),
                     NGX_PAYOUT_CANCELED_FAILURE);
    assert_int_equal(ngx_payout_adyen_transfer_state(NULL), -1);
    assert_int_equal(ngx_payout_adyen_transfer_state("Booked"), -1);

    /* returned after booked: the reversal, through the state machine */
    assert_int_equal(ngx_payout_state_provider_word(NGX_PAYOUT_SUCCESS,
                         ngx_payout_adyen_transfer_state("returned"),
                         adyen()->caps & NGX_PAYOUT_CAP_FAILS_AFTER_PAID),
                     NGX_PAYOUT_CANCELED_REVERSED);
    assert_int_equal(ngx_payout_state_provider_word(
                         NGX_PAYOUT_PENDING_PROMISE,
                         ngx_payout_adyen_transfer_state("returned"),
                         adyen()->caps & NGX_PAYOUT_CAP_FAILS_AFTER_PAID),
                     NGX_PAYOUT_CANCELED_FAILURE);
}


int
run_adyen_tests(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_configure),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_build_iban),
        cmocka_unit_test(test_build_local),
        cmocka_unit_test(test_build_other),
        cmocka_unit_test(test_iban),
        cmocka_unit_test(test_parse_examples),
        cmocka_unit_test(test_parse_answers),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_status_table),
    };

    return cmocka_run_group_tests_name("adyen", tests, NULL, NULL);
}
