"""Build a torchaudio wheel without its native libraries, for the CPU torch this project pins.

Why: pyannote.audio needs ``torchaudio``, but the registry's torchaudio wheels carry native
libraries (``torchaudio/lib/*.so``) compiled against one exact torch release (2.11 for the newest),
and they fail to load against our ``torch==2.13.0`` CPU build: ``import torchaudio`` then raises.
torchaudio's own loader treats an *absent* native library as a supported deployment and falls back
to its pure-Python code (``torchaudio/_extension/utils.py::_load_lib`` returns False), and
everything this project and pyannote use with in-memory audio (``compliance.kaldi`` fbank,
``functional.resample``, transforms) is pure Python on top of torch. So the set-up downloads the
official wheel, repacks it without ``torchaudio/lib/*.so`` (RECORD rewritten so pip installs and
uninstalls it cleanly) and installs that — no edit of site-packages, no CUDA build of torch.

Usage: python scripts/torchaudio_wheel.py OUT_DIR   (prints the path of the wheel it built)
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "2.11.0"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack(src: Path, dst: Path) -> None:
    """Copy wheel ``src`` to ``dst`` leaving out the native libraries under ``torchaudio/lib``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        record_name = next(n for n in zin.namelist() if n.endswith(".dist-info/RECORD"))
        lines = []
        for info in zin.infolist():
            name = info.filename
            if name == record_name or (name.startswith("torchaudio/lib/") and name.endswith(".so")):
                continue
            data = zin.read(name)
            zout.writestr(info, data)
            lines.append(_record_line(name, data))
        lines.append(f"{record_name},,")
        zout.writestr(record_name, "\n".join(lines) + "\n")


def main(out_dir: str) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             f"torchaudio=={VERSION}", "-d", tmp],
            check=True,
        )
        src = next(Path(tmp).glob("torchaudio-*.whl"))
        dst = out / src.name
        repack(src, dst)
    print(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/wheels"))
