"""What each emulated cluster's PostgreSQL database holds besides user tables.

* ``v_emulator``: the emulator's own schema (hidden from the catalog): Vertica functions PostgreSQL
  lacks, and two side tables: the spelling of schema/table/column names as created (identifiers are
  folded to lower case in PostgreSQL, as Vertica compares them case-insensitively) and the declared,
  not enforced, primary keys.
* ``v_catalog``: views with Vertica's names and columns (schemata, tables, columns, primary_keys).
"""

from __future__ import annotations

HIDDEN_SCHEMAS = "('information_schema', 'v_emulator', 'pg_catalog', 'pg_toast')"

INIT_SQL = (
    r"""
CREATE SCHEMA v_emulator;
CREATE SCHEMA v_catalog;

CREATE TABLE v_emulator.names (
    schema_name  text NOT NULL,
    table_name   text NOT NULL DEFAULT '',
    column_name  text NOT NULL DEFAULT '',
    spelling     text NOT NULL,
    vertica_type text,
    PRIMARY KEY (schema_name, table_name, column_name)
);
CREATE TABLE v_emulator.primary_keys (
    schema_name      text NOT NULL,
    table_name       text NOT NULL,
    constraint_name  text NOT NULL,
    column_name      text NOT NULL,
    ordinal_position int  NOT NULL,
    PRIMARY KEY (schema_name, table_name, column_name)
);

-- Vertica casts BOOLEAN to and from INTEGER (64-bit here): true = 1.
CREATE FUNCTION v_emulator.bool_to_int8(boolean) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT CASE WHEN $1 THEN 1::bigint ELSE 0::bigint END $$;
CREATE CAST (boolean AS bigint) WITH FUNCTION v_emulator.bool_to_int8(boolean);
CREATE FUNCTION v_emulator.int8_to_bool(bigint) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1 <> 0 $$;
CREATE CAST (bigint AS boolean) WITH FUNCTION v_emulator.int8_to_bool(bigint);

-- Vertica converts strings to the column's type on assignment (INSERT ... SELECT '2024-01-02 ...').
CREATE CAST (text AS timestamp) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS timestamptz) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS date) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS bigint) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS numeric) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS boolean) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS float8) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS timestamp) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS timestamptz) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS date) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS bigint) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS numeric) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS boolean) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS float8) WITH INOUT AS ASSIGNMENT;

-- TO_HEX(VARBINARY): lower-case hex digits (pg_catalog.to_hex covers integers).
CREATE FUNCTION v_emulator.to_hex(bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT encode($1, 'hex') $$;

-- ROUND(NUMERIC, INTEGER): Vertica's INTEGER is 64-bit; PostgreSQL has round(numeric, int4) only.
CREATE FUNCTION v_emulator.round(numeric, bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pg_catalog.round($1, CAST($2 AS integer)) $$;

-- HEX_TO_BINARY('[0x]hex'): the VARBINARY the hexadecimal digits denote.
CREATE FUNCTION v_emulator.hex_to_binary(text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT decode(regexp_replace($1, '^0[xX]', ''), 'hex') $$;

-- HEX_TO_INTEGER('[0x]hex'): the INTEGER (64-bit) the hexadecimal digits denote.
CREATE FUNCTION v_emulator.hex_to_integer(text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE digits text := regexp_replace($1, '^0[xX]', '');
BEGIN
    IF digits = '' OR digits !~ '^[0-9A-Fa-f]+$' THEN
        RAISE EXCEPTION 'Invalid hexadecimal string: %', $1 USING ERRCODE = '22023';
    END IF;
    IF length(digits) > 16 THEN
        RAISE EXCEPTION 'Value exceeds range of type INTEGER: %', $1 USING ERRCODE = '22003';
    END IF;
    RETURN ('x' || lpad(digits, 16, '0'))::bit(64)::bigint;
END $$;

-- HASH(expr, ...): a non-negative 64-bit value that depends on each argument's type and value.
CREATE FUNCTION v_emulator.vertica_hash(text[]) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$
    SELECT hashtextextended(array_to_string($1, chr(1), chr(2)), 0) & 9223372036854775807
$$;

-- A PostgreSQL column type in Vertica's spelling (v_catalog.columns.data_type).
CREATE FUNCTION v_emulator.vertica_type(typ oid, typmod int) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN typ IN (20, 21, 23) THEN 'int'
        WHEN typ IN (700, 701) THEN 'float'
        WHEN typ = 16 THEN 'boolean'
        WHEN typ = 1043 THEN 'varchar(' || CASE WHEN typmod > 0 THEN typmod - 4 ELSE 80 END || ')'
        WHEN typ = 1042 THEN 'char(' || CASE WHEN typmod > 0 THEN typmod - 4 ELSE 1 END || ')'
        WHEN typ = 25 THEN 'long varchar(1048576)'
        WHEN typ = 1700 THEN 'numeric(' || CASE WHEN typmod > 0 THEN ((typmod - 4) >> 16) || ',' ||
                                   ((typmod - 4) & 65535) ELSE '37,15' END || ')'
        WHEN typ = 1082 THEN 'date'
        WHEN typ = 1083 THEN 'time'
        WHEN typ = 1266 THEN 'timetz'
        WHEN typ = 1114 THEN 'timestamp'
        WHEN typ = 1184 THEN 'timestamptz'
        WHEN typ = 17 THEN 'varbinary(80)'
        WHEN typ = 2950 THEN 'uuid'
        WHEN typ = 1186 THEN 'interval'
        ELSE format_type(typ, typmod)
    END
$$;

CREATE FUNCTION v_emulator.vertica_type_length(typ oid, typmod int, vtype text) RETURNS int
    LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN vtype ~ '^(long )?(var)?(char|binary)\(\d+\)$' THEN substring(vtype from '\((\d+)\)')::int
        WHEN typ = 16 THEN 1
        WHEN typ = 1700 THEN ((CASE WHEN typmod > 0 THEN (typmod - 4) >> 16 ELSE 37 END) / 19 + 1) * 8
        WHEN typ = 2950 THEN 16
        ELSE 8
    END
$$;

CREATE VIEW v_emulator.relations AS
SELECT c.oid AS table_id, c.relname, c.relnamespace, n.nspname,
       CASE WHEN n.nspname LIKE 'pg_temp_%' THEN 'v_temp_schema' ELSE n.nspname END AS schema_key,
       c.relpersistence = 't' AS is_temp, c.relowner
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN """
    + HIDDEN_SCHEMAS
    + r"""
  AND n.nspname NOT LIKE 'pg_toast%'
  AND NOT pg_is_other_temp_schema(n.oid);

CREATE VIEW v_catalog.schemata AS
SELECT n.oid::bigint AS schema_id,
       COALESCE(s.spelling, n.nspname)::varchar(128) AS schema_name,
       n.nspowner::bigint AS schema_owner_id,
       pg_get_userbyid(n.nspowner)::varchar(128) AS schema_owner,
       n.nspname = 'v_catalog' AS is_system_schema,
       NULL::timestamptz AS create_time
FROM pg_namespace AS n
LEFT JOIN v_emulator.names AS s ON s.schema_name = n.nspname AND s.table_name = '' AND s.column_name = ''
WHERE n.nspname NOT IN """
    + HIDDEN_SCHEMAS
    + r"""
  AND n.nspname NOT LIKE 'pg\_%';

CREATE VIEW v_catalog.tables AS
SELECT r.relnamespace::bigint AS table_schema_id,
       (CASE WHEN r.is_temp THEN 'v_temp_schema' ELSE COALESCE(s.spelling, r.nspname) END)::varchar(128)
           AS table_schema,
       r.table_id::bigint AS table_id,
       COALESCE(t.spelling, r.relname)::varchar(128) AS table_name,
       r.relowner::bigint AS owner_id,
       pg_get_userbyid(r.relowner)::varchar(128) AS owner_name,
       r.is_temp AS is_temp_table,
       false AS is_system_table,
       false AS force_outer,
       false AS is_flextable,
       false AS is_shared,
       false AS has_aggregate_projection,
       NULL::varchar(128) AS system_table_creator,
       ''::varchar(8192) AS partition_expression,
       NULL::timestamptz AS create_time,
       ''::varchar(8192) AS table_definition,
       0::bigint AS recover_priority,
       'DIRECT'::varchar(8) AS storage_mode
FROM v_emulator.relations AS r
LEFT JOIN v_emulator.names AS s ON s.schema_name = r.schema_key AND s.table_name = '' AND s.column_name = ''
LEFT JOIN v_emulator.names AS t ON t.schema_name = r.schema_key AND t.table_name = r.relname
                                 AND t.column_name = '';

CREATE VIEW v_catalog.columns AS
SELECT (r.table_id::bigint::text || '-' || a.attnum)::varchar(41) AS column_id,
       r.table_id::bigint AS table_id,
       (CASE WHEN r.is_temp THEN 'v_temp_schema' ELSE COALESCE(s.spelling, r.nspname) END)::varchar(128)
           AS table_schema,
       COALESCE(t.spelling, r.relname)::varchar(128) AS table_name,
       false AS is_system_table,
       COALESCE(k.spelling, a.attname)::varchar(128) AS column_name,
       COALESCE(k.vertica_type, v_emulator.vertica_type(a.atttypid, a.atttypmod))::varchar(128) AS data_type,
       a.atttypid::bigint AS data_type_id,
       v_emulator.vertica_type_length(a.atttypid, a.atttypmod,
           COALESCE(k.vertica_type, v_emulator.vertica_type(a.atttypid, a.atttypmod)))::bigint
           AS data_type_length,
       (CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod > 0 THEN a.atttypmod - 4 END)::bigint
           AS character_maximum_length,
       (CASE WHEN a.atttypid = 1700 THEN
            CASE WHEN a.atttypmod > 0 THEN (a.atttypmod - 4) >> 16 ELSE 37 END END)::bigint
           AS numeric_precision,
       (CASE WHEN a.atttypid = 1700 THEN
            CASE WHEN a.atttypmod > 0 THEN (a.atttypmod - 4) & 65535 ELSE 15 END END)::bigint
           AS numeric_scale,
       (CASE WHEN a.atttypid IN (1083, 1114, 1184, 1266) THEN
            CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE 6 END END)::bigint AS datetime_precision,
       NULL::bigint AS interval_precision,
       a.attnum::bigint AS ordinal_position,
       NOT a.attnotnull AS is_nullable,
       pg_get_expr(d.adbin, d.adrelid)::varchar(8192) AS column_default,
       ''::varchar(8192) AS column_set_using,
       a.attidentity <> '' AS is_identity
FROM v_emulator.relations AS r
JOIN pg_attribute AS a ON a.attrelid = r.table_id AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN v_emulator.names AS s ON s.schema_name = r.schema_key AND s.table_name = '' AND s.column_name = ''
LEFT JOIN v_emulator.names AS t ON t.schema_name = r.schema_key AND t.table_name = r.relname
                                 AND t.column_name = ''
LEFT JOIN v_emulator.names AS k ON k.schema_name = r.schema_key AND k.table_name = r.relname
                                 AND k.column_name = a.attname;

CREATE VIEW v_catalog.primary_keys AS
SELECT (r.table_id::bigint * 1000 + 1)::bigint AS constraint_id,
       p.constraint_name::varchar(128) AS constraint_name,
       COALESCE(k.spelling, p.column_name)::varchar(128) AS column_name,
       p.ordinal_position::bigint AS ordinal_position,
       COALESCE(t.spelling, r.relname)::varchar(128) AS table_name,
       'p'::char(1) AS constraint_type,
       (CASE WHEN r.is_temp THEN 'v_temp_schema' ELSE COALESCE(s.spelling, r.nspname) END)::varchar(128)
           AS table_schema,
       false AS is_enabled
FROM v_emulator.primary_keys AS p
JOIN v_emulator.relations AS r ON r.schema_key = p.schema_name AND r.relname = p.table_name
LEFT JOIN v_emulator.names AS s ON s.schema_name = r.schema_key AND s.table_name = '' AND s.column_name = ''
LEFT JOIN v_emulator.names AS t ON t.schema_name = r.schema_key AND t.table_name = r.relname
                                 AND t.column_name = ''
LEFT JOIN v_emulator.names AS k ON k.schema_name = r.schema_key AND k.table_name = r.relname
                                 AND k.column_name = p.column_name;
"""
)
