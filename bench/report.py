#!/usr/bin/python3
"""The benchmark's readings from /proc and its report (bench/run.sh calls it).

  report.py ticks PID...   CPU clock ticks (utime + stime) of each process; the
                           last one is the PostgreSQL postmaster, counted with
                           its reaped children and every live backend under it
  report.py hwm PID...     peak RSS (VmHWM, kB) of each process
  report.py table RESULTS --threads ... (see --help)
                           the table, from the lines run.sh wrote to RESULTS:
                             wrk<TAB>key<TAB>label<TAB>connections<TAB>wrk RESULT fields<TAB>ticks before<TAB>ticks after
                             pgbench<TAB>variant<TAB>log file<TAB>ticks before<TAB>ticks after
"""
import argparse
import datetime
import json
import os
import re
import sys

HZ = os.sysconf("SC_CLK_TCK")
POSTGRES = 3  # the postmaster's place in a ticks reading


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def own_ticks(pid):
    fields = stat_fields(pid)
    # utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    return int(fields[11]) + int(fields[12]) if fields else 0


def cluster_ticks(postmaster):
    fields = stat_fields(postmaster)
    if not fields:
        return 0
    # Backends that exited (pgbench's) are in the postmaster's cutime + cstime.
    total = sum(int(v) for v in fields[11:15])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            child = stat_fields(entry)
            if child and child[1] == str(postmaster):
                total += int(child[11]) + int(child[12])
    return total


def ticks(pids):
    readings = [own_ticks(pid) for pid in pids[:POSTGRES]] + [cluster_ticks(pids[POSTGRES])]
    print(" ".join(map(str, readings)))


def vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ms_per(before, after, count, only_postgres=False):
    """CPU milliseconds per request of each reading (gateway, events, notify, PostgreSQL)."""
    b, a = list(map(int, before.split())), list(map(int, after.split()))
    cells = []
    for i in range(len(a)):
        cells.append("%.2f" % ((a[i] - b[i]) * 1000 / HZ / count) if count > 0 else "0.00")
    return cells[POSTGRES:] if only_postgres else cells


def pgbench_figures(log):
    text = open(log).read() if os.path.exists(log) else ""

    def find(pattern):
        m = re.search(pattern, text, re.M)
        return m.group(1) if m else ""

    return {
        "tps": find(r"^tps = ([0-9.]+) \(without initial connection time\)"),
        "latency": find(r"^latency average = ([0-9.]+) ms"),
        "failed": find(r"^number of failed transactions: ([0-9]+)") or "0",
        "xacts": int(find(r"^number of transactions actually processed: ([0-9]+)") or 0),
    }


ROW = "| %-58s | %5s | %9s | %8s | %8s | %7s | %6s | %-26s |"


