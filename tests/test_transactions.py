"""fit and partial_fit are transactions: whatever interrupts them, and wherever,
the model is the one before the call or the one of the epochs it reports."""

import pickle
import random
import signal
import threading
import time
import warnings

import numpy as np
import pytest
import torch

from skae import (
    AutoencoderClassifier,
    AutoencoderTransformer,
    DenoisingAE,
    SparseCoder,
    VAEClassifier,
    VAETransformer,
)
from skae._stopping import NoImprovementStopping

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals"),
]

# 60 rows in batches of 20: 3 steps an epoch, an epoch of a few milliseconds.
TINY = {"hidden_layer_sizes": (4,), "max_iter": 3, "batch_size": 20, "random_state": 0}
SETTINGS = {
    AutoencoderTransformer: {},
    DenoisingAE: {},
    SparseCoder: {},
    VAETransformer: {},
    AutoencoderClassifier: {"pretrain": None, "n_components": None},
    VAEClassifier: {},
}
TRIALS = 30


@pytest.fixture(params=list(SETTINGS), ids=lambda cls: cls.__name__)
def make(request):
    cls = request.param
    settings = {"n_components": 2, **SETTINGS[cls], **TINY}
    if settings["n_components"] is None:
        del settings["n_components"]
    return lambda **kw: cls(**{**settings, **kw})


@pytest.fixture
def data(digits):
    X, y = digits
    return X[:60], y[:60]


def _train(model, data, method="fit"):
    X, y = data
    train = getattr(model, method)
    if "Classifier" not in type(model).__name__:
        return train(X)
    return train(X, y, classes=np.arange(10)) if method == "partial_fit" else train(X, y)


def _state(model):
    """Everything training changes, as plain copies; None for an unfitted model."""
    if not hasattr(model, "net_"):
        assert not hasattr(model, "n_iter_") and not hasattr(model, "n_features_in_")
        return None
    net = model.net_
    optimizer = net.optimizer_.state_dict()
    return {
        "module": {k: v.clone() for k, v in net.module_.state_dict().items()},
        "criterion": {k: v.clone() for k, v in net.criterion_.state_dict().items()},
        "optimizer": [v.clone() for state in optimizer["state"].values()
                      for v in state.values() if torch.is_tensor(v)],
        "rates": [group["lr"] for group in optimizer["param_groups"]],
        "generator": model._rng.get_state().clone(),
        "n_iter": model.n_iter_,
        "loss_curve": list(model.loss_curve_),
        "history": len(net.history),
    }


def _same(a, b):
    if a is None or b is None:
        return a is b
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            if x.keys() != y.keys() or not all(torch.equal(x[k], y[k]) for k in x):
                return False
        elif torch.is_tensor(x):
            if not torch.equal(x, y):
                return False
        elif isinstance(x, list) and x and torch.is_tensor(x[0]):
            if len(x) != len(y) or not all(torch.equal(u, v) for u, v in zip(x, y, strict=True)):
                return False
        elif x != y:
            return False
    return True


def _interrupt_after(call, delay):
    """Run ``call()`` with a real SIGINT sent to this thread ``delay`` seconds in.

    Returns whether ``call`` raised KeyboardInterrupt, and the warnings it
    issued. A signal that comes after ``call`` returned is swallowed here.
    """
    main = threading.get_ident()
    sent = threading.Event()

    def send():
        signal.pthread_kill(main, signal.SIGINT)
        sent.set()

    timer = threading.Timer(delay, send)
    raised, error = False, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                timer.start()
                call()
            except KeyboardInterrupt:
                raised = True
            except Exception as other:
                error = other
            sent.wait()
            time.sleep(0.005)
        except KeyboardInterrupt:
            pass
    timer.join()
    if error is not None:
        raise error
    return raised, [str(w.message) for w in caught]


def _reported_epochs(messages):
    counts = [int(m.split("interrupted after ")[1].split()[0])
              for m in messages if "interrupted after" in m]
    return counts[0] if counts else None


