"""graphfraud: fraud-ring discovery on marketplace entity graphs.

The core package holds the data model, the store contract and its engines, settings and
errors. Loading lives in ``loaders``, ring discovery in ``algorithms``, the HTTP service in
``api``; the ``graphfraud`` command ties them together.
"""

from graphfraud.errors import (
    ConfigError,
    GraphFraudError,
    InputError,
    NotFound,
    StoreError,
    StoreUnavailable,
)
from graphfraud.model import (
    EntityKind,
    EntityRef,
    LinkKind,
    Page,
    Ring,
    RingFilter,
    RingMember,
    RingStatus,
    StoreStats,
    Subgraph,
)
from graphfraud.settings import Settings, get_settings
from graphfraud.store import GraphStore, open_store

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "EntityKind",
    "EntityRef",
    "GraphFraudError",
    "GraphStore",
    "InputError",
    "LinkKind",
    "NotFound",
    "Page",
    "Ring",
    "RingFilter",
    "RingMember",
    "RingStatus",
    "Settings",
    "StoreError",
    "StoreStats",
    "StoreUnavailable",
    "Subgraph",
    "__version__",
    "get_settings",
    "open_store",
]
