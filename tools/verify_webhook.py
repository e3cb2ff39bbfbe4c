#!/usr/bin/python3
"""Checks calndro's webhook deliveries as the Standard Webhooks
specification says, with Python's standard library only: an implementation
independent of the service's (libsodium). docs/WEBHOOKS.md has the same
check in ten lines.

    verify_webhook.py SECRET RECORD      RECORD: JSON lines {"headers", "body"}
    verify_webhook.py --vector           the specification's published example

Prints one line per delivery, "ok <webhook-id>" or "bad <webhook-id>", and
exits 1 when any is bad (or RECORD holds none).
"""
import base64
import hashlib
import hmac
import json
import sys


def signature(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{msg_id}.{timestamp}.{body}".encode("utf-8")
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret, headers, body):
    expected = signature(secret, headers["webhook-id"], headers["webhook-timestamp"], body)
    offered = headers["webhook-signature"].split(" ")  # a space-separated list of signatures
    return any(hmac.compare_digest(expected, s) for s in offered)


def main(argv):
    if argv[1:] == ["--vector"]:
        got = signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        1614265330, '{"test": 2432232314}')
        print(got)
        return 0 if got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" else 1
    secret, record = argv[1], argv[2]
    bad = seen = 0
    with open(record, encoding="utf-8") as lines:
        for line in lines:
            delivery = json.loads(line)
            ok = verify(secret, delivery["headers"], delivery["body"])
            seen += 1
            bad += 0 if ok else 1
            print(("ok " if ok else "bad ") + delivery["headers"].get("webhook-id", "?"))
    return 1 if bad or not seen else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
