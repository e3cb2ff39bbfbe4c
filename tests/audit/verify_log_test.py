#!/usr/bin/env python3
"""tools/verify_log.py run as a party would run it, on logs made here.

A log of tests/audit/make_vectors.py's entries over three saved pages (two
entries not sealed yet, two sealed in the other order than their ids, heads
fetched at two moments) checks out; each way of rewriting it by SQL (a field
changed, an entry deleted, inserted or moved, a chain recomputed after a
change, a head not signed by the published key) exits 1 naming the first bad
seq; input that is not a saved answer exits 2 with a message, no traceback.
Also: the committed vectors.json is what make_vectors.py makes, and its
canonical texts are RFC 8785 by a second, separate serializer.

Needs PyNaCl (Debian: python3-nacl). Run: /usr/bin/python3 tests/audit/verify_log_test.py
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

import nacl.signing

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_vectors as mv  # noqa: E402  (next to this file)

VERIFIER = HERE.parent.parent / "tools" / "verify_log.py"
EVENT_URL = f"http://127.0.0.1:9000/{mv.EVENT}/"
KEY = nacl.signing.SigningKey(mv.SEED)
OTHER_KEY = nacl.signing.SigningKey(bytes(range(1, 33)))
LATER = [{"when": "2026-12-07T10:00:03Z", "occurrence": "VIEW", "effector": "they@thar.net",
          "slots": [mv.SLOT_A, mv.SLOT_C], "data": {}} for _ in range(2)]


class Log:
    """One event's log as three saved GET /ID/log/ pages and a saved GET /log-key."""

    def __init__(self):
        sealed = mv.seal(mv.EVENT, mv.ENTRIES)
        # Entries committed together are sealed in either order: seq 5 has id 106, seq 6 id 105.
        ids = [101, 102, 103, 104, 106, 105, 107, 108]
        self.entries = [dict(entry, id=id_) for entry, id_ in zip(sealed, ids)]
        self.entries.sort(key=lambda entry: entry["id"])
        self.entries += [dict(entry, id=109 + i, seq=None, prev=None, hash=None) for i, entry in enumerate(LATER)]
        # The first page was fetched when seq 6 was the head, the others after seq 8 was sealed.
        self.heads = [mv.signed_head(KEY, mv.EVENT, sealed[5], "2026-12-07T09:04:01Z")] + \
            [mv.signed_head(KEY, mv.EVENT, sealed[7], mv.SIGNED_AT)] * 2
        self.key = mv.log_key(KEY)
        self.event_url = EVENT_URL

    def entry(self, seq):
        return next(entry for entry in self.entries if entry["seq"] == seq)

    def pages(self):
        bounds = [(0, 4), (4, 8), (8, len(self.entries))]
        return [{"event": self.event_url, "parties": ["you@here.net", "they@thar.net"],
                 "entries": self.entries[begin:end], "head": head} for (begin, end), head in zip(bounds, self.heads)]


