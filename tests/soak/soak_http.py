"""One HTTP call to the gateway, as the soak's clients and its checker make it.

Every call opens its own connection (Connection: close): a kept-alive
connection that the gateway's restart broke would fail a write before it was
sent, and the soak could not tell that from a write lost in flight.
"""

import http.client
import json
import time
import urllib.parse

TIMEOUT_SECONDS = 20


class Answer:
    """What came back: a status (None when no answer came) and the parsed body."""

    def __init__(self, status=None, body=None, headers=None, error=None, t0=0.0, t1=0.0):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.error = error
        self.t0 = t0
        self.t1 = t1

    @property
    def outcome(self):
        """ack (2xx), refused (4xx: must change nothing) or unknown (anything else)."""
        if self.status is not None and 200 <= self.status < 300:
            return "ack"
        if self.status is not None and 400 <= self.status < 500:
            return "refused"
        return "unknown"

    def status_text(self):
        return str(self.status) if self.status is not None else (self.error or "no answer")


def call(base, method, path, token=None, body=None, request_id=None, timeout=TIMEOUT_SECONDS, extra_headers=None):
    url = urllib.parse.urlsplit(base)
    headers = {"Accept": "application/json", "Connection": "close"}
    headers.update(extra_headers or {})
    if token:
        headers["Authorization"] = "Token " + token
    if request_id:
        headers["X-Request-Id"] = request_id
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    t0 = time.time()
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        answer = Answer(response.status, None, dict(response.getheaders()), None, t0, time.time())
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, None, None, type(error).__name__ + ": " + str(error)[:120], t0, time.time())
    finally:
        connection.close()
    try:
        answer.body = json.loads(raw) if raw else None
    except ValueError:
        answer.body = raw[:200].decode("utf-8", "replace")
    return answer


def next_link(headers):
    """The path of `Link: <URL>; rel="next"`, or None."""
    link = headers.get("Link") or headers.get("link")
    if not link or 'rel="next"' not in link:
        return None
    target = link[link.index("<") + 1 : link.index(">")]
    parts = urllib.parse.urlsplit(target)
    return parts.path + ("?" + parts.query if parts.query else "")


def api_token(base, username, password, attempts=30):
    """A fresh API key for the user (the stack may still be settling: bounded retries)."""
    answer = None
    for _ in range(attempts):
        answer = call(base, "POST", "/api-token-auth/", body={"username": username, "password": password})
        if answer.status == 200 and isinstance(answer.body, dict):
            return answer.body["token"]
        time.sleep(1)
    raise SystemExit("soak: no API token for %s: %s" % (username, answer.status_text()))
