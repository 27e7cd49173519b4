"""Handshake and administration: hello/isMaster, ping, buildInfo, getParameter, serverStatus,
listDatabases, sessions, and the small commands drivers and shells send on connecting."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from typing import Any

from bson import Int64, ObjectId

from . import auth
from .engine import Call, Spec
from .errors import CommandError
from .wire import MAX_BSON_SIZE, MAX_MESSAGE_SIZE

VERSION = "7.0.0"
MAX_WIRE_VERSION = 21  # MongoDB 7.0
SET_NAME = "queryleaf"
ELECTION_ID = ObjectId("7fffffff0000000000000001")


def hello(call: Call) -> dict[str, Any]:
    engine = call.engine
    me = engine.address
    legacy = call.name in ("isMaster", "ismaster")
    reply: dict[str, Any] = {
        "topologyVersion": None,
        "hosts": [me],
        "setName": SET_NAME,
        "setVersion": 1,
        ("ismaster" if legacy else "isWritablePrimary"): True,
        "secondary": False,
        "primary": me,
        "me": me,
        "electionId": ELECTION_ID,
        "lastWrite": {
            "lastWriteDate": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        },
        "maxBsonObjectSize": MAX_BSON_SIZE,
        "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
        "maxWriteBatchSize": 100_000,
        "localTime": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "logicalSessionTimeoutMinutes": 30,
        "connectionId": call.conn.id,
        "minWireVersion": 0,
        "maxWireVersion": MAX_WIRE_VERSION,
        "readOnly": False,
    }
    del reply["topologyVersion"]  # no streaming hello: drivers poll
    if call.command.get("helloOk"):
        reply["helloOk"] = True
    mechanisms = call.command.get("saslSupportedMechs")
    if isinstance(mechanisms, str) and engine.auth is not None:
        # Announced for any name, so a reply never tells whether a user exists.
        reply["saslSupportedMechs"] = [auth.MECHANISM]
    return reply


def ping(call: Call) -> dict[str, Any]:
    return {}


def build_info(call: Call) -> dict[str, Any]:
    return {
        "version": VERSION,
        "gitVersion": "queryleaf-serve",
        "versionArray": [7, 0, 0, 0],
        "bits": 64,
        "debug": False,
        "maxBsonObjectSize": MAX_BSON_SIZE,
        "javascriptEngine": "none",
        "storageEngines": ["queryleaf"],
        "modules": [],
        "sysInfo": "deprecated",
        "allocator": "system",
        "openssl": {"running": "disabled", "compiled": "disabled"},
        "buildEnvironment": {"target_os": sys.platform},
    }


_PARAMETERS: dict[str, Any] = {
    "featureCompatibilityVersion": {"version": "7.0"},
    "authenticationMechanisms": [auth.MECHANISM],
    "maxBSONDepth": 100,
    "transactionLifetimeLimitSeconds": 60,
}


def get_parameter(call: Call) -> dict[str, Any]:
    wanted = call.command.get("getParameter")
    if wanted == "*" or (isinstance(wanted, dict) and wanted.get("allParameters")):
        return dict(_PARAMETERS)
    names = [k for k in call.command if k not in ("getParameter", "$db", "lsid", "$clusterTime")]
    reply = {}
    for name in names:
        if name not in _PARAMETERS:
            raise CommandError(72, "no option found to get")
        reply[name] = _PARAMETERS[name]
    return reply


def server_status(call: Call) -> dict[str, Any]:
    engine = call.engine
    uptime = dt.datetime.now().timestamp() - engine.started
    return {
        "host": engine.address,
        "version": VERSION,
        "process": "queryleaf",
        "pid": Int64(os.getpid()),
        "uptime": float(int(uptime)),
        "uptimeMillis": Int64(int(uptime * 1000)),
        "localTime": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "connections": {
            "current": engine.connections,
            "available": 10_000,
            "totalCreated": engine.total_connections,
        },
        "storageEngine": {"name": "queryleaf", "persistent": engine.store is not None},
        "opcounters": _opcounters(engine.counters),
        "commands": dict(engine.counters),
        "metrics": {"cursor": {"open": {"total": len(engine.cursors)}}},
    }


def _opcounters(counters: dict[str, int]) -> dict[str, Int64]:
    named = {"insert": "insert", "find": "query", "update": "update", "delete": "delete"}
    out = {name: 0 for name in ("insert", "query", "update", "delete", "getmore", "command")}
    for command, count in counters.items():
        key = named.get(command, "getmore" if command == "getMore" else "command")
        out[key] += count
    return {k: Int64(v) for k, v in out.items()}


def list_databases(call: Call) -> dict[str, Any]:
    if call.db != "admin":
        raise CommandError(13, "listDatabases may only be run against the admin database.")
    store = call.engine.client._store
    entries = []
    total = 0
    for name in sorted(store.list_created_database_names()):
        collections = store[name]._collections.values()
        size = sum(len(c._documents) for c in collections if c.is_created) * 256
        entries.append({"name": name, "sizeOnDisk": float(size), "empty": size == 0})
        total += size
    query = call.command.get("filter")
    if query:
        from mongomock_ng import filtering

        entries = [e for e in entries if filtering.filter_applies(query, e)]
    if call.command.get("nameOnly"):
        entries = [{"name": e["name"]} for e in entries]
        return {"databases": entries}
    return {"databases": entries, "totalSize": float(total), "totalSizeMb": Int64(total >> 20)}


def start_session(call: Call) -> dict[str, Any]:
    import uuid

    return {"id": {"id": uuid.uuid4()}, "timeoutMinutes": 30}


def whats_my_uri(call: Call) -> dict[str, Any]:
    return {"you": call.conn.peer}


def get_log(call: Call) -> dict[str, Any]:
    if call.command.get("getLog") == "*":
        return {"names": ["global", "startupWarnings"]}
    return {"totalLinesWritten": 0, "log": []}


def connection_status(call: Call) -> dict[str, Any]:
    user = call.conn.user
    users = [{"user": user, "db": "admin"}] if user else []
    roles = [{"role": "root", "db": "admin"}] if user else []
    return {"authInfo": {"authenticatedUsers": users, "authenticatedUserRoles": roles}}


def host_info(call: Call) -> dict[str, Any]:
    return {
        "system": {"hostname": call.engine.address, "numCores": os.cpu_count() or 1},
        "os": {"type": sys.platform},
        "extra": {},
    }


def get_cmd_line_opts(call: Call) -> dict[str, Any]:
    return {"argv": _redacted(sys.argv), "parsed": {}}


_URI_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


def _redacted(argv: list[str]) -> list[str]:
    """The command line with passwords replaced (`--pg-user NAME:PASSWORD`, URIs' credentials),
    as mongod hides its own password options."""
    shown = []
    for index, part in enumerate(argv):
        value, prefix = part, ""
        if part.startswith("--pg-user="):
            prefix, value = "--pg-user=", part[len("--pg-user=") :]
        if prefix or (index and argv[index - 1] == "--pg-user"):
            name, sep, password = value.partition(":")
            if sep and not password.startswith("env:"):
                value = f"{name}:<password>"
        shown.append(prefix + _URI_PASSWORD.sub(r"\1:<password>@", value))
    return shown


def db_stats(call: Call) -> dict[str, Any]:
    db_store = call.engine.client._store[call.db]
    stores = [c for c in db_store._collections.values() if c.is_created]
    views = [c for c in stores if "viewOn" in c.options]
    objects = sum(len(c._documents) for c in stores)
    return {
        "db": call.db,
        "collections": len(stores) - len(views),
        "views": len(views),
        "objects": objects,
        "indexes": sum(len(c.indexes) + 1 for c in stores if c not in views),
        "scaleFactor": 1,
    }


def coll_stats(call: Call) -> dict[str, Any]:
    name = call.collection_name()
    store = call.engine.client._store[call.db]._collections.get(name)
    if store is None or not store.is_created:
        raise CommandError(26, f"Collection [{call.db}.{name}] not found.")
    return {
        "ns": f"{call.db}.{name}",
        "count": len(store._documents),
        "nindexes": 1 + len(store.indexes),
    }


def ok(call: Call) -> dict[str, Any]:
    return {}


def refuse_transaction(call: Call) -> dict[str, Any]:
    raise CommandError(20, "multi-document transactions are not supported by queryleaf serve")


COMMANDS = {
    "hello": Spec(hello, locked=False, open=True),
    "isMaster": Spec(hello, locked=False, open=True),
    "ismaster": Spec(hello, locked=False, open=True),
    "ping": Spec(ping, locked=False, open=True),
    "buildInfo": Spec(build_info, locked=False, open=True),
    "buildinfo": Spec(build_info, locked=False, open=True),
    "getParameter": Spec(get_parameter, locked=False),
    "serverStatus": Spec(server_status, locked=False),
    "listDatabases": Spec(list_databases),
    "startSession": Spec(start_session, locked=False),
    "endSessions": Spec(ok, locked=False, open=True),
    "killSessions": Spec(ok, locked=False),
    "refreshSessions": Spec(ok, locked=False),
    "killAllSessions": Spec(ok, locked=False),
    "whatsmyuri": Spec(whats_my_uri, locked=False),
    "getLog": Spec(get_log, locked=False),
    "connectionStatus": Spec(connection_status, locked=False, open=True),
    "hostInfo": Spec(host_info, locked=False),
    "getCmdLineOpts": Spec(get_cmd_line_opts, locked=False),
    "dbStats": Spec(db_stats),
    "collStats": Spec(coll_stats),
    "logout": Spec(ok, locked=False, open=True),
    "commitTransaction": Spec(refuse_transaction, locked=False),
    "abortTransaction": Spec(refuse_transaction, locked=False),
    "saslStart": Spec(auth.sasl_start, locked=False, open=True),
    "saslContinue": Spec(auth.sasl_continue, locked=False, open=True),
}
