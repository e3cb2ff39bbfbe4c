#!/usr/bin/env python3
"""The soak's clients: several threads, each a client that owns its events.

A client creates an event (three parties, seven slots, title KEY-w0), then
until the event is narrowed to one slot: notifies the two other parties of
the current state (once per state), sometimes reads the event and its log,
and PATCHes it to a narrower slot set with a new title (KEY-w1, KEY-w2, ...).
Every write has a slot set and a title no other write of the event has, so
each UPDATE entry, NOTIFY entry (by its slots snapshot) and mail (by the title
in its subject) names the one request it belongs to.

Every request is written, with its answer, to OUT/client-N.jsonl as it
completes. A write whose answer is not 2xx or 4xx (5xx, timeout, broken
connection) has an unknown outcome: the client then reads the event (bounded
retries) to learn where it stands and goes on from there; it never repeats a
write without an Idempotency-Key. After an unanswered PATCH it first sends one
more PATCH, chosen from the state it had (as a person does who tries again
without reloading).

Half the PATCHes carry `If-Match` with the version the client last saw (the
ETag of its last 2xx or 412 answer), one in ten of those a version it knows
the event has moved on from: a 412 is a refusal that must change nothing,
and its event body becomes the client's state. The follow-up PATCH
after an unanswered one sends the old version, so it is refused when the
unanswered one was applied after all. Half the creates and notifies carry an
`Idempotency-Key`; those, when unanswered, are sent again with the same key
and body until an answer comes (bounded), and must take effect once
(verify.py counts the attempts of one key as one write).

  workload.py --base URL --users FILE --out DIR --stop-file PATH [--max-seconds N]

FILE is JSON: {"clients": [{"email", "username", "password"}, ...]}, one
registered user per client (the creator of its events).
"""

import argparse
import json
import os
import random
import threading
import time

from soak_http import api_token, call

SLOTS_PER_EVENT = 7
RESYNC_SECONDS = 60
RETRY_PAUSE_SECONDS = 0.5


def slot_key(slot):
    return (slot["begin"], slot["duration"])


class Event:
    def __init__(self, key, slots, title):
        self.key = key
        self.id = None
        self.slots = slots
        self.title = title
        self.used = {frozenset(map(slot_key, slots))}
        self.writes = 1
        self.notified = set()
        self.version = None
        self.older_version = None  # one the event has certainly moved on from


