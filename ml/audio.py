"""Audio loading: decode any supported file, down-mix, resample to 16 kHz, trim and normalise.

libsndfile (via soundfile) reads WAV, FLAC, OGG Vorbis/Opus and MP3. Containers it cannot read
(m4a/AAC, webm/Opus from browsers and phones) are decoded with PyAV, whose wheels carry FFmpeg.
"""
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from .arrays import percentiles, window_sums
from .errors import AudioError

SAMPLE_RATE = 16000
MIN_SPEECH_S = 0.3
MAX_DURATION_S = 600.0
SILENCE_DBFS = -55.0      # loudest 25 ms frame quieter than this = silence
TRIM_TOP_DB = 40.0        # frames this far below the loudest are leading/trailing silence
TARGET_RMS_DBFS = -23.0   # level the speech is normalised to
FRAME, HOP = 400, 160     # 25 ms level frames every 10 ms (silence trimming)
ACCEPTED = "WAV, FLAC, OGG (Vorbis/Opus), MP3, M4A/AAC or WebM/Opus"


@dataclass
class Audio:
    """A mono waveform at SAMPLE_RATE plus facts about the source it came from."""
    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int
    source_duration_s: float

    @property
    def duration_s(self):
        """Length of the (trimmed) waveform in seconds."""
        return len(self.samples) / self.sample_rate


def _check_header(rate, channels, frames, max_duration_s):
    if rate <= 0 or channels <= 0:
        raise AudioError("The file header is invalid (no sample rate or channels).")
    if not 4000 <= rate <= 384000:
        raise AudioError(f"Sample rate {rate} Hz is not supported; use 4 kHz to 384 kHz.")
    if channels > 32:
        raise AudioError(f"{channels} channels is not supported; use at most 32.")
    if frames is not None and frames / rate > max_duration_s:
        raise AudioError(f"The recording is {frames / rate:.0f} s long; the limit is "
                         f"{max_duration_s:.0f} s.")


def _read_soundfile(source, max_duration_s):
    """(data, rate) via libsndfile, or None if libsndfile does not recognise the format."""
    try:
        f = sf.SoundFile(source)
    except Exception:
        if hasattr(source, "seek"):
            source.seek(0)
        return None
    with f:
        _check_header(f.samplerate, f.channels, f.frames, max_duration_s)
        try:
            return f.read(dtype="float32", always_2d=True), f.samplerate
        except Exception as exc:
            raise AudioError(f"The audio data could not be decoded ({exc}). "
                             f"Accepted: {ACCEPTED}.") from None


def _read_pyav(source, max_duration_s):
    try:
        import av
    except ImportError:
        raise AudioError(f"Unrecognised audio format. Accepted: {ACCEPTED}.") from None
    try:
        with av.open(source) as container:
            if not container.streams.audio:
                raise AudioError(f"The file has no audio track. Accepted: {ACCEPTED}.")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or stream.rate
            _check_header(rate or 0, 1, None, max_duration_s)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks, total = [], 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                    if total / rate > max_duration_s:
                        raise AudioError(f"The recording is longer than the limit of "
                                         f"{max_duration_s:.0f} s.")
    except AudioError:
        raise
    except Exception:
        raise AudioError(f"Unrecognised or corrupt audio file. Accepted: {ACCEPTED}.") from None
    if not chunks:
        raise AudioError("The file contains no audio samples.")
    return np.concatenate(chunks)[:, None], rate


def decode(source, max_duration_s=MAX_DURATION_S):
    """Decode a path or binary file object to (float32 array [frames, channels], rate)."""
    result = _read_soundfile(source, max_duration_s)
    if result is None:
        result = _read_pyav(source, max_duration_s)
    return result


def to_mono_16k(data, rate):
    """Down-mix a [frames, channels] array and resample it to SAMPLE_RATE."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data[:, 0] if data.shape[1] == 1 else \
            data.mean(axis=1, dtype=np.float64).astype(np.float32)
    total = np.sum(data, dtype=np.float64)  # float64: float32 sums overflow on huge samples
    if not np.isfinite(total):
        raise AudioError("The audio contains invalid samples (NaN or infinity).")
    if len(data):  # remove DC offset
        data = data - np.float32(total / len(data))
    if rate != SAMPLE_RATE and len(data):
        data = soxr.resample(data, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return data


def _frame_rms_db(y, frame=FRAME, hop=HOP):
    """Level (dBFS) of frame-long windows every hop samples."""
    if len(y) < frame:
        y = np.pad(y, (0, frame - len(y)))
    energy = window_sums(np.square(y, dtype=np.float64), frame, hop, (len(y) - frame) // hop + 1)
    rms = np.sqrt(np.maximum(energy, 0) / frame)
    return 20 * np.log10(np.maximum(rms, 1e-10)), hop


def trim_and_normalise(y):
    """Trim leading/trailing silence and scale the speech to TARGET_RMS_DBFS.

    Raises AudioError("no speech detected") for silence and for speech shorter than MIN_SPEECH_S.
    """
    if len(y) == 0:
        raise AudioError("The file contains no audio samples.")
    if len(y) < MIN_SPEECH_S * SAMPLE_RATE:
        raise AudioError(f"The recording is {len(y) / SAMPLE_RATE:.2f} s long; at least "
                         f"{MIN_SPEECH_S} s of speech is needed.")
    db, hop = _frame_rms_db(y)
    loudest = db.max()
    if loudest < SILENCE_DBFS:
        raise AudioError("No speech detected: the recording is silent.")
    noise_floor = percentiles(db[None, :], (10,))[0, 0]
    threshold = min(max(loudest - TRIM_TOP_DB, noise_floor + 10), loudest - 10)
    active = np.flatnonzero(db > threshold)
    first, last = active[0], active[-1]
    y = y[first * hop:last * hop + FRAME]  # the last active frame always lies inside y
    if len(y) < MIN_SPEECH_S * SAMPLE_RATE:
        raise AudioError(f"No speech detected: only {len(y) / SAMPLE_RATE:.2f} s of sound; "
                         f"at least {MIN_SPEECH_S} s of speech is needed.")
    speech_db = db[first:last + 1]  # = the frames of the trimmed y
    level = 10 * np.log10(np.mean(10 ** (speech_db[speech_db > loudest - 30] / 10)))
    gain = 10 ** ((TARGET_RMS_DBFS - level) / 20)
    y = y * gain
    peak = np.max(np.abs(y))
    if peak > 0.99:
        y = y * (0.99 / peak)
    return y.astype(np.float32)


def prepare(data, rate):
    """Turn a decoded [frames, channels] array at any rate into an analysable Audio."""
    data = np.asarray(data, dtype=np.float32)
    channels = data.shape[1] if data.ndim == 2 else 1
    frames = data.shape[0]
    y = trim_and_normalise(to_mono_16k(data, rate))
    return Audio(y, SAMPLE_RATE, int(rate), channels, frames / rate if rate else 0.0)


def load_audio(source, max_duration_s=MAX_DURATION_S):
    """Load a path or binary file object into an analysable Audio (mono, 16 kHz, trimmed).

    Raises AudioError with a user-facing message for anything that cannot be analysed.
    """
    data, rate = decode(source, max_duration_s)
    return prepare(data, rate)
