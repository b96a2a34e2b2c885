"""Hostile uploads that are small on disk but huge once decoded (memory and work bombs), and
FFmpeg inputs that name other files. Used by tests/test_bombs.py and bench/memory.py.

Each maker writes the file to path and returns the path; all content is silence or generated.
"""
from pathlib import Path

import numpy as np
import soundfile as sf


def soundfile_bomb(path, seconds, rate, channels, fmt="FLAC", subtype="PCM_16"):
    """seconds of silence at rate with channels, written a second at a time by libsndfile."""
    with sf.SoundFile(str(path), "w", rate, channels, format=fmt, subtype=subtype) as f:
        block = np.zeros((rate, channels), np.float32)
        whole, rest = divmod(seconds, 1)
        for _ in range(int(whole)):
            f.write(block)
        f.write(block[: int(rest * rate)])
    return Path(path)


def flac_bomb(path, seconds=120, rate=384000, channels=8):
    """FLAC of silence: 8 channels at 384 kHz (the issue's 403 kB, 2 GB decoded at 120 s)."""
    return soundfile_bomb(path, seconds, rate, channels)


def vorbis_bomb(path, seconds=30, rate=192000, channels=32):
    """Ogg Vorbis of silence, 32 channels at 192 kHz (38 kB, 858 MB decoded at 30 s)."""
    return soundfile_bomb(path, seconds, rate, channels, "OGG", "VORBIS")


def matroska_flac_bomb(path, seconds=600, rate=384000, channels=8):
    """FLAC in Matroska (decoded by PyAV), 7.1 channels at rate, silence."""
    import av
    layout = {8: "7.1", 6: "5.1", 2: "stereo", 1: "mono"}[channels]
    frame_len = 4096
    silence = np.zeros((1, frame_len * channels), np.int16)
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("flac", rate=rate, layout=layout, format="s16")
        for i in range(int(seconds * rate / frame_len)):
            frame = av.AudioFrame.from_ndarray(silence, format="s16", layout=layout)
            frame.sample_rate, frame.pts = rate, i * frame_len
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Path(path)


def unknown_length_flac(data, rate):
    """FLAC bytes of data whose STREAMINFO says "total samples unknown" (as streamed FLAC)."""
    import io
    buf = io.BytesIO()
    sf.write(buf, data, rate, format="FLAC", subtype="PCM_16")
    flac = bytearray(buf.getvalue())
    info = 8                       # "fLaC" + metadata block header, then STREAMINFO
    flac[info + 13] &= 0xF0        # the 36-bit total-samples field: high 4 bits ...
    flac[info + 14:info + 18] = b"\0\0\0\0"   # ... and low 32 bits
    return bytes(flac)


def hls_playlist(target, live=False):
    """An HLS playlist whose one segment is the local file target (an endless "live" one if
    live: no end marker)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", "#EXTINF:1.0,",
             str(target)]
    return ("\n".join(lines + ([] if live else ["#EXT-X-ENDLIST"])) + "\n").encode()


def concat_list(target):
    """An FFmpeg concat list naming the file target (relative paths pass its "safe" check)."""
    return f"ffconcat version 1.0\nfile {target}\n".encode()
