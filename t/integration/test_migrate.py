"""payoutctl migrate and the SQL layout: sql/schema (versioned, applied
once), sql/functions (re-applied when their checksum changes), and the
sandbox in a schema of its own, only on request (--sandbox).

A database migrated by the old layout (sql/NNN_*.sql, tables and
functions mixed; kept as t/fixtures/old_sql) moves to the new one without
its files running again and ends up as a fresh database does: the
schema-only dumps of the two are compared.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT, Postgres, payoutctl

OLD_SQL = os.path.join(ROOT, "t", "fixtures", "old_sql")
SQL = os.path.join(ROOT, "sql")
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                key=lambda d: int(d.split("/")[-2]))[-1]

# what docs/operations.md tells an operator to run where no sandbox is
# configured and the old layout left its tables in the gateway's schema
DROP_OLD_SANDBOX = """
DROP TABLE sandbox_events, sandbox_transfers CASCADE;
DROP FUNCTION sandbox_time(timestamptz),
    sandbox_transfer_create(uuid, bigint, text, text, text, text, text,
                            text, text, bigint),
    sandbox_transfer_cancel(uuid), sandbox_events_claim(integer, boolean),
    sandbox_event_retry(bigint);
"""


@pytest.fixture
def db():
    pg = Postgres()
    pg.start()
    yield pg
    pg.destroy()


def migrate(pg, *args, migrations=SQL):
    return payoutctl(pg, "--migrations", migrations, "migrate", *args)


def old_layout(pg, upto):
    """What the old payoutctl made of sql/001..upto: its own bookkeeping
    table, each file in a transaction with its row."""
    conn = pg.connect(autocommit=False)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())")
        conn.commit()
        for path in sorted(glob.glob(os.path.join(OLD_SQL, "*.sql"))):
            name = os.path.basename(path)
            if int(name[:3]) > upto:
                break
            with open(path) as f:
                cur.execute(f.read())
            cur.execute("INSERT INTO schema_migrations (version, name) "
                        "VALUES (%s, %s)", (int(name[:3]), name))
            conn.commit()
    finally:
        conn.close()


def schema_dump(pg):
    """pg_dump --schema-only as a sorted list of statements, comments and
    session settings left out: the order of objects in a dump may follow
    the order they were made in."""
    out = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "--schema-only",
                          "--no-owner", "-d", pg.conninfo],
                         check=True, capture_output=True, text=True).stdout
    # (psql meta-commands such as \restrict carry a random key)
    lines = [line for line in out.split("\n")
             if not line.startswith(("--", "\\")) and line.strip()]
    stmts, cur = [], []
    for line in lines:
        cur.append(line)
        # a statement ends with ";" outside a function body
        if line.endswith(";") and "".join(cur).count("$$") % 2 == 0:
            stmts.append("\n".join(cur))
            cur = []
    assert not cur, cur
    return sorted(s for s in stmts if not re.match(r"SET |SELECT pg_catalog"
                                                   r"\.set_config", s))


def schemas(pg):
    return {n for (n,) in pg.sql("SELECT nspname FROM pg_namespace "
                                 "WHERE nspname !~ '^(pg_|information_)'")}


def sandbox_tables(pg):
    return sorted(pg.sql("SELECT schemaname, tablename FROM pg_tables "
                         "WHERE tablename LIKE 'sandbox%%'"))


def fresh(sandbox):
    pg = Postgres()
    pg.start()
    try:
        migrate(pg, *(["--sandbox"] if sandbox else []))
        return schema_dump(pg)
    finally:
        pg.destroy()


@pytest.fixture(scope="module")
def fresh_dumps():
    return {False: fresh(False), True: fresh(True)}


def test_fresh_without_sandbox_has_none(db):
    out = migrate(db).stdout
    assert "applied schema/001_init.sql" in out
    assert "applied functions/payouts.sql" in out
    assert "sandbox" not in out
    assert "sandbox" not in schemas(db)
    assert sandbox_tables(db) == []
    assert db.sql("SELECT count(*) FROM pg_proc "
                  "WHERE proname LIKE 'sandbox%%'") == [(0,)]


def test_fresh_with_sandbox(db):
    out = migrate(db, "--sandbox").stdout
    assert "created schema sandbox" in out
    assert "applied sandbox/schema/001_sandbox.sql" in out
    assert "applied sandbox/functions/sandbox.sql" in out
    assert sandbox_tables(db) == [("sandbox", "sandbox_events"),
                                  ("sandbox", "sandbox_transfers")]
    # the sandbox's functions, in its schema only
    assert db.sql("SELECT DISTINCT n.nspname FROM pg_proc p "
                  "JOIN pg_namespace n ON n.oid = p.pronamespace "
                  "WHERE p.proname LIKE 'sandbox%%'") == [("sandbox",)]


def test_sandbox_later_and_kept_up_to_date(db):
    """--sandbox on a database migrated without it adds the sandbox; a
    later plain migrate keeps it (and does nothing else)."""
    migrate(db)
    assert "sandbox" not in schemas(db)
    migrate(db, "--sandbox")
    assert "sandbox" in schemas(db)
    assert migrate(db).stdout == "database is up to date\n"
    assert "sandbox" in schemas(db)


def test_migrate_twice_is_a_no_op(db):
    migrate(db, "--sandbox")
    before = schema_dump(db)
    rec = db.sql("SELECT * FROM schema_functions ORDER BY name")
    r = migrate(db, "--sandbox")
    assert r.stdout == "database is up to date\n"
    assert r.stderr == ""
    assert schema_dump(db) == before
    assert db.sql("SELECT * FROM schema_functions ORDER BY name") == rec


@pytest.mark.parametrize("upto", [3, 5, 9])
def test_old_layout_moves_to_the_new_one(db, fresh_dumps, upto):
    """A database of the old layout at version `upto`: migrate --sandbox
    applies only the schema files it has not had, every function file,
    moves the sandbox's tables (with their rows) into schema sandbox,
    and the result is what a fresh migrate --sandbox makes."""
    old_layout(db, upto)
    if upto >= 4:
        db.sql("INSERT INTO sandbox_transfers (reference, amount, currency,"
               " destination_type, destination_last4, outcome, status) "
               "VALUES (gen_random_uuid(), 5, 'NGN', 'bank_account', "
               "'0001', 'succeed', 'pending')")
    out = migrate(db, "--sandbox").stdout
    for f in ("001_init", "005_webhooks", "006_modes", "007_limits"):
        assert (("applied schema/%s.sql" % f) in out) == (int(f[:3]) > upto)
    assert "applied functions/webhooks.sql" in out
    if upto >= 4:
        assert "moved the old layout's sandbox tables" in out
        assert "applied sandbox/schema/001_sandbox.sql" not in out
        assert db.sql("SELECT destination_last4 FROM "
                      "sandbox.sandbox_transfers") == [("0001",)]
    else:
        assert "applied sandbox/schema/001_sandbox.sql" in out
    assert schema_dump(db) == fresh_dumps[True]
    assert migrate(db, "--sandbox").stdout == "database is up to date\n"

    status = payoutctl(db, "migrate", "--status").stdout
    assert "pending" not in status and "changed" not in status
    if upto >= 8:
        assert re.search(r"008_events.sql +applied .*\(old layout\)", status)


def test_old_layout_without_sandbox_keeps_its_tables(db, fresh_dumps):
    """Without --sandbox the old layout's sandbox tables stay where they
    are, with a note; the documented statements drop them."""
    old_layout(db, 9)
    r = migrate(db)
    assert "migrate --sandbox" in r.stderr
    assert "sandbox" not in schemas(db)
    assert sandbox_tables(db) == [("public", "sandbox_events"),
                                  ("public", "sandbox_transfers")]
    assert schema_dump(db) != fresh_dumps[False]

    db.sql(DROP_OLD_SANDBOX)
    assert schema_dump(db) == fresh_dumps[False]
    r = migrate(db)
    assert r.stdout == "database is up to date\n" and r.stderr == ""


@pytest.fixture
def sql():
    """A copy of sql/ to edit."""
    d = tempfile.mkdtemp(prefix="payout-sql-")
    shutil.copytree(SQL, os.path.join(d, "sql"))
    yield os.path.join(d, "sql")
    shutil.rmtree(d, ignore_errors=True)


def test_changed_function_file_is_applied_again(db, sql):
    migrate(db, migrations=sql)
    assert db.sql("SELECT payout_mask('1234')") == [("******1234",)]

    path = os.path.join(sql, "functions", "api_json.sql")
    with open(path) as f:
        text = f.read()
    assert "'******' || last4" in text
    with open(path, "w") as f:
        f.write(text.replace("'******' || last4", "'**' || last4"))

    status = payoutctl(db, "--migrations", sql, "migrate",
                       "--status").stdout
    assert re.search(r"functions/api_json.sql +changed", status)
    assert re.search(r"functions/payouts.sql +applied", status)

    out = migrate(db, migrations=sql).stdout
    assert out == "re-applied functions/api_json.sql (changed)\n"
    assert db.sql("SELECT payout_mask('1234')") == [("**1234",)]
    assert migrate(db, migrations=sql).stdout == \
        "database is up to date\n"


def test_changed_schema_file_is_not_applied_again(db, sql):
    migrate(db, migrations=sql)
    path = os.path.join(sql, "schema", "007_limits.sql")
    with open(path, "a") as f:
        f.write("\nCREATE TABLE never_made (id int);\n")
    r = migrate(db, migrations=sql)
    assert r.stdout == "database is up to date\n"
    assert "007_limits.sql has changed since it was applied" in r.stderr
    assert db.sql("SELECT to_regclass('never_made')") == [(None,)]


def test_new_function_file_and_schema_file(db, sql):
    """A new schema file applies after the others, then function files
    that use what it made."""
    migrate(db, migrations=sql)
    with open(os.path.join(sql, "schema", "999_extra.sql"), "w") as f:
        f.write("CREATE TABLE extra (id int);\n")
    with open(os.path.join(sql, "functions", "extra.sql"), "w") as f:
        f.write("CREATE OR REPLACE FUNCTION extra_count() RETURNS bigint"
                " LANGUAGE sql AS $$ SELECT count(*) FROM extra $$;\n")
    out = migrate(db, migrations=sql).stdout
    assert out == ("applied schema/999_extra.sql\n"
                   "applied functions/extra.sql\n")
    assert db.sql("SELECT extra_count()") == [(0,)]


def test_failed_function_file_is_rolled_back(db, sql):
    migrate(db, migrations=sql)
    path = os.path.join(sql, "functions", "reconcile.sql")
    with open(path, "a") as f:
        f.write("\nCREATE OR REPLACE FUNCTION broken() RETURNS int "
                "LANGUAGE sql AS $$ SELECT nope $$;\n")
    r = payoutctl(db, "--migrations", sql, "migrate", check=False)
    assert r.returncode == 1
    assert "reconcile.sql failed" in r.stderr
    assert db.sql("SELECT to_regproc('broken')") == [(None,)]
    status = payoutctl(db, "--migrations", sql, "migrate",
                       "--status").stdout
    assert re.search(r"functions/reconcile.sql +changed", status)