def _duration(call):
    """The median time of three calls: the range the signals are spread over."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


@pytest.mark.parametrize("early_stopping", [False, True], ids=["", "early stopping"])
def test_interrupts_anywhere_in_fit(make, data, early_stopping):
    # The model of each number of epochs, from runs that stopped there by
    # themselves (with early stopping, holding the best epoch's weights).
    references = {k: _state(_train(make(max_iter=k, early_stopping=early_stopping), data))
                  for k in range(1, 4)}
    duration = _duration(lambda: _train(make(early_stopping=early_stopping), data))
    rng = random.Random(int(early_stopping))
    outcomes = set()
    for _ in range(TRIALS):
        model = make(early_stopping=early_stopping)
        raised, messages = _interrupt_after(lambda m=model: _train(m, data),
                                            rng.uniform(0, 1.5 * duration))
        state = _state(model)
        if state is None:
            assert raised
            outcomes.add(0)
            continue
        assert _same(state, references[state["n_iter"]]), f"epoch {state['n_iter']}"
        reported = _reported_epochs(messages)
        assert reported is None or reported == state["n_iter"]
        outcomes.add(state["n_iter"])
    # The trials hit several points: a third of the signals come after the call.
    assert len(outcomes) >= 2


def test_interrupts_anywhere_in_partial_fit(make, data):
    blob = pickle.dumps(_train(make(max_iter=2), data))
    before = _state(pickle.loads(blob))
    after = _state(_train(pickle.loads(blob), data, "partial_fit"))
    duration = _duration(lambda: _train(pickle.loads(blob), data, "partial_fit"))
    rng = random.Random(1)
    outcomes = set()
    for _ in range(TRIALS):
        model = pickle.loads(blob)
        raised, messages = _interrupt_after(lambda m=model: _train(m, data, "partial_fit"),
                                            rng.uniform(0, 1.5 * duration))
        state = _state(model)
        if _same(state, before):
            assert raised
            outcomes.add("before")
        else:
            assert _same(state, after)
            reported = _reported_epochs(messages)
            assert reported is None or reported == state["n_iter"]
            outcomes.add("after")
    # Some signals came in time to undo the call.
    assert "before" in outcomes


def test_first_partial_fit_interrupted_leaves_the_model_unfitted_or_trained(make, data):
    after = _state(_train(make(), data, "partial_fit"))
    duration = _duration(lambda: _train(make(), data, "partial_fit"))
    rng = random.Random(2)
    for _ in range(TRIALS // 2):
        model = make()
        _interrupt_after(lambda m=model: _train(m, data, "partial_fit"),
                         rng.uniform(0, 1.5 * duration))
        state = _state(model)
        assert state is None or _same(state, after)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize("step", ["_record_history", "_inspect"])
def test_a_failure_after_the_epoch_undoes_partial_fit(make, data, error, step, monkeypatch):
    model = _train(make(max_iter=2), data)
    before = _state(model)
    if step == "_inspect" and "Classifier" in type(model).__name__:
        pytest.skip("the classifiers do not inspect their network after training")

    def fail(self, *args, **kwargs):
        raise error("after the epoch")

    monkeypatch.setattr(type(model), step, fail)
    with pytest.raises(error):
        _train(model, data, "partial_fit")
    monkeypatch.undo()
    assert _same(_state(model), before)
    # Training resumes as if the failed call had not happened.
    twin = _train(make(max_iter=2), data)
    assert _same(_state(_train(model, data, "partial_fit")),
                 _state(_train(twin, data, "partial_fit")))


def test_the_warning_counts_the_epochs_the_model_holds(make, data, monkeypatch):
    # An interrupt after the third epoch's losses are known, before it is kept.
    update = NoImprovementStopping.update
    calls = []

    def update_then_interrupt(self, value):
        calls.append(value)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return update(self, value)

    monkeypatch.setattr(NoImprovementStopping, "update", update_then_interrupt)
    model = make()
    with pytest.warns(UserWarning, match="interrupted after") as record, \
            pytest.raises(KeyboardInterrupt):
        _train(model, data)
    monkeypatch.undo()
    message = next(str(w.message) for w in record if "interrupted after" in str(w.message))
    assert _reported_epochs([message]) == model.n_iter_ == 2
    assert _same(_state(model), _state(_train(make(max_iter=2), data)))


def test_a_sigint_in_a_deferred_section_is_raised_at_its_end():
    from skae._interrupts import allowed, deferred

    before = signal.getsignal(signal.SIGINT)
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            time.sleep(0.01)
            reached.append("deferred")
            with deferred():
                reached.append("nested")
            reached.append("end")
    assert reached == ["deferred", "nested", "end"]
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            time.sleep(0.01)
            with allowed():
                reached.append("allowed")
    assert reached[-1] == "end"
    assert signal.getsignal(signal.SIGINT) is before


def test_an_interrupt_while_an_epoch_is_kept_keeps_the_epoch_before(make, data, monkeypatch):
    import skae._fitting as fitting

    # A snapshot copies the module's, the criterion's and the optimiser's
    # state: the 8th copy is the second of the snapshot after epoch 2.
    clone, calls = fitting._clone, []

    def clone_then_interrupt(obj):
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return clone(obj)

    monkeypatch.setattr(fitting, "_clone", clone_then_interrupt)
    model = make()
    with pytest.warns(UserWarning, match="interrupted after 1 "), pytest.raises(KeyboardInterrupt):
        _train(model, data)
    monkeypatch.undo()
    assert _same(_state(model), _state(_train(make(max_iter=1), data)))
