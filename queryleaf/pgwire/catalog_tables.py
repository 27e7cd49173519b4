"""The PostgreSQL catalog tables clients read, as column lists with types, and the documents
that fill them from the user's database: collections are tables, views are views, columns come
from `$jsonSchema` validators and sampled fields, indexes from listIndexes."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from queryleaf.pgwire import types
from queryleaf.pgwire.describe import sample_types

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


def _row(table: str, **values: Any) -> dict[str, Any]:
    """A document with every column of `table` (NULL where not given)."""
    return {name: values.get(name) for name, _ in TABLES[table]}


def build(
    db: Any, user: str, database: str, settings: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Every catalog table's documents for the user's database."""
    docs: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    docs["pg_namespace"] = [
        _row("pg_namespace", oid=PUBLIC, nspname="public", nspowner=OWNER),
        _row("pg_namespace", oid=PG_CATALOG, nspname="pg_catalog", nspowner=OWNER),
        _row("pg_namespace", oid=INFORMATION_SCHEMA, nspname="information_schema", nspowner=OWNER),
    ]
    docs["pg_am"] = [
        _row("pg_am", oid=2, amname="heap", amtype="t"),
        _row("pg_am", oid=403, amname="btree", amtype="i"),
    ]
    docs["pg_database"] = [
        _row(
            "pg_database",
            oid=DATABASE_OID,
            datname=database,
            datdba=OWNER,
            encoding=6,
            datlocprovider="c",
            datistemplate=False,
            datallowconn=True,
            datconnlimit=-1,
            dattablespace=1663,
            datcollate="C",
            datctype="C",
        )
    ]
    docs["pg_roles"] = [
        _row(
            "pg_roles",
            rolname=user,
            rolsuper=False,
            rolinherit=True,
            rolcreaterole=False,
            rolcreatedb=False,
            rolcanlogin=True,
            rolreplication=False,
            rolconnlimit=-1,
            rolbypassrls=False,
            oid=OWNER,
        )
    ]
    docs["pg_user"] = [
        _row(
            "pg_user",
            usename=user,
            usesysid=OWNER,
            usecreatedb=False,
            usesuper=False,
            userepl=False,
            usebypassrls=False,
        )
    ]
    docs["pg_type"] = list(_type_rows())
    docs["pg_settings"] = [
        _row(
            "pg_settings",
            name=k,
            setting=v,
            category="queryleaf",
            context="user",
            vartype="string",
            source="session",
            boot_val=v,
            reset_val=v,
        )
        for k, v in sorted(settings.items())
    ]
    docs["information_schema_schemata"] = [
        _row(
            "information_schema_schemata",
            catalog_name=database,
            schema_name=name,
            schema_owner=user,
        )
        for name in ("public", "pg_catalog", "information_schema")
    ]
    for name, kind, options in _relations(db):
        _relation(docs, db, name, kind, options, user, database)
    return docs


def _relations(db: Any) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for info in db.list_collections():
        name = info["name"]
        if name.startswith("system."):
            continue
        yield name, info.get("type", "collection"), info.get("options") or {}


def _relation(
    docs: dict[str, list[dict[str, Any]]],
    db: Any,
    name: str,
    kind: str,
    options: dict[str, Any],
    user: str,
    database: str,
) -> None:
    oid = relation_oid(name)
    is_view = kind == "view"
    columns = _columns(db, name, options)
    indexes = [] if is_view else list(_indexes(db, name))
    docs["pg_class"].append(
        _row(
            "pg_class",
            oid=oid,
            relname=name,
            relnamespace=PUBLIC,
            reltype=0,
            reloftype=0,
            relowner=OWNER,
            relam=0 if is_view else 2,
            relfilenode=oid,
            reltablespace=0,
            relpages=0,
            reltuples=-1.0,
            relallvisible=0,
            reltoastrelid=0,
            relhasindex=bool(indexes),
            relisshared=False,
            relpersistence="p",
            relkind="v" if is_view else "r",
            relnatts=len(columns),
            relchecks=0,
            relhasrules=is_view,
            relhastriggers=False,
            relhassubclass=False,
            relrowsecurity=False,
            relforcerowsecurity=False,
            relispopulated=True,
            relreplident="d",
            relispartition=False,
            relrewrite=0,
        )
    )
    for number, (column, type_oid) in enumerate(columns, start=1):
        docs["pg_attribute"].append(
            _row(
                "pg_attribute",
                attrelid=oid,
                attname=column,
                atttypid=type_oid,
                attstattarget=-1,
                attlen=types.type_size(type_oid),
                attnum=number,
                attndims=0,
                attcacheoff=-1,
                atttypmod=-1,
                attbyval=False,
                attalign="i",
                attstorage="x",
                attcompression="",
                attnotnull=column == "_id",
                atthasdef=False,
                atthasmissing=False,
                attidentity="",
                attgenerated="",
                attisdropped=False,
                attislocal=True,
                attinhcount=0,
                attcollation=0,
            )
        )
        docs["information_schema_columns"].append(
            _row(
                "information_schema_columns",
                table_catalog=database,
                table_schema="public",
                table_name=name,
                column_name=column,
                ordinal_position=number,
                is_nullable="NO" if column == "_id" else "YES",
                data_type=types.type_name(type_oid),
                udt_catalog=database,
                udt_schema="pg_catalog",
                udt_name=types.TYPES.get(type_oid, ("text",))[0],
                is_identity="NO",
                is_generated="NEVER",
                is_updatable="YES",
            )
        )
    docs["information_schema_tables"].append(
        _row(
            "information_schema_tables",
            table_catalog=database,
            table_schema="public",
            table_name=name,
            table_type="VIEW" if is_view else "BASE TABLE",
            is_insertable_into="NO" if is_view else "YES",
            is_typed="NO",
        )
    )
    if is_view:
        definition = _view_definition(options)
        docs["pg_views"].append(
            _row(
                "pg_views",
                schemaname="public",
                viewname=name,
                viewowner=user,
                definition=definition,
            )
        )
        docs["information_schema_views"].append(
            _row(
                "information_schema_views",
                table_catalog=database,
                table_schema="public",
                table_name=name,
                view_definition=definition,
                check_option="NONE",
                is_updatable="NO",
                is_insertable_into="NO",
            )
        )
        return
    docs["pg_tables"].append(
        _row(
            "pg_tables",
            schemaname="public",
            tablename=name,
            tableowner=user,
            hasindexes=bool(indexes),
            hasrules=False,
            hastriggers=False,
            rowsecurity=False,
        )
    )
    positions = {column: number for number, (column, _) in enumerate(columns, start=1)}
    for index_name, keys, unique in indexes:
        index_oid = relation_oid(f"{name}.{index_name}")
        key_text = ", ".join(keys)
        definition = (
            f"CREATE {'UNIQUE ' if unique else ''}INDEX {index_name} "
            f"ON public.{name} USING btree ({key_text})"
        )
        docs["pg_class"].append(
            _row(
                "pg_class",
                oid=index_oid,
                relname=index_name,
                relnamespace=PUBLIC,
                relowner=OWNER,
                relam=403,
                reltablespace=0,
                relkind="i",
                relpersistence="p",
                relnatts=len(keys),
                relhasindex=False,
                relispartition=False,
                reltype=0,
                reloftype=0,
                relchecks=0,
            )
        )
        docs["pg_index"].append(
            _row(
                "pg_index",
                indexrelid=index_oid,
                indrelid=oid,
                indnatts=len(keys),
                indnkeyatts=len(keys),
                indisunique=unique,
                indisprimary=index_name == "_id_",
                indisexclusion=False,
                indimmediate=True,
                indisclustered=False,
                indisvalid=True,
                indisready=True,
                indislive=True,
                indisreplident=False,
                indkey=" ".join(str(positions.get(k, 0)) for k in keys),
                indexdef_text=definition,
            )
        )