def verify(*files):
    """(exit status, stdout, stderr) of the verifier on these file contents (str: as is, else JSON)."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, content in enumerate(files):
            path = pathlib.Path(folder, f"file-{i}.json")
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
                path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        run = subprocess.run([sys.executable, str(VERIFIER), *paths], capture_output=True, text=True, timeout=60)
    return run.returncode, run.stdout, run.stderr


class GoodLogs(unittest.TestCase):
    def test_three_pages_with_entries_not_sealed_yet_check_out(self):
        log = Log()
        status, out, err = verify(log.key, *log.pages())
        self.assertEqual((status, err), (0, ""), out)
        self.assertEqual(out, f"event 7: 8 sealed entries check out, 2 not sealed yet; head seq 8 (sha256 "
                              f"{log.heads[-1]['hash']}) signed at {mv.SIGNED_AT} by key {log.key['key_id']}, "
                              "0 entries chained after it\n")

    def test_entries_sealed_after_the_head_and_one_page_check_out(self):
        log = Log()
        page = {"event": EVENT_URL, "parties": [], "entries": log.entries, "head": log.heads[0]}
        status, out, _ = verify(log.key, page)
        self.assertEqual(status, 0, out)
        self.assertIn("head seq 6", out)
        self.assertIn("2 entries chained after it", out)

    def test_a_log_with_nothing_sealed_checks_out(self):
        entries = [dict(entry, id=i, seq=None, prev=None, hash=None) for i, entry in enumerate(mv.ENTRIES)]
        status, out, _ = verify(Log().key, {"event": EVENT_URL, "parties": [],
                                            "entries": entries, "head": None})
        self.assertEqual((status, out), (0, "event 7: 0 sealed entries check out, 8 not sealed yet\n"))


class Tampering(unittest.TestCase):
    """Each rewrite exits 1 with the first bad seq, and only that line."""

    def assertFinds(self, log, line, key=None):
        status, out, err = verify(key or log.key, *log.pages())
        self.assertEqual((status, out, err), (1, line + "\n", ""))

    def test_each_hashed_field_changed(self):
        changes = {"when": "2026-12-07T09:01:30.500001Z", "occurrence": "AGREE", "effector": "josé@例え.JP",
                   "slots": [mv.SLOT_A], "data": {"token": "3f9a0c1e"}}
        for field, value in changes.items():
            with self.subTest(field=field):
                log = Log()
                log.entry(3)[field] = value
                self.assertFinds(log, "seq 3: changed")

    def test_the_log_shown_as_another_events(self):
        log = Log()
        log.event_url = "http://127.0.0.1:9000/8/"
        self.assertFinds(log, "seq 1: changed")

    def test_an_entry_deleted_in_the_middle(self):
        log = Log()
        log.entries.remove(log.entry(4))
        self.assertFinds(log, "seq 4: missing")

    def test_the_last_sealed_entry_deleted_so_the_head_points_past_the_end(self):
        log = Log()
        log.entries.remove(log.entry(8))
        self.assertFinds(log, "seq 8: missing")

    def test_an_entry_inserted_with_made_up_chain_fields(self):
        log = Log()
        forged = dict(log.entry(3), id=1000, seq=4, prev="ab" * 32, hash="cd" * 32)
        log.entries.insert(log.entries.index(log.entry(3)) + 1, forged)
        self.assertFinds(log, "seq 4: out of place")

    def test_an_entry_inserted_with_a_correct_hash_for_its_place(self):
        log = Log()
        forged = mv.seal(mv.EVENT, [dict(log.entry(4), data={"opened": "created"})], log.entry(3)["hash"], 4)[0]
        log.entries.append(dict(forged, id=1000))
        self.assertFinds(log, "seq 4: out of place")

    def test_two_entries_swapped(self):
        log = Log()
        fourth, fifth = log.entry(4), log.entry(5)
        fourth["seq"], fifth["seq"] = 5, 4
        self.assertFinds(log, "seq 4: out of place")

    def test_a_prev_altered(self):
        log = Log()
        log.entry(5)["prev"] = log.entry(3)["hash"]
        self.assertFinds(log, "seq 5: out of place")

    def test_a_stored_hash_altered(self):
        log = Log()
        log.entry(2)["hash"] = log.entry(2)["hash"].upper()
        self.assertFinds(log, "seq 2: changed")

    def test_a_chain_recomputed_after_a_change_is_caught_by_the_lowest_signed_head(self):
        log = Log()
        changed = [dict(log.entry(seq), data={"recipient": "eve@evil.example"}) if seq == 3 else log.entry(seq)
                   for seq in range(3, 9)]
        for entry in mv.seal(mv.EVENT, changed, log.entry(2)["hash"], 3):
            log.entries[log.entries.index(log.entry(entry["seq"]))] = entry
        self.assertFinds(log, "seq 6: does not match the signed head")

    def test_heads_signed_by_another_key(self):
        self.assertFinds(Log(), "head seq 6: signature does not verify", key=mv.log_key(OTHER_KEY))

    def test_a_head_re_signed_by_another_key(self):
        log = Log()
        log.heads[2] = mv.signed_head(OTHER_KEY, mv.EVENT, log.entry(8), mv.SIGNED_AT)
        self.assertFinds(log, "head seq 8: signature does not verify")

    def test_a_heads_signed_at_altered(self):
        log = Log()
        log.heads[1] = dict(log.heads[1], signed_at="2026-12-07T10:00:01.5Z")
        self.assertFinds(log, "head seq 8: signature does not verify")

    def test_a_head_moved_back_with_its_signature(self):
        log = Log()
        log.heads[1] = dict(log.heads[1], seq=7, hash=log.entry(7)["hash"])
        self.assertFinds(log, "head seq 7: signature does not verify")

    def test_a_signature_that_is_not_base64_of_64_bytes(self):
        for signature in ("not base64!", "AAAA", ""):
            with self.subTest(signature=signature):
                log = Log()
                log.heads[0] = dict(log.heads[0], signature=signature)
                self.assertFinds(log, "head seq 6: signature does not verify")


class BadInput(unittest.TestCase):
    """Exit 2, a message on stderr naming the problem, nothing on stdout, no traceback."""

    def assertRefused(self, *files, says):
        status, out, err = verify(*files)
        self.assertEqual((status, out), (2, ""), err)
        self.assertIn(says, err)
        self.assertNotIn("Traceback", err)

    def test_files_that_are_not_json(self):
        log = Log()
        self.assertRefused("{not json", *log.pages(), says="file-0.json: Expecting property name")
        self.assertRefused(log.key, b"\xff\xfe{}", says="file-1.json: 'utf-8' codec can't decode")
        self.assertRefused(log.key, "[" * 100000 + "]" * 100000, says="file-1.json: maximum recursion")

    def test_keys_of_the_wrong_shape(self):
        pages = Log().pages()
        key = Log().key
        for bad in ([key], dict(key, alg="RSA"), dict(key, public_key="AAAA"), dict(key, public_key=7),
                    dict(key, public_key="not*base64"), {k: v for k, v in key.items() if k != "public_key"}):
            with self.subTest(key=bad):
                self.assertRefused(bad, *pages, says="file-0.json: ")

    def test_pages_of_the_wrong_shape(self):
        log = Log()
        page = log.pages()[0]
        entry = page["entries"][0]
        bad_pages = {
            "a list": [page],
            "no entries": {k: v for k, v in page.items() if k != "entries"},
            "no head": {k: v for k, v in page.items() if k != "head"},
            "entries an object": dict(page, entries={}),
            "an entry a list": dict(page, entries=[[]]),
            "an entry without hash": dict(page, entries=[{k: v for k, v in entry.items() if k != "hash"}]),
            "seq a string": dict(page, entries=[dict(entry, seq="1")]),
            "seq true": dict(page, entries=[dict(entry, seq=True)]),
            "prev a number": dict(page, entries=[dict(entry, prev=0)]),
            "not sealed but hashed": dict(page, entries=[dict(entry, seq=None)]),
            "event a number": dict(page, event=7),
            "event without id": dict(page, event="http://127.0.0.1:9000/"),
            "event a broken URL": dict(page, event="http://[::1:9000/7/"),
            "head a list": dict(page, head=[]),
            "head seq a string": dict(page, head=dict(page["head"], seq="6")),
            "head without signature": dict(page, head={k: v for k, v in page["head"].items() if k != "signature"}),
        }
        for name, bad in bad_pages.items():
            with self.subTest(name):
                self.assertRefused(log.key, bad, says="file-1.json: ")

    def test_pages_of_two_events_or_one_page_twice(self):
        log = Log()
        first, second, _ = log.pages()
        self.assertRefused(log.key, first, dict(second, event="http://127.0.0.1:9000/8/"),
                           says="pages of several events ([7, 8])")
        self.assertRefused(log.key, first, first, says="an entry appears twice")

    def test_a_string_that_is_not_unicode_text(self):
        log = Log()
        text = json.dumps(log.pages()[0]).replace('"opened"', '"\\ud800"')
        self.assertRefused(log.key, text, says="entry id 101: a string is not Unicode text")

    def test_missing_files_and_arguments(self):
        run = subprocess.run([sys.executable, str(VERIFIER), "/nonexistent/key.json", "/nonexistent/page.json"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual((run.returncode, run.stdout), (2, ""))
        self.assertIn("verify_log: /nonexistent/key.json: No such file or directory\n", run.stderr)
        for args in ([], ["key.json"]):
            run = subprocess.run([sys.executable, str(VERIFIER), *args], capture_output=True, text=True, timeout=60)
            self.assertEqual((run.returncode, run.stdout), (2, ""))
            self.assertIn("usage: verify_log.py KEY.json PAGE.json...", run.stderr)


def jcs(value):
    """RFC 8785 written from the RFC, apart from json.dumps: keys ordered by
    UTF-16 code units, strings escaping only '"', '\\' and U+0000-U+001F."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    if isinstance(value, str):
        short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
        return '"' + "".join(short.get(c) or (f"\\u{ord(c):04x}" if c < " " else c) for c in value) + '"'
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    assert isinstance(value, int), value
    return str(value)


