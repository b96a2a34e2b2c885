#!/usr/bin/env bash
# Run the whole test suite. Installs system packages first when run as root on a machine that
# lacks them (Chromium, FFmpeg tools, PortAudio, PulseAudio), then the Python dev dependencies.
set -euo pipefail
here="$(dirname "$0")"
if [ "$(id -u)" = 0 ]; then bash "$here/install-system.sh"; fi
source "$here/venv.sh" requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
