#!/usr/bin/env bash
# Installs moto's standalone server (the anchor for `rolewright serve`) into target/moto-venv.
# Idempotent: an existing venv with moto_server is reused. Usage: bench/server/setup-moto.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/moto-venv"
if [ -x "$venv/bin/moto_server" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
"$venv/bin/moto_server" --help >/dev/null
