"""A real PortAudio input for tests: a private PulseAudio daemon with a null sink, whose monitor
source is the default microphone; `play(path)` plays a clip into it with paplay. The fixtures
are registered in tests/conftest.py:

    def test_x(pulse):
        with Microphone() as mic:
            pulse.play(clip_path(3, 5))
            ...

Without PulseAudio, paplay or PyAudio the tests skip — except in CI (CI=true), where they fail.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio_factory import clip_path

SINK = "sertest"


def _require(condition, message):
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class Pulse:
    """A running private PulseAudio server."""

    def __init__(self, runtime_dir):
        self.runtime_dir = Path(runtime_dir)
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(self.runtime_dir),
                    "PULSE_SERVER": f"unix:{self.runtime_dir}/pulse/native"}
        self.players = []

    def start(self):
        subprocess.run(
            ["pulseaudio", "--daemonize=yes", "-n", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=yes", "--log-target=stderr",
             "--load=module-native-protocol-unix",
             f"--load=module-null-sink sink_name={SINK} rate=44100 channels=1"],
            env=self.env, check=True, capture_output=True, timeout=20)
        for _ in range(100):
            if self.pactl("info").returncode == 0:
                break
            time.sleep(0.05)
        self.pactl("set-default-source", f"{SINK}.monitor", check=True)
        # An idle null sink runs with 2 s of latency, so a recording would first stall for 2 s;
        # a low-latency stream of silence keeps it ticking every few milliseconds.
        self.players.append(subprocess.Popen(
            ["pacat", "--playback", "-d", SINK, "--latency-msec=20", "--raw",
             "--format=s16le", "--rate=44100", "--channels=1", "/dev/zero"], env=self.env))

    def pactl(self, *args, check=False):
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                              check=check, timeout=10)

    def play(self, path):
        """Start playing path into the null sink; returns the paplay process."""
        player = subprocess.Popen(["paplay", "-d", SINK, str(path)], env=self.env)
        self.players.append(player)
        return player

    def stop(self):
        for player in self.players:
            if player.poll() is None:
                player.kill()
            player.wait()
        pid_file = self.runtime_dir / "pulse" / "pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass


@pytest.fixture(scope="session")
def pulse(tmp_path_factory):
    """A private PulseAudio server whose null-sink monitor is PortAudio's default input."""
    for tool in ("pulseaudio", "pactl", "paplay", "pacat"):
        _require(shutil.which(tool), f"{tool} not found (apt-get install pulseaudio "
                                     f"pulseaudio-utils libasound2-plugins)")
    try:
        import pyaudio  # noqa: F401
    except ImportError:
        _require(False, "PyAudio not installed (pip install -r requirements-capture.txt)")
    runtime = tmp_path_factory.mktemp("pulse")
    runtime.chmod(0o700)
    server = Pulse(runtime)
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    server.start()
    os.environ.update({k: server.env[k] for k in saved})  # PortAudio runs in this process
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def sentence(tmp_path_factory):
    """A WAV to play: the sentence of a RAVDESS clip (actor 03, angry; 0.9-3.6 s) after 0.2 s
    of silence — the clip without most of its leading and trailing silence."""
    y, rate = sf.read(clip_path(3, 5), dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "sentence.wav"
    sf.write(str(path), np.concatenate([np.zeros(rate // 5, np.float32),
                                        y[int(0.9 * rate):int(3.6 * rate)]]), rate)
    return path
