#!/usr/bin/env bash
# docker-compose up, as a user runs it, on a private Docker engine:
#   1. engine: Debian's dockerd with its own data root, exec root, pid file and
#      socket in a temp folder, --iptables=false --ip-masq=false --bridge=none
#      --ip-forward=false (containers reach each other on compose's network and
#      the host through published ports; nothing is routed off the machine);
#   2. images without a registry: a Debian 12 base from mmdebstrap (the
#      machine's apt sources) + docker import; calndro:latest from
#      deploy/Dockerfile with BINARIES=prebuilt (the binaries of
#      $CALNDRO_BUILD_DIR/bin, stripped: nothing is compiled in Docker); stand-ins
#      for postgres:15 and mailpit (tests/deploy/compose-standins/) swapped in by
#      tests/deploy/compose-test.yml; builds use the host network for apt only;
#   3. the user's journey with docker-compose itself: up -d, every health check
#      healthy, `run --rm admin user add`, the seed scenario through the
#      gateway (tests/scenario/seed.sh: both token forms, the token from the
#      caught mail), reflection and health on both services through their
#      published ports (tests/grpc-reflection/client.js), the page behind the
#      mail link answers HTML, probes with a pod IP as Host, restart events and
#      the next calls succeed, down then up keeps the data;
#   4. replicas: up --scale events=2 --scale notify=2, both replicas of each
#      take calls, each reachable from the host on its own port;
#   5. hardening: non-root, read-only root file system, no capabilities; the
#      image size is printed;
#   6. Kubernetes: kubectl kustomize deploy/k8s, every object validated against
#      the API schemas (tests/deploy/k8s-schema/validate.js).
# Then down -v. The engine is stopped by its pid file and its folders removed
# whatever happened. If the engine cannot start, the test fails with the reason.
# Prints one line per check and "N passed, M failed"; exits 1 on any failure.
#
#   CALNDRO_BUILD_DIR   where bin/ is (default: build)
#   CALNDRO_TEST_KEEP=1 keep the temp folder (engine log, mail); the engine is
#                       still stopped
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${CALNDRO_BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bin
BINARIES=(calndro-events calndro-notify calndro-gateway calndro-admin)
# Debian's CLI, the engine's version: a newer `docker` earlier on PATH would
# hand builds to BuildKit (buildx), which this engine lacks offline.
DOCKER=/usr/bin/docker
T0=$(date +%s)

# shellcheck source=../lib/check.sh
source "$ROOT/tests/lib/check.sh"
phase() { echo "---- $* (at $(($(date +%s) - T0)) s)"; }

# ------------------------------------------------------------ prerequisites
for b in "${BINARIES[@]}"; do
  [ -x "$BIN/$b" ] || die "$BIN/$b is not built (cmake --build $BUILD_DIR --target ${BINARIES[*]})"
done
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1 \
   || ! command -v mmdebstrap >/dev/null 2>&1 || [ ! -x "$DOCKER" ]; then
  bash "$ROOT/deploy/install-deps.sh" || die "installing docker.io, docker-compose, mmdebstrap failed"
fi
command -v kubectl >/dev/null 2>&1 || bash "$ROOT/deploy/install-deps.sh" || die "installing kubectl failed"
command -v node >/dev/null 2>&1 || die "node is missing (deploy/install-deps.sh installs it)"
[ "$(id -u)" = 0 ] || die "a Docker engine needs root (run as root)"
for dir in "$ROOT/tests/grpc-reflection" "$HERE/k8s-schema"; do
  if [ ! -d "$dir/node_modules" ]; then
    echo "compose-up: npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $dir failed"
  fi
done
GRPC() { node "$ROOT/tests/grpc-reflection/client.js" "$@"; }

# Published ports come from 30000-32699: below the kernel's ephemeral range
# (32768-60999 on Debian), where any outgoing connection may hold a port
# between this check and docker-proxy's bind (a CI run failed on that with
# "bind: address already in use"), and clear of deploy/lib/stack.sh's
# 20000-29999 and of the defaults.
USED_PORTS=" "
pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((30000 + RANDOM % 2700))
    case "$USED_PORTS" in *" $p "* | *" $((p + 1)) "*) continue ;; esac
    if /usr/bin/python3 -c 'import socket,sys