def lag_buckets(text):
    """{upper bound: cumulative count} of calndro_log_seal_lag_seconds in a
    Prometheus text scrape."""
    buckets = {}
    for line in text.splitlines():
        if line.startswith("calndro_log_seal_lag_seconds_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def seal_lag(before_file, after_file):
    """Entries sealed between two scrapes and the bucket bounds under which
    50 % and 99 % of their lags fall: "count p50 p99" (seconds; "-" when none)."""
    with open(before_file) as b, open(after_file) as a:
        before, after = lag_buckets(b.read()), lag_buckets(a.read())
    delta = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = delta[-1][1] if delta else 0.0
    def quantile(q):
        return next(("%g" % bound for bound, count in delta if count >= q * total), "-") if total else "-"
    print("%d %s %s" % (total, quantile(0.5), quantile(0.99)))


def rows(results):
    """The scenarios' lines, (a)'s req/s, the pgbench figures by variant, and
    the scenarios that had answers other than 2xx or socket errors."""
    lines, a_rps, pg, failing, seals, streams = [], None, {}, [], [], []
    for record in results:
        if record[0] == "wrk":
            _, key, label, conns, result, before, after = record
            requests, _dur, rps, p50, p99, bad, sock = result.split()
            cpu = cpu_ms_per(before, after, int(requests))
            lines.append(ROW % (label, conns, rps, p50, p99, bad, sock, "/".join(cpu)))
            if int(bad) != 0 or int(sock) != 0 or int(requests) == 0:
                failing.append("%s (%s non-2xx, %s socket errors, %s requests)" % (key, bad, sock, requests))
            if key == "a":
                a_rps = float(rps)
        elif record[0] == "seal":
            _, key, label, count, p50, p99 = record
            seals.append("| %-58s | %9s | %8s | %8s |" % (label, count, "<= " + p50, "<= " + p99))
        elif record[0] == "streams":
            _, count, result, rss_kb, _before, _after = record
            r = json.loads(result)
            ms = lambda v: "-" if v is None else "%.0f" % v
            streams.append(("(k) %s streams open on the gateway: %s open, %s failed, %s broke; %s changes, %s of %s "
                          "deliveries; change-to-delivery p50 %s ms, p99 %s ms, max %s ms; gateway RSS %d MiB")
                         % (count, r["streams_open"], r["streams_failed"], r["streams_broken"], r["changes"],
                            r["deliveries"], r["deliveries_expected"], ms(r["p50_ms"]), ms(r["p99_ms"]),
                            ms(r["max_ms"]), int(rss_kb or 0) // 1024))
            if r["streams_failed"] or r["deliveries"] < r["deliveries_expected"]:
                failing.append("k (%s streams failed, %s of %s deliveries)"
                               % (r["streams_failed"], r["deliveries"], r["deliveries_expected"]))
        elif record[0] == "pgbench":
            _, variant, log, before, after = record
            pg[variant] = pgbench_figures(log)
            pg[variant]["cpu"] = cpu_ms_per(before, after, pg[variant]["xacts"], only_postgres=True)[0]
    return lines, a_rps, pg, failing, seals, streams


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
    return f"{os.cpu_count()} CPUs, {model}, {kb / 1048576:.1f} GiB RAM"


def ceiling_lines(a_rps, pg):
    titles = {"tx": "pgbench, (a)'s statements in one transaction",
              "as-run": "pgbench, (a)'s statements as run (each commits)"}
    out = []
    for variant, f in pg.items():
        out.append("| %-58s | %5s | %9.1f | %8s | %8s | %7s | %6s | %-26s |"
                   % (titles[variant], "", float(f["tps"] or 0), "avg " + f["latency"], "", f["failed"], "",
                      "-/-/-/" + f["cpu"]))
    p, q = float(pg["tx"]["tps"] or "nan"), float(pg["as-run"]["tps"] or "nan")
    out += ["",
            "ratio (a) / pgbench ceiling (one transaction): %.2f  (%.1f req/s over %.1f tps)" % (a_rps / p, a_rps, p),
            "ratio (a) / pgbench, statements as run:                 %.2f  (%.1f req/s over %.1f tps)"
            % (a_rps / q, a_rps, q)]
    return out


def table(args):
    with open(args.results) as f:
        results = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    lines, a_rps, pg, failing, seals, streams = rows(results)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = ["",
           f"calndro benchmark: wrk -t{args.threads} -c{args.connections} (or the scenario's conns) "
           f"-d{args.duration}s --latency (after {args.warmup}s warm-up); {now}",
           f"email-token cache: CALNDRO_EMAIL_TOKEN_CACHE_SECONDS={args.token_cache}",
           f"machine: {machine()}; load before: {args.load_before}",
           "",
           ROW % ("scenario", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "CPU ms/req gw/ev/nt/pg"),
           "|%s|%s|%s|%s|%s|%s|%s|%s|" % ("-" * 60, "-" * 7, "-" * 11, "-" * 10, "-" * 10, "-" * 9, "-" * 8,
                                          "-" * 28)]
    out += lines
    if a_rps is not None and "tx" in pg and "as-run" in pg:
        out += ceiling_lines(a_rps, pg)
    if seals:
        out += ["",
                "sealing lag (SPEC §10: within 2 s), from each entry's commit to its sealing, entries sealed during",
                "the scenario and the 3 s after it (calndro_log_seal_lag_seconds; p50/p99 as the histogram bucket",
                "bounds they fall under)",
                "",
                "| %-58s | %9s | %8s | %8s |" % ("scenario", "entries", "p50 s", "p99 s"),
                "|%s|%s|%s|%s|" % ("-" * 60, "-" * 11, "-" * 10, "-" * 10)] + seals
    if streams:
        out += ["", "change streams (SPEC §11: within 1 s of the commit; target p99 <= 250 ms, gateway RSS <= 256 MB),",
                "the time of a change being when its PATCH was sent"] + streams
    mib = [vm_hwm(pid) // 1024 for pid in (args.events, args.notify, args.gateway)]
    out += ["",
            "peak RSS (VmHWM): calndro-events %d MiB, calndro-notify %d MiB, calndro-gateway %d MiB" % tuple(mib),
            "CPU ms/req: CPU time per request of calndro-gateway / calndro-events / calndro-notify / the PostgreSQL",
            "cluster during the scenario (2 CPUs are 2000 ms per second, shared with wrk or pgbench)",
            "conns: wrk's keep-alive connections, all from 127.0.0.1; errors: wrk's socket errors (connect,",
            "read, write, timeout)",
            f"logs and raw wrk/pgbench output: {args.logs}/",
            "",
            "every answer 2xx, no socket errors" if not failing
            else "NOT every answer 2xx: " + "; ".join(failing)]
    print("\n".join(out))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "ticks":
        return ticks(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "lag":
        return seal_lag(sys.argv[2], sys.argv[3])
    if len(sys.argv) > 1 and sys.argv[1] == "hwm":
        return print(" ".join(str(vm_hwm(pid)) for pid in sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["table"])
    parser.add_argument("results")
    for name in ("threads", "connections", "duration", "warmup", "token-cache", "load-before", "logs",
                 "events", "notify", "gateway"):
        parser.add_argument("--" + name, required=True)
    table(parser.parse_args())


if __name__ == "__main__":
    main()
