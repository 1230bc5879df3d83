"""Marking tests by the directory they live in (each test directory's conftest uses it)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator


def items_under(items: Iterable, directory: Path) -> Iterator[tuple[object, Path]]:
    """The collected items whose file lies under ``directory``, with that file's path."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if directory in path.parents:
            yield item, path
