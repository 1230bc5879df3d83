"""Shared fixtures of the unit tests."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A throwaway CA, server certificate (127.0.0.1, localhost) and two client certificates,
    made by the same code as the secure local stack: ``{"ca": Pair, "casewatch-broker": Pair, ...}``."""
    from services.stack.tls import ensure_tls

    return ensure_tls(tmp_path_factory.mktemp("tls"), ("casewatch-worker", "prometheus"))