class Client:
    def __init__(self, index, args, token, creator):
        self.index = index
        self.args = args
        self.token = token
        self.creator = creator
        self.others = ["c%d-a@soak.test" % index, "c%d-b@soak.test" % index]
        self.random = random.Random(1000 + index)
        self.seq = 0
        self.events = 0
        self.out = open(os.path.join(args.out, "client-%d.jsonl" % index), "w", encoding="utf-8")

    def stopping(self):
        return os.path.exists(self.args.stop_file) or time.time() > self.args.deadline

    def request(self, kind, method, path, event, body=None, extra=None, headers=None):
        self.seq += 1
        request_id = "soak-c%d-%d" % (self.index, self.seq)
        answer = call(self.args.base, method, path, self.token, body, request_id, extra_headers=headers)
        record = {
            "client": self.index, "seq": self.seq, "kind": kind, "method": method, "path": path,
            "request_id": request_id, "event": event.key, "event_id": event.id,
            "t0": answer.t0, "t1": answer.t1, "status": answer.status, "error": answer.error,
            "outcome": answer.outcome, "replayed": answer.headers.get("Idempotent-Replayed") == "true",
        }
        record.update(extra or {})
        if isinstance(answer.body, dict):
            record["answer"] = {k: answer.body.get(k) for k in ("id", "title", "slots", "parties", "detail")
                                if k in answer.body}
            if answer.outcome == "refused":
                record["answer"] = answer.body
        elif answer.body is not None and kind != "log":
            record["answer"] = answer.body if isinstance(answer.body, str) else None
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        time.sleep(self.args.think)
        return answer

    def new_slots(self):
        day = self.random.randrange(1, 28)
        month = self.random.randrange(1, 13)
        hours = sorted(self.random.sample(range(6, 22), SLOTS_PER_EVENT))
        return [{"begin": "2031-%02d-%02dT%02d:00:00Z" % (month, day, h), "duration": "01:00:00"} for h in hours]

    def send(self, kind, method, path, event, body, extra):
        """A create or notify: half of them with an Idempotency-Key, sent again
        with it while the answer does not come (bounded by RESYNC_SECONDS)."""
        if self.random.random() < 0.5:
            return self.request(kind, method, path, event, body, extra)
        key = "soak-%s-c%d-%d" % (kind, self.index, self.seq + 1)
        extra = dict(extra, idempotency_key=key)
        until = time.time() + RESYNC_SECONDS
        while True:
            answer = self.request(kind, method, path, event, body, extra, {"Idempotency-Key": key})
            if answer.outcome != "unknown" or time.time() > until or self.stopping():
                return answer
            time.sleep(RETRY_PAUSE_SECONDS)

    def create(self):
        self.events += 1
        event = Event("c%d-e%d" % (self.index, self.events), self.new_slots(), None)
        event.title = event.key + "-w0"
        body = {"parties": [self.creator] + self.others, "slots": event.slots, "title": event.title}
        answer = self.send("create", "POST", "/", event, body,
                           {"title": event.title, "slots": event.slots, "parties": body["parties"]})
        if answer.outcome != "ack" or not isinstance(answer.body, dict):
            return None
        event.id = answer.body.get("id")
        self.adopt(event, answer)
        return event

    def adopt(self, event, answer):
        """Takes the server's word for the event's state (a 2xx event body, or a
        412's current event) and its version (the ETag)."""
        body = answer.body.get("event", answer.body) if isinstance(answer.body, dict) else None
        if isinstance(body, dict) and "slots" in body:
            event.slots = body["slots"]
            event.title = body.get("title", event.title)
            version = answer.headers.get("ETag", event.version)
            if version != event.version:
                event.older_version, event.version = event.version, version

    def resync(self, event):
        """After a write with an unknown outcome: read until the event answers."""
        until = time.time() + RESYNC_SECONDS
        while time.time() < until and not self.stopping():
            answer = self.request("get", "GET", "/%d/" % event.id, event, extra={"resync": True})
            if answer.status == 200:
                self.adopt(event, answer)
                return True
            if answer.status == 404:
                return False
            time.sleep(0.5)
        return False

    def notify(self, event):
        event.notified.add(event.title)
        body = {"parties": self.others, "slots": event.slots}
        answer = self.send("notify", "POST", "/%d/notify/" % event.id, event, body,
                           {"state_title": event.title, "slots": event.slots, "recipients": self.others})
        return answer.outcome != "unknown" or self.resync(event)

    def patch(self, event, follow_up=True, version=None):
        choices = []
        for drop in range(len(event.slots)):
            narrower = event.slots[:drop] + event.slots[drop + 1:]
            if narrower and frozenset(map(slot_key, narrower)) not in event.used:
                choices.append(narrower)
        if not choices:
            return False
        slots = self.random.choice(choices)
        title = "%s-w%d" % (event.key, event.writes)
        event.writes += 1
        event.used.add(frozenset(map(slot_key, slots)))
        known_stale = False
        if version is None and event.version and self.random.random() < 0.5:
            # One in ten from a page loaded before the last change (another
            # tab): certainly stale, so it must be answered 412.
            known_stale = event.older_version is not None and self.random.random() < 0.1
            version = event.older_version if known_stale else event.version
        headers = {"If-Match": version} if version else None
        answer = self.request("patch", "PATCH", "/%d/" % event.id, event, {"slots": slots, "title": title},
                              {"title": title, "slots": slots, "if_match": version, "known_stale": known_stale},
                              headers)
        if answer.outcome == "ack" or answer.status == 412:
            self.adopt(event, answer)
            return True
        if answer.outcome == "unknown" and follow_up and not self.stopping():
            # As a person would: choose again from the page as it was loaded,
            # without reloading (the page sends the version it loaded). Should
            # the unanswered PATCH still land, it must not land after this one.
            self.patch(event, follow_up=False, version=version)
        return self.resync(event)

    def read(self, event):
        if self.random.random() < 0.5:
            answer = self.request("get", "GET", "/%d/" % event.id, event)
            if answer.status == 200:
                self.adopt(event, answer)
        if self.random.random() < 0.3:
            self.request("log", "GET", "/%d/log/?limit=1000" % event.id, event)

    def live(self, event):
        while not self.stopping():
            if event.title not in event.notified and not self.notify(event):
                return
            self.read(event)
            if self.stopping() or not self.patch(event):
                return

    def run(self):
        try:
            while not self.stopping():
                event = self.create()
                if event is not None and event.id is not None:
                    self.live(event)
                elif self.stopping():
                    break
                else:
                    time.sleep(0.2)
        finally:
            self.out.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--users", required=True, help="JSON file, see above")
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--think", type=float, default=0.03, help="pause after each request (s)")
    args = parser.parse_args()
    args.deadline = time.time() + args.max_seconds
    with open(args.users, encoding="utf-8") as f:
        users = json.load(f)["clients"]
    clients = [Client(i, args, api_token(args.base, u["username"], u["password"]), u["email"])
               for i, u in enumerate(users)]
    with open(os.path.join(args.out, "started"), "w", encoding="utf-8") as f:
        f.write("%f\n" % time.time())
    threads = [threading.Thread(target=c.run, name="client-%d" % c.index) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = sum(c.seq for c in clients)
    print("workload: %d clients, %d requests, %d events" % (len(clients), total, sum(c.events for c in clients)))


if __name__ == "__main__":
    main()
