"""PNG plots of training: the loss curve and a confusion matrix (matplotlib, no display)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def loss_curve(curves, path):
    """Plot one or more MLP loss curves ({label: [loss per epoch]}) to a PNG."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("MLP training loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def confusion_matrix(matrix, labels, path, title="Confusion matrix (unseen speakers)"):
    """Plot a row-normalised confusion matrix (rows = true emotion) with counts to a PNG."""
    matrix = np.asarray(matrix)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{rates[i, j]:.0%}\n({matrix[i, j]})", ha="center", va="center",
                    fontsize=7, color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def reliability_diagram(curves, path, title="Reliability (unseen speakers)"):
    """Plot accuracy against mean top probability per bin ({label: ml.calibration.reliability
    bins}) with the diagonal of perfect calibration, to a PNG."""
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for label, bins in curves.items():
        used = [b for b in bins if b["count"]]
        ax.plot([b["confidence"] for b in used], [b["accuracy"] for b in used], marker="o",
                label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("top probability shown (mean per bin)")
    ax.set_ylabel("share of answers that were right")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def enrolment_curve(curves, path, title="Speaker adaptation (unseen speakers)"):
    """Plot accuracy against the number of reference clips ({label: [(clips, accuracy)]})."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, points in curves.items():
        x, y = zip(*points)
        ax.plot(x, 100 * np.asarray(y), marker="o", label=label)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("reference clips of the speaker (0 = generic model)")
    ax.set_ylabel("accuracy, 8 emotions (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
