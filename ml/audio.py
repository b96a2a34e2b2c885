"""Audio loading: decode any supported file, down-mix, resample to 16 kHz, trim and normalise.

libsndfile (via soundfile) reads WAV, FLAC, OGG Vorbis/Opus and MP3. Containers it cannot read
(m4a/AAC, webm/Opus from browsers and phones) and FLAC of unknown length are decoded with PyAV,
whose wheels carry FFmpeg. Either way the file is decoded in blocks that are down-mixed and
resampled as they come, so memory is a small constant times the 16 kHz mono result whatever the
file's rate or channel count; rate, channels, duration and total work are checked up front when
the header tells, and while decoding when it does not. Both libraries are handed an open file
object, never a name, so a file's name cannot choose how it is parsed; FFmpeg may use only the
demuxers of the accepted formats and no protocol but local files.
"""
import time
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from .arrays import frame_levels_db, percentiles
from .errors import AudioError, TimeLimitError

SAMPLE_RATE = 16000
MIN_SPEECH_S = 0.3
MAX_DURATION_S = 600.0
MIN_RATE, MAX_RATE = 4000, 192000
MAX_CHANNELS = 8
WORK_PER_LIMIT_SECOND = 192000  # decoded samples (all channels) per second of the duration limit
BLOCK_FRAMES = 32768            # frames decoded at a time by libsndfile
SILENCE_DBFS = -55.0      # loudest 25 ms frame quieter than this = silence
TRIM_TOP_DB = 40.0        # frames this far below the loudest are leading/trailing silence
TARGET_RMS_DBFS = -23.0   # level the speech is normalised to
FRAME, HOP = 400, 160     # 25 ms level frames every 10 ms (silence trimming)
ACCEPTED = "WAV, FLAC, OGG (Vorbis/Opus), MP3, M4A/AAC or WebM/Opus"
# FFmpeg demuxers of the accepted formats (anything else, e.g. HLS playlists or concat lists
# that name other files, is refused) and the only protocol nested opens may use.
FFMPEG_OPTIONS = {"format_whitelist": "wav,flac,ogg,mp3,mov,matroska,aac",
                  "protocol_whitelist": "file"}
FFMPEG_TIMEOUT_S = (10.0, 10.0)   # open, read


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


def _check_format(rate, channels):
    if rate <= 0 or channels <= 0:
        raise AudioError("The file header is invalid (no sample rate or channels).")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"Sample rate {rate} Hz is not supported; use {MIN_RATE // 1000} kHz "
                         f"to {MAX_RATE // 1000} kHz.")
    if channels > MAX_CHANNELS:
        raise AudioError(f"{channels} channels is not supported; use at most {MAX_CHANNELS}.")


