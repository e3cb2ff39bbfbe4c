#!/usr/bin/env python3
"""Holds many Server-Sent Events streams open on the gateway (GET /ID/changes/)
and measures change-to-delivery: a writer changes the events' titles at a steady
rate and every stream notes when each new version reached it.

  streams.py --base http://127.0.0.1:9000 --auth "Token KEY" --events 1,2,3 \
             --streams 1000 --duration 30 --rate 20 [--hold]

The time of a change is when its PATCH was sent (its commit is later: the
figure errs on the slow side). Prints one JSON object: deliveries expected and
seen, latency p50/p99/max in ms, streams that failed to open or broke.
With --hold it writes nothing and keeps the streams open until killed (the
other scenarios run with them open).

Plain asyncio sockets: the bench needs no package beyond Debian's python3.
"""
import argparse
import asyncio
import json
import signal
import sys
import time
from urllib.parse import urlsplit


class Stats:
    def __init__(self):
        self.sent = {}  # (event, version) -> time the PATCH was sent
        self.arrivals = []  # (event, version, time)
        self.open = 0
        self.failed = 0
        self.broken = 0
        self.followers = {}  # event -> streams open on it


async def open_stream(host, port, path, auth):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                  f"Authorization: {auth}\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        writer.close()
        raise RuntimeError(status.decode(errors="replace").strip())
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    return reader, writer


async def follow(stats, host, port, event, auth, ready):
    try:
        reader, writer = await open_stream(host, port, f"/{event}/changes/", auth)
    except Exception as error:  # noqa: BLE001 - counted and reported
        stats.failed += 1
        ready.set_result(str(error)) if not ready.done() else None
        return
    stats.open += 1
    stats.followers[event] = stats.followers.get(event, 0) + 1
    if not ready.done():
        ready.set_result(None)
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            # Chunked framing, if any, shows up as lines of hex sizes: ignored.
            if line.startswith(b"id: "):
                stats.arrivals.append((event, int(line[4:].strip()), time.monotonic()))
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        stats.open -= 1
        stats.broken += 1
        writer.close()


async def patch(host, port, path, auth, body):
    reader, writer = await asyncio.open_connection(host, port)
    data = json.dumps(body).encode()
    writer.write((f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                  "Connection: close\r\n\r\n").encode() + data)
    await writer.drain()
    head = await reader.read()
    writer.close()
    status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b"0"
    etag = next((l.split(b":", 1)[1].strip().strip(b'"') for l in head.split(b"\r\n")
                 if l.lower().startswith(b"etag:")), b"0")
    return int(status), int(etag or 0)


async def write_changes(stats, host, port, events, auth, rate, duration):
    interval = 1.0 / rate
    started = time.monotonic()
    i = 0
    while time.monotonic() - started < duration:
        event = events[i % len(events)]
        sent = time.monotonic()
        status, version = await patch(host, port, f"/{event}/", auth, {"title": f"bench change {i}"})
        if status == 202 and version:
            stats.sent[(event, version)] = sent
        i += 1
        await asyncio.sleep(max(0.0, started + (i * interval) - time.monotonic()))


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--auth", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    url = urlsplit(args.base)
    host, port = url.hostname, url.port or 80
    events = [e for e in args.events.split(",") if e]
    stats = Stats()
    tasks = []
    for n in range(args.streams):
        ready = asyncio.get_running_loop().create_future()
        tasks.append(asyncio.create_task(follow(stats, host, port, events[n % len(events)], args.auth, ready)))
        await ready
    print(f"streams: {stats.open} open, {stats.failed} failed", file=sys.stderr, flush=True)
    if args.hold:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        return
    await asyncio.sleep(1)  # the first messages (current state) are not measured
    await write_changes(stats, host, port, events, args.auth, args.rate, args.duration)
    await asyncio.sleep(2)  # the last changes' deliveries
    latencies = []
    for event, version, arrived in stats.arrivals:
        sent = stats.sent.get((event, version))
        if sent is not None:
            latencies.append((arrived - sent) * 1000.0)
    expected = sum(stats.followers.get(event, 0) for event, _ in stats.sent)
    print(json.dumps({
        "streams_open": stats.open, "streams_failed": stats.failed, "streams_broken": stats.broken,
        "changes": len(stats.sent), "deliveries_expected": expected, "deliveries": len(latencies),
        "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else None,
    }))
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main())