for p in (int(sys.argv[1]), int(sys.argv[1]) + 1):
    socket.socket().bind(("127.0.0.1", p))' "$p" 2>/dev/null; then
      USED_PORTS+="$p $((p + 1)) "
      echo "$p"
      return 0
    fi
  done
  return 1
}

TMP=$(mktemp -d /tmp/calndro-compose.XXXXXX)
chmod 755 "$TMP"
E=$TMP/engine
mkdir -p "$E/root" "$E/exec" "$TMP/mail" "$TMP/docker-config" "$TMP/state"
export DOCKER_HOST="unix://$E/docker.sock" DOCKER_CONFIG="$TMP/docker-config"
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
COMPOSE_USED=0

stop_engine() {
  local pid="" i
  [ -s "$E/docker.pid" ] && pid=$(cat "$E/docker.pid")
  [ -z "$pid" ] && pid=${DOCKERD_PID:-}
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 120); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "compose-up: dockerd $pid did not stop in 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  fi
  # containerd and shims this engine started name its folders on their
  # command line; none should be left, but none may outlive the test either.
  local p procs
  procs=$(ps -eo pid=,args=)
  for p in $(printf '%s\n' "$procs" | grep -F -- "$E/" | awk '{print $1}'); do
    [ "$p" = "$$" ] && continue
    kill -0 "$p" 2>/dev/null || continue
    echo "compose-up: stopping leftover engine process $p"
    kill -TERM "$p" 2>/dev/null
  done
  # Mounts left by a killed engine (overlay layers, shm, netns).
  local m
  for m in $(awk -v d="$E/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null
  done
}

