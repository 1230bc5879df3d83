"""The local stack: Kafka (KRaft), Redis, and optionally Prometheus + Alertmanager on 127.0.0.1.

CLI: ``casewatch stack up|down|status|env`` (``services.commands.stack:app``).
Python: ``up_stack()``, ``down_stack()``, ``read_stack()``; ``start_prometheus()`` and
``start_alertmanager()`` for tests with their own configs.
"""

from .state import StackError, read_stack, stack_dir


def up_stack(*args, **kwargs):
    from .lifecycle import up_stack as _up

    return _up(*args, **kwargs)


def down_stack(*args, **kwargs):
    from .lifecycle import down_stack as _down

    return _down(*args, **kwargs)


def start_prometheus(*args, **kwargs):
    from .prometheus import start_prometheus as _start

    return _start(*args, **kwargs)


def start_alertmanager(*args, **kwargs):
    from .prometheus import start_alertmanager as _start

    return _start(*args, **kwargs)


__all__ = ["StackError", "read_stack", "stack_dir", "up_stack", "down_stack", "start_prometheus", "start_alertmanager"]
