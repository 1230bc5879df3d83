"""The pseudonymisation key gate: generated keys pass, typed or patterned ones are refused."""
from __future__ import annotations

import base64
import os
import secrets

import pytest

from streams.key_strength import MIN_BITS, WeakKeyError, assess_key, require_strong_key


@pytest.mark.parametrize("make", [
    lambda: secrets.token_hex(32),
    lambda: secrets.token_hex(48).upper(),
    lambda: base64.b64encode(os.urandom(32)).decode(),
    lambda: secrets.token_urlsafe(32),
    lambda: "".join(secrets.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&") for _ in range(44)),
])
def test_generated_keys_are_accepted(make):
    for _ in range(200):
        key = make()
        found = assess_key(key)
        assert found.problem is None, (key, found)
        assert found.bits >= MIN_BITS
        require_strong_key(key)


@pytest.mark.parametrize("key, reason", [
    ("a" * 16, "repeats"),
    ("a" * 64, "repeats"),
    ("0123456789abcdef" * 4, "repeats"),
    ("correct-horse" * 5, "repeats"),
    ("test-key-0123456789abcdef-not-secret", "too short"),
    ("a-long-enough-secret-key", "too short"),
    ("0" * 63 + "1", "less varied"),
    (secrets.token_hex(16), "too short"),  # 128 bits: random, but too short
    (base64.b64encode(os.urandom(24)).decode(), "too short"),
    ("", "empty"),
])
def test_weak_keys_are_refused_with_a_reason_and_without_the_key(key, reason):
    with pytest.raises(WeakKeyError) as caught:
        require_strong_key(key)
    message = str(caught.value)
    assert reason in message
    assert "openssl rand -hex 32" in message  # says how to make a good one
    if len(key) >= 8:
        assert key not in message
