"""VAEClassifier (Kingma et al.'s M2): the objective, unlabelled rows, and the classifier API."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from skae import VAEClassifier, VAETransformer
from skae.comparison import keep_labels
from skae.nn import Bernoulli, LabelledELBOObjective, LabelledVAE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (32,), "n_components": 4, "likelihood": "bernoulli",
        "max_iter": 40, "random_state": 0}


@pytest.fixture
def split(digits_split):
    return digits_split


def _objective_parts(n=5, d=6, k=3):
    torch.manual_seed(0)
    module = LabelledVAE(d, 2, k, (8,)).eval()
    objective = LabelledELBOObjective(Bernoulli(d), alpha=2.0)
    x = torch.rand(n, d).round()
    return module, objective, x


def test_a_labelled_row_costs_its_classes_bound_plus_alpha_cross_entropies():
    module, objective, x = _objective_parts()
    out = module(x)
    bounds = objective.class_bounds(out)
    target = torch.tensor([0, 2, 1, 1, 0])
    log_q = torch.log_softmax(out["logits"], dim=1)
    expected = bounds[torch.arange(5), target] - 2.0 * log_q[torch.arange(5), target]
    torch.testing.assert_close(objective.per_sample(out, target), expected)


def test_an_unlabelled_row_costs_the_expected_bound_minus_the_entropy():
    module, objective, x = _objective_parts()
    out = module(x)
    bounds = objective.class_bounds(out)
    q = torch.softmax(out["logits"], dim=1)
    entropy = -(q * q.log()).sum(dim=1)
    expected = (q * bounds).sum(dim=1) - entropy
    torch.testing.assert_close(objective.per_sample(out, torch.full((5,), -1)), expected)


def test_each_class_bound_is_the_negative_elbo_with_a_uniform_label_prior():
    module, objective, x = _objective_parts()
    out = module(x)
    k = 1
    recon, mu, logvar = out["recon"][:, k], out["mu"][:, k], out["logvar"][:, k]
    log_px = -torch.nn.functional.binary_cross_entropy_with_logits(
        recon, x, reduction="none").sum(dim=1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)
    torch.testing.assert_close(objective.class_bounds(out)[:, k],
                               kl - log_px + math.log(3))


def test_unlabelled_rows_improve_the_classifier(split):
    X, y, X_test, y_test = split
    y_few = keep_labels(y, 0.05, 0)
    labelled = y_few != -1
    alone = VAEClassifier(**FAST).fit(X[labelled], y_few[labelled])
    mixed = VAEClassifier(**{**FAST, "alpha": alone.alpha_}).fit(X, y_few)
    assert mixed.score(X_test, y_test) > alone.score(X_test, y_test) + 0.03


def test_it_learns_digits_from_every_label(split):
    X, y, X_test, y_test = split
    clf = VAEClassifier(**{**FAST, "max_iter": 60}).fit(X, y)
    assert clf.score(X_test, y_test) > 0.9
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(axis=1)])
    assert clf.alpha_ == pytest.approx(0.1 * len(X))
    assert clf.transform(X_test).shape == (len(X_test), 4)
    assert not hasattr(clf, "inverse_transform")


def test_m1_plus_m2_is_a_pipeline(split):
    X, y, X_test, y_test = split
    y_few = keep_labels(y, 0.1, 0)
    m1_m2 = make_pipeline(
        VAETransformer(8, hidden_layer_sizes=(64,), likelihood="bernoulli", max_iter=30,
                       random_state=0),
        VAEClassifier(n_components=4, hidden_layer_sizes=(32,), max_iter=40, random_state=0),
    ).fit(X, y_few)
    # The unlabelled rows pass through the VAE (which ignores y) to M2.
    assert list(m1_m2[-1].classes_) == list(range(10))
    assert m1_m2[-1].n_features_in_ == 8
    assert m1_m2.score(X_test, y_test) > 0.5  # chance is 0.1


def test_early_stopping_and_partial_fit(split):
    X, y, X_test, y_test = split
    clf = VAEClassifier(early_stopping=True, **{**FAST, "max_iter": 200}).fit(X, y)
    assert clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.85
    chunked = VAEClassifier(**FAST)
    chunked.partial_fit(X[:600], y[:600], classes=np.arange(10))
    # Unlabelled rows alone still train it: the bound needs no label.
    chunked.partial_fit(X[600:], np.full(600, -1))
    assert chunked.n_iter_ == 2


def test_pickle_seeds_and_bad_input(split):
    X, y, X_test, _ = split
    clf = VAEClassifier(**{**FAST, "max_iter": 5}).fit(X, y)
    again = VAEClassifier(**{**FAST, "max_iter": 5}).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X_test), again.predict_proba(X_test))
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X_test), clf.predict_proba(X_test))
    with pytest.raises(ValueError, match="at least one hidden layer"):
        VAEClassifier(hidden_layer_sizes=()).fit(X, y)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        VAEClassifier(**FAST).fit(X * 3, y)


@pytest.fixture(scope="module")
def few_labels(digits):
    """600 digits (pixels in [0, 1]), 30 of them labelled, the rest -1."""
    X, y = digits[0][:600], digits[1][:600]
    labelled = np.random.default_rng(0).choice(600, 30, replace=False)
    partial = np.full_like(y, -1)
    partial[labelled] = y[labelled]
    return X, y, partial


def collapse_warnings(fit):
    import warnings

    from skae import CollapsedClassesWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit()
    return model, [w for w in caught if issubclass(w.category, CollapsedClassesWarning)]


def test_one_variance_per_pixel_swamps_the_labels_and_says_so(few_labels):
    X, y, partial = few_labels
    model, collapsed = collapse_warnings(lambda: VAEClassifier(
        decoder_variance="learned", hidden_layer_sizes=(64,), max_iter=30,
        random_state=0).fit(X, partial))
    assert np.mean(model.predict(X) == y) < 0.3
    assert len(collapsed) == 1
    assert "most common class" in str(collapsed[0].message)
    assert collapsed[0].filename == __file__


def test_the_default_shared_variance_learns_from_few_labels(few_labels):
    X, y, partial = few_labels
    model, collapsed = collapse_warnings(lambda: VAEClassifier(
        hidden_layer_sizes=(64,), max_iter=30, random_state=0).fit(X, partial))
    assert model.decoder_variance == "shared"
    assert model.net_.criterion_.likelihood.logvar.numel() == 1
    assert np.mean(model.predict(X) == y) > 0.7
    assert not collapsed


def test_a_model_saved_before_decoder_variance_learns_one_per_feature(few_labels):
    X, _, partial = few_labels
    model = VAEClassifier(decoder_variance="learned", hidden_layer_sizes=(16,), max_iter=2,
                          random_state=0).fit(X, partial)
    state = model.__getstate__()
    del state["decoder_variance"]
    old = VAEClassifier.__new__(VAEClassifier)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.decoder_variance == "learned"
    np.testing.assert_array_equal(old.predict_proba(X[:5]), model.predict_proba(X[:5]))
