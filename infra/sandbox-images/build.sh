#!/usr/bin/env bash
# Builds or reuses the sandbox images (arena/sandbox-base, arena/sandbox-torch and the
# baselines) with no registry; see build.py. Idempotent: cached images make it take seconds.
# Needs root, a running Docker engine (infra/ci/start-docker.sh) and debootstrap.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The builder uses the project's Docker SDK: create the venv first when it is missing.
[[ -x .venv/bin/python ]] || make -s install
exec .venv/bin/python infra/sandbox-images/build.py "$@"
