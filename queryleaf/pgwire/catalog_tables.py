"""The documents of the PostgreSQL catalog tables (queryleaf.pgwire.catalog_schema), built
from the user's database: collections are tables, views are views, columns come from
`$jsonSchema` validators and sampled fields, indexes from listIndexes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from queryleaf.pgwire import types
from queryleaf.pgwire.catalog_schema import (
    DATABASE_OID,
    EMPTY,
    INFORMATION_SCHEMA,
    OWNER,
    PG_CATALOG,
    PUBLIC,
    TABLES,
    relation_oid,
)
from queryleaf.pgwire.describe import declared_types, field_types

__all__ = ["EMPTY", "TABLES", "build", "relation_oid"]


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
    try:
        found = field_types(db, name, options)
    except Exception:  # a view whose pipeline fails still lists as a relation
        found = declared_types(options)
    columns = {path: oid for path, oid in found.items() if "." not in path}
    if "_id" in columns:
        columns = {"_id": columns.pop("_id"), **columns}
    return list(columns.items())


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