class _Collector:
    """Takes mono blocks at the source rate and keeps them as float32 at out_rate, enforcing
    the duration limit, the work limit and the deadline as the blocks come."""

    def __init__(self, rate, channels, max_duration_s, out_rate, deadline):
        _check_format(rate, channels)
        self.rate, self.channels, self.out_rate = rate, channels, out_rate or rate
        self.max_duration_s, self.deadline = max_duration_s, deadline
        self.max_work_frames = WORK_PER_LIMIT_SECOND * max_duration_s / channels
        self.frames, self.offset, self.chunks = 0, None, []
        self.buffer, self.filled = None, 0   # the output, preallocated when the length is known
        self.stream = (soxr.ResampleStream(rate, self.out_rate, 1, dtype="float32")
                       if self.out_rate != rate else None)

    def check_length(self, frames, whole=False):
        """Refuse a recording of frames source frames (whole: the header's total, else the
        frames decoded so far)."""
        if frames / self.rate > self.max_duration_s:
            length = f"{frames / self.rate:.0f} s long" if whole else "longer than that"
            raise AudioError(f"The recording is {length}; the limit is "
                             f"{self.max_duration_s:.0f} s.")
        if frames > self.max_work_frames:
            raise AudioError(f"The recording is too big to analyse: at {self.rate / 1000:g} kHz "
                             f"with {self.channels} channels at most "
                             f"{self.max_work_frames / self.rate:.0f} s are accepted.")
        if whole and self.buffer is None:
            self.buffer = np.empty(int(frames * self.out_rate / self.rate) + 1024, np.float32)

    def _keep(self, chunk):
        if self.buffer is not None and self.filled + len(chunk) <= len(self.buffer):
            self.buffer[self.filled:self.filled + len(chunk)] = chunk
            self.filled += len(chunk)
        else:   # longer than the header said: keep the rest as a list
            self.chunks.append(chunk)

    def add(self, block):
        """Take one mono float32 block at the source rate."""
        self.frames += len(block)
        self.check_length(self.frames)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeLimitError("Decoding this recording took too long.")
        if not len(block):
            return
        if not np.isfinite(np.sum(block, dtype=np.float64)):  # float64: no overflow on 1e30
            raise AudioError("The audio contains invalid samples (NaN or infinity).")
        if self.offset is None:   # take the DC level out before resampling (no edge steps)
            self.offset = np.float32(np.mean(block, dtype=np.float64))
        block = block - self.offset
        self._keep(self.stream.resample_chunk(block) if self.stream else block)

    def finish(self):
        """The whole waveform at out_rate with any remaining DC offset removed."""
        if self.stream is not None:
            self._keep(self.stream.resample_chunk(np.zeros(0, np.float32), last=True))
        parts = ([] if self.buffer is None else [self.buffer[:self.filled]]) + self.chunks
        self.buffer, self.chunks = None, []
        if len(parts) == 1:
            y = parts[0]
        else:
            y = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if len(y):
            y -= np.float32(np.mean(y, dtype=np.float64))
        return y.astype(np.float32, copy=False)


@dataclass
class Decoded:
    """A decoded recording: mono float32 samples at rate, and facts about the source."""
    samples: np.ndarray
    rate: int
    source_rate: int
    source_channels: int
    source_duration_s: float


def _read_soundfile(f, max_duration_s, out_rate, deadline):
    """Decoded via libsndfile, or None if libsndfile cannot read it (or not its length)."""
    try:
        sound = sf.SoundFile(f)
    except Exception:
        return None
    with sound:
        if not 0 <= sound.frames < 2**62:   # unknown length (e.g. streamed FLAC): PyAV reads it
            return None
        collector = _Collector(sound.samplerate, sound.channels, max_duration_s, out_rate,
                               deadline)
        collector.check_length(sound.frames, whole=True)
        try:
            while True:
                block = sound.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if not len(block):
                    break
                collector.add(block[:, 0] if block.shape[1] == 1 else block.mean(axis=1))
        except AudioError:
            raise
        except Exception:
            raise AudioError(f"The audio data could not be decoded. Accepted: {ACCEPTED}.") \
                from None
        return Decoded(collector.finish(), collector.out_rate, sound.samplerate, sound.channels,
                       collector.frames / sound.samplerate)


class _Nameless:
    """A read/seek view of a file without a name, so FFmpeg cannot guess from the extension."""

    def __init__(self, f):
        self.read, self.seek, self.tell = f.read, f.seek, f.tell


