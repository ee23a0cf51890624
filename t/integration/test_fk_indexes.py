"""Every foreign key has an index that starts with its columns (issue 12):
a delete of the parent, or a join from it, must not scan the child.
unindexed_foreign_keys() is sql/schema/015's reading of pg_catalog."""

UNINDEXED = "SELECT tab::text, conname, cols FROM unindexed_foreign_keys()"


def test_every_foreign_key_is_indexed(pg):
    rows = pg.sql(UNINDEXED)
    assert rows == [], "foreign keys without an index:\n" + "\n".join(
        "%s %s (%s)" % row for row in rows)


def test_the_check_sees_an_unindexed_key(pg):
    # the check itself works: a fresh key is listed until it is indexed
    with pg.connect(autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE fk_probe (id bigserial PRIMARY KEY, "
                    "a bigint, payout_id bigint REFERENCES payouts(id))")
        cur.execute(UNINDEXED)
        assert ("fk_probe", "fk_probe_payout_id_fkey", "payout_id") \
            in cur.fetchall()

        # an index led by other columns, or a partial one, does not count
        cur.execute("CREATE INDEX ON fk_probe (a, payout_id)")
        cur.execute("CREATE INDEX ON fk_probe (payout_id) WHERE a > 0")
        cur.execute(UNINDEXED)
        assert [r for r in cur.fetchall() if r[0] == "fk_probe"]

        cur.execute("CREATE INDEX ON fk_probe (payout_id, a)")
        cur.execute(UNINDEXED)
        assert not [r for r in cur.fetchall() if r[0] == "fk_probe"]
        conn.rollback()


def test_webhook_events_payout_id_is_indexed(pg):
    # the one that made deleting 200,000 payouts take minutes
    rows = pg.sql("SELECT 1 FROM pg_indexes WHERE tablename = "
                  "'webhook_events' AND indexdef LIKE %s",
                  ("%(payout_id)",))
    assert rows
