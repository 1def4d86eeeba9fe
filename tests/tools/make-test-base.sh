#!/usr/bin/env bash
# Make a Debian base image with Python for tests on machines that cannot pull images
# (no registry reachable). For tests only, never for shipping: ship on python:3.11-slim.
#   tests/tools/make-test-base.sh [NAME]   (default releaseml-test-base:bookworm)
# The machine's extra CA certificates (a TLS-intercepting proxy's) go into the image so
# that pip inside the build can reach the package registry.
set -euo pipefail
name="${1:-releaseml-test-base:bookworm}"
if docker image inspect "$name" >/dev/null 2>&1; then
  echo "base image $name already exists"
  exit 0
fi
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
mmdebstrap --variant=apt --include=python3,python3-venv,ca-certificates \
  --customize-hook='if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/"; chroot "$1" update-ca-certificates; fi' \
  --customize-hook='chroot "$1" apt-get clean; rm -rf "$1"/var/lib/apt/lists/*' \
  bookworm - "$sources" | docker import --change 'CMD ["python3"]' - "$name"
echo "made base image $name"
