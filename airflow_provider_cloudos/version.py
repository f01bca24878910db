"""The provider's version, in a module of its own.

Kept apart from the package ``__init__`` so that the API client can name itself in its
User-Agent without importing anything else of the provider (the package root also loads the
provider metadata).
"""

from __future__ import annotations

__version__ = "0.1.0"
