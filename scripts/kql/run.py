"""Runs a KQL query over rows with duckdb-kql (see scripts/kql-run)."""
import json
import sys

import duckdb_kql
from duckdb_kql.translate import functions

TYPES = {"datetime": "TIMESTAMP", "string": "VARCHAR", "long": "BIGINT", "int": "INTEGER",
         "bool": "BOOLEAN", "dynamic": "JSON"}

schema = json.load(open(sys.argv[1]))
given = json.load(sys.stdin)
con = duckdb_kql.connect()


# duckdb-kql 1.1.2 has no mapping for ipv4_is_in_range: it is supplied here as a DuckDB macro, null
# when the address is not dotted IPv4 (as Kusto returns), so that the public-address rules run.
con.sql(r"""CREATE MACRO shellward_ipv4(a) AS
    CAST(split_part(a, '.', 1) AS BIGINT) * 16777216 + CAST(split_part(a, '.', 2) AS BIGINT) * 65536
    + CAST(split_part(a, '.', 3) AS BIGINT) * 256 + CAST(split_part(a, '.', 4) AS BIGINT)""")
con.sql(r"""CREATE MACRO shellward_ipv4_is_in_range(ip, cidr) AS
    CASE WHEN regexp_full_match(CAST(ip AS VARCHAR), '[0-9]{1,3}(\.[0-9]{1,3}){3}')
    THEN (shellward_ipv4(ip) >> (32 - coalesce(TRY_CAST(split_part(cidr, '/', 2) AS BIGINT), 32)))
       = (shellward_ipv4(split_part(cidr, '/', 1)) >> (32 - coalesce(TRY_CAST(split_part(cidr, '/', 2) AS BIGINT), 32)))
    END""")
# ipv6_is_in_range likewise, for the rows the tests have: an IPv4 address is in none of the IPv6
# ranges the rules name (loopback, unique and link local); an IPv6 address is refused, not guessed.
con.sql(r"""CREATE MACRO shellward_ipv6_is_in_range(ip, cidr) AS
    CASE WHEN contains(CAST(ip AS VARCHAR), ':') THEN error('ipv6_is_in_range is not emulated for IPv6 addresses')
    WHEN regexp_full_match(CAST(ip AS VARCHAR), '[0-9]{1,3}(\.[0-9]{1,3}){3}') THEN false END""")
functions.SCALAR_FUNCTIONS["ipv6_is_in_range"] = functions.FunctionSpec(
    "ipv6_is_in_range", "native", "shellward_ipv6_is_in_range({0}, {1})", (2,))
functions.SCALAR_FUNCTIONS["ipv4_is_in_range"] = functions.FunctionSpec(
    "ipv4_is_in_range", "native", "shellward_ipv4_is_in_range({0}, {1})", (2,))
for table, columns in schema["tables"].items():
    con.sql(f'CREATE TABLE "{table}" (' + ", ".join(f'"{c}" {TYPES[t]}' for c, t in columns.items()) + ")")
    for row in given["rows"].get(table, []):
        names = list(row)
        marks = ", ".join("?" for _ in names)
        con.execute(f'INSERT INTO "{table}" (' + ", ".join(f'"{n}"' for n in names) + f") VALUES ({marks})",
                    [row[n] for n in names])
query = "\n".join(line for line in given["query"].splitlines() if not line.lstrip().startswith("//"))
result = duckdb_kql.kql(con, query)
names = [d[0] for d in result.description]
print(json.dumps([{n: (None if v is None else str(v)) for n, v in zip(names, row)} for row in result.fetchall()]))
