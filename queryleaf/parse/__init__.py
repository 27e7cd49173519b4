"""SQL text to AST."""

from queryleaf.parse.split import Statement, split_statements
from queryleaf.parse.sql import parse_sql

__all__ = ["Statement", "parse_sql", "split_statements"]
