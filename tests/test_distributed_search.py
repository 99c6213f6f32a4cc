"""Hyperparameter search on a Dask cluster through joblib's Dask backend."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    # The cluster's shutdown can leave a socket for the garbage collector.
    "ignore::ResourceWarning",
)


def torch_threads():
    import torch

    return torch.get_num_threads()


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def search():
    return GridSearchCV(
        AutoencoderTransformer(max_iter=3, hidden_layer_sizes=(16,), random_state=0),
        {"n_components": [2, 4], "learning_rate_init": [1e-3, 1e-2]},
        cv=2,
    )


def test_dask_search_scores_as_a_serial_one(client):
    X = load_digits().data[:300] / 16
    serial = search().fit(X)
    with parallel_config(backend="dask"):
        distributed_search = search().fit(X)
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_allclose(distributed_search.cv_results_[key],
                                   serial.cv_results_[key], rtol=1e-5)
    assert distributed_search.best_params_ == serial.best_params_


def test_dask_workers_run_one_torch_thread(client):
    # Dask's nanny sets OMP_NUM_THREADS=1 in each worker process before it
    # starts, so workers that share a machine do not oversubscribe its cores.
    assert set(client.run(torch_threads).values()) == {1}
