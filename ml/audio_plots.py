"""Small PNG pictures of a waveform and its spectrogram (matplotlib, no display)."""
import io

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

SIZE = (7.2, 2.0)
DPI = 100
COLOUR = "#243b55"
MAX_POINTS = 4000  # the waveform is drawn as a min/max envelope of at most this many columns
MAX_FRAMES = 1500  # longer audio gets a larger spectrogram hop
PALETTE = 64       # PNGs are stored with a palette of this many colours (~5x smaller)


def _png(fig):
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=DPI)
    image = Image.open(raw).convert("RGB").quantize(PALETTE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _figure():
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def waveform_png(samples, sample_rate):
    """PNG bytes of the waveform (amplitude over time in seconds)."""
    y = np.asarray(samples, dtype=np.float32)
    fig, ax = _figure()
    step = max(1, len(y) // MAX_POINTS)
    usable = len(y) // step * step
    blocks = y[:usable].reshape(-1, step) if usable else np.zeros((1, 1), np.float32)
    t = np.arange(len(blocks)) * step / sample_rate
    ax.fill_between(t, blocks.min(axis=1), blocks.max(axis=1), color=COLOUR, linewidth=0.5)
    ax.set_xlim(0, max(len(y) / sample_rate, 1e-3))
    peak = float(np.abs(y).max()) if len(y) else 1.0
    ax.set_ylim(-peak * 1.05 or -1, peak * 1.05 or 1)
    ax.set_xlabel("time (s)")
    ax.set_yticks([])
    ax.set_title("Waveform", fontsize=10)
    return _png(fig)


def spectrogram_png(samples, sample_rate, n_fft=512, hop=160):
    """PNG bytes of the log-power spectrogram (frequency in kHz over time in seconds).

    The hop grows for long audio so that at most MAX_FRAMES columns are computed.
    """
    y = np.asarray(samples, dtype=np.float64)
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    hop = max(hop, (len(y) - n_fft) // MAX_FRAMES + 1)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    db = 10 * np.log10(np.maximum(power, 1e-12))
    db = np.maximum(db, db.max() - 80)
    fig, ax = _figure()
    duration = len(y) / sample_rate
    ax.imshow(db.T, origin="lower", aspect="auto", cmap="magma",
              extent=(0, duration, 0, sample_rate / 2000))
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
