#!/usr/bin/env python3
"""Test vectors of the audit log's hash chain and signed head (docs/AUDIT-LOG.md).

Written from the format alone, apart from the C++ code, so that a unit test
of the sealer can compare its canonical JSON, hashes and signature with these
byte for byte. Deterministic: a fixed Ed25519 seed, and Ed25519 signatures
are deterministic.

    tests/audit/make_vectors.py           rewrites tests/audit/vectors.json
    tests/audit/make_vectors.py --stdout  prints it instead

vectors.json: {"event", "seed", "public_key", "key_id" (base64, base64, hex),
"entries": [{"when", "occurrence", "effector", "slots", "data", "seq", "prev",
"canonical", "hash"}...], "head": {"seq", "hash", "signed_at", "text",
"signature"}}: "canonical" is the exact text hashed (after prev's 32 bytes),
"text" the exact text signed.

The helpers are also what tests/audit/verify_log_test.py builds its logs with.
Needs PyNaCl (Debian: python3-nacl).
"""
import base64
import hashlib
import json
import pathlib
import sys

import nacl.signing

GENESIS = "0" * 64
SEED = bytes(range(32))
EVENT = 7
HASHED = ("when", "occurrence", "effector", "slots", "data")
VECTORS = pathlib.Path(__file__).with_name("vectors.json")

SLOT_A = {"begin": "2026-12-10T09:00:00Z", "duration": "01:00:00"}
SLOT_B = {"begin": "2026-12-11T14:30:00.250000Z", "duration": "1 02:00:00"}
SLOT_C = {"begin": "2026-12-12T08:00:00Z", "duration": "00:30:00"}

# What each one covers is in its data or effector: non-ASCII (two- and
# three-byte UTF-8 and an emoji outside the BMP), quotes and backslashes,
# every short escape and \u00XX for the other control characters, DEL and
# "/" left as they are, keys that sort by code point ("B" < "_" < "a" < "é"
# < "日本" < emoji), nested objects and arrays, integers, an empty data
# object, no slots, several slots, and every occurrence.
ENTRIES = [
    {"when": "2026-12-07T09:00:00Z", "occurrence": "UPDATE", "effector": "you@here.net",
     "slots": [SLOT_A, SLOT_B, SLOT_C], "data": {"opened": "created"}},
    {"when": "2026-12-07T09:00:00.123456Z", "occurrence": "NOTIFY", "effector": "you@here.net",
     "slots": [SLOT_A, SLOT_B, SLOT_C], "data": {"recipient": "josé@例え.jp", "sender": "you@here.net"}},
    {"when": "2026-12-07T09:01:30.500000Z", "occurrence": "VIEW", "effector": "josé@例え.jp",
     "slots": [SLOT_A, SLOT_B, SLOT_C], "data": {"token": "3f9a0c1d"}},
    {"when": "2026-12-07T09:02:00Z", "occurrence": "UPDATE", "effector": '"o\\"neil\\\\日本"@thar.net',
     "slots": [SLOT_A, SLOT_C],
     "data": {"title": 'Café "Le Chat" \\ 日本 😀 a/b\n\t\r\b\f\u0001\u001f\u007f\u2028 end',
              "B": 1, "a": {"_": [1, -2, {"z": "x"}, []], "é": True, "日本": None, "😀": "emoji key"},
              "_": [], "n": 3, "big": 1234567890123}},
    {"when": "2026-12-07T09:03:00.000001Z", "occurrence": "VIEW", "effector": "they@thar.net",
     "slots": [], "data": {}},
    {"when": "2026-12-07T09:04:00Z", "occurrence": "ANSWER", "effector": "they@thar.net",
     "slots": [SLOT_A, SLOT_C],
     "data": {"answers": [{"slot": SLOT_A, "answer": "yes"}, {"slot": SLOT_C, "answer": "maybe"}]}},
    {"when": "2026-12-07T09:05:00.999999Z", "occurrence": "AGREE", "effector": "you@here.net",
     "slots": [SLOT_A, SLOT_C], "data": {"slot": SLOT_A}},
    {"when": "2026-12-07T10:00:00Z", "occurrence": "UPDATE", "effector": "you@here.net",
     "slots": [SLOT_A, SLOT_C], "data": {"reopened": True}},
]
SIGNED_AT = "2026-12-07T10:00:01.500000Z"


def canonical(event, entry):
    """RFC 8785 (JCS) of the hashed object: for these values, Python's own."""
    hashed = {"event": event, "seq": entry["seq"], **{field: entry[field] for field in HASHED}}
    return json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev, text):
    return hashlib.sha256(bytes.fromhex(prev) + text.encode("utf-8")).hexdigest()


def seal(event, entries, prev=GENESIS, first_seq=1):
    """Copies of `entries` chained in their order from `prev`, with seq, prev, hash."""
    sealed = []
    for seq, entry in enumerate(entries, start=first_seq):
        entry = dict(entry, seq=seq, prev=prev)
        entry["hash"] = prev = entry_hash(entry["prev"], canonical(event, entry))
        sealed.append(entry)
    return sealed


def head_text(event, seq, hash_, signed_at):
    return f"calndro-log-head v1\nevent={event}\nseq={seq}\nhash={hash_}\nsigned_at={signed_at}"


def signed_head(signing_key, event, entry, signed_at):
    """The `head` of a GET /ID/log/ page whose last sealed entry is `entry`."""
    text = head_text(event, entry["seq"], entry["hash"], signed_at)
    signature = signing_key.sign(text.encode("utf-8")).signature
    return {"seq": entry["seq"], "hash": entry["hash"], "signed_at": signed_at,
            "signature": base64.b64encode(signature).decode("ascii")}


def log_key(signing_key):
    """The answer of GET /log-key for this key."""
    raw = bytes(signing_key.verify_key)
    return {"alg": "Ed25519", "key_id": hashlib.sha256(raw).digest()[:8].hex(),
            "public_key": base64.b64encode(raw).decode("ascii")}


def vectors():
    signing_key = nacl.signing.SigningKey(SEED)
    entries = seal(EVENT, ENTRIES)
    head = signed_head(signing_key, EVENT, entries[-1], SIGNED_AT)
    key = log_key(signing_key)
    return {
        "event": EVENT,
        "seed": base64.b64encode(SEED).decode("ascii"),
        "public_key": key["public_key"],
        "key_id": key["key_id"],
        "entries": [{**{field: entry[field] for field in HASHED}, "seq": entry["seq"], "prev": entry["prev"],
                     "canonical": canonical(EVENT, entry), "hash": entry["hash"]} for entry in entries],
        "head": {"seq": head["seq"], "hash": head["hash"], "signed_at": SIGNED_AT,
                 "text": head_text(EVENT, head["seq"], head["hash"], SIGNED_AT), "signature": head["signature"]},
    }


def render(content):
    """The exact text of vectors.json (UTF-8, non-ASCII as is)."""
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render(vectors())
    if sys.argv[1:] == ["--stdout"]:
        sys.stdout.write(text)
    else:
        VECTORS.write_text(text, encoding="utf-8")
