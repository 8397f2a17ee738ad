"""Loaders: from raw tables (CSV, Parquet, DataFrames) to entities and links in a store."""

from loaders.load import LoadReport, load_tables
from loaders.mapping import AccountColumn, IdentifierColumn, MappingSpec, Source, builtin_mapping

__all__ = [
    "AccountColumn",
    "IdentifierColumn",
    "LoadReport",
    "MappingSpec",
    "Source",
    "builtin_mapping",
    "load_tables",
]