def _read_pyav(f, max_duration_s, out_rate, deadline):
    try:
        import av
    except ImportError:
        raise AudioError(f"Unrecognised audio format. Accepted: {ACCEPTED}.") from None
    try:
        with av.open(_Nameless(f), options=FFMPEG_OPTIONS, timeout=FFMPEG_TIMEOUT_S) as container:
            if not container.streams.audio:
                raise AudioError(f"The file has no audio track. Accepted: {ACCEPTED}.")
            stream = container.streams.audio[0]
            context = stream.codec_context
            rate, channels = context.sample_rate or 0, context.channels or 0
            collector = _Collector(rate, channels, max_duration_s, out_rate, deadline)
            downmix = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for frame in container.decode(stream):
                if frame.sample_rate != rate or len(frame.layout.channels) != channels:
                    raise AudioError("The audio changes its sample rate or channels midway.")
                for out in downmix.resample(frame):
                    collector.add(out.to_ndarray().reshape(-1))
            for out in downmix.resample(None):
                collector.add(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except Exception:
        raise AudioError(f"Unrecognised or corrupt audio file. Accepted: {ACCEPTED}.") from None
    if not collector.frames:
        raise AudioError("The file contains no audio samples.")
    return Decoded(collector.finish(), collector.out_rate, rate, channels, collector.frames / rate)


def decode(source, max_duration_s=MAX_DURATION_S, rate=SAMPLE_RATE, deadline=None):
    """Decode a path or binary file object to mono float32 at rate (None: the file's own rate).

    deadline is a time.monotonic() value after which decoding stops with TimeLimitError.
    Raises AudioError with a user-facing message for anything that cannot be decoded.
    """
    if hasattr(source, "read"):
        return _decode_file(source, max_duration_s, rate, deadline)
    try:
        f = open(source, "rb")
    except OSError:
        raise AudioError("The file could not be opened.") from None
    with f:
        return _decode_file(f, max_duration_s, rate, deadline)


def _decode_file(f, max_duration_s, rate, deadline):
    start = f.tell()
    result = _read_soundfile(f, max_duration_s, rate, deadline)
    if result is None:
        f.seek(start)
        result = _read_pyav(f, max_duration_s, rate, deadline)
    return result


def to_mono_16k(data, rate):
    """Down-mix an in-memory [frames, channels] (or mono) array, remove its DC offset and
    resample it to SAMPLE_RATE (live windows and raw samples; files go through decode)."""
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


def trim_and_normalise(y):
    """Trim leading/trailing silence and scale the speech to TARGET_RMS_DBFS.

    Raises AudioError("no speech detected") for silence and for speech shorter than MIN_SPEECH_S.
    """
    if len(y) == 0:
        raise AudioError("The file contains no audio samples.")
    if len(y) < MIN_SPEECH_S * SAMPLE_RATE:
        raise AudioError(f"The recording is {len(y) / SAMPLE_RATE:.2f} s long; at least "
                         f"{MIN_SPEECH_S} s of speech is needed.")
    db = frame_levels_db(y, FRAME, HOP)
    loudest = db.max()
    if loudest < SILENCE_DBFS:
        raise AudioError("No speech detected: the recording is silent.")
    noise_floor = percentiles(db[None, :], (10,))[0, 0]
    threshold = min(max(loudest - TRIM_TOP_DB, noise_floor + 10), loudest - 10)
    active = np.flatnonzero(db > threshold)
    first, last = active[0], active[-1]
    y = y[first * HOP:last * HOP + FRAME]  # the last active frame always lies inside y
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
    """Turn an in-memory [frames, channels] array at any rate into an analysable Audio."""
    data = np.asarray(data, dtype=np.float32)
    channels = data.shape[1] if data.ndim == 2 else 1
    frames = data.shape[0]
    y = trim_and_normalise(to_mono_16k(data, rate))
    return Audio(y, SAMPLE_RATE, int(rate), channels, frames / rate if rate else 0.0)


def analysable(decoded):
    """Trim and normalise a Decoded at SAMPLE_RATE into an Audio."""
    return Audio(trim_and_normalise(decoded.samples), SAMPLE_RATE, decoded.source_rate,
                 decoded.source_channels, decoded.source_duration_s)


def load_audio(source, max_duration_s=MAX_DURATION_S, deadline=None):
    """Load a path or binary file object into an analysable Audio (mono, 16 kHz, trimmed).

    Raises AudioError with a user-facing message for anything that cannot be analysed.
    """
    return analysable(decode(source, max_duration_s, deadline=deadline))
