"""queryleaf: SQL for MongoDB, with event subscriptions on change streams."""

from queryleaf.connection import Connection, connect, run_sql
from queryleaf.errors import (
    BackendError,
    ExecutionError,
    ParameterError,
    ParseError,
    QueryLeafError,
    SemanticError,
    UnsupportedError,
)
from queryleaf.parse.limits import set_limits
from queryleaf.result import Result

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "Connection",
    "ExecutionError",
    "ParameterError",
    "ParseError",
    "QueryLeafError",
    "Result",
    "SemanticError",
    "UnsupportedError",
    "connect",
    "run_sql",
    "set_limits",
]
