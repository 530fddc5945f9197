#!/usr/bin/env python3
"""Writes the seed corpora (corpus/<target>/*) the fuzz targets start from.

Run from anywhere: python3 tests/fuzz/make_seeds.py. The files are committed;
this script only says where they came from and makes adding a case easy. Each
seed is named after what it tries, so that a failing seed explains itself.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, cases):
    """Rewrites corpus/<target>, keeping the fuzzers' findings (finding-*): they are
    regression seeds that no case here generates."""
    out = os.path.join(HERE, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if not old.startswith("finding-"):
            os.remove(os.path.join(out, old))
    names = set()
    for name, data in cases:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


# --- url: connection strings ------------------------------------------------------
nasty_passwords = ["p@ss:w0rd", "a/b/c/d", "pa?ss=wd", "pa#ss-wd", "my secret", "100%pure",
                   "s3cr3t@127.0.0.1", "q'u\"o`te", "ta\tb\nnl", "pässwörd", "*****", "p&ss=w0rd"]


def pct(s):
    return "".join(c if c.isalnum() else "".join("%%%02X" % b for b in c.encode()) for c in s)


url = [
    ("basic", "postgresql://alice:s3cret@db.example:5433/app?sslmode=require"),
    ("postgres_scheme", "postgres://u@h/db"),
    ("upper_scheme", "POSTGRESQL://app:s3cret@h/db"),
    ("no_credentials", "postgresql://db.example/app"),
    ("empty", ""),
    ("only_scheme", "postgresql://"),
    ("only_at", "postgresql://@"),
    ("empty_user_password", "postgresql://:@/"),
    ("empty_password", "postgresql://u:@h/db"),
    ("bad_percent", "postgresql://u:pw%zz@h/db"),
    ("percent_nul", "postgresql://u:pw%00x@h/db"),
    ("nul_in_text", b"postgresql://u:s3cret@h/db\0?sslmode=require"),
    ("huge_port", "postgresql://u:s3cret@h:99999999999999999999/db"),
    ("multi_host", "postgresql://u:pw12@h1:1,h2:2,[::1]:3/db"),
    ("multi_host_some_ports", "postgresql://h1,h2:6000,h3/db"),
    ("ipv6", "postgresql://[::1]:5432/db"),
    ("ipv6_empty", "postgresql://[]/db"),
    ("ipv6_unclosed", "postgresql://[::1/db"),
    ("query_password", "postgresql://h/db?user=a&password=s3cret&x=1"),
    ("query_password_encoded_key", "postgresql://h/db?pass%77ord=hidden1"),
    ("query_password_twice", "postgresql://u:first1@h/db?password=second2&password=third3"),
    ("query_password_encoded", "postgresql://h/db?password=" + pct("p@ss w/rd?#")),
    ("query_extra_equals", "postgresql://h/db?a=b=c"),
    ("query_no_value", "postgresql://h/db?sslmode"),
    ("query_ssl_true", "postgresql://u:s3cret@h/db?ssl=true"),
    ("unknown_param", "postgresql://h/db?nosuchkey=1"),
    ("colons_and_ats", "postgresql://a:b:c@d@e/f?g#h"),
    ("long_password", "postgresql://u:" + "x" * 1000 + "@h/db"),
    ("kv_basic", "host=h password=s3cret dbname=d"),
    ("kv_spaces", "host = h  password = s3cret dbname = d"),
    ("kv_quoted", "host=h password='s3 cr\\'et' dbname=d"),
    ("kv_twice", "password=abcd password=efgh"),
    ("kv_unterminated", "user=u password='s3cret"),
    ("kv_escape", "password=s3\\ cret\\\\x host=h"),
    ("kv_unknown_key", "host=h pasword=s3cret"),
    ("kv_url_dbname", "dbname=postgresql://u:s3cret@h/db"),
    ("sqlite_memory", "sqlite:///:memory:"),
    ("sqlite_absolute", "sqlite:////var/lib/app.db"),
]
for i, pw in enumerate(nasty_passwords):
    url.append((f"raw_password_{i:02}", f"postgresql://app:{pw}@db.example:5432/app?sslmode=disable"))
    url.append((f"encoded_password_{i:02}", f"postgresql://app:{pct(pw)}@db.example:5432/app"))
    if "'" not in pw and "\\" not in pw:
        url.append((f"kv_password_{i:02}", f"host=db.example password='{pw}' dbname=app"))
write("url", url)


# --- config: options in config_fuzz.cpp's encoding --------------------------------
KEYS = ["url", "readonly", "create_db", "pool_size", "max_overflow", "pool_timeout", "pool_recycle",
        "pool_pre_ping", "echo", "auto_reconnect", "max_retries", "retry_delay", "query_lg_level",
        "pool_reuse", "pool_recycle_jitter", "pre_ping_window", "pre_ping_grace", "min_idle",
        "lazy_min_idle", "idle_timeout", "hold_warning", "statement_timeout", "keepalives",
        "query_log_params", "extensions", "schema", "setup_retry", "setup_retry_max_interval"]


def key(k):
    if k in KEYS:
        return bytes([KEYS.index(k)])
    kb = k.encode() if isinstance(k, str) else k
    return bytes([0xf0, len(kb)]) + kb


def opt(k, v):
    if isinstance(v, bool):
        return key(k) + bytes([0, int(v)])
    if isinstance(v, int):
        if -128 <= v <= 127:
            return key(k) + bytes([1 | 4]) + struct.pack("<b", v)
        return key(k) + bytes([1]) + struct.pack("<q", v)
    if isinstance(v, float):
        return key(k) + bytes([2]) + struct.pack("<d", v)
    vb = v.encode() if isinstance(v, str) else v
    assert len(vb) < 256
    return key(k) + bytes([3, len(vb)]) + vb


def cfg(start, *options):
    return bytes([start]) + b"".join(opt(k, v) for k, v in options)


NONE = 0xff  # no starting url
nan = float("nan")
inf = float("inf")
config = [
    ("url_only", cfg(4)),
    ("no_url", cfg(NONE, ("pool_size", 3))),
    ("empty_url", cfg(NONE, ("url", ""))),
    ("url_not_text", cfg(NONE, ("url", 5))),
    ("url_with_nul", cfg(NONE, ("url", b"postgresql://h/db\0?sslmode=require"))),
    ("sqlite_path_with_nul", cfg(NONE, ("url", b"sqlite:///app.db\0.bak"))),
    ("upper_scheme", cfg(NONE, ("url", "POSTGRESQL://h/db"))),
    ("every_key_good", cfg(0, ("readonly", False), ("create_db", True), ("pool_size", 7), ("max_overflow", 0),
                           ("pool_timeout", 2.5), ("pool_recycle", -1), ("pool_pre_ping", "yes"), ("echo", "on"),
                           ("auto_reconnect", 0), ("max_retries", "4"), ("retry_delay", "0.5"),
                           ("query_lg_level", "WARN"), ("pool_reuse", "fifo"), ("pool_recycle_jitter", 1),
                           ("pre_ping_window", 2), ("pre_ping_grace", 0.5), ("min_idle", 7), ("lazy_min_idle", True),
                           ("idle_timeout", -1), ("hold_warning", 0), ("statement_timeout", "30"),
                           ("keepalives", "false"), ("query_log_params", 1), ("extensions", "pgcrypto, uuid-ossp"),
                           ("schema", "app_1"), ("setup_retry", "no"), ("setup_retry_max_interval", 10))),
    ("duplicate_key", cfg(0, ("pool_size", 1), ("pool_size", 7))),
    ("duplicate_url", cfg(0, ("url", "sqlite:///a.db"), ("url", "sqlite:///b.db"))),
    ("unknown_key", cfg(1, ("pool_sise", 3))),
    ("unknown_key_secret", cfg(2, ("passwrd", "hunter2hunter2"))),
    ("empty_key", cfg(3, ("", 1))),
    ("key_with_newline", cfg(4, ("pool_size\nFAKE LOG LINE", 1))),
    ("key_with_nul", cfg(4, (b"pool\0size", 1))),
    ("readonly_and_create_db", cfg(4, ("readonly", True), ("create_db", "true"))),
    ("min_idle_over_pool_size", cfg(4, ("pool_size", 2), ("min_idle", 3))),
    ("grace_over_window", cfg(4, ("pre_ping_window", 0.001), ("pre_ping_grace", 1))),
    ("statement_timeout_tiny", cfg(0, ("statement_timeout", 0.0001))),
    ("pool_timeout_tiny", cfg(4, ("pool_timeout", 0.0004))),
    ("subnormal", cfg(4, ("retry_delay", 5e-324))),
    ("negative_zero", cfg(4, ("pool_timeout", -0.0))),
    ("nan", cfg(4, ("pool_timeout", nan))),
    ("nan_text", cfg(4, ("retry_delay", "nan"))),
    ("infinity", cfg(4, ("pool_recycle", inf))),
    ("infinity_text", cfg(4, ("idle_timeout", "inf"))),
    ("huge_double", cfg(4, ("hold_warning", 1.7976931348623157e308))),
    ("huge_int", cfg(4, ("pool_size", 9223372036854775807))),
    ("min_int", cfg(4, ("max_overflow", -9223372036854775808))),
    ("huge_int_text", cfg(4, ("pool_size", "99999999999999999999999"))),
    ("int_as_double", cfg(4, ("pool_size", 3.0))),
    ("int_with_space", cfg(4, ("pool_size", " 3"))),
    ("int_with_plus", cfg(4, ("pool_size", "+3"))),
    ("hex_number", cfg(4, ("retry_delay", "0x10"))),
    ("exponent", cfg(4, ("retry_delay", "1e3"))),
    ("bool_as_two", cfg(4, ("echo", 2))),
    ("bool_as_text", cfg(4, ("echo", "TRUE"))),
    ("level_unknown", cfg(4, ("query_lg_level", "verbose"))),
    ("level_not_text", cfg(4, ("query_lg_level", 3))),
    ("pool_reuse_bad", cfg(4, ("pool_reuse", "LIFO"))),
    ("jitter_over_one", cfg(4, ("pool_recycle_jitter", 1.5))),
    ("extensions_weird", cfg(4, ("extensions", ",, ,pgcrypto,,Bad Name"))),
    ("extensions_injection", cfg(4, ("extensions", "x\"; DROP TABLE t; --"))),
    ("schema_injection", cfg(0, ("schema", "app; DROP SCHEMA public"))),
    ("schema_long", cfg(4, ("schema", "a" * 200))),
    ("schema_empty", cfg(4, ("schema", ""))),
    ("long_value", cfg(4, ("pool_reuse", "x" * 255))),
    ("control_chars", cfg(4, ("query_lg_level", "info\r\n\x1b[31mred"))),
    ("kv_url_bad_key", cfg(3, ("pool_size", "many"))),
    ("raw_password_bad_key", cfg(1, ("pool_timeout", "soon"))),
    ("query_password_bad_key", cfg(2, ("max_retries", -1))),
]
write("config", config)


# --- migrations: folder records in migrations_fuzz.cpp's encoding -----------------
FILE, FOLDER, LINK, SQLFILE = 0, 1, 2, 3


def rec(kind, name, content=b"", version=None):
    nb = name.encode() if isinstance(name, str) else name
    cb = content.encode() if isinstance(content, str) else content
    head = bytes([kind | (4 if version is not None else 0)])
    if version is not None:
        head += bytes([version])
    return head + bytes([len(nb)]) + nb + struct.pack("<H", len(cb)) + cb


def folder(*records):
    return b"".join(records)


migrations = [
    ("two_good", folder(rec(FILE, "0001_create_users.sql", "CREATE TABLE users (id int);"),
                        rec(FILE, "0002_add_email.sql", "ALTER TABLE users ADD email text;"))),
    ("empty_folder", b""),
    ("version_only", folder(rec(FILE, "0001.sql", "SELECT 1"))),
    ("empty_name", folder(rec(FILE, "0001_.sql", "SELECT 1"))),
    ("duplicate_version", folder(rec(FILE, "1_a.sql", "x"), rec(FILE, "0001_b.sql", "y"))),
    ("no_version", folder(rec(FILE, "create_users.sql", "x"))),
    ("version_then_letters", folder(rec(FILE, "1x.sql", "x"))),
    ("only_extension", folder(rec(FILE, ".sql", "x"))),
    ("other_files", folder(rec(FILE, "README.md", "#"), rec(FILE, "0001_a.sql.bak", "x"), rec(FILE, "0001_a.SQL", "x"))),
    ("zero_version", folder(rec(FILE, "0_zero.sql", "x"))),
    ("negative_version", folder(rec(FILE, "-1_neg.sql", "x"))),
    ("plus_version", folder(rec(FILE, "+1_plus.sql", "x"))),
    ("space_before_version", folder(rec(FILE, " 1_space.sql", "x"))),
    ("huge_version", folder(rec(FILE, "99999999999999999999_huge.sql", "x"))),
    ("max_version", folder(rec(FILE, "9223372036854775807_max.sql", "x"))),
    ("many_zeros", folder(rec(FILE, "0" * 150 + "1_zeros.sql", "x"))),
    ("folder_named_sql", folder(rec(FOLDER, "0003_dir.sql"), rec(FILE, "0001_a.sql", "x"))),
    ("dangling_link", folder(rec(LINK, "0001_gone.sql", "missing.sql"))),
    ("link_loop", folder(rec(LINK, "0001_loop.sql", "0001_loop.sql"))),
    ("link_to_file", folder(rec(FILE, "real.txt", "SELECT 42"), rec(LINK, "0001_link.sql", "real.txt"))),
    ("link_to_folder", folder(rec(FOLDER, "sub"), rec(LINK, "0001_sub.sql", "sub"))),
    ("nul_in_sql", folder(rec(FILE, "0001_nul.sql", b"SELECT 1;\0DROP TABLE t;"))),
    ("empty_sql", folder(rec(FILE, "0001_empty.sql", ""))),
    ("big_sql", folder(rec(FILE, "0001_big.sql", "SELECT 1;\n" * 6000))),
    ("name_with_newline", folder(rec(FILE, "0001_a\nFAKE LOG.sql", "x"))),
    ("name_with_quotes", folder(rec(FILE, "0001_it's \"q\".sql", "x"))),
    ("name_with_percent", folder(rec(FILE, "0001_%s%n%x.sql", "x"))),
    ("name_with_braces", folder(rec(FILE, "0001_{}{0}{:>99999}.sql", "x"))),
    ("name_utf8", folder(rec(FILE, "0001_créer_表.sql", "x"))),
    ("name_invalid_utf8", folder(rec(FILE, b"0001_\xff\xfe.sql", "x"))),
    ("name_long", folder(rec(FILE, "0001_" + "n" * 190 + ".sql", "x"))),
    ("name_with_slash", folder(rec(FILE, "0001_a/b.sql", "x"))),
    ("sql_suffix_flag", folder(rec(SQLFILE, "0007_flagged", "x"))),
    ("version_flag", folder(rec(SQLFILE, "with_version_byte", "x", version=5), rec(SQLFILE, "again", "y", version=5))),
    ("same_name_twice", folder(rec(FILE, "0001_a.sql", "first"), rec(FILE, "0001_a.sql", "second"))),
    ("out_of_order", folder(rec(FILE, "0010_j.sql", "j"), rec(FILE, "0002_b.sql", "b"), rec(FILE, "0005_e.sql", "e"))),
    ("dot_names", folder(rec(FILE, ".", "x"), rec(FILE, "..", "y"), rec(FILE, "", "z"))),
]
write("migrations", migrations)


# --- sql_text: statements (the first byte also picks where to split) --------------
sql = [
    "SELECT 1", "select * from t where x = 'a;b'", "  (SELECT 1)", "VALUES (1), (2)", "TABLE t", "SHOW ALL",
    "EXPLAIN ANALYZE DELETE FROM t", "set search_path = app", "SET LOCAL statement_timeout = 0",
    "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "set session characteristics as transaction read only",
    "RESET ALL", "BEGIN", "begin; select 1", "START TRANSACTION", "LISTEN chan", "DECLARE c CURSOR FOR SELECT 1",
    "PREPARE p AS SELECT 1", "LOAD 'auto_explain'", "CREATE TEMP TABLE t (x int)",
    "CREATE LOCAL TEMPORARY TABLE t ()", "CREATE OR REPLACE TEMP VIEW v AS SELECT 1",
    "create unlogged table t (x int)", "DISCARD ALL", "deallocate all",
    "select pg_advisory_lock(1)", "SELECT SET_CONFIG('a', 'b', false)",
    "/* comment */ SET x = 1", "-- comment\nLISTEN a", "/* unterminated", "--", "-- no newline SET x = 1",
    "((((((((", ")))", "", ";", ";;;;", "SET", "set\tlocal\nx = 1",
    "with x as (select 1) insert into t select * from x",
    "WITH a AS (UPDATE t SET x = 1 RETURNING *) SELECT * FROM a",
    "with x as (select ')') select 1", "with \"q)\" as (select 1) table \"q)\"", "with select_ids as (select 1) delete from t",
    "with", "with (", "WITH x AS (SELECT 1", "with recursive r(n) as (values (1) union all select n+1 from r) select * from r",
    "selectselectselectselect", "SeLeCt 1", "'; SET x = 1; --", "select 1; set y = 2", "select 1;\0set y = 2",
    "\x00\x01\x02\xff\xfe", "SELECT 'é' -- ünïcödé", "select $1, $2::text", "COPY t FROM STDIN",
    "with x as (merge into t using s on true when matched then delete) select 1",
    "set_config", "_config set_confi et_config advisory_loc _lock", "x" * 2000 + "Advisory_Lock",
]
write("sql_text", [(f"sql_{i:02}", s) for i, s in enumerate(sql)])