cleanup() {
  local status=$?
  if [ "$COMPOSE_USED" = 1 ] && [ -S "$E/docker.sock" ]; then
    (cd "$ROOT" && timeout 120 docker-compose down -v --remove-orphans >/dev/null 2>&1)
  fi
  stop_engine
  if [ "${CALNDRO_TEST_KEEP:-0}" = 1 ]; then
    rm -rf "$E/root" "$E/exec"
    echo "compose-up: kept $TMP"
  else
    rm -rf "$TMP"
  fi
  if [ -d "$TMP/engine/root" ]; then
    echo "compose-up: could not remove $TMP/engine/root" >&2
  fi
  echo "compose-up: took $(($(date +%s) - T0)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ 1. the engine
phase "1. private Docker engine"
FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
dockerd --data-root "$E/root" --exec-root "$E/exec" -H "unix://$E/docker.sock" \
  --pidfile "$E/docker.pid" --iptables=false --ip-masq=false --ip-forward=false \
  --bridge=none --log-level=warn >"$E/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 1 240); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || break
  sleep 0.25
done
if ! "$DOCKER" version >/dev/null 2>&1; then
  echo "compose-up: dockerd's log:" >&2
  tail -n 30 "$E/dockerd.log" >&2
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    die "the Docker engine did not answer on $E/docker.sock within 60 s (log above)"
  fi
  die "the Docker engine did not start: dockerd exited (log above)"
fi
ok "engine up: $("$DOCKER" version --format 'server {{.Server.Version}}') storage $("$DOCKER" info --format '{{.Driver}}' 2>/dev/null)"
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$FORWARD_BEFORE" ]; then
  ok "the engine left IP forwarding as it was ($FORWARD_BEFORE)"
else
  ko "IP forwarding changed from $FORWARD_BEFORE to $(cat /proc/sys/net/ipv4/ip_forward)"
fi

# ------------------------------------------------------------ 2. images
phase "2. images without a registry"
BASE=calndro-test/debian:12
t=$(date +%s)
# Without manuals, documentation (copyright files kept) and translations, as
# debian:12-slim; the dpkg setting stays in the image for later installs.
if mmdebstrap --quiet --variant=apt \
     --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
     --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
     --dpkgopt='path-exclude=/usr/share/locale/*' \
     bookworm "$TMP/base.tar" /etc/apt/sources.list.d/debian.sources \
     >"$TMP/mmdebstrap.log" 2>&1 \
   && "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' "$TMP/base.tar" "$BASE" >/dev/null; then
  ok "Debian 12 base image from mmdebstrap in $(($(date +%s) - t)) s ($(du -m "$TMP/base.tar" | cut -f1) MB tarball)"
  rm -f "$TMP/base.tar"
else
  tail -n 20 "$TMP/mmdebstrap.log" >&2
  die "mmdebstrap or docker import failed (log above)"
fi

# Build context for BINARIES=prebuilt: the stripped binaries and the packages
# that own their libraries.
CTX=$TMP/context
mkdir -p "$CTX/deploy" "$CTX/prebuilt/bin"
cp "$ROOT/deploy/install-deps.sh" "$CTX/deploy/"
for b in "${BINARIES[@]}"; do
  strip --strip-unneeded -o "$CTX/prebuilt/bin/$b" "$BIN/$b" || die "strip $b failed"
done
bash "$ROOT/deploy/runtime-packages.sh" "$CTX/prebuilt/bin/"* >"$CTX/prebuilt/runtime-packages.txt" \
  || die "deploy/runtime-packages.sh failed"

# Both builds at once: each waits mostly on apt.
t=$(date +%s)
DOCKER_BUILDKIT=0 "$DOCKER" build --network host -q -f "$ROOT/deploy/Dockerfile" \
  --build-arg DEBIAN_IMAGE="$BASE" --build-arg BINARIES=prebuilt -t calndro:latest "$CTX" \
  >"$TMP/build-calndro.log" 2>&1 &
B1=$!
DOCKER_BUILDKIT=0 "$DOCKER" build --network host -q --build-arg DEBIAN_IMAGE="$BASE" \
  -t calndro-test/standins:latest "$HERE/compose-standins" >"$TMP/build-standins.log" 2>&1 &
B2=$!
if wait "$B1"; then
  ok "calndro:latest from deploy/Dockerfile (BINARIES=prebuilt) in $(($(date +%s) - t)) s"
else
  tail -n 30 "$TMP/build-calndro.log" >&2
  die "docker build of deploy/Dockerfile failed (log above)"
fi
if wait "$B2"; then
  ok "stand-ins for postgres:15 and mailpit in $(($(date +%s) - t)) s"
else
  tail -n 30 "$TMP/build-standins.log" >&2
  die "docker build of the stand-ins failed (log above)"
fi
SIZE_MB=$(( $("$DOCKER" image inspect -f '{{.Size}}' calndro:latest) / 1000000 ))
BASE_MB=$(( $("$DOCKER" image inspect -f '{{.Size}}' "$BASE") / 1000000 ))
echo "compose-up: image calndro:latest is $SIZE_MB MB (the Debian 12 base alone: $BASE_MB MB)"
ok "image size printed: calndro:latest $SIZE_MB MB"

# ------------------------------------------------------------ 3. the journey
phase "3. docker-compose up"
cd "$ROOT" || die "cd $ROOT"
HTTP_PORT=$(pick_port) && MAILPIT_PORT=$(pick_port) && EVENTS_PORT=$(pick_port) \
  && NOTIFY_PORT=$(pick_port) || die "no free ports"
export COMPOSE_PROJECT_NAME=calndrotest
export COMPOSE_FILE="docker-compose.yml:tests/deploy/compose-test.yml"
export CALNDRO_TEST_MAILDIR="$TMP/mail"
export CALNDRO_INTERNAL_TOKEN POSTGRES_PASSWORD
CALNDRO_INTERNAL_TOKEN=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
POSTGRES_PASSWORD=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
export CALNDRO_HOST_HTTP_PORT=$HTTP_PORT CALNDRO_HOST_MAILPIT_PORT=$MAILPIT_PORT
export CALNDRO_HOST_EVENTS_PORTS=$EVENTS_PORT CALNDRO_HOST_NOTIFY_PORTS=$NOTIFY_PORT
COMPOSE_USED=1
GW="http://127.0.0.1:$HTTP_PORT"
# The gateway's allow-list accepts localhost (any port) by default.
HOSTHDR="Host: localhost:9000"

# Waits until every container of the project that has a health check is
# healthy, the others run, and one-shot helpers exited 0; prints the states
# when it gives up.
wait_healthy() {
  local limit=$1 states c s bad
  for _ in $(seq 1 "$limit"); do
    bad=0
    states=""
    for c in $(docker-compose ps -q 2>/dev/null); do
      s=$("$DOCKER" inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}{{if eq .State.Status "exited"}} {{.State.ExitCode}}{{end}}' "$c")
      states+="$s; "
      case "$s" in
        *" running healthy" | *" running -" | *" exited - 0") ;;
        *) bad=1 ;;
      esac
    done
    if [ "$bad" = 0 ] && [ -n "$states" ]; then
      echo "$states"
      return 0
    fi
    sleep 1
  done
  echo "$states"
  return 1
}

