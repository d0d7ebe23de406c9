#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, only those not installed yet.
#   wordnet-base  WordNet data for the optional lemmatisation of emotion-wheel labels
#   chromium      the browser that the Playwright tests drive
#   docker.io     the Docker engine that runs sandboxed model submissions
#   debootstrap   builds the sandbox base image from the Debian mirror, with no registry
#   iproute2      network namespaces and veth pairs of the multi-host test (tests/hosts)
set -euo pipefail
PACKAGES=(wordnet-base chromium docker.io debootstrap iproute2)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "[ci] installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
