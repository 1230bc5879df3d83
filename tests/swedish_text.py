"""Checks that a text meant for a Swedish reader is Swedish: no English sentence, no raw code.

Used by the tests of runbooks, alert texts, templates, label maps and dashboards. Code spans,
code blocks and URLs are left out (commands and identifiers are not prose); what remains is
read word by word.
"""
from __future__ import annotations

import re

# Words that are common in English prose and are not Swedish words.
ENGLISH_WORDS = frozenset("""
the and of is are was were with when this that which have has from will should must been it its not
for to you your after before into only if what who how there their they them than then these those
at by on or an as
""".split())
# Proper names and abbreviations a Swedish text uses as they are.
PROPER_NAMES = frozenset("""
casewatch prometheus grafana alertmanager kafka redis treserva lifecare combine viva ivo jo sol lvu lvm
hvb sis tls cpu rocksdb hr osl json scb kolada targets
""".split())
# Codes that must never reach a reader raw (their labels are in streams.vocabulary).
RAW_CODES = frozenset({"hvb", "sis", "lvu", "lvm"})

_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_CODE_SPAN = re.compile(r"`[^`]*`")
_URL = re.compile(r"https?://\S+")
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.S)
_ALERT_NAME = re.compile(r"\bCasewatch[A-Za-z]+\b")
_WORD = re.compile(r"[^\W\d]+(?:_[^\W\d]+)*", re.U)


def prose(text: str) -> str:
    """The text without code, URLs, template actions and alert names."""
    for pattern in (_CODE_BLOCK, _CODE_SPAN, _URL, _TEMPLATE, _ALERT_NAME):
        text = pattern.sub(" ", text)
    return text


def problems(text: str) -> list[str]:
    """English words and raw codes in the prose of ``text`` (empty when it reads as Swedish)."""
    found = []
    for word in _WORD.findall(prose(text)):
        if "_" in word:
            found.append(f"code {word!r}")
        elif word in RAW_CODES:  # lower case: an acronym's label is upper case
            found.append(f"code {word!r}")
        elif word.isupper() and len(word) > 1:  # an acronym: IT-drift, IVO, SoL
            continue
        elif word.lower() in ENGLISH_WORDS and word.lower() not in PROPER_NAMES:
            found.append(f"English {word!r}")
    return found
