#!/usr/bin/env bash
# The three-node lab's plumbing, called by the Makefile (make up|down|logs|status|lab-deps).
#   lab.sh deps            install docker and friends if missing (as root), start dockerd if it is not running
#                          (the build's packages are the Makefile's BUILD_APT_PACKAGES)
#   lab.sh up              compose up, wait until all three nodes are healthy, print how to connect
#   lab.sh down [-v]       stop and remove the containers and networks (-v: the volumes too)
#   lab.sh status | logs [N] | compose ARGS…
# Works with `docker compose` (v2) and Debian's `docker-compose` (v1).
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=(runnel-node1 runnel-node2 runnel-node3)
TIMEOUT_S=${LAB_TIMEOUT_S:-180}
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/runnel-dockerd.log}

die() { echo "lab: $*" >&2; exit 1; }

compose_v2_works() { docker compose version >/dev/null 2>&1; }
compose_v1_works() { command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; }

# v1 does not know the top-level `name:` key; it gets the same file without it, and the name as -p.
compose() {
    if compose_v2_works; then
        docker compose -f compose.yaml "$@"
    elif compose_v1_works; then
        mkdir -p .lab
        sed '/^name:/d' compose.yaml > .lab/compose.v1.yaml
        docker-compose -p runnel --project-directory . -f .lab/compose.v1.yaml "$@"
    else
        die "neither 'docker compose' nor 'docker-compose' works; run 'make lab-deps' as root"
    fi
}

docker_up() { docker info >/dev/null 2>&1; }

deps() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)   # the daemon: a docker client alone is not enough
    command -v iptables >/dev/null 2>&1 || missing+=(iptables)
    if ! compose_v2_works && ! compose_v1_works; then missing+=(docker-compose); fi
    if ((${#missing[@]})); then
        [ "$(id -u)" = 0 ] || die "please install (as root): apt-get install -y ${missing[*]}"
        echo "lab: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if ! docker_up; then
        [ "$(id -u)" = 0 ] || die "the docker daemon is not running (or not reachable for $(id -un)); start it as root: dockerd &"
        echo "lab: starting dockerd (log: $DOCKERD_LOG)"
        setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
        for _ in $(seq 60); do docker_up && break; sleep 1; done
        docker_up || { tail -20 "$DOCKERD_LOG" >&2; die "dockerd did not answer within 60 s"; }
    fi
}

# One line per node: "running healthy", "exited ", "missing".
node_state() {
    docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null || echo missing
}

wait_healthy() {
    local deadline=$((SECONDS + TIMEOUT_S)) node state pending
    while :; do
        pending=()
        for node in "${NODES[@]}"; do
            state=$(node_state "$node")
            case "$state" in
                "running healthy") ;;
                running*) pending+=("$node: $state") ;;
                *) compose logs --tail=50 >&2 || true; die "$node is '$state' instead of running; its logs are above" ;;
            esac
        done
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            compose logs --tail=50 >&2 || true
            die "not healthy after ${TIMEOUT_S} s (${pending[*]}); logs above (LAB_TIMEOUT_S=… waits longer)"
        fi
        sleep 1
    done
}

# A previous run may have left containers or networks of the same names that compose does not own
# (created by hand, or by the other compose version with different labels): remove them and retry once.
up() {
    local started=$SECONDS
    if ! compose up -d --remove-orphans; then
        echo "lab: compose up failed; removing leftovers of an earlier lab and retrying" >&2
        compose down --remove-orphans >/dev/null 2>&1 || true
        docker rm -f "${NODES[@]}" >/dev/null 2>&1 || true
        docker network rm runnel-client runnel-cluster >/dev/null 2>&1 || true
        compose up -d --remove-orphans
    fi
    wait_healthy
    echo "lab: 3 nodes healthy after $((SECONDS - started)) s ($(docker inspect -f '{{.Config.Image}}' runnel-node1))"
    cat <<'INFO'

  Kafka from this host (published ports, advertised as localhost):
      localhost:9092 (node 1)   localhost:9093 (node 2)   localhost:9094 (node 3)
  Kafka on the client network runnel-client (the host reaches it too; the lab tests use these):
      172.28.1.11:9092          172.28.1.12:9092          172.28.1.13:9092
  Cluster listeners, on runnel-cluster only: 172.28.2.11:9192, 172.28.2.12:9192, 172.28.2.13:9192
  Prometheus metrics: http://172.28.1.11:9644/metrics, http://172.28.1.12:9644/metrics, http://172.28.1.13:9644/metrics

  kcat -b localhost:9092 -L
  kcat -b 172.28.1.11:9092 -t demo -P <<< hello;  kcat -b 172.28.1.11:9092 -t demo -C -e
  Until clustering lands each node is its own cluster: bootstrap from one node.
  make status | make logs | make test-lab | make down [VOLUMES=1]
INFO
}

status() {
    docker_up || die "the docker daemon is not running"
    compose ps
    for node in "${NODES[@]}"; do
        printf '%-14s %s\n' "$node" "$(node_state "$node")"
    done
}

down() {
    if ! docker_up; then
        echo "lab: the docker daemon is not running; nothing to stop"
        return 0
    fi
    compose down --remove-orphans "$@"
}

command=${1:-}
shift || true
case "$command" in
    deps) deps ;;
    up) up ;;
    down) down "$@" ;;
    status) status ;;
    logs) compose logs --no-color --tail="${1:-200}" ;;
    compose) compose "$@" ;;
    *) die "usage: lab.sh deps|up|down [-v]|status|logs [N]|compose ARGS…" ;;
esac
