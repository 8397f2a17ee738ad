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
    AuditEntry,
    DetectionRun,
    EntityKind,
    EntityRef,
    LinkKind,
    Note,
    Page,
    Ring,
    RingAppearance,
    RingChange,
    RingFilter,
    RingHistory,
    RingMember,
    RingStatus,
    StoreStats,
    Subgraph,
)
from graphfraud.settings import Settings, get_settings
from graphfraud.store import GraphStore, open_store

__version__ = "0.1.0"

__all__ = [
    "AuditEntry",
    "ConfigError",
    "DetectionRun",
    "EntityKind",
    "EntityRef",
    "GraphFraudError",
    "GraphStore",
    "InputError",
    "LinkKind",
    "NotFound",
    "Note",
    "Page",
    "Ring",
    "RingAppearance",
    "RingChange",
    "RingFilter",
    "RingHistory",
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