# up_healthy FAIL WHAT [ARGS...]: docker-compose up -d ARGS, then up to 180 s
# for every container to be healthy. FAIL (die or ko) reports what went wrong,
# with the output of up or the services' last log lines; WHAT names the set
# of containers in the messages.
up_healthy() {
  local fail=$1 what=$2 started log
  shift 2
  started=$(date +%s)
  log=$(mktemp "$TMP/up-XXXX.log")
  if docker-compose up -d "$@" >"$log" 2>&1; then
    ok "docker-compose up -d${*:+ $*} ($(($(date +%s) - started)) s)"
  else
    cat "$log" >&2
    docker-compose logs --no-color --tail=40 >&2
    "$fail" "docker-compose up -d${*:+ $*} failed (output above)"
  fi
  if states=$(wait_healthy 180); then
    ok "$what healthy after $(($(date +%s) - started)) s: $states"
  else
    docker-compose logs --no-color --tail=40 >&2
    "$fail" "$what not healthy in 180 s: $states"
  fi
}

up_healthy die "every service"
n=$(docker-compose ps --services --filter status=running 2>/dev/null | sort | tr '\n' ' ')
[ "$n" = "events gateway mailpit notify postgres " ] && ok "running: $n" || ko "running services are '$n'"

# The first user, as the README says.
out=$(docker-compose run --rm admin user add you@here.net --username you --staff 2>"$TMP/admin.err")
USER_PWD=$(printf '%s\n' "$out" | sed -n 's/^password: //p' | tr -d '\r')
if [ -n "$USER_PWD" ] && grep -q "you@here.net" <<<"$out"; then
  ok "docker-compose run --rm admin user add you@here.net --username you --staff (password generated)"
else
  cat "$TMP/admin.err" >&2
  die "admin user add gave no password: $out"
fi
(umask 077 && printf 'user=you\nemail=you@here.net\npassword=%s\n' "$USER_PWD" >"$TMP/state/demo-user")
out=$(docker-compose run --rm admin user list 2>/dev/null)
grep -q "you@here.net" <<<"$out" && ok "admin user list shows the user" || ko "admin user list: $out"

# The seed scenario, literally, through the gateway's published port: both
# token forms, each token read from the caught mail.
if CALNDRO_STATE_DIR="$TMP/state" CALNDRO_HTTP_PORT=$HTTP_PORT CALNDRO_MAILDIR="$TMP/mail" \
     bash "$ROOT/tests/scenario/seed.sh" >"$TMP/seed1.log" 2>&1; then
  ok "seed scenario through the gateway (token as body field and as ?et=, from the caught mail)"
else
  cat "$TMP/seed1.log" >&2
  ko "seed scenario through the gateway (output above)"
fi
mails=$(find "$TMP/mail/new" -type f 2>/dev/null | wc -l)
[ "$mails" -ge 4 ] && ok "the SMTP catcher kept $mails mails" || ko "the SMTP catcher kept $mails mails (expected >= 4)"

