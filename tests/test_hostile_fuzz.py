"""Property-based fuzzing of the audio-loading entry point (ml.load_audio): whatever the bytes,
it returns an analysable Audio or raises ml.AudioError — never another exception."""
import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ml import Audio, AudioError, load_audio
from tests.audio_factory import speech
from tests.hostile_corpus import encode, raw_wav

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VALID = encode(speech(16000, 1)[8000:24000])   # 1 s of real speech


def loads_or_refuses(data, max_duration_s=600):
    """The property: an Audio that can be analysed, or an AudioError with a message."""
    try:
        audio = load_audio(io.BytesIO(data), max_duration_s=max_duration_s)
    except AudioError as exc:
        assert str(exc)
        return None
    assert isinstance(audio, Audio)
    assert audio.sample_rate == 16000 and audio.samples.dtype == np.float32
    assert len(audio.samples) > 0 and np.all(np.isfinite(audio.samples))
    assert np.max(np.abs(audio.samples)) <= 1.0
    return audio


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data):
    loads_or_refuses(data)


@FUZZ
@given(st.sampled_from([b"RIFF", b"fLaC", b"OggS", b"ID3", b"\x1a\x45\xdf\xa3", b"\xff\xfb"]),
       st.binary(max_size=4096))
def test_known_magic_then_garbage(magic, rest):
    loads_or_refuses(magic + rest)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=12),
       st.integers(0, len(VALID)))
def test_mutated_and_truncated_wav(mutations, length):
    data = bytearray(VALID)
    for position, value in mutations:
        data[position] = value
    loads_or_refuses(bytes(data[:length]))


@FUZZ
@given(rate=st.integers(0, 2_000_000), channels=st.integers(0, 70),
       bits=st.sampled_from([0, 1, 7, 8, 16, 24, 32, 64]), tag=st.sampled_from([1, 3, 0xFFFE, 7]),
       frames=st.integers(0, 4000), claimed=st.one_of(st.none(), st.integers(0, 2**32 - 1)))
def test_lying_wav_headers(rate, channels, bits, tag, frames, claimed):
    pcm = np.random.default_rng(frames).integers(0, 256, frames * 2, dtype=np.uint8).tobytes()
    loads_or_refuses(raw_wav(pcm, rate, channels, bits, tag, data_size=claimed))


@FUZZ
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                          st.sampled_from([0.0, 1.0, -1.0, 1e-30, 3e38])),
                min_size=0, max_size=20000),
       st.sampled_from([8000, 16000, 44100, 192000]), st.sampled_from(["FLOAT", "PCM_16"]))
def test_any_sample_values(values, rate, subtype):
    samples = np.asarray(values, dtype=np.float32)
    if subtype == "PCM_16":
        samples = np.nan_to_num(np.clip(samples, -1, 1))
    loads_or_refuses(encode(samples, rate, subtype))


@FUZZ
@given(st.floats(0.01, 5.0))
def test_duration_limit_is_enforced_from_the_header(limit):
    audio = loads_or_refuses(VALID, max_duration_s=limit)
    assert (audio is None) == (limit < 1.0)

