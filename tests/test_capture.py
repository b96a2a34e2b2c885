"""PyAudio capture against a real PortAudio input (PulseAudio null-sink monitor fed by paplay),
the `listen` command, and the messages when PyAudio or a device is missing."""
import json
import sys

import numpy as np
import pytest
import soundfile as sf
from django.core.management import CommandError, call_command

from ml import Predictor
from ml.capture import (BLOCK_S, INSTALL_HINT, CaptureError, Microphone, SpeechGate,
                        list_devices, load_pyaudio, record, record_until_silence)
from ml.vad import speech_regions
from tests.audio_factory import clip_path

CLIP = clip_path(3, 5)  # angry, ~4.4 s with ~1 s of silence first


@pytest.fixture(scope="module")
def predictor():
    return Predictor.from_path()


def test_devices_are_listed(pulse):
    devices = list_devices()
    assert devices and any(d.is_default for d in devices)
    assert all(d.channels > 0 and d.default_rate > 0 for d in devices)


def test_record_until_silence_hears_one_utterance(pulse, predictor, sentence):
    levels = []
    with Microphone() as mic:
        assert mic.name
        pulse.play(sentence)
        samples = record_until_silence(mic, max_s=12, on_level=lambda *a: levels.append(a))
    duration = len(samples) / 16000
    assert 2.5 < duration < 4.5            # the sentence plus ~1 s of silence, not 12 s
    assert any(speech for _, speech in levels) and not levels[0][1]
    assert max(level for level, _ in levels) > -30
    [(start, end)] = speech_regions(samples)
    assert end - start > 1.5
    emotion = predictor.predict_samples(samples).emotion
    assert emotion in predictor.artifact.emotion_model.classes_


def test_record_fixed_length_and_stop(pulse):
    with Microphone() as mic:
        assert len(record(mic, 0.5)) == pytest.approx(0.5 * 16000, abs=BLOCK_S * 16000)
        assert len(record(mic, 5, should_stop=lambda: True)) == 0
        quiet = record_until_silence(mic, max_s=0.5)
    assert len(quiet) == 0                  # nothing said: nothing returned


def test_unknown_device(pulse):
    with pytest.raises(CaptureError, match="no input device 999"):
        with Microphone(999):
            pass


def test_listen_prints_each_utterance(pulse, capsys, sentence):
    pulse.play(sentence)
    call_command("listen", "--count", "1", "--json", "--max-seconds", "10")
    [line] = capsys.readouterr().out.splitlines()
    result = json.loads(line)
    assert result["utterance"] == 1 and result["emotion"] != "silence"
    assert set(result) >= {"confidence", "probabilities", "gender", "duration_s"}


def test_listen_fixed_seconds_and_devices(pulse, capsys):
    call_command("listen", "--seconds", "0.5", "--count", "2")
    out = capsys.readouterr().out.splitlines()
    assert out == ["#1   silence", "#2   silence"]
    call_command("listen", "--list-devices")
    assert "*" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--seconds must be"):
        call_command("listen", "--seconds", "0")


def test_no_device_is_explained(monkeypatch):
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/pulse")
    try:
        load_pyaudio()
    except CaptureError:
        pytest.skip("PyAudio not installed")
    with pytest.raises(CaptureError, match="No audio input device found"):
        with Microphone():
            pass
    with pytest.raises(CommandError, match="No audio input device"):
        call_command("listen", "--count", "1")


def test_missing_pyaudio_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaudio", None)  # makes `import pyaudio` fail
    with pytest.raises(CaptureError) as error:
        list_devices()
    assert "PyAudio is not installed" in str(error.value) and INSTALL_HINT in str(error.value)
    assert "portaudio19-dev" in INSTALL_HINT and "pip install" in INSTALL_HINT
    with pytest.raises(CommandError, match="portaudio19-dev"):
        call_command("listen", "--list-devices")


def test_speech_gate_on_real_speech():
    y, _ = sf.read(CLIP, dtype="float32")
    gate = SpeechGate()
    block = int(BLOCK_S * 16000)
    decisions = [gate.update(y[i:i + block])[1] for i in range(0, len(y) - block, block)]
    assert not any(decisions[:6]) and sum(decisions) >= 15   # silent first ~0.6 s, then speech
    gate = SpeechGate()
    noise = np.random.default_rng(0).normal(0, 0.01, 16000 * 5).astype(np.float32)
    decisions = [gate.update(noise[i:i + block])[1] for i in range(0, len(noise), block)]
    assert not any(decisions[31:])    # steady noise stops counting once the floor is learnt
