"""Exception types raised by the ml package; each carries a message a user can act on."""


class AudioError(ValueError):
    """The input cannot be analysed: unreadable, empty, too short, too long or silent."""


class DatasetError(ValueError):
    """A training folder holds no usable, recognisable clips."""


class ModelError(RuntimeError):
    """A model artifact is missing, corrupt or was made with incompatible library versions."""


class TimeLimitError(AudioError):
    """Analysing the input took longer than its deadline."""
