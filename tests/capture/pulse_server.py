"""A real PulseAudio server with a 4-channel null sink, for tests through a real PortAudio device.

PortAudio (Debian's libportaudio2 has the ALSA host API) reaches it through the ALSA "pulse" PCM
(libasound2-plugins); the null sink's monitor is the default source, so a capture from the
"pulse" device records exactly what is played into the sink.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SINK = "court"
RATE = 16000
CHANNELS = 4
CHANNEL_MAP = "front-left,front-right,rear-left,rear-right"  # ALSA's order for 4 channels


class PulseServer:
    """Start/stop a private pulseaudio daemon (started by us, stopped by its own pid)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # The daemon gets a private HOME and runtime dir; this process (and every other test in
        # the session) only learns where the server is: PULSE_SERVER, nothing else changes.
        self.daemon_env = {"HOME": str(root), "PULSE_RUNTIME_PATH": str(root / "run"), "XDG_RUNTIME_DIR": str(root)}
        self.env = {"PULSE_SERVER": f"unix:{root / 'native'}"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, refresh: bool = True) -> None:
        os.environ.update(self.env)
        args = [
            "pulseaudio", "--daemonize=no", "--system=false", "--exit-idle-time=-1", "--disallow-exit",
            "-n", f"--load=module-native-protocol-unix auth-anonymous=1 socket={self.root / 'native'}",
            f"--load=module-null-sink sink_name={SINK} channels={CHANNELS} rate={RATE} channel_map={CHANNEL_MAP}",
            "--log-target=file:" + str(self.root / "pulse.log"),
        ]
        # Its own output goes to the log: an inherited pipe would keep a caller waiting for EOF.
        self.proc = subprocess.Popen(args, env={**os.environ, **self.daemon_env}, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["pactl", "info"], capture_output=True, env={**os.environ, **self.env}).returncode == 0:
                break
            time.sleep(0.05)
        else:
            self.stop()
            pytest.fail(f"pulseaudio did not start; log: {(self.root / 'pulse.log').read_text(errors='replace')}")
        if refresh:
            refresh_portaudio()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def pactl(self, *args: str) -> str:
        out = subprocess.run(["pactl", *args], capture_output=True, text=True, env={**os.environ, **self.env})
        assert out.returncode == 0, out.stderr
        return out.stdout

    def unplug(self) -> None:
        """Make the 4-channel device vanish (its sink and monitor source go away)."""
        self.pactl("unload-module", "module-null-sink")

    def plug_in(self) -> None:
        self.pactl("load-module", "module-null-sink", f"sink_name={SINK}", f"channels={CHANNELS}", f"rate={RATE}",
                   f"channel_map={CHANNEL_MAP}")

    def play(self, raw_f32: Path) -> subprocess.Popen[bytes]:
        """Start playing raw float32 interleaved 4-channel audio into the sink."""
        return subprocess.Popen(
            ["pacat", "--playback", "--raw", "--format=float32le", f"--rate={RATE}", f"--channels={CHANNELS}",
             f"--channel-map={CHANNEL_MAP}", "-d", SINK, str(raw_f32)],
            env={**os.environ, **self.env},
        )


def refresh_portaudio() -> None:
    """PortAudio lists devices once at initialisation: re-initialise after the server changes."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


_shared: list[PulseServer] = []  # one server per test session, however many conftests ask
_users = [0]


def pulse_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    if shutil.which("pulseaudio") is None or shutil.which("pacat") is None:
        pytest.skip("pulseaudio is not installed (scripts/setup.sh test installs it)")
    saved = {"PULSE_SERVER": os.environ.get("PULSE_SERVER")}
    if not _shared:
        _shared.append(PulseServer(tmp_path_factory.mktemp("pulse")))
        _shared[0].start()
    _users[0] += 1
    yield _shared[0]
    _users[0] -= 1
    if _users[0]:
        return
    _shared.pop().stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    refresh_portaudio()