def _columns(db: Any, name: str, options: dict[str, Any]) -> list[tuple[str, int]]:
    """Declared columns ($jsonSchema properties) first, then sampled top-level fields."""
    columns: dict[str, int] = {}
    schema = (options.get("validator") or {}).get("$jsonSchema") or {}
    for field, spec in (schema.get("properties") or {}).items():
        columns[field] = _bson_type_oid(spec.get("bsonType") if isinstance(spec, dict) else None)
    try:
        sampled = sample_types(db, name)
    except Exception:  # a view whose pipeline fails still lists as a relation
        sampled = {}
    for path, oid in sampled.items():
        if "." not in path and path not in columns:
            columns[path] = oid
    if "_id" in columns:
        columns = {"_id": columns.pop("_id"), **columns}
    return list(columns.items())


_BSON_TYPES = {
    "string": T,
    "int": I4,
    "long": I8,
    "double": types.FLOAT8,
    "decimal": types.NUMERIC,
    "bool": B,
    "date": types.TIMESTAMPTZ,
    "object": types.JSONB,
    "array": types.JSONB,
    "objectId": T,
    "binData": types.BYTEA,
    "number": types.FLOAT8,
}


def _bson_type_oid(kind: Any) -> int:
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    return _BSON_TYPES.get(kind, T) if isinstance(kind, str) else T


def _indexes(db: Any, name: str) -> Iterable[tuple[str, list[str], bool]]:
    try:
        for info in db[name].list_indexes():
            keys = [str(k) for k in dict(info.get("key", {}))]
            yield info["name"], keys, bool(info.get("unique")) or info["name"] == "_id_"
    except Exception:
        return


def _view_definition(options: dict[str, Any]) -> str:
    pipeline = options.get("pipeline") or []
    return f"-- MongoDB view on {options.get('viewOn', '?')}: {types.to_json(pipeline)}"


def _type_rows() -> Iterable[dict[str, Any]]:
    for oid, (name, size, array, category) in types.TYPES.items():
        yield _row(
            "pg_type",
            oid=oid,
            typname=name,
            typnamespace=PG_CATALOG,
            typowner=OWNER,
            typlen=size,
            typbyval=0 < size <= 8,
            typtype="b",
            typcategory=category,
            typispreferred=False,
            typisdefined=True,
            typdelim=",",
            typrelid=0,
            typelem=0,
            typarray=array,
            typinput=f"{name}in",
            typoutput=f"{name}out",
            typalign="i",
            typstorage="p",
            typnotnull=False,
            typbasetype=0,
            typtypmod=-1,
            typndims=0,
            typcollation=100 if category == "S" else 0,
        )
        if array:
            yield _row(
                "pg_type",
                oid=array,
                typname="_" + name,
                typnamespace=PG_CATALOG,
                typowner=OWNER,
                typlen=-1,
                typbyval=False,
                typtype="b",
                typcategory="A",
                typispreferred=False,
                typisdefined=True,
                typdelim=",",
                typrelid=0,
                typelem=oid,
                typarray=0,
                typinput="array_in",
                typoutput="array_out",
                typalign="i",
                typstorage="x",
                typnotnull=False,
                typbasetype=0,
                typtypmod=-1,
                typndims=0,
                typcollation=0,
            )
