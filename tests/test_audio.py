"""Audio loading over real speech in every supported format, rate and channel count."""
import io

import numpy as np
import pytest
import soundfile as sf

from ml import AudioError, load_audio
from ml.audio import SAMPLE_RATE
from tests.audio_factory import clip_path, speech, write

RATES = [8000, 16000, 22050, 44100, 48000]
REFERENCE = load_audio(clip_path()).duration_s


def assert_speech(audio, source_rate, channels):
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert audio.source_rate == source_rate and audio.source_channels == channels
    assert abs(audio.duration_s - REFERENCE) < 0.25  # band-limiting moves the trim a little
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio.samples ** 2)))
    assert -35 < rms_db < -15 and np.abs(audio.samples).max() <= 1.0


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_wav_any_rate_and_channels(tmp_path, rate, channels):
    path = write(tmp_path / "a.wav", speech(rate, channels), rate)
    assert_speech(load_audio(path), rate, channels)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_sample_formats(tmp_path, subtype):
    path = write(tmp_path / "a.wav", speech(22050), 22050, "WAV", subtype)
    assert_speech(load_audio(path), 22050, 1)


@pytest.mark.parametrize("fmt,subtype,ext,rate", [
    ("FLAC", "PCM_16", "flac", 44100), ("OGG", "VORBIS", "ogg", 44100),
    ("OGG", "OPUS", "opus", 48000), ("MP3", "MPEG_LAYER_III", "mp3", 44100),
    ("FLAC", "PCM_24", "flac", 8000), ("MP3", "MPEG_LAYER_III", "mp3", 22050),
])
def test_compressed_formats(tmp_path, fmt, subtype, ext, rate):
    path = write(tmp_path / f"a.{ext}", speech(rate, 2), rate, fmt, subtype)
    assert_speech(load_audio(path), rate, 2)


def test_m4a_via_pyav(tmp_path):
    av = pytest.importorskip("av")
    data = speech(44100)[:, 0]
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(data[None, :], format="flt", layout="mono")
        frame.sample_rate = 44100
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    audio = load_audio(str(path))
    assert audio.sample_rate == SAMPLE_RATE and abs(audio.duration_s - REFERENCE) < 0.2


def test_file_object(tmp_path):
    path = write(tmp_path / "a.wav", speech(48000), 48000)
    with open(path, "rb") as f:
        assert_speech(load_audio(io.BytesIO(f.read())), 48000, 1)


def test_trims_leading_and_trailing_silence(tmp_path):
    y = speech()
    padded = np.concatenate([np.zeros((32000, 1), np.float32), y, np.zeros((48000, 1), np.float32)])
    path = write(tmp_path / "a.wav", padded, 16000)
    assert abs(load_audio(path).duration_s - REFERENCE) < 0.05


def test_level_is_normalised(tmp_path):
    quiet = write(tmp_path / "q.wav", speech() * 0.01, 16000)
    loud = write(tmp_path / "l.wav", speech(), 16000)
    a, b = load_audio(quiet).samples, load_audio(loud).samples
    assert abs(np.sqrt(np.mean(a ** 2)) / np.sqrt(np.mean(b ** 2)) - 1) < 0.05


@pytest.mark.parametrize("make,message", [
    (lambda p: write(p, np.zeros((32000, 1), np.float32), 16000), "no speech"),
    (lambda p: write(p, np.full((32000, 1), 1e-5, np.float32), 16000), "no speech"),
    (lambda p: write(p, np.zeros((0, 1), np.float32), 16000), "no audio"),
    (lambda p: write(p, speech()[:2400], 16000), "at least 0.3 s"),
    (lambda p: p.write_bytes(b"") and str(p), "unrecognised"),
    (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage") and str(p), "unrecognised"),
    (lambda p: p.write_text("<html>not audio</html>") and str(p), "unrecognised"),
])
def test_bad_input_raises_clear_error(tmp_path, make, message):
    path = make(tmp_path / "bad.wav") or str(tmp_path / "bad.wav")
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert message in str(err.value).lower()


def test_nan_samples_rejected(tmp_path):
    y = speech()
    y[1000:1010] = np.nan
    path = write(tmp_path / "nan.wav", y, 16000, "WAV", "FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)


def test_too_long_rejected_from_header(tmp_path):
    path = write(tmp_path / "long.wav", speech(), 16000)
    with pytest.raises(AudioError, match="limit"):
        load_audio(path, max_duration_s=1.0)
    assert sf.info(path).duration > 1.0