class Vectors(unittest.TestCase):
    def test_the_committed_vectors_are_what_make_vectors_makes(self):
        committed = (HERE / "vectors.json").read_text(encoding="utf-8")
        self.assertEqual(committed, mv.render(mv.vectors()), "run tests/audit/make_vectors.py and commit")

    def test_the_canonical_texts_are_rfc_8785_and_chain(self):
        content = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
        prev = mv.GENESIS
        for seq, entry in enumerate(content["entries"], start=1):
            hashed = {"event": 7, "seq": seq, **{field: entry[field] for field in mv.HASHED}}
            self.assertEqual(entry["canonical"], jcs(hashed))
            self.assertEqual((entry["seq"], entry["prev"]), (seq, prev))
            self.assertEqual(entry["hash"], mv.entry_hash(prev, entry["canonical"]))
            prev = entry["hash"]
        self.assertEqual(content["head"]["hash"], prev)

    def test_the_escapes_a_second_implementation_most_often_gets_wrong(self):
        canonical = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))["entries"][3]["canonical"]
        for expected in ('"B":1,"_":[],"a":{"_":[1,-2,{"z":"x"},[]],"é":true,"日本":null,"😀":"emoji key"}',
                         'Café \\"Le Chat\\" \\\\ 日本 😀 a/b\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\u2028 end',
                         '"effector":"\\"o\\\\\\"neil\\\\\\\\日本\\"@thar.net"', '"big":1234567890123'):
            self.assertIn(expected, canonical)

    def test_the_worked_example_of_the_documentation(self):
        content = mv.vectors()
        doc = (HERE.parent.parent / "docs" / "AUDIT-LOG.md").read_text(encoding="utf-8")
        fifth, head = content["entries"][4], content["head"]
        for text in (fifth["canonical"], fifth["prev"], fifth["hash"], content["public_key"], content["key_id"],
                     head["hash"], head["signature"], head["text"].replace("\n", "\\n")):
            self.assertIn(text, doc)
        snippet = doc.split("```python\n", 1)[1].split("```", 1)[0]
        run = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.stdout, fifth["hash"] + "\n", run.stderr)

    def test_the_key_id_and_the_signed_head(self):
        content = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
        self.assertEqual(content["key_id"], "56475aa75463474c")
        head = content["head"]
        self.assertEqual(head["text"], f"calndro-log-head v1\nevent=7\nseq=8\nhash={head['hash']}\n"
                                       "signed_at=2026-12-07T10:00:01.500000Z")
        status, out, _ = verify(mv.log_key(KEY), {"event": EVENT_URL, "parties": [], "head": head, "entries": [
            dict(entry, id=i) for i, entry in enumerate(content["entries"])]})
        self.assertEqual(status, 0, out)


if __name__ == "__main__":
    unittest.main()
