"""The PostgreSQL catalog tables clients read: each table's columns with their types, the
tables that are always empty, and the fixed oids (queryleaf.pgwire.catalog_tables fills them)."""

from __future__ import annotations

import zlib

from queryleaf.pgwire import types

B, C, I2, I4, I8, T, OID_, F4 = (
    types.BOOL,
    types.CHAR,
    types.INT2,
    types.INT4,
    types.INT8,
    types.TEXT,
    types.OID,
    types.FLOAT4,
)
N = types.NAME
ARR = types.TEXT_ARRAY

PUBLIC, PG_CATALOG, INFORMATION_SCHEMA = 2200, 11, 13000
OWNER = 10
DATABASE_OID = 16383
PG_CLASS_OID = 1259


def _cols(spec: str, default: int = T) -> list[tuple[str, int]]:
    """'name:oid name2 ...' with a default type."""
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        out.append(
            (
                name,
                {
                    "b": B,
                    "c": C,
                    "i2": I2,
                    "i4": I4,
                    "i8": I8,
                    "o": OID_,
                    "n": N,
                    "f4": F4,
                    "t": T,
                    "a": ARR,
                }.get(kind, default)
                if kind
                else default,
            )
        )
    return out


TABLES: dict[str, list[tuple[str, int]]] = {
    "pg_namespace": _cols("oid:o nspname:n nspowner:o nspacl:a"),
    "pg_class": _cols(
        "oid:o relname:n relnamespace:o reltype:o reloftype:o relowner:o relam:o "
        "relfilenode:o reltablespace:o relpages:i4 reltuples:f4 relallvisible:i4 "
        "reltoastrelid:o relhasindex:b relisshared:b relpersistence:c relkind:c relnatts:i2 "
        "relchecks:i2 relhasrules:b relhastriggers:b relhassubclass:b relrowsecurity:b "
        "relforcerowsecurity:b relispopulated:b relreplident:c relispartition:b "
        "relrewrite:o relfrozenxid:o relminmxid:o relacl:a reloptions:a relpartbound:t"
    ),
    "pg_attribute": _cols(
        "attrelid:o attname:n atttypid:o attstattarget:i4 attlen:i2 attnum:i2 attndims:i4 "
        "attcacheoff:i4 atttypmod:i4 attbyval:b attalign:c attstorage:c attcompression:c "
        "attnotnull:b atthasdef:b atthasmissing:b attidentity:c attgenerated:c "
        "attisdropped:b attislocal:b attinhcount:i4 attcollation:o attacl:a attoptions:a"
    ),
    "pg_type": _cols(
        "oid:o typname:n typnamespace:o typowner:o typlen:i2 typbyval:b typtype:c "
        "typcategory:c typispreferred:b typisdefined:b typdelim:c typrelid:o typsubscript:t "
        "typelem:o typarray:o typinput:t typoutput:t typreceive:t typsend:t typmodin:t "
        "typmodout:t typanalyze:t typalign:c typstorage:c typnotnull:b typbasetype:o "
        "typtypmod:i4 typndims:i4 typcollation:o typdefault:t typacl:a"
    ),
    "pg_database": _cols(
        "oid:o datname:n datdba:o encoding:i4 datlocprovider:c datistemplate:b "
        "datallowconn:b datconnlimit:i4 datfrozenxid:o datminmxid:o dattablespace:o "
        "datcollate:t datctype:t daticulocale:t datcollversion:t datacl:a"
    ),
    "pg_am": _cols("oid:o amname:n amhandler:t amtype:c"),
    "pg_roles": _cols(
        "rolname:n rolsuper:b rolinherit:b rolcreaterole:b rolcreatedb:b rolcanlogin:b "
        "rolreplication:b rolconnlimit:i4 rolpassword:t rolvaliduntil:t rolbypassrls:b "
        "rolconfig:a oid:o"
    ),
    "pg_user": _cols(
        "usename:n usesysid:o usecreatedb:b usesuper:b userepl:b usebypassrls:b passwd:t "
        "valuntil:t useconfig:a"
    ),
    "pg_index": _cols(
        "indexrelid:o indrelid:o indnatts:i2 indnkeyatts:i2 indisunique:b "
        "indnullsnotdistinct:b indisprimary:b indisexclusion:b indimmediate:b "
        "indisclustered:b indisvalid:b indcheckxmin:b indisready:b indislive:b "
        "indisreplident:b indkey:t indcollation:t indclass:t indoption:t indexprs:t "
        "indpred:t indexdef_text:t"
    ),
    "pg_description": _cols("objoid:o classoid:o objsubid:i4 description:t"),
    "pg_settings": _cols(
        "name setting unit category short_desc extra_desc context vartype source min_val "
        "max_val enumvals:a boot_val reset_val sourcefile sourceline:i4 pending_restart:b"
    ),
    "pg_tables": _cols(
        "schemaname:n tablename:n tableowner:n tablespace:n hasindexes:b hasrules:b "
        "hastriggers:b rowsecurity:b"
    ),
    "pg_views": _cols("schemaname:n viewname:n viewowner:n definition"),
    "pg_matviews": _cols("schemaname:n matviewname:n matviewowner:n definition"),
    "information_schema_schemata": _cols(
        "catalog_name schema_name schema_owner default_character_set_catalog "
        "default_character_set_schema default_character_set_name sql_path"
    ),
    "information_schema_tables": _cols(
        "table_catalog table_schema table_name table_type self_referencing_column_name "
        "reference_generation user_defined_type_catalog user_defined_type_schema "
        "user_defined_type_name is_insertable_into is_typed commit_action"
    ),
    "information_schema_columns": _cols(
        "table_catalog table_schema table_name column_name ordinal_position:i4 "
        "column_default is_nullable data_type character_maximum_length:i4 "
        "character_octet_length:i4 numeric_precision:i4 numeric_precision_radix:i4 "
        "numeric_scale:i4 datetime_precision:i4 udt_catalog udt_schema udt_name "
        "is_identity is_generated is_updatable"
    ),
    "information_schema_views": _cols(
        "table_catalog table_schema table_name view_definition check_option is_updatable "
        "is_insertable_into"
    ),
    # Empty where MongoDB has nothing to show.
    "pg_attrdef": _cols("oid:o adrelid:o adnum:i2 adbin:t"),
    "pg_constraint": _cols(
        "oid:o conname:n connamespace:o contype:c condeferrable:b condeferred:b "
        "convalidated:b conrelid:o contypid:o conindid:o conparentid:o confrelid:o "
        "confupdtype:c confdeltype:c confmatchtype:c conislocal:b coninhcount:i4 "
        "connoinherit:b conkey:a confkey:a conbin:t"
    ),
    "pg_inherits": _cols("inhrelid:o inhparent:o inhseqno:i4 inhdetachpending:b"),
    "pg_policy": _cols(
        "oid:o polname:n polrelid:o polcmd:c polpermissive:b polroles:a polqual:t polwithcheck:t"
    ),
    "pg_publication": _cols(
        "oid:o pubname:n pubowner:o puballtables:b pubinsert:b pubupdate:b pubdelete:b "
        "pubtruncate:b pubviaroot:b"
    ),
    "pg_publication_namespace": _cols("oid:o pnpubid:o pnnspid:o"),
    "pg_publication_rel": _cols("oid:o prpubid:o prrelid:o prqual:t prattrs:a"),
    "pg_statistic_ext": _cols(
        "oid:o stxrelid:o stxname:n stxnamespace:o stxowner:o stxstattarget:i4 stxkeys:a "
        "stxkind:a stxexprs:t"
    ),
    "pg_enum": _cols("oid:o enumtypid:o enumsortorder:f4 enumlabel:n"),
    "pg_collation": _cols("oid:o collname:n collnamespace:o collowner:o collprovider:c"),
    "pg_trigger": _cols("oid:o tgrelid:o tgname:n tgenabled:c tgisinternal:b"),
    "pg_rewrite": _cols("oid:o rulename:n ev_class:o ev_type:c is_instead:b"),
    "pg_proc": _cols("oid:o proname:n pronamespace:o prorettype:o prokind:c"),
    "pg_extension": _cols("oid:o extname:n extowner:o extnamespace:o extversion:t"),
    "pg_sequence": _cols("seqrelid:o seqtypid:o seqstart:i8 seqincrement:i8"),
    "pg_depend": _cols(
        "classid:o objid:o objsubid:i4 refclassid:o refobjid:o refobjsubid:i4 deptype:c"
    ),
    "pg_foreign_table": _cols("ftrelid:o ftserver:o ftoptions:a"),
    "pg_partitioned_table": _cols("partrelid:o partstrat:c partnatts:i2"),
    "pg_event_trigger": _cols("oid:o evtname:n evtevent:n"),
    "pg_shdescription": _cols("objoid:o classoid:o description:t"),
    "pg_tablespace": _cols("oid:o spcname:n spcowner:o"),
}
EMPTY = {
    "pg_attrdef", "pg_constraint", "pg_inherits", "pg_policy", "pg_publication",
    "pg_publication_namespace", "pg_publication_rel", "pg_statistic_ext", "pg_enum",
    "pg_collation", "pg_trigger", "pg_rewrite", "pg_proc", "pg_extension", "pg_sequence",
    "pg_depend", "pg_foreign_table", "pg_partitioned_table", "pg_event_trigger",
    "pg_shdescription", "pg_tablespace", "pg_description", "pg_matviews",
}  # fmt: skip


def relation_oid(name: str) -> int:
    """A stable oid for a collection, view or index name (same in every session)."""
    return 16384 + zlib.crc32(name.encode()) % 2_000_000_000
