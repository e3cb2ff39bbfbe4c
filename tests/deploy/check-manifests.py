#!/usr/bin/python3
"""Checks deploy/k8s/*.yaml and docker-compose.yml for what a cluster (or
docker-compose) requires and for the cross-references between them.

  /usr/bin/python3 tests/deploy/check-manifests.py [--root DIR] [--no-self-test]

First a self-test breaks copies of the manifests in memory, one field at a
time, and expects each break to be reported; then the real files are checked.
Prints one line per finding and a last line "N passed, M failed"; exits 1 when
anything failed. Needs Debian's python3-yaml (deploy/install-deps.sh).
"""

import argparse
import copy
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    print("check-manifests: python3-yaml is missing (apt-get install python3-yaml)", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
API_VERSIONS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}
PROBE_HANDLERS = ("httpGet", "grpc", "exec", "tcpSocket")
MEMORY_LIMIT_MAX = 128 * 1024 * 1024
# The flags the binaries' self-check mode answers to.
HEALTH_FLAG = "--health-check"
CALNDRO_BINARIES = ("calndro-events", "calndro-notify", "calndro-gateway")


def parse_quantity_bytes(q):
    units = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3}
    s = str(q)
    for unit, factor in units.items():
        if s.endswith(unit):
            return float(s[: -len(unit)]) * factor
    return float(s)


class Report:
    def __init__(self, quiet=False):
        self.passed = 0
        self.failed = 0
        self.errors = []
        self.quiet = quiet

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self.errors.append(what)
            if not self.quiet:
                print("FAIL: " + what)
        return bool(cond)


def get(obj, *path):
    for key in path:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def load_k8s(root):
    """[(file, [doc, ...])] for every manifest, plus the kustomization."""
    k8s_dir = os.path.join(root, "deploy", "k8s")
    files = []
    for name in sorted(os.listdir(k8s_dir)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(k8s_dir, name), encoding="utf-8") as f:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            files.append((name, docs))
    return files


