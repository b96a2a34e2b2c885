"""A corpus of hostile and malformed uploads, generated in memory, each with the answer it must
get: OK (analysed), ERROR (a 4xx with a readable message) or EITHER (both are acceptable)."""
import io
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import soundfile as sf
import soxr

from tests.audio_factory import speech

OK, ERROR, EITHER = "ok", "error", "either"
MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One upload: a file name, a function making its bytes, what must happen."""
    name: str
    filename: str
    make: Callable[[], bytes]
    expect: str
    status: int = None       # the exact 4xx status, when it matters
    message: str = ""        # text the error message must contain

    def __str__(self):
        return self.name


def encode(data, rate=16000, subtype="PCM_16", fmt="WAV"):
    """Audio array -> file bytes via libsndfile."""
    buf = io.BytesIO()
    sf.write(buf, data, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def raw_wav(pcm=b"", rate=16000, channels=1, bits=16, tag=1, data_size=None, riff_size=None):
    """A WAV written by hand so that its header can lie."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    data_size = len(pcm) if data_size is None else data_size
    riff_size = 4 + 8 + len(fmt) + 8 + len(pcm) if riff_size is None else riff_size
    return (b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt))
            + fmt + b"data" + struct.pack("<I", data_size) + pcm)


def pcm16(y):
    return (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()


def voice(rate=16000, channels=1):
    return speech(rate, channels)


def valid_wav():
    return encode(voice())


def noise(seconds, level, seed=0, rate=16000):
    return (np.random.default_rng(seed).standard_normal(int(seconds * rate)) * level).astype(
        np.float32)


def random_bytes(n, seed=1, prefix=b""):
    return prefix + np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 16 for _ in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def zip_of_wav():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("speech.wav", valid_wav())
    return buf.getvalue()


def executable():
    with open(sys.executable, "rb") as f:
        return f.read(64 * 1024)


def corrupt(data, start, end, seed=2):
    junk = np.random.default_rng(seed).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    return data[:start] + junk + data[end:]


def long_silence_flac(seconds):
    y = noise(seconds, 1e-3, rate=8000)
    return encode(y, 8000, "PCM_16", "FLAC")


def ten_minutes_wav():
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(601 * 8000) / 8000)
    return raw_wav(pcm16(tone), 8000)


