"""Batch prediction over files and folders, one result dict per file, errors included.

The model is loaded once, in the calling process. Decoding, speech detection and feature
extraction of every speech window (ml.segment: the same analysis as uploads) run in `jobs`
worker processes (multiprocessing; forked where the platform allows it, so workers start in
milliseconds with everything already imported); the models then classify the windows of CHUNK
files at a time with one call each. Results come back in the order of the input paths.
"""
import multiprocessing
import os
import time
from functools import partial
from itertools import islice

import numpy as np

from . import segment
from .audio import decode
from .dataset import AUDIO_EXTENSIONS
from .errors import AudioError
from .speaker import Adaptation

CHUNK = 32            # files whose windows are classified with one model call
FILES_PER_WORKER = 8  # fewer files than this per worker: not worth starting workers


def expand_paths(paths):
    """Files as given plus audio files found recursively in given folders (sorted).

    A path that does not exist is kept, so the caller reports it as a failed file.
    """
    files = []
    for given in paths:
        if os.path.isdir(given):
            found = []
            for root, _, names in os.walk(given):
                found += [os.path.join(root, n) for n in names
                          if n.lower().endswith(AUDIO_EXTENSIONS)]
            files += sorted(found)
        else:
            files.append(given)
    return files


def _error(exc):
    if isinstance(exc, AudioError):
        return str(exc)
    return f"Could not analyse this file ({type(exc).__name__})."  # never stops the batch


def file_features(path, config):
    """(feature rows of its speech windows, analysis plan, elapsed ms) for one file (the
    first two steps of ml.segment's analysis), or an error message string."""
    started = time.perf_counter()
    if not os.path.isfile(path):
        return "No such file."
    try:
        plan = segment.plan(decode(path).samples)
        rows = segment.featurise(plan, config)
    except Exception as exc:
        return _error(exc)
    return rows, plan, 1000 * (time.perf_counter() - started)


def _classify(predictor, done, adaptation=None):
    """Results of a chunk of files: all their windows classified with one model call each,
    then every file's windows combined (ml.segment.combine)."""
    ok = [item for _, item in done if not isinstance(item, str)]
    if ok:
        started = time.perf_counter()
        proba, g_proba = predictor.probabilities(np.vstack([rows for rows, _, _ in ok]),
                                                 adaptation)
        share_ms = 1000 * (time.perf_counter() - started) / len(ok)
        bounds = np.cumsum([0] + [len(rows) for rows, _, _ in ok])
        described = adaptation.describe() if predictor.adapts(adaptation) else None
    answers = iter(range(len(ok)))
    for path, item in done:
        if isinstance(item, str):
            yield {"file": path, "error": item}
            continue
        i = next(answers)
        rows = slice(bounds[i], bounds[i + 1])
        prediction, _ = segment.combine(predictor, item[1], proba[rows], g_proba[rows],
                                        item[2] + share_ms, described)
        yield {"file": path, **prediction.to_dict()}


def usable_cores():
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_for(n_files, jobs):
    """How many worker processes to use for n_files (1 = extract in this process);
    jobs -1 = every usable core, -2 = all but one, ... (as joblib counts)."""
    cores = usable_cores()
    wanted = jobs if jobs > 0 else max(1, cores + 1 + jobs)
    return max(1, min(wanted, n_files // FILES_PER_WORKER))


def extract_many(paths, config, jobs=1):
    """Yield (path, (window feature rows, plan, elapsed ms) or error message) per path, in
    order; jobs: extraction processes (-1 = all cores)."""
    n_workers = workers_for(len(paths), jobs)
    if n_workers == 1:
        for p in paths:
            yield p, file_features(p, config)
        return
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    with context.Pool(n_workers) as pool:
        yield from zip(paths, pool.imap(partial(file_features, config=config), paths,
                                        chunksize=4))


def stats_of(predictor, done, source="same-speaker"):
    """An Adaptation to the speaker of the successfully extracted items in done."""
    stats = predictor.new_stats()
    for _, item in done:
        if not isinstance(item, str):
            stats.add(item[0], item[1].analysed_s)
    return Adaptation(stats, source)


def predict_many(predictor, paths, jobs=1, adaptation=None, same_speaker=False):
    """Yield {"file": path, ...prediction} or {"file": path, "error": message} per path, in
    order; never raises for a bad file. jobs: extraction processes (-1 = all cores).
    adaptation: an ml.speaker.Adaptation to use for every file; same_speaker: treat all the
    files as one speaker and adapt to the statistics of all of them (read before predicting)."""
    items = extract_many(paths, predictor.config, jobs)
    if same_speaker:
        done = list(items)
        adaptation = stats_of(predictor, done)
        items = iter(done)
    while True:
        chunk = list(islice(items, CHUNK))
        if not chunk:
            return
        yield from _classify(predictor, chunk, adaptation)