def load_compose(root):
    with open(os.path.join(root, "docker-compose.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def known_env_names(root):
    """Every CALNDRO_* name the sources read: manifests must not invent any."""
    names = set()
    for top in ("services", "gateway"):
        for dirpath, _, filenames in os.walk(os.path.join(root, top)):
            for fn in filenames:
                if fn.endswith((".cc", ".h", ".cpp", ".hpp")):
                    with open(os.path.join(dirpath, fn), encoding="utf-8", errors="replace") as f:
                        names.update(re.findall(r'"(CALNDRO_[A-Z0-9_]+)"', f.read()))
    return names


# --------------------------------------------------------------- Kubernetes


def container_ports(deployment):
    ports = {}
    for c in get(deployment, "spec", "template", "spec", "containers") or []:
        for p in c.get("ports") or []:
            if "containerPort" in p:
                ports[p["containerPort"]] = p
                if "name" in p:
                    ports[p["name"]] = p
    return ports


def labels_match(selector, labels):
    return bool(selector) and isinstance(labels, dict) and all(labels.get(k) == v for k, v in selector.items())


def check_probe(r, where, probe, ports):
    if not r.check(isinstance(probe, dict), f"{where}: missing"):
        return
    handlers = [h for h in PROBE_HANDLERS if h in probe]
    if not r.check(len(handlers) == 1, f"{where}: needs exactly one of {', '.join(PROBE_HANDLERS)}"):
        return
    h = handlers[0]
    if h in ("httpGet", "grpc", "tcpSocket"):
        port = get(probe, h, "port")
        r.check(port is not None and port in ports, f"{where}: port {port!r} is not a containerPort of the pod")
    if h == "httpGet":
        r.check(str(get(probe, h, "path") or "").startswith("/"), f"{where}: httpGet needs a path")
    if h == "exec":
        cmd = get(probe, h, "command") or []
        r.check(isinstance(cmd, list) and cmd, f"{where}: exec needs a command list")


def check_k8s(r, files, env_names, root=None):
    by_kind = {}
    for fname, docs in files:
        if fname.startswith("kustomization."):
            continue
        r.check(docs, f"{fname}: no documents")
        for i, doc in enumerate(docs):
            where = f"{fname}[{i}]"
            if not r.check(isinstance(doc, dict), f"{where}: not a mapping"):
                continue
            kind = doc.get("kind")
            r.check(isinstance(kind, str) and kind, f"{where}: missing kind")
            r.check(doc.get("apiVersion"), f"{where}: missing apiVersion")
            if kind in API_VERSIONS:
                r.check(doc.get("apiVersion") == API_VERSIONS[kind],
                        f"{where}: {kind} needs apiVersion {API_VERSIONS[kind]}, has {doc.get('apiVersion')!r}")
            name = get(doc, "metadata", "name")
            r.check(isinstance(name, str) and DNS1123.match(name or ""), f"{where}: metadata.name missing or not DNS-1123: {name!r}")
            r.check(get(doc, "metadata", "namespace") is None, f"{where}: manifests are namespace-less")
            key = (kind, name)
            r.check(key not in by_kind, f"{where}: duplicate {kind}/{name}")
            by_kind[key] = (where, doc)

    def named(kind):
        return {n: d for (k, n), (_, d) in by_kind.items() if k == kind}

    configmaps = named("ConfigMap")
    secrets = named("Secret")
    deployments = named("Deployment")
    services = named("Service")
    hpas = named("HorizontalPodAutoscaler")

    for required in ("events", "notify", "gateway"):
        r.check(required in deployments, f"Deployment {required} is missing")
        r.check(required in services, f"Service {required} is missing")
    r.check(configmaps, "no ConfigMap")
    r.check(secrets, "no Secret")
    for required in ("gateway", "events"):
        r.check(any(get(h, "spec", "scaleTargetRef", "name") == required for h in hpas.values()),
                f"no HorizontalPodAutoscaler for {required}")

    secret_keys = {}
    for n, s in secrets.items():
        keys = set((s.get("data") or {}).keys()) | set((s.get("stringData") or {}).keys())
        secret_keys[n] = keys
        r.check(keys, f"Secret {n}: no data")
    cm_keys = {n: set((c.get("data") or {}).keys()) for n, c in configmaps.items()}
    for n, keys in list(cm_keys.items()) + list(secret_keys.items()):
        for k in keys:
            r.check(ENV_NAME.match(k), f"{n}: key {k!r} is not a valid variable name")

    # Deployments.
    for n, d in deployments.items():
        where = f"Deployment {n}"
        spec = d.get("spec") or {}
        sel = get(spec, "selector", "matchLabels")
        labels = get(spec, "template", "metadata", "labels")
        r.check(isinstance(sel, dict) and sel, f"{where}: spec.selector.matchLabels missing")
        r.check(labels_match(sel, labels), f"{where}: selector {sel} does not match template labels {labels}")
        r.check(isinstance(spec.get("replicas"), int) and spec["replicas"] >= 2, f"{where}: needs replicas >= 2")
        pod = get(spec, "template", "spec") or {}
        containers = pod.get("containers")
        if not r.check(isinstance(containers, list) and containers, f"{where}: no containers"):
            continue
        ports = container_ports(d)
        pod_nonroot = get(pod, "securityContext", "runAsNonRoot")
        for c in containers:
            cw = f"{where} container {c.get('name')!r}"
            r.check(c.get("name"), f"{where}: a container has no name")
            r.check(c.get("image"), f"{cw}: no image")
            r.check(c.get("ports"), f"{cw}: no ports")
            for p in c.get("ports") or []:
                r.check(isinstance(p.get("containerPort"), int), f"{cw}: port without numeric containerPort")
            for probe in ("readinessProbe", "livenessProbe"):
                check_probe(r, f"{cw}: {probe}", c.get(probe), ports)
            if c.get("startupProbe") is not None:
                check_probe(r, f"{cw}: startupProbe", c.get("startupProbe"), ports)
            cmd = c.get("command") or []
            r.check(cmd and cmd[0] in CALNDRO_BINARIES, f"{cw}: command must pick a calndro binary, has {cmd}")
            limits = get(c, "resources", "limits") or {}
            requests = get(c, "resources", "requests") or {}
            r.check(requests.get("memory") and requests.get("cpu"), f"{cw}: resources.requests cpu and memory needed")
            mem = limits.get("memory")
            r.check(mem is not None and parse_quantity_bytes(mem) <= MEMORY_LIMIT_MAX,
                    f"{cw}: resources.limits.memory missing or above 128Mi: {mem!r}")
            r.check(pod_nonroot or get(c, "securityContext", "runAsNonRoot"), f"{cw}: must run as non-root")
            seen = set()
            for e in c.get("env") or []:
                en = e.get("name")
                r.check(en and ENV_NAME.match(en), f"{cw}: bad env name {en!r}")
                r.check(en not in seen, f"{cw}: env {en} set twice")
                seen.add(en)
                if env_names and en and en.startswith("CALNDRO_"):
                    r.check(en in env_names, f"{cw}: env {en} is read by no calndro source file")
                cmr = get(e, "valueFrom", "configMapKeyRef")
                skr = get(e, "valueFrom", "secretKeyRef")
                r.check(("value" in e) != (e.get("valueFrom") is not None), f"{cw}: env {en} needs value or valueFrom")
                if cmr:
                    r.check(cmr.get("name") in cm_keys and cmr.get("key") in cm_keys[cmr.get("name")],
                            f"{cw}: env {en} refers to ConfigMap {cmr.get('name')} key {cmr.get('key')}, which does not exist")
                if skr:
                    r.check(skr.get("name") in secret_keys and skr.get("key") in secret_keys[skr.get("name")],
                            f"{cw}: env {en} refers to Secret {skr.get('name')} key {skr.get('key')}, which does not exist")
            for ef in c.get("envFrom") or []:
                if "configMapRef" in ef:
                    r.check(get(ef, "configMapRef", "name") in cm_keys, f"{cw}: envFrom ConfigMap {get(ef, 'configMapRef', 'name')} missing")
                if "secretRef" in ef:
                    r.check(get(ef, "secretRef", "name") in secret_keys, f"{cw}: envFrom Secret {get(ef, 'secretRef', 'name')} missing")

    # Services select existing pods, ports reach containerPorts.
    for n, s in services.items():
        where = f"Service {n}"
        sel = get(s, "spec", "selector")
        targets = [d for d in deployments.values() if labels_match(sel, get(d, "spec", "template", "metadata", "labels"))]
        r.check(targets, f"{where}: selector {sel} matches no Deployment's pods")
        sports = get(s, "spec", "ports") or []
        r.check(sports, f"{where}: no ports")
        for p in sports:
            r.check(isinstance(p.get("port"), int), f"{where}: port without number")
            tp = p.get("targetPort", p.get("port"))
            for d in targets:
                r.check(tp in container_ports(d), f"{where}: targetPort {tp!r} is no containerPort of Deployment {get(d, 'metadata', 'name')}")
    # Links in mails come from notify's own CALNDRO_PUBLIC_BASE_URL (no Host
    # crosses the services); events writes it into event.ics, the gateway
    # into its responses: each reads the one ConfigMap key.
    for n in ("events", "notify", "gateway"):
        containers = get(deployments.get(n) or {}, "spec", "template", "spec", "containers") or []
        r.check(any(get(e, "valueFrom", "configMapKeyRef", "key") == "CALNDRO_PUBLIC_BASE_URL"
                    for c in containers for e in c.get("env") or [] if e.get("name") == "CALNDRO_PUBLIC_BASE_URL"),
                f"Deployment {n}: CALNDRO_PUBLIC_BASE_URL from the ConfigMap")
    for n in ("events", "notify"):
        if n in services:
            r.check(get(services[n], "spec", "clusterIP") == "None",
                    f"Service {n}: must be headless (clusterIP: None) for gRPC round_robin over dns:///")

    # gRPC targets in the ConfigMap name headless Services and their ports.
    for cm in configmaps.values():
        for key in ("CALNDRO_EVENTS_ADDR", "CALNDRO_NOTIFY_ADDR"):
            value = (cm.get("data") or {}).get(key)
            if value is None:
                continue
            m = re.match(r"^dns:///([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)$", str(value))
            if r.check(m, f"ConfigMap {key}={value!r}: expected dns:///SERVICE:PORT"):
                svc = services.get(m.group(1))
                r.check(svc is not None and any(p.get("port") == int(m.group(2)) for p in get(svc, "spec", "ports") or []),
                        f"ConfigMap {key}={value!r}: no Service {m.group(1)} with port {m.group(2)}")

    # HPAs target existing Deployments.
    for n, h in hpas.items():
        where = f"HorizontalPodAutoscaler {n}"
        ref = get(h, "spec", "scaleTargetRef") or {}
        r.check(ref.get("kind") == "Deployment" and ref.get("name") in deployments,
                f"{where}: scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not an existing Deployment")
        mn, mx = get(h, "spec", "minReplicas"), get(h, "spec", "maxReplicas")
        r.check(isinstance(mx, int) and (mn is None or (isinstance(mn, int) and 1 <= mn <= mx)),
                f"{where}: needs maxReplicas >= minReplicas >= 1")
        r.check(get(h, "spec", "metrics"), f"{where}: no metrics")
        target = deployments.get(ref.get("name"))
        if target is not None and any(get(m, "resource", "name") == "cpu" for m in get(h, "spec", "metrics") or []):
            for c in get(target, "spec", "template", "spec", "containers") or []:
                r.check(get(c, "resources", "requests", "cpu"), f"{where}: CPU utilisation needs cpu requests in {ref.get('name')}")

    for n, p in named("PodDisruptionBudget").items():
        sel = get(p, "spec", "selector", "matchLabels")
        r.check(any(labels_match(sel, get(d, "spec", "template", "metadata", "labels")) for d in deployments.values()),
                f"PodDisruptionBudget {n}: selector matches no Deployment")

    check_network_policies(r, named("NetworkPolicy"), deployments)
    check_gateway_env(r, deployments)

    # kustomization lists every manifest, and only existing ones.
    kust = [docs for fname, docs in files if fname.startswith("kustomization.")]
    if r.check(kust and kust[0], "deploy/k8s/kustomization.yaml is missing"):
        k = kust[0][0]
        r.check(k.get("apiVersion", "").startswith("kustomize.config.k8s.io/") and k.get("kind") == "Kustomization",
                "kustomization.yaml: apiVersion/kind")
        listed = set(k.get("resources") or [])
        manifests = {fname for fname, _ in files if not fname.startswith("kustomization.")}
        r.check(listed == manifests, f"kustomization.yaml resources {sorted(listed)} != manifests {sorted(manifests)}")


# ---------------------------------------------------------- NetworkPolicy

# Who may reach each process's gRPC or HTTP port (SPEC §2: the client address
# the gateway forwards; only events queues mail): None means anyone.
ADMITTED = {"gateway": (9000, None), "events": (50051, "gateway"), "notify": (50052, "events")}
# (process, port, protocol, peer process or None for any address) each must be allowed to reach.
EGRESS = [
    ("gateway", 50051, "TCP", "events"), ("gateway", 53, "UDP", None),
    ("events", 50052, "TCP", "notify"), ("events", 5432, "TCP", None), ("events", 53, "UDP", None),
    ("notify", 5432, "TCP", None), ("notify", 587, "TCP", None), ("notify", 53, "UDP", None),
]


def pod_labels(deployment):
    return get(deployment, "spec", "template", "metadata", "labels")


def rule_ports_cover(rule, port, protocol="TCP"):
    ports = rule.get("ports") or []
    return not ports or any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def peer_selects_only(peer, deployments, name):
    """A peer of this namespace's pods that selects Deployment `name`'s pods and no other's."""
    if not isinstance(peer, dict) or set(peer) != {"podSelector"}:
        return False
    sel = get(peer, "podSelector", "matchLabels")
    return all(labels_match(sel, pod_labels(d)) == (n == name) for n, d in deployments.items())


def check_network_policies(r, policies, deployments):
    for name, (port, source) in ADMITTED.items():
        if name not in deployments:
            continue
        labels = pod_labels(deployments[name])
        mine = [p for p in policies.values() if labels_match(get(p, "spec", "podSelector", "matchLabels"), labels)]
        if not r.check(len(mine) == 1, f"NetworkPolicy: {len(mine)} select the {name} pods, expected 1"):
            continue
        spec = mine[0].get("spec") or {}
        types = spec.get("policyTypes") or []
        r.check("Ingress" in types and "Egress" in types, f"NetworkPolicy {name}: policyTypes needs Ingress and Egress, has {types}")
        admitting = [rule for rule in spec.get("ingress") or [] if rule_ports_cover(rule, port)]
        r.check(admitting, f"NetworkPolicy {name}: nothing may reach port {port}")
        for rule in admitting:
            peers = rule.get("from") or []
            if source is None:
                continue
            r.check(peers and all(peer_selects_only(peer, deployments, source) for peer in peers),
                    f"NetworkPolicy {name}: port {port} is open to {peers or 'anyone'}, only {source} may reach it")
        if source is None:
            r.check(any(not rule.get("from") for rule in admitting), f"NetworkPolicy {name}: port {port} must be open to anyone")
        # Every other port (metrics) only from a namespace, never from anyone.
        for rule in spec.get("ingress") or []:
            if not rule_ports_cover(rule, port):
                r.check(rule.get("from") and rule.get("ports"), f"NetworkPolicy {name}: an ingress rule open to anyone on {rule.get('ports')}")
    for name, port, protocol, peer in EGRESS:
        if name not in deployments:
            continue
        labels = pod_labels(deployments[name])
        allowed = False
        for p in policies.values():
            if not labels_match(get(p, "spec", "podSelector", "matchLabels"), labels):
                continue
            for rule in get(p, "spec", "egress") or []:
                to = rule.get("to") or []
                reaches = not to or (peer is not None and any(peer_selects_only(t, deployments, peer) for t in to))
                allowed = allowed or (rule_ports_cover(rule, port, protocol) and reaches)
        r.check(allowed, f"NetworkPolicy {name}: egress to {peer or 'any address'} on {port}/{protocol} is not allowed")


def env_of(container, name):
    return next((e for e in container.get("env") or [] if e.get("name") == name), None)


def check_gateway_env(r, deployments):
    """The gateway holds the internal credential, and asks notify nothing that its policy refuses."""
    containers = {n: (get(d, "spec", "template", "spec", "containers") or [{}])[0] for n, d in deployments.items()}
    if "gateway" not in containers or "events" not in containers:
        return
    ref = lambda n: get(env_of(containers[n], "CALNDRO_INTERNAL_TOKEN") or {}, "valueFrom", "secretKeyRef")
    r.check(ref("gateway") and ref("gateway") == ref("events"),
            "Deployment gateway: CALNDRO_INTERNAL_TOKEN must come from the Secret key events uses")
    notify_addr = env_of(containers["gateway"], "CALNDRO_NOTIFY_ADDR") or {}
    r.check(notify_addr.get("value") == "off",
            "Deployment gateway: CALNDRO_NOTIFY_ADDR must be \"off\" (only events may reach notify, so /readyz would never pass)")


# ----------------------------------------------------------- docker-compose


def interpolate(value):
    """docker-compose's ${VAR:-default} / ${VAR-default} / ${VAR}, with defaults only:
    the file is checked as it is, not as this machine's environment would make it."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", str(value))


def compose_env(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def check_compose(r, compose, env_names):
    if not r.check(isinstance(compose, dict), "docker-compose.yml: not a mapping"):
        return
    services = compose.get("services") or {}
    for name in ("postgres", "mailpit", "events", "notify", "gateway"):
        r.check(name in services, f"compose: service {name} missing")
    volumes = compose.get("volumes") or {}
    for n, s in services.items():
        where = f"compose service {n}"
        if not r.check(isinstance(s, dict), f"{where}: not a mapping"):
            continue
        r.check(s.get("image") or s.get("build"), f"{where}: needs image or build")
        deps = s.get("depends_on") or {}
        if isinstance(deps, dict):
            for dep, spec in deps.items():
                r.check(dep in services, f"{where}: depends_on unknown service {dep}")
                cond = (spec or {}).get("condition")
                if cond == "service_healthy":
                    r.check(get(services, dep, "healthcheck", "test"), f"{where}: waits for {dep} healthy, but {dep} has no healthcheck")
        for v in s.get("volumes") or []:
            src = v.split(":", 1)[0] if isinstance(v, str) else (v or {}).get("source")
            if src and not src.startswith((".", "/", "~")):
                r.check(src in volumes, f"{where}: named volume {src} not declared")
        for k in compose_env(s):
            if k.startswith("CALNDRO_") and env_names:
                r.check(k in env_names, f"{where}: env {k} is read by no calndro source file")

    pg = services.get("postgres") or {}
    r.check(str(pg.get("image", "")).startswith("postgres:15"), "compose postgres: image postgres:15")
    r.check("pg_isready" in " ".join(map(str, get(pg, "healthcheck", "test") or [])), "compose postgres: pg_isready healthcheck")
    r.check(any(isinstance(v, str) and not v.startswith((".", "/")) for v in pg.get("volumes") or []), "compose postgres: named volume")
    mp = services.get("mailpit") or {}
    r.check("mailpit" in str(mp.get("image", "")), "compose mailpit: image axllent/mailpit")
    r.check(any("8025" in str(p) for p in mp.get("ports") or []), "compose mailpit: UI port 8025 published")
    # Every published port but the gateway's on the host's loopback only: the
    # mail catcher's UI shows every token link, the gRPC ports are for grpcurl.
    for n in ("mailpit", "events", "notify", "postgres"):
        for p in (services.get(n) or {}).get("ports") or []:
            r.check(isinstance(p, str) and p.startswith("127.0.0.1:"),
                    f"compose {n}: port {p!r} must be published on 127.0.0.1 only")

    for n, binary in (("events", "calndro-events"), ("notify", "calndro-notify"), ("gateway", "calndro-gateway")):
        s = services.get(n) or {}
        where = f"compose {n}"
        r.check(get(s, "build", "dockerfile") == "deploy/Dockerfile", f"{where}: built from deploy/Dockerfile")
        cmd = s.get("command") or []
        cmd = cmd.split() if isinstance(cmd, str) else cmd
        r.check(cmd[:1] == [binary], f"{where}: command {cmd} should start {binary}")
        # tests/deploy/compose-up.sh checks these inside running containers.
        r.check(str(s.get("user", "")).split(":")[0] not in ("", "0", "root"), f"{where}: must run as a non-root user")
        r.check(s.get("read_only") is True, f"{where}: read_only: true")
        r.check("ALL" in (s.get("cap_drop") or []), f"{where}: cap_drop: [ALL]")
        test = get(s, "healthcheck", "test") or []
        r.check(test[:1] in (["CMD"], ["CMD-SHELL"]) and binary in " ".join(test) and HEALTH_FLAG in " ".join(test),
                f"{where}: healthcheck must run {binary} {HEALTH_FLAG}, has {test}")
        env = compose_env(s)
        for var in ("CALNDRO_EVENTS_ADDR", "CALNDRO_NOTIFY_ADDR"):
            r.check(env.get(var), f"{where}: env {var} missing")
        # The services listen beyond loopback: a credential with a public
        # default would make notify an open relay (the services refuse it
        # too); the gateway needs it for events to believe the client
        # addresses it forwards.
        if n in ("events", "notify", "gateway"):
            raw = s.get("environment") or {}
            raw = raw if isinstance(raw, dict) else {}
            token, token_file = raw.get("CALNDRO_INTERNAL_TOKEN"), env.get("CALNDRO_INTERNAL_TOKEN_FILE")
            r.check(bool(token) != bool(token_file),
                    f"{where}: needs one of CALNDRO_INTERNAL_TOKEN (required, ${{VAR:?...}}) or CALNDRO_INTERNAL_TOKEN_FILE")
            if token:
                r.check(re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}", str(token)),
                        f"{where}: CALNDRO_INTERNAL_TOKEN must be required (${{VAR:?message}}), not fixed or defaulted")
            if token_file:
                targets = [str(v).split(":")[1] for v in s.get("volumes") or [] if isinstance(v, str) and ":" in v]
                r.check(any(str(token_file).startswith(t.rstrip("/") + "/") for t in targets),
                        f"{where}: CALNDRO_INTERNAL_TOKEN_FILE {token_file} is on no mounted volume")
        if n in ("events", "notify"):
            r.check("@postgres:" in str(env.get("CALNDRO_DATABASE_URL", "")), f"{where}: CALNDRO_DATABASE_URL must name the postgres service")
            listen = env.get("CALNDRO_EVENTS_LISTEN" if n == "events" else "CALNDRO_NOTIFY_LISTEN", "")
            r.check(str(listen).startswith("0.0.0.0:"), f"{where}: must listen on 0.0.0.0 inside the network")
            r.check(get(s, "depends_on", "postgres", "condition") == "service_healthy", f"{where}: must wait for postgres healthy")
        if n == "notify":
            r.check(str(env.get("CALNDRO_SMTP_URL", "")).startswith("smtp://mailpit:1025"), f"{where}: CALNDRO_SMTP_URL smtp://mailpit:1025")
        if n in ("events", "notify", "gateway"):
            r.check(str(env.get("CALNDRO_PUBLIC_BASE_URL", "")).endswith("localhost:9000"),
                    f"{where}: CALNDRO_PUBLIC_BASE_URL (default http://localhost:9000)")
        if n == "gateway":
            # "9000:9000", "${CALNDRO_HOST_HTTP_PORT:-9000}:9000"
            r.check(any(re.fullmatch(r"(.*:)?(9000|\$\{[A-Z_]+:-9000\}):9000", str(p)) for p in s.get("ports") or []),
                    f"{where}: port 9000 published")
            r.check(get(s, "depends_on", "events", "condition") == "service_healthy", f"{where}: must wait for events healthy")
        r.check(str(env.get("CALNDRO_EVENTS_ADDR", "")).startswith("events:"), f"{where}: CALNDRO_EVENTS_ADDR must name the events service")
        r.check(str(env.get("CALNDRO_NOTIFY_ADDR", "")).startswith("notify:"), f"{where}: CALNDRO_NOTIFY_ADDR must name the notify service")
    tokens = {(str((services.get(n) or {}).get("environment", {}).get("CALNDRO_INTERNAL_TOKEN")),
               str(compose_env(services.get(n) or {}).get("CALNDRO_INTERNAL_TOKEN_FILE")))
              for n in ("events", "notify", "gateway")}
    r.check(len(tokens) == 1, "compose: the gateway, events and notify must share the internal credential")


# ---------------------------------------------------------------- self-test


def find(files, kind, name):
    for _, docs in files:
        for d in docs:
            if isinstance(d, dict) and d.get("kind") == kind and get(d, "metadata", "name") == name:
                return d
    raise KeyError(f"{kind}/{name}")


def remove(files, kind, name):
    doc = find(files, kind, name)
    for _, docs in files:
        if doc in docs:
            docs.remove(doc)


def c0(files, name):
    return find(files, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


K8S_BREAKS = [
    ("Deployment without apiVersion", lambda f: find(f, "Deployment", "events").pop("apiVersion")),
    ("Service without metadata.name", lambda f: find(f, "Service", "gateway")["metadata"].pop("name")),
    ("container without image", lambda f: c0(f, "gateway").pop("image")),
    ("container without readinessProbe", lambda f: c0(f, "events").pop("readinessProbe")),
    ("container without livenessProbe", lambda f: c0(f, "notify").pop("livenessProbe")),
    ("probe on a port the pod lacks", lambda f: c0(f, "events")["readinessProbe"].update({"grpc": {"port": 1}})),
    ("selector not matching template", lambda f: find(f, "Deployment", "notify")["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/component": "x"})),
    ("Service selecting nothing", lambda f: find(f, "Service", "events")["spec"]["selector"].update({"app.kubernetes.io/component": "nope"})),
    ("Service targetPort not a containerPort", lambda f: find(f, "Service", "gateway")["spec"]["ports"][0].update({"targetPort": 1234})),
    ("HPA targeting a missing Deployment", lambda f: find(f, "HorizontalPodAutoscaler", "gateway")["spec"]["scaleTargetRef"].update({"name": "gone"})),
    ("ConfigMap key removed", lambda f: find(f, "ConfigMap", "calndro-config")["data"].pop("CALNDRO_EVENTS_ADDR")),
    ("Secret key removed", lambda f: find(f, "Secret", "calndro-secrets")["stringData"].pop("CALNDRO_INTERNAL_TOKEN")),
    ("memory limit removed", lambda f: c0(f, "gateway")["resources"]["limits"].pop("memory")),
    ("events Service not headless", lambda f: find(f, "Service", "events")["spec"].pop("clusterIP")),
    ("misspelt variable", lambda f: c0(f, "events")["env"].append({"name": "CALNDRO_DATABSE_URL", "value": "x"})),
    ("events NetworkPolicy removed", lambda f: remove(f, "NetworkPolicy", "events")),
    ("events gRPC open to every pod", lambda f: find(f, "NetworkPolicy", "events")["spec"]["ingress"][0].update(
        {"from": [{"podSelector": {}}]})),
    ("events gRPC open to anyone", lambda f: find(f, "NetworkPolicy", "events")["spec"]["ingress"][0].pop("from")),
    ("notify reachable from the gateway", lambda f: find(f, "NetworkPolicy", "notify")["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "calndro", "app.kubernetes.io/component": "gateway"}}})),
    ("notify reachable from another namespace", lambda f: find(f, "NetworkPolicy", "notify")["spec"]["ingress"][0]["from"][0].update(
        {"namespaceSelector": {}})),
    ("NetworkPolicy without Egress", lambda f: find(f, "NetworkPolicy", "gateway")["spec"].update({"policyTypes": ["Ingress"]})),
    ("gateway egress to events removed", lambda f: find(f, "NetworkPolicy", "gateway")["spec"]["egress"].pop(0)),
    ("notify without SMTP egress", lambda f: find(f, "NetworkPolicy", "notify")["spec"]["egress"].pop(1)),
    ("gateway without the internal credential", lambda f: c0(f, "gateway").update(
        {"env": [e for e in c0(f, "gateway")["env"] if e["name"] != "CALNDRO_INTERNAL_TOKEN"]})),
    ("gateway asking notify's health", lambda f: [e.update({"value": "dns:///notify:50052"}) for e in c0(f, "gateway")["env"]
                                                  if e["name"] == "CALNDRO_NOTIFY_ADDR"]),
]
COMPOSE_BREAKS = [
    ("compose healthcheck removed", lambda c: c["services"]["events"].pop("healthcheck")),
    ("compose healthcheck without the flag", lambda c: c["services"]["gateway"]["healthcheck"].update({"test": ["CMD", "calndro-gateway"]})),
    ("compose depends_on unknown service", lambda c: c["services"]["gateway"]["depends_on"].update({"nothere": {"condition": "service_started"}})),
    ("compose named volume undeclared", lambda c: c.pop("volumes")),
    ("compose without image or build", lambda c: (c["services"]["mailpit"].pop("image"))),
    ("compose internal credential with a public default",
     lambda c: [c["services"][n]["environment"].update({"CALNDRO_INTERNAL_TOKEN": "${CALNDRO_INTERNAL_TOKEN:-dev}"})
                or c["services"][n]["environment"].pop("CALNDRO_INTERNAL_TOKEN_FILE") for n in ("events", "notify")]),
    ("compose internal credential file on no volume", lambda c: c["services"]["notify"].pop("volumes")),
    ("compose writable root file system", lambda c: c["services"]["notify"].update({"read_only": False})),
    ("compose capabilities kept", lambda c: c["services"]["events"].update({"cap_drop": []})),
    ("compose runs as root", lambda c: c["services"]["gateway"].update({"user": "0:0"})),
    ("compose mail catcher UI on every interface", lambda c: c["services"]["mailpit"].update({"ports": ["8025:8025"]})),
    ("compose events gRPC on every interface", lambda c: c["services"]["events"].update({"ports": ["50051:50051"]})),
    ("compose gateway without the internal credential",
     lambda c: c["services"]["gateway"]["environment"].pop("CALNDRO_INTERNAL_TOKEN_FILE")),
]


def self_test(files, compose, env_names):
    r = Report()
    base = Report(quiet=True)
    check_k8s(base, files, env_names)
    check_compose(base, compose, env_names)
    r.check(base.failed == 0, "self-test: the unbroken copy must pass first (see the errors below)")
    for breaks, original, check in ((K8S_BREAKS, files, check_k8s), (COMPOSE_BREAKS, compose, check_compose)):
        for what, breaker in breaks:
            broken = copy.deepcopy(original)
            try:
                breaker(broken)
            except (KeyError, IndexError, TypeError) as e:
                r.check(False, f"self-test: could not break '{what}': {e!r}")
                continue
            rr = Report(quiet=True)
            check(rr, broken, env_names)
            r.check(rr.failed > 0, f"self-test: '{what}' went unnoticed")
    print(f"check-manifests: self-test: {len(K8S_BREAKS) + len(COMPOSE_BREAKS)} broken copies, "
          f"{r.failed} not detected")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
    ap.add_argument("--no-self-test", action="store_true")
    args = ap.parse_args()

    try:
        files = load_k8s(args.root)
        compose = load_compose(args.root)
    except (OSError, yaml.YAMLError) as e:
        print(f"FAIL: cannot parse: {e}")
        print("0 passed, 1 failed")
        return 1
    env_names = known_env_names(args.root)

    total = Report()
    if not args.no_self_test:
        st = self_test(files, compose, env_names)
        total.passed += st.passed
        total.failed += st.failed
    r = Report()
    check_k8s(r, files, env_names)
    check_compose(r, compose, env_names)
    print(f"check-manifests: {sum(len(d) for _, d in files)} documents in {len(files)} files under deploy/k8s "
          f"and docker-compose.yml: {r.passed} checks passed, {r.failed} failed")
    total.passed += r.passed
    total.failed += r.failed
    print(f"{total.passed} passed, {total.failed} failed")
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main())
