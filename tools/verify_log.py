#!/usr/bin/env python3
"""Checks a saved calndro audit log against the server's published key.

    tools/verify_log.py KEY.json PAGE.json...

KEY.json: a saved `GET /log-key` answer; PAGE.json: the saved pages of one
event's `GET /ID/log/`, in order. Every sealed entry is hashed again and
chained to the one before; every page's head must be signed by the key and be
the hash of the sealed entry it names. Format: docs/AUDIT-LOG.md.

Exit 0: all checks out (one summary line). Exit 1: the first bad entry (lowest
seq), one line `seq N: changed|missing|out of place|does not match the signed
head` or `head seq N: signature does not verify`. Exit 2: unreadable input.
Needs only Python 3.11's standard library and PyNaCl (Debian: python3-nacl).
"""
import base64
import hashlib
import json
import re
import sys
import urllib.parse

try:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
except ImportError:
    print("verify_log: needs PyNaCl (Debian: apt-get install python3-nacl)", file=sys.stderr)
    sys.exit(2)

GENESIS = "0" * 64  # the prev of seq 1
HASHED = ("when", "occurrence", "effector", "slots", "data")
FIELDS = ("id", "seq", "prev", "hash") + HASHED


class BadInput(Exception):
    """Input that is not what `GET /log-key` or `GET /ID/log/` answers."""


def require(condition, path, problem):
    if not condition:
        raise BadInput(f"{path}: {problem}")


def load(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError, RecursionError) as error:  # unreadable, not UTF-8, not JSON, too deep
        raise BadInput(f"{path}: {getattr(error, 'strerror', None) or error}") from None


def read_key(path):
    key = load(path)
    require(isinstance(key, dict) and key.get("alg") == "Ed25519", path,
            'not a GET /log-key answer ({"alg": "Ed25519", "key_id", "public_key"})')
    try:
        raw = base64.b64decode(key.get("public_key"), validate=True)
    except (TypeError, ValueError):
        raw = b""
    require(len(raw) == 32, path, "public_key is not the base64 of a 32-byte key")
    return VerifyKey(raw), key.get("key_id")


def read_page(path):
    """(event ID, entries, head) of a saved GET /ID/log/ page."""
    page = load(path)
    require(isinstance(page, dict) and isinstance(page.get("entries"), list)
            and isinstance(page.get("parties"), list) and "head" in page, path,
            'not a GET /ID/log/ page ({"event", "parties", "entries", "head"})')
    url = page.get("event")
    try:
        segments = [s for s in urllib.parse.urlsplit(url).path.split("/") if s] if isinstance(url, str) else []
    except ValueError:  # e.g. an unclosed [ of an IPv6 host
        segments = []
    require(segments and re.fullmatch(r"[0-9]+", segments[-1]), path, f"event {url!r} is not the URL of an event")
    for entry in page["entries"]:
        require(isinstance(entry, dict) and all(f in entry for f in FIELDS), path,
                f"an entry lacks one of {', '.join(FIELDS)}")
        seq, prev, hash_ = entry["seq"], entry["prev"], entry["hash"]
        require(seq is None or type(seq) is int, path, f"entry id {entry['id']}: seq is not an integer")
        require(all(v is None or isinstance(v, str) for v in (prev, hash_)), path,
                f"entry id {entry['id']}: prev and hash must be strings or null")
        require(seq is not None or (prev is None and hash_ is None), path,
                f"entry id {entry['id']}: not sealed (seq null) but prev or hash set")
    head = page["head"]
    require(head is None or (isinstance(head, dict) and type(head.get("seq")) is int
                             and all(isinstance(head.get(f), str) for f in ("hash", "signed_at", "signature"))),
            path, 'head is neither null nor {"seq", "hash", "signed_at", "signature"}')
    return int(segments[-1]), page["entries"], head


def entry_hash(event, entry):
    canonical = json.dumps({"event": event, "seq": entry["seq"], **{f: entry[f] for f in HASHED}},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        text = canonical.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the server never writes one
        raise BadInput(f"entry id {entry['id']}: a string is not Unicode text") from None
    return hashlib.sha256(bytes.fromhex(entry["prev"]) + text).hexdigest()


def chain_break(event, sealed):
    """(seq, line) of the first break walking seq 1, 2, 3...; None when whole."""
    expected, prev = 1, GENESIS
    for entry in sealed:
        seq = entry["seq"]
        if seq > expected:
            return expected, f"seq {expected}: missing"
        if seq < expected or entry["prev"] != prev:
            return seq, f"seq {seq}: out of place"
        if entry_hash(event, entry) != entry["hash"]:
            return seq, f"seq {seq}: changed"
        expected, prev = seq + 1, entry["hash"]
    return None


def head_problem(key, event, by_seq, head):
    """(seq, line) when the head is not signed by the key or not the chain's."""
    seq = head["seq"]
    text = f"calndro-log-head v1\nevent={event}\nseq={seq}\nhash={head['hash']}\nsigned_at={head['signed_at']}"
    try:
        key.verify(text.encode("utf-8"), base64.b64decode(head["signature"], validate=True))
    except (BadSignatureError, ValueError):  # also a signature that is not base64 of 64 bytes
        return seq, f"head seq {seq}: signature does not verify"
    if seq not in by_seq:
        return seq, f"seq {seq}: missing"
    if by_seq[seq]["hash"] != head["hash"]:
        return seq, f"seq {seq}: does not match the signed head"
    return None


def main(args):
    if len(args) < 2:
        print("usage: verify_log.py KEY.json PAGE.json...", file=sys.stderr)
        return 2
    try:
        key, key_id = read_key(args[0])
        pages = [read_page(path) for path in args[1:]]
        events = {event for event, _, _ in pages}
        require(len(events) == 1, " ".join(args[1:]), f"pages of several events ({sorted(events)})")
        event = events.pop()
        entries = [entry for _, page_entries, _ in pages for entry in page_entries]
        ids = [json.dumps(entry["id"]) for entry in entries]
        require(len(set(ids)) == len(ids), "pages", "an entry appears twice (the same page given twice?)")
        # Sealing order, not id order: entries committed together are sealed in either order.
        sealed = sorted((e for e in entries if e["seq"] is not None), key=lambda e: e["seq"])
        by_seq = {entry["seq"]: entry for entry in reversed(sealed)}  # the first of a duplicate seq
        heads = [head for _, _, head in pages if head is not None]
        problems = [chain_break(event, sealed)] + [head_problem(key, event, by_seq, h) for h in heads]
    except BadInput as error:
        print(f"verify_log: {error}", file=sys.stderr)
        return 2
    problems = [p for p in problems if p is not None]
    if problems:
        print(min(problems, key=lambda p: p[0])[1])  # the chain's own line first on a tie
        return 1
    summary = f"event {event}: {len(sealed)} sealed entries check out, {len(entries) - len(sealed)} not sealed yet"
    if heads:
        head = max(heads, key=lambda h: h["seq"])
        summary += (f"; head seq {head['seq']} (sha256 {head['hash']}) signed at {head['signed_at']}"
                    f" by key {key_id}, {len(sealed) - head['seq']} entries chained after it")
    elif sealed:
        summary += "; no page carries a signed head, so nothing is signed yet"
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
