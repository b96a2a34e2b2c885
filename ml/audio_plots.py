"""Waveform and spectrogram pictures in two steps, so requests never wait for matplotlib.

plot_data() reduces a clip to a few kB (a min/max envelope of the waveform and an 8-bit log-power
spectrogram) in about a millisecond; it is stored with the analysis. waveform_png() and
spectrogram_png() draw PNGs from that data when a page first shows them (matplotlib is imported
only then).
"""
import io
import struct
import zlib

import numpy as np
import scipy.fft

from .arrays import hanning

SIZE = (7.2, 2.0)
DPI = 100
COLOUR = "#243b55"
COLUMNS = 720       # waveform envelope columns and maximum spectrogram frames (the plot width)
FREQ_ROWS = 128     # spectrogram rows (0-8 kHz at 16 kHz)
DB_RANGE = 80.0     # the spectrogram shows this many dB below its peak
PALETTE = 64        # PNGs are stored with a palette of this many colours (~5x smaller)
MAGIC = b"SERP"     # plot data: header (magic, duration s, Nyquist Hz, envelope columns,
HEADER = struct.Struct("<4sddIII")  # spectrogram rows and frames), int8 envelope, uint8 image


def plot_data(samples, sample_rate, n_fft=512, hop=320):
    """Compact, zlib-compressed picture data of a clip (a few kB) for the two PNGs."""
    y = np.asarray(samples, dtype=np.float32)
    step = max(1, -(-len(y) // COLUMNS))
    usable = len(y) // step * step
    blocks = y[:usable].reshape(-1, step) if usable else np.zeros((1, 1), np.float32)
    peak = max(float(np.abs(y).max()) if len(y) else 0.0, 1e-9)
    envelope = np.round(127 * np.stack([blocks.min(axis=1), blocks.max(axis=1)]) / peak)
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    hop = max(hop, (len(y) - n_fft) // COLUMNS + 1)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop] * hanning(n_fft, np.float32)
    spectrum = scipy.fft.rfft(frames, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    per_row = power.shape[1] // FREQ_ROWS  # neighbouring bins averaged into one picture row
    power = sum(power[:, i:per_row * FREQ_ROWS:per_row] for i in range(per_row)) / per_row
    db = 10 * np.log10(np.maximum(power, 1e-12))
    db = np.clip((db - db.max() + DB_RANGE) * (255 / DB_RANGE), 0, 255)
    spectrogram = np.ascontiguousarray(db.astype(np.uint8).T)  # [FREQ_ROWS, frames]
    header = HEADER.pack(MAGIC, len(samples) / sample_rate, sample_rate / 2,
                         envelope.shape[1], *spectrogram.shape)
    return zlib.compress(header + envelope.astype(np.int8).tobytes() + spectrogram.tobytes(), 1)


def _load(data):
    raw = zlib.decompress(bytes(data))
    magic, duration, nyquist, columns, rows, frames = HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise ValueError("not plot data")
    body = np.frombuffer(raw, dtype=np.uint8, offset=HEADER.size)
    return {"duration": duration, "nyquist": nyquist,
            "envelope": body[:2 * columns].view(np.int8).reshape(2, columns),
            "spectrogram": body[2 * columns:].reshape(rows, frames)}


def _png(fig):
    from PIL import Image
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=DPI)
    image = Image.open(raw).convert("RGB").quantize(PALETTE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _figure():
    from matplotlib.figure import Figure  # Agg canvas, no display, no pyplot state
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def waveform_png(data):
    """PNG bytes of the waveform (amplitude over time in seconds) from plot_data()."""
    d = _load(data)
    low, high = d["envelope"].astype(np.float32) / 127
    duration = float(d["duration"])
    fig, ax = _figure()
    t = np.linspace(0, duration, len(low), endpoint=False)
    ax.fill_between(t, low, high, color=COLOUR, linewidth=0.5)
    ax.set_xlim(0, max(duration, 1e-3))
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("time (s)")
    ax.set_yticks([])
    ax.set_title("Waveform", fontsize=10)
    return _png(fig)


def spectrogram_png(data):
    """PNG bytes of the log-power spectrogram (kHz over seconds) from plot_data()."""
    d = _load(data)
    fig, ax = _figure()
    ax.imshow(d["spectrogram"], origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=255,
              extent=(0, float(d["duration"]), 0, float(d["nyquist"]) / 1000))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("kHz")
    ax.set_title("Spectrogram", fontsize=10)
    return _png(fig)


def confusion_png(matrix, labels):
    """PNG bytes of a row-normalised confusion matrix (rows = true emotion)."""
    from .plots import confusion_matrix
    buf = io.BytesIO()
    confusion_matrix(matrix, labels, buf)
    return buf.getvalue()
