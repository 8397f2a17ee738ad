"""The investigator API: rings, explanations, linkage queries and interactive ring views.

``create_app()`` builds the FastAPI application; ``graphfraud serve`` runs it.
"""

from api.app import create_app, with_session_keys

__all__ = ["create_app", "with_session_keys"]
