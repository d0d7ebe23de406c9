#!/usr/bin/env bash
# Starts the Docker engine when none answers, then waits until `docker info` works.
# Idempotent: an engine that already answers is left alone. Needs root and Debian's docker.io.
#   DOCKERD_LOG   where the engine logs (default /var/log/dockerd-arena.log)
#   DOCKER_WAIT   seconds to wait for the engine (default 60)
set -euo pipefail

log() { printf '[docker] %s\n' "$*"; }
engine_up() { docker info >/dev/null 2>&1; }

if engine_up; then
  log "engine already running ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
  exit 0
fi
command -v dockerd >/dev/null || { echo "dockerd not found: install Debian's docker.io" >&2; exit 1; }

logfile="${DOCKERD_LOG:-/var/log/dockerd-arena.log}"
mkdir -p "$(dirname "$logfile")"
# A pid file left by an engine that died would make dockerd refuse to start.
if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
if ! pgrep -x dockerd >/dev/null; then
  log "starting dockerd (log: $logfile)"
  # setsid: the engine outlives the shell that started it.
  setsid nohup dockerd >>"$logfile" 2>&1 </dev/null &
fi

for _ in $(seq 1 "${DOCKER_WAIT:-60}"); do
  if engine_up; then
    log "engine ready ($(docker info --format '{{.ServerVersion}} {{.Driver}} cgroup v{{.CgroupVersion}}'))"
    exit 0
  fi
  sleep 1
done
echo "the Docker engine did not answer within ${DOCKER_WAIT:-60} s; last log lines:" >&2
tail -n 30 "$logfile" >&2 || true
exit 1
