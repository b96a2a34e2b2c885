"""An averaging ensemble of scikit-learn MLPClassifiers (different seeds, same data).

Kept in its own small module (numpy + scikit-learn only) because fitted models are pickled in the
artifact: unpickling must not pull in training-only dependencies such as matplotlib.
"""
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neural_network import MLPClassifier


class MLPEnsemble(ClassifierMixin, BaseEstimator):
    """n_models MLPClassifiers differing only in their random seed; probabilities are averaged."""

    def __init__(self, n_models=5, hidden_layer_sizes=(256,), alpha=1.0, batch_size=64,
                 learning_rate_init=1e-3, max_iter=200, tol=1e-4, n_iter_no_change=10,
                 random_state=0):
        self.n_models = n_models
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    def _member(self, i):
        return MLPClassifier(hidden_layer_sizes=tuple(self.hidden_layer_sizes), alpha=self.alpha,
                             batch_size=self.batch_size,
                             learning_rate_init=self.learning_rate_init,
                             max_iter=self.max_iter, tol=self.tol,
                             n_iter_no_change=self.n_iter_no_change,
                             random_state=self.random_state * 1000 + i)

    def fit(self, X, y):
        """Fit every member on (X, y)."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimators_ = [self._member(i).fit(X, y) for i in range(self.n_models)]
        self.classes_ = self.estimators_[0].classes_
        return self

    def predict_proba(self, X):
        """Mean of the members' class probabilities."""
        return np.mean([m.predict_proba(X) for m in self.estimators_], axis=0)

    def predict(self, X):
        """The class with the highest mean probability."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @property
    def loss_curve_(self):
        """The first member's training loss per epoch (for the loss-curve plot)."""
        return self.estimators_[0].loss_curve_