CASES = [
    # Empty, truncated and corrupt headers.
    Case("zero bytes", "empty.wav", lambda: b"", ERROR, 400, "empty"),
    Case("RIFF magic only", "riff.wav", lambda: b"RIFF", ERROR),
    Case("header truncated at 20 bytes", "short.wav", lambda: valid_wav()[:20], ERROR),
    Case("header only, no data", "header.wav", lambda: raw_wav(b""), ERROR),
    Case("wrong magic", "magic.wav", lambda: b"JUNK" + valid_wav()[4:], ERROR),
    Case("corrupt fmt chunk", "fmt.wav", lambda: corrupt(valid_wav(), 12, 36), ERROR),
    Case("sample rate 0 in header", "rate0.wav", lambda: raw_wav(pcm16(noise(1, .1)), 0), ERROR),
    Case("0 channels in header", "ch0.wav", lambda: raw_wav(pcm16(noise(1, .1)), channels=0),
         ERROR),
    Case("7-bit samples", "bits7.wav", lambda: raw_wav(pcm16(noise(1, .1)), bits=7), EITHER),
    Case("unknown format tag", "tag.wav", lambda: raw_wav(pcm16(noise(1, .1)), tag=0x1234),
         ERROR),
    Case("header claims gigabytes, 100 bytes of data", "huge-header.wav",
         lambda: raw_wav(b"\x01\x02" * 50, data_size=0xFFFFFFF0, riff_size=0xFFFFFFF8), ERROR),
    Case("header claims gigabytes, 3 s of speech", "huge-header-speech.wav",
         lambda: raw_wav(pcm16(voice()[:, 0]), data_size=0xFFFFFFF0, riff_size=0xFFFFFFF8),
         EITHER),
    Case("truncated in the middle of the data", "cut.wav",
         lambda: valid_wav()[: len(valid_wav()) * 6 // 10], EITHER),
    # Other kinds of file under audio names.
    Case("text named .wav", "notes.wav", lambda: b"hello, this is not audio\n" * 200, ERROR),
    Case("text named .mp3", "notes.mp3", lambda: b"just some text\n" * 200, ERROR),
    Case("HTML named .wav", "page.wav",
         lambda: b"<!doctype html><html><body><script>alert(1)</script></body></html>" * 50,
         ERROR),
    Case("JSON named .wav", "data.wav", lambda: b'{"emotion": "happy"}' * 100, ERROR),
    Case("PNG named .wav", "image.wav", png, ERROR),
    Case("ZIP named .mp3", "archive.mp3", zip_of_wav, ERROR),
    Case("ELF executable named .wav", "program.wav", executable, ERROR),
    Case("PE executable named .mp3", "setup.mp3", lambda: random_bytes(8192, 3, b"MZ\x90\x00"),
         ERROR),
    Case("random bytes named .wav", "random.wav", lambda: random_bytes(64 * 1024, 4), ERROR),
    Case("random bytes named .mp3", "random.mp3", lambda: random_bytes(64 * 1024, 5), ERROR),
    Case("OGG magic then garbage", "fake.ogg", lambda: random_bytes(4096, 6, b"OggS\x00\x02"),
         ERROR),
    Case("FLAC magic then garbage", "fake.flac", lambda: random_bytes(4096, 7, b"fLaC"), ERROR),
    Case("ID3 tag then garbage", "fake.mp3", lambda: random_bytes(4096, 8, b"ID3\x03\x00\x00"),
         ERROR),
    Case("WebM magic then garbage", "fake.webm",
         lambda: random_bytes(4096, 9, b"\x1a\x45\xdf\xa3"), ERROR),
    Case("MP4 ftyp then garbage", "fake.m4a",
         lambda: random_bytes(4096, 10, b"\x00\x00\x00\x18ftypM4A "), ERROR),
    # Bad sample values.
    Case("float WAV with NaN", "nan.wav",
         lambda: encode(np.where(np.arange(32000) % 100 == 0, np.nan, noise(2, .1)), 16000,
                        "FLOAT"), ERROR, 400, "NaN"),
    Case("float WAV with +inf", "inf.wav",
         lambda: encode(np.concatenate([noise(1, .1), [np.inf], noise(1, .1)]), 16000,
                        "FLOAT"), ERROR, 400, "infinity"),
    Case("double WAV with -inf and 1e30", "huge-values.wav",
         lambda: encode(np.concatenate([noise(1, 1e30), [-np.inf]]), 16000, "DOUBLE"), ERROR),
    # Too little sound.
    Case("0 samples", "zero-samples.wav", lambda: encode(np.zeros(0, np.float32)), ERROR),
    Case("1 sample", "one-sample.wav", lambda: encode(np.array([0.5], np.float32)), ERROR),
    Case("100 samples", "hundred.wav", lambda: encode(voice()[16000:16100]), ERROR),
    Case("0.1 s of speech", "blip.wav", lambda: encode(voice()[16000:17600]), ERROR, 400,
         "at least"),
    Case("3 s of digital silence", "silence.wav", lambda: encode(np.zeros(48000, np.float32)),
         ERROR, 400, "No speech"),
    Case("3 s of -90 dBFS noise", "hiss.wav", lambda: encode(noise(3, 3e-5)), ERROR, 400,
         "No speech"),
    Case("DC offset only", "dc.wav", lambda: encode(np.full(32000, 0.5, np.float32)), ERROR, 400,
         "No speech"),
    # Rates, channels and durations outside the limits.
    Case("2 kHz sample rate", "rate2k.wav",
         lambda: encode(soxr.resample(voice()[:, 0], 16000, 2000), 2000), ERROR, 400,
         "Sample rate"),
    Case("1 Hz sample rate", "rate1.wav", lambda: raw_wav(pcm16(noise(1, .1)), 1), ERROR, 400),
    Case("1 MHz sample rate", "rate1m.wav", lambda: raw_wav(pcm16(noise(1, .1)), 1_000_000),
         ERROR, 400, "Sample rate"),
    Case("64 channels", "ch64.wav", lambda: raw_wav(pcm16(noise(0.5, .1)), channels=64), ERROR,
         400, "channels"),
    Case("10-minute WAV (601 s)", "ten-minutes.wav", ten_minutes_wav, ERROR, 400, "limit"),
    Case("11-minute FLAC", "eleven-minutes.flac", lambda: long_silence_flac(660), ERROR, 400,
         "limit"),
    # Valid audio in unusual shapes: must be analysed.
    Case("8-bit WAV", "speech-u8.wav", lambda: encode(voice(), 16000, "PCM_U8"), OK),
    Case("24-bit WAV", "speech-24.wav", lambda: encode(voice(), 16000, "PCM_24"), OK),
    Case("float WAV", "speech-float.wav", lambda: encode(voice(), 16000, "FLOAT"), OK),
    Case("6-channel WAV", "speech-6ch.wav", lambda: encode(voice(16000, 6)), OK),
    Case("8 kHz WAV", "speech-8k.wav", lambda: encode(voice(8000), 8000), OK),
    Case("192 kHz WAV", "speech-192k.wav", lambda: encode(voice(192000), 192000), OK),
    Case("speech with DC offset", "speech-dc.wav", lambda: encode(voice() * 0.5 + 0.4), OK),
    Case("clipped loud noise", "clipped.wav", lambda: encode(np.clip(noise(3, 3.0), -1, 1)),
         EITHER),
    Case("FLAC", "speech.flac", lambda: encode(voice(), 16000, "PCM_16", "FLAC"), OK),
    Case("OGG Vorbis", "speech.ogg", lambda: encode(voice(), 16000, "VORBIS", "OGG"), OK),
    Case("WAV named .mp3", "speech.mp3", valid_wav, OK),
    Case("no extension", "speech", valid_wav, OK),
    Case("double extension", "speech.wav.exe", valid_wav, OK),
    # Hostile file names on valid audio.
    Case("unicode file name", "émotion 😀 声音.wav", valid_wav, OK),
    Case("path traversal file name", "../../../../etc/passwd.wav", valid_wav, OK),
    Case("Windows path traversal file name", "..\\..\\Windows\\system.ini.wav", valid_wav, OK),
    Case("400-character file name", "a" * 400 + ".wav", valid_wav, OK),
    # Size limits (25 MB): over the request limit, and just over the file limit.
    Case("26 MB upload", "big.wav", lambda: random_bytes(26 * MB, 11, b"RIFF"), ERROR, 413,
         "too large"),
    Case("25 MB + 1 byte upload", "limit.wav", lambda: random_bytes(25 * MB - 3, 12, b"RIFF"),
         ERROR, 413, "too large"),
]
