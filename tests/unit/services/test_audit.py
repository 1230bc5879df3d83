

def test_request_ids_never_read_as_a_personal_identity_number(monkeypatch):
    """A caller's id holding a personnummer is replaced, and a fresh random id that happens to hold
    one (about 1 in 4,600 hex uuids) is drawn again: the audit log would refuse both (a 500)."""
    import uuid as uuid_module

    from services import audit
    from streams.contract.personal_id import contains_personal_id

    assert audit.request_id_from("batch-7") == "batch-7"
    assert not contains_personal_id(audit.request_id_from("19121212-1212"))
    rng = __import__("random").Random(5)
    unlucky = next(u for u in (uuid_module.UUID(int=rng.getrandbits(128)) for _ in range(10**6))
                   if contains_personal_id(u.hex))
    draws = iter([unlucky, uuid_module.UUID(int=7)])
    monkeypatch.setattr(audit.uuid, "uuid4", lambda: next(draws))
    assert audit.request_id_from(None) == uuid_module.UUID(int=7).hex
