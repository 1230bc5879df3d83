"""A local stack service stopped with its data kept comes back on the ports it had (clients and
the fault tests expect Kafka where it was); stopped with its data deleted it starts afresh."""
from __future__ import annotations

from services.stack.lifecycle import _remembered_ports, down_stack
from services.stack.state import write_stack


def test_down_keep_data_remembers_the_ports_and_a_full_down_forgets_them(tmp_path):
    kafka = {"pid": 999_999_999, "port": 40001, "controller_port": 40002, "bootstrap": "127.0.0.1:40001"}
    redis = {"pid": 999_999_998, "port": 40003, "url": "redis://127.0.0.1:40003/0"}
    write_stack({"kafka": kafka, "redis": redis}, tmp_path)
    down_stack(["kafka"], keep_data=True, base=tmp_path)  # (not alive: nothing to signal)
    assert _remembered_ports(tmp_path) == {"kafka": {"port": 40001, "controller_port": 40002}}
    down_stack(["redis"], keep_data=True, base=tmp_path)
    assert set(_remembered_ports(tmp_path)) == {"kafka", "redis"}
    write_stack({"kafka": kafka}, tmp_path)
    down_stack(["kafka"], keep_data=False, base=tmp_path)
    assert _remembered_ports(tmp_path) == {"redis": {"port": 40003}}
