"""Microphone capture with PyAudio (optional: requirements-capture.txt needs PortAudio headers).

    with Microphone() as mic:                    # the default input device, read at 16 kHz
        samples = record_until_silence(mic)      # waits for speech, stops after ~1 s of silence

PyAudio is imported only when a microphone is used, so the rest of the package (and a PaaS
deployment) never needs it. Every failure a user can fix raises CaptureError with the fix.
"""
import os
import sys
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import soxr

from .audio import SAMPLE_RATE
from .vad import NOISE_PERCENTILE, frame_energy_db, speech_threshold_db

INSTALL_HINT = ("Install it with: apt install portaudio19-dev (the PortAudio headers), then "
                "pip install -r requirements-capture.txt (PyAudio==0.2.14).")
BLOCK_S = 0.1             # audio is read and judged in blocks of this length
NOISE_HISTORY_S = 3.0     # the noise floor is the quietest recent block within this history
PRE_ROLL_S = 0.3          # audio kept from just before speech starts
SILENCE_S = 1.0           # record_until_silence stops after this much silence following speech
MAX_S = 30.0              # ... or after this long in total
QUIET_ROOM_DBFS = -75.0   # noise floor assumed before any has been measured


class CaptureError(Exception):
    """A microphone problem with a user-facing message (missing PyAudio, no device, ...)."""


def load_pyaudio():
    """The pyaudio module, or CaptureError saying how to install it."""
    try:
        import pyaudio
    except ImportError:
        raise CaptureError(f"PyAudio is not installed, so no microphone can be used. "
                           f"{INSTALL_HINT}") from None
    return pyaudio


@contextmanager
def _quiet_stderr():
    """Silence the C-level ALSA/JACK probing chatter PortAudio prints while it starts."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _portaudio():
    pyaudio = load_pyaudio()
    with _quiet_stderr():
        return pyaudio, pyaudio.PyAudio()


@dataclass
class Device:
    """One audio input device as PortAudio sees it."""
    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool


def _input_devices(pa):
    try:
        default = pa.get_default_input_device_info()["index"]
    except (IOError, OSError):
        default = None
    devices = []
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        if info["maxInputChannels"] > 0:
            devices.append(Device(index, info["name"], int(info["maxInputChannels"]),
                                  float(info["defaultSampleRate"]), index == default))
    return devices


def list_devices():
    """All input devices (CaptureError when PyAudio is missing)."""
    _, pa = _portaudio()
    try:
        return _input_devices(pa)
    finally:
        pa.terminate()


def no_device_message():
    """What to say when there is no input device."""
    return ("No audio input device found. Connect a microphone (and check that PulseAudio or "
            "ALSA sees it), then list devices with: python manage.py listen --list-devices")


class Microphone:
    """An open input stream delivering mono float32 blocks at SAMPLE_RATE; a context manager."""

    def __init__(self, device=None):
        self.device = device
        self.name = ""
        self._pa = self._stream = self._resampler = None

    def __enter__(self):
        pyaudio, self._pa = _portaudio()
        try:
            self._open(pyaudio)
        except BaseException:
            self._pa.terminate()
            raise
        return self

    def _open(self, pyaudio):
        devices = {d.index: d for d in _input_devices(self._pa)}
        if not devices:
            raise CaptureError(no_device_message())
        if self.device is None:
            chosen = next((d for d in devices.values() if d.is_default),
                          next(iter(devices.values())))
        elif self.device in devices:
            chosen = devices[self.device]
        else:
            raise CaptureError(f"There is no input device {self.device}; input devices: "
                               + ", ".join(f"{d.index} ({d.name})" for d in devices.values()))
        self.name = chosen.name
        rates = [SAMPLE_RATE] + ([int(chosen.default_rate)]
                                 if int(chosen.default_rate) != SAMPLE_RATE else [])
        error = None
        with _quiet_stderr():
            for rate in rates:  # not every device can capture at 16 kHz directly
                try:
                    self._stream = self._pa.open(
                        format=pyaudio.paInt16, channels=1, rate=rate, input=True,
                        input_device_index=chosen.index,
                        frames_per_buffer=int(rate * BLOCK_S))
                except (IOError, OSError, ValueError) as exc:
                    error = exc
                    continue
                self.rate = rate
                break
        if self._stream is None:
            raise CaptureError(f"Could not open input device {chosen.index} ({chosen.name}): "
                               f"{error}")
        if self.rate != SAMPLE_RATE:
            self._resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1)

    def read_block(self):
        """The next BLOCK_S of audio as float32 at SAMPLE_RATE (blocks until it is there)."""
        try:
            data = self._stream.read(int(self.rate * BLOCK_S), exception_on_overflow=False)
        except (IOError, OSError) as exc:
            raise CaptureError(f"Recording from {self.name} failed: {exc}") from None
        block = np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0
        return self._resampler.resample_chunk(block) if self._resampler else block

    def __exit__(self, *exc):
        if self._stream is not None:
            self._stream.stop_stream()
            self._stream.close()
        self._pa.terminate()


class SpeechGate:
    """Decides block by block whether speech is present, tracking the background noise level
    (the quietest recent block), with the same thresholds as ml.vad. Until NOISE_HISTORY_S
    has been heard it assumes a quiet room, so speech already going on at the start counts."""

    def __init__(self):
        size = int(round(NOISE_HISTORY_S / BLOCK_S))
        self._floors = deque([QUIET_ROOM_DBFS] * size, maxlen=size)

    def update(self, block):
        """(level in dBFS, is_speech) for the next block."""
        db = frame_energy_db(block)
        self._floors.append(float(np.percentile(db, NOISE_PERCENTILE)))
        threshold = speech_threshold_db(min(self._floors))
        level = 10 * np.log10(max(float(np.mean(np.square(block, dtype=np.float64))), 1e-20))
        return float(level), bool(np.count_nonzero(db > threshold) * 2 >= len(db))


def record(mic, seconds, on_level=None, should_stop=None):
    """Record `seconds` of audio (less if should_stop() turns true); float32 at SAMPLE_RATE.

    on_level(level_dbfs, is_speech) is called for every block.
    """
    gate, blocks = SpeechGate(), []
    for _ in range(max(1, int(round(seconds / BLOCK_S)))):
        if should_stop and should_stop():
            break
        block = mic.read_block()
        blocks.append(block)
        if on_level:
            on_level(*gate.update(block))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def record_until_silence(mic, silence_s=SILENCE_S, max_s=MAX_S, on_level=None,
                         should_stop=None):
    """Wait for speech, record while it goes on, stop after silence_s of silence.

    Also stops at max_s in total (waiting included) or when should_stop() turns true. Returns
    the utterance (with PRE_ROLL_S before it) as float32 at SAMPLE_RATE; empty when no speech
    was heard.
    """
    gate = SpeechGate()
    pre_roll = deque(maxlen=max(1, int(round(PRE_ROLL_S / BLOCK_S))))
    utterance, quiet_blocks = [], 0
    for _ in range(int(round(max_s / BLOCK_S))):
        if should_stop and should_stop():
            break
        block = mic.read_block()
        level, speech = gate.update(block)
        if on_level:
            on_level(level, speech)
        if not utterance:
            pre_roll.append(block)
            if speech:
                utterance, quiet_blocks = list(pre_roll), 0
            continue
        utterance.append(block)
        quiet_blocks = 0 if speech else quiet_blocks + 1
        if quiet_blocks * BLOCK_S >= silence_s:
            break
    return np.concatenate(utterance) if utterance else np.zeros(0, np.float32)