# The page behind a mail's link answers HTML.
LINK=$(cat "$TMP/mail/new/"* 2>/dev/null | grep -o 'http://localhost:9000/[0-9]*/?et=[0-9a-f]\{40\}' | head -n 1)
if [ -n "$LINK" ]; then
  path=${LINK#http://localhost:9000}
  out=$(curl -sS -o "$TMP/page.html" -w '%{http_code} %{content_type}' -H "$HOSTHDR" -H 'Accept: text/html' "$GW$path")
  if [[ $out == "200 text/html"* ]] && grep -qi '<html' "$TMP/page.html"; then
    ok "the mail link's page answers HTML ($out)"
  else
    ko "the mail link's page: $out, $(head -c 200 "$TMP/page.html")"
  fi
else
  ko "no link http://localhost:9000/ID/?et=KEY in the caught mail"
fi
EVENT_ID=$(printf '%s' "$LINK" | sed -n 's|^http://localhost:9000/\([0-9]*\)/.*|\1|p')
EVENT_KEY=${LINK##*et=}

# Probes as a cluster sends them (Host = the pod's IP) pass the Host check.
for p in /healthz /readyz; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: 10.244.3.17:9000' "$GW$p")
  [ "$code" = 200 ] && ok "GET $p with a pod IP as Host: 200" || ko "GET $p with a pod IP as Host: $code"
done

# Reflection and health on both services through their published ports.
check_grpc() {  # name port service
  local what=$1 port=$2 svc=$3 out
  out=$(GRPC -plaintext "127.0.0.1:$port" list 2>&1)
  if grep -qx "$svc" <<<"$out" && grep -qx "grpc.health.v1.Health" <<<"$out"; then
    ok "$what: reflection lists $svc and grpc.health.v1.Health (127.0.0.1:$port)"
  else
    ko "$what: reflection list on 127.0.0.1:$port: $out"
  fi
  out=$(GRPC -plaintext "127.0.0.1:$port" describe "$svc" 2>&1)
  grep -q "rpc " <<<"$out" && ok "$what: describe $svc" || ko "$what: describe $svc: $(head -c 300 <<<"$out")"
  out=$(GRPC -plaintext -d "{\"service\": \"$svc\"}" "127.0.0.1:$port" grpc.health.v1.Health/Check 2>&1)
  grep -q '"SERVING"' <<<"$out" && ok "$what: health SERVING" || ko "$what: health: $out"
}
check_grpc events "$EVENTS_PORT" calndro.events.v1.EventService
check_grpc notify "$NOTIFY_PORT" calndro.notify.v1.NotificationService
AUTH="authorization: Basic $(printf 'you:%s' "$USER_PWD" | base64 -w0)"
out=$(GRPC -plaintext -H "$AUTH" -d "{\"id\": $EVENT_ID}" "127.0.0.1:$EVENTS_PORT" calndro.events.v1.EventService/GetEvent 2>&1)
grep -q '"title"' <<<"$out" && ok "events: GetEvent $EVENT_ID with Basic credentials in metadata" \
  || ko "events: GetEvent $EVENT_ID: $(head -c 300 <<<"$out")"
# The internal credential: ours, unless the stack reads it from a file.
INTERNAL=$CALNDRO_INTERNAL_TOKEN
file=$(docker-compose exec -T notify sh -c 'printf %s "${CALNDRO_INTERNAL_TOKEN_FILE:-}"' 2>/dev/null)
if [ -n "$file" ]; then
  INTERNAL=$(docker-compose exec -T notify cat "$file" 2>/dev/null)
fi
out=$(GRPC -plaintext -H "x-calndro-internal: $INTERNAL" -d "{\"event_id\": $EVENT_ID, \"page_size\": 50}" \
  "127.0.0.1:$NOTIFY_PORT" calndro.notify.v1.NotificationService/ListDeliveries 2>&1)
grep -q 'thar.net' <<<"$out" && ok "notify: ListDeliveries with the internal credential" \
  || ko "notify: ListDeliveries: $(head -c 300 <<<"$out")"

# restart events mid-way: the next calls succeed.
t=$(date +%s)
docker-compose restart events >"$TMP/restart.log" 2>&1 || ko "docker-compose restart events: $(cat "$TMP/restart.log")"
if states=$(wait_healthy 120); then
  ok "after restart events, every service healthy again in $(($(date +%s) - t)) s"
else
  ko "after restart events: $states"
fi
codes=""
for i in 1 2 3 4 5; do
  codes+="$(curl -s -o /dev/null -w '%{http_code}' -H "$HOSTHDR" -u "you:$USER_PWD" "$GW/$EVENT_ID/") "
  codes+="$(curl -s -o /dev/null -w '%{http_code}' -H "$HOSTHDR" -H "X-Email-Token: $EVENT_KEY" "$GW/$EVENT_ID/") "
done
if [ "$codes" = "$(printf '200 %.0s' 1 2 3 4 5 6 7 8 9 10)" ]; then
  ok "the next 10 calls after the restart succeed (Basic and X-Email-Token)"
else
  ko "calls after restart events: $codes"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$HOSTHDR" -u "you:$USER_PWD" -H 'Content-Type: application/json' \
  -d '{"parties": ["you@here.net", "later@thar.net"], "slots": []}' "$GW/")
[ "$code" = 201 ] && ok "create after the restart: 201" || ko "create after the restart: $code"

# ------------------------------------------------------------ 5. hardening
phase "5. hardening"
for s in events notify gateway; do
  c=$(docker-compose ps -q "$s" | head -n 1)
  info=$("$DOCKER" inspect -f '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}' "$c")
  [ "$info" = "10001:10001 true [ALL] [no-new-privileges:true]" ] && ok "$s: user, read_only, cap_drop, no-new-privileges ($info)" \
    || ko "$s: container settings are '$info'"
  st=$(docker-compose exec -T "$s" sh -c 'id -u; grep ^CapEff /proc/1/status; touch /probe 2>&1; touch /tmp/probe 2>&1' 2>&1)
  if [ "${st%%$'\n'*}" = 10001 ] \
     && grep -q 'CapEff:[[:space:]]*0000000000000000' <<<"$st" \
     && [ "$(printf '%s' "$st" | grep -c 'Read-only file system')" = 2 ]; then
    ok "$s: runs as uid 10001, no effective capabilities, / and /tmp read-only"
  else
    ko "$s: inside the container: $(printf '%s' "$st" | tr '\n' '|')"
  fi
done

# ------------------------------------------------------------ down, up keeps data
phase "3b. down, then up (with replicas) keeps the data"
docker-compose down >"$TMP/down.log" 2>&1 && ok "docker-compose down" || ko "docker-compose down: $(cat "$TMP/down.log")"
"$DOCKER" volume ls -q | grep -q "^${COMPOSE_PROJECT_NAME}_pgdata$" && ok "volume pgdata kept by down" \
  || ko "volume pgdata gone after down"

# ------------------------------------------------------------ 4. replicas
phase "4. replicas"
EV2=$(pick_port) && NO2=$(pick_port) || die "no free ports"
export CALNDRO_HOST_EVENTS_PORTS="$EV2-$((EV2 + 1))" CALNDRO_HOST_NOTIFY_PORTS="$NO2-$((NO2 + 1))"
up_healthy ko "7 containers (events on $CALNDRO_HOST_EVENTS_PORTS, notify on $CALNDRO_HOST_NOTIFY_PORTS)" \
  --scale events=2 --scale notify=2
code=$(curl -s -o "$TMP/kept.json" -w '%{http_code}' -H "$HOSTHDR" -u "you:$USER_PWD" "$GW/$EVENT_ID/")
[ "$code" = 200 ] && grep -q 'they@thar.net' "$TMP/kept.json" && ok "after down and up: event $EVENT_ID and the user are still there" \
  || ko "after down and up: GET /$EVENT_ID/ $code $(head -c 200 "$TMP/kept.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$HOSTHDR" -H "X-Email-Token: $EVENT_KEY" "$GW/$EVENT_ID/")
[ "$code" = 200 ] && ok "after down and up: the mailed token still works" || ko "after down and up: token gives $code"

# Each replica from the host, by its own port.
for s in events notify; do
  svc=$([ "$s" = events ] && echo calndro.events.v1.EventService || echo calndro.notify.v1.NotificationService)
  cport=$([ "$s" = events ] && echo 50051 || echo 50052)
  for i in 1 2; do
    hp=$(docker-compose port --index="$i" "$s" "$cport" 2>/dev/null | sed 's/.*://')
    if [ -n "$hp" ] && out=$(GRPC -plaintext -d "{\"service\": \"$svc\"}" "127.0.0.1:$hp" grpc.health.v1.Health/Check 2>&1) \
       && grep -q SERVING <<<"$out"; then
      ok "$s replica $i: health SERVING on 127.0.0.1:$hp (docker-compose port --index=$i $s $cport)"
    else
      ko "$s replica $i: port '$hp': ${out:-}"
    fi
  done
done

# Both replicas of each take calls: the gateway balances over the event
# service's replicas, the event service over notify's.
since=$(date -u +%Y-%m-%dT%H:%M:%S)
sleep 1
fails=0
for i in $(seq 1 20); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$HOSTHDR" -u "you:$USER_PWD" "$GW/$EVENT_ID/")
  [ "$code" = 200 ] || fails=$((fails + 1))
done
slots=$(curl -s -H "$HOSTHDR" -u "you:$USER_PWD" "$GW/$EVENT_ID/" | jq -c .slots)
for i in $(seq 1 8); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$HOSTHDR" -u "you:$USER_PWD" -H 'Content-Type: application/json' \
    -d "{\"parties\": [\"they@thar.net\"], \"slots\": $slots}" "$GW/$EVENT_ID/notify/")
  [ "$code" = 202 ] || fails=$((fails + 1))
done
[ "$fails" = 0 ] && ok "28 calls through the gateway with replicas succeed" || ko "$fails of 28 calls with replicas failed"
for s in events notify; do
  pattern=$([ "$s" = events ] && echo '"msg":"rpc"' || echo '"msg":"notifications queued"')
  counts=""
  for c in $(docker-compose ps -q "$s"); do
    counts+="$("$DOCKER" logs --since "$since" "$c" 2>&1 | grep -c "$pattern") "
  done
  if [ "$(printf '%s' "$counts" | wc -w)" = 2 ] && ! printf ' %s' "$counts" | grep -q ' 0 '; then
    ok "both $s replicas took calls (${counts% })"
  else
    ko "$s replicas' calls: '${counts% }' ($pattern per replica)"
  fi
done

# ------------------------------------------------------------ down -v
phase "down -v"
docker-compose down -v >"$TMP/down.log" 2>&1 && ok "docker-compose down -v" || ko "docker-compose down -v: $(cat "$TMP/down.log")"
left=$("$DOCKER" ps -aq | wc -l)
"$DOCKER" volume ls -q | grep -q pgdata && ko "volume pgdata left after down -v" \
  || ok "down -v removed the volume ($left containers left)"
COMPOSE_USED=0

# ------------------------------------------------------------ 6. Kubernetes
phase "6. Kubernetes manifests"
if kubectl kustomize "$ROOT/deploy/k8s" >"$TMP/k8s.yaml" 2>"$TMP/k8s.err"; then
  ok "kubectl kustomize deploy/k8s ($(grep -c '^kind:' "$TMP/k8s.yaml") objects)"
  out=$(node "$HERE/k8s-schema/validate.js" <"$TMP/k8s.yaml" 2>&1)
  status=$?
  printf '%s\n' "$out" | sed 's/^/    /'
  add_counts validate.js "$status" "$out"
else
  ko "kubectl kustomize deploy/k8s: $(cat "$TMP/k8s.err")"
fi

summary
