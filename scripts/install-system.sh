#!/usr/bin/env bash
# System packages the tests need (Debian): idempotent, quick when everything is present.
set -euo pipefail
# gcc + libc6-dev build PyAudio (requirements-capture.txt; it has no Linux wheels).
packages=(chromium portaudio19-dev gcc libc6-dev pulseaudio pulseaudio-utils postgresql wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
