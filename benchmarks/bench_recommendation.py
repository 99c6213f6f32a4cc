"""Top-n recommendation on MovieLens-100K: skae against popularity, PureSVD and EASE.

The protocol is the strong generalisation of Liang et al. (2018,
"Variational autoencoders for collaborative filtering"), scaled down to
MovieLens-100K (Harper & Konstan 2015) as in skae's issue #14: the test
users are never seen in training; a model is given 80% of each test user's
clicks (the fold-in part) and must rank the other 20% (the held-out part)
among the items the user has not clicked.

Every choice, in order:

1. Data: ``ml-100k.inter`` (943 users, 1,682 movies, 100,000 ratings 1-5)
   from the ``recbole==1.2.1`` wheel; see "Data" below.
2. Clicks: a rating of 4 or 5 is a click (Liang et al. keep ratings above
   3.5 on MovieLens-20M); lower ratings and unrated movies are non-clicks.
   Ratings themselves are not used, only the binary click matrix.
3. Users with at least 5 clicks are kept (Liang et al.'s ``min_uc=5``;
   938 of 942 clicking users); no item filter (their ``min_sc=0``).
4. Test users: one random permutation of the kept users
   (``numpy.random.default_rng(0)``); split s (0, 1, ...) tests users
   ``100 s`` to ``100 s + 99`` of it, so the test users of different splits
   are disjoint (at most 9 splits). All other users (838) are the split's
   training users.
5. Items: those clicked by at least one training user of the split (as
   Liang et al. keep only items seen in training); clicks of test users on
   other items are dropped.
6. Fold-in: for every test user with at least 5 clicks left after step 5,
   ``int(0.2 n)`` of their ``n`` clicks, drawn uniformly without
   replacement (``default_rng([0, s, 1])``), are held out; the rest is the
   fold-in input. A test user left with fewer than 5 clicks is given all of
   them and not evaluated (Liang et al.'s rule); the results say how many
   users each split evaluates.
7. Scores: each model scores every item for the fold-in rows; fold-in
   items are excluded (``skae.recommendation.top_n``'s ``exclude``), and
   Recall@20, Recall@50 and NDCG@100 (``skae.recommendation``, Liang et
   al.'s definitions: recall normalised by ``min(k, n_heldout)``, binary
   NDCG against an ideal list of ``min(k, n_heldout)`` hits) are averaged
   over the split's evaluated users.
8. Reported: mean and standard deviation (``ddof=1``) of those per-split
   averages over the splits, and the time each model takes per split
   (hyper-parameter search, fit and scoring the test users).

Models:

* popularity: every user gets the items with the most training clicks.
* PureSVD (Cremonesi et al. 2010): truncated SVD of the training click
  matrix, ``X ~ U S V^T``; a fold-in row x is scored ``x V V^T``.
* EASE (Steck 2019): the item-item weights ``B = I - P / diag(P)`` (column
  by column), ``P = (X^T X + lambda I)^{-1}``, so ``diag(B) = 0``; a row x
  is scored ``x B``.
* skae models, listed in ``SKAE_MODELS`` as (name, factory) pairs: each
  factory takes the split's seed and returns an unfitted estimator, which
  is fitted on the training users' CSR click matrix; fold-in rows X are
  scored ``model.inverse_transform(model.transform(X))`` (for the
  multinomial models, each item's share of the user's next clicks). Their
  settings are fixed, not searched per split: issue #14's DenoisingAE;
  Mult-DAE and Mult-VAE with the settings of Liang et al. (2018); and
  Mult-DAE and Mult-VAE with settings chosen by hand, once, on the
  validation users of splits 0-2 (models fitted on the other training
  users), which the test users never influenced; and a VAETransformer and
  a DenoisingAE given only ``likelihood="multinomial"``, whose other
  settings are the defaults a count likelihood brings (chosen on the
  validation users of split 0).

Hyper-parameters: PureSVD's rank and EASE's lambda are chosen in every
split, without looking at its test users: 100 of the split's training
users (``default_rng([0, s, 2])``) are set aside as validation users and
folded in at 80/20 like the test users (``default_rng([0, s, 3])``), each
value of the grid is fitted on the other 738 training users, the value
with the best validation NDCG@100 is kept, and the model is refitted on
all 838 training users. The chosen values are in the results; a choice on
the edge of its grid is flagged.

Data: the benchmark looks for ``ml-100k/ml-100k.inter`` in a cache folder
(``--cache-dir``, else the ``SKAE_CACHE`` environment variable, else
``~/.cache/skae``). When it is not there, it runs ``pip download --no-deps
recbole==1.2.1`` into that folder and extracts the file from the wheel
(about 2 MB), and stops with a message saying how to provide the file by
hand when that fails. The file is checked against its SHA-256. MovieLens's
licence forbids redistribution: the data never enter the repository.

Run: ``python benchmarks/bench_recommendation.py [--splits 5] [--quick]
[--threads 1] [--cache-dir DIR]``; results go to
``benchmarks/results/recommendation.{md,json}`` (``recommendation_quick.*``
with ``--quick``: one split, 20 epochs, a smoke run).
"""

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import scipy
import scipy.linalg
import scipy.sparse as sp
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import skae
from skae import DenoisingAE, VAETransformer
from skae.recommendation import item_scores, ndcg_at_k, recall_at_k, top_n

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

WHEEL = "recbole==1.2.1"
MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
SHA256 = "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"

SEED = 0
CLICK_RATING = 4  # ratings >= this are clicks
MIN_CLICKS = 5  # users with fewer clicks are dropped
N_TEST_USERS = 100  # per split
N_VALIDATION_USERS = 100  # per split, taken from its training users
HELDOUT_FRACTION = 0.2
METRICS = (("Recall@20", recall_at_k, 20), ("Recall@50", recall_at_k, 50),
           ("NDCG@100", ndcg_at_k, 100))
SELECTION_METRIC = "NDCG@100"

#: Splits whose validation users were looked at to choose the small-data skae
#: settings by hand (see SKAE_MODELS). Those users include some test users of
#: other splits; every model is also scored on the test users outside them.
TUNING_SPLITS = (0, 1, 2)

SVD_RANKS = (5, 10, 15, 20, 30, 50, 100, 200)
EASE_LAMBDAS = (10, 25, 50, 100, 200, 400, 800, 1600, 3200)


# Data -----------------------------------------------------------------------

def cache_dir(path=None):
    if path is None:
        path = os.environ.get("SKAE_CACHE", Path.home() / ".cache" / "skae")
    return Path(path).expanduser()


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_movielens(cache):
    """Path of ml-100k.inter in the cache, taken from the recbole wheel if missing."""
    target = cache / "ml-100k" / "ml-100k.inter"
    if target.is_file() and _sha256(target) == SHA256:
        return target
    wheels = cache / "wheels"
    found = sorted(wheels.glob("recbole-1.2.1-*.whl"))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        print(f"downloading the {WHEEL} wheel into {wheels} (about 2 MB) ...", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
             "--quiet", WHEEL, "-d", str(wheels)], capture_output=True, text=True)
        found = sorted(wheels.glob("recbole-1.2.1-*.whl"))
        if result.returncode or not found:
            sys.exit(
                f"Could not download the {WHEEL} wheel, which holds MovieLens-100K "
                f"(pip said: {(result.stderr or result.stdout).strip()[-500:] or 'nothing'}).\n"
                f"Provide the data by hand: on a machine with internet access run\n"
                f"  pip download --no-deps {WHEEL} -d wheels\n"
                f"and either copy the wheel into {wheels} or extract {MEMBER} from it "
                f"to {target}; or point --cache-dir / SKAE_CACHE at a folder that holds "
                "ml-100k/ml-100k.inter."
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(found[0]) as wheel:
        target.write_bytes(wheel.read(MEMBER))
    if _sha256(target) != SHA256:
        sys.exit(f"{target}, taken from {found[0]}, does not have the expected SHA-256 "
                 f"{SHA256}; delete it and the wheel and run again.")
    return target


def load_clicks(path):
    """Binary CSR click matrix (users x items) after the click and user filters."""
    table = np.loadtxt(path, delimiter="\t", skiprows=1, usecols=(0, 1, 2))
    n_ratings = len(table)
    clicks = table[table[:, 2] >= CLICK_RATING]
    users, user_index = np.unique(clicks[:, 0], return_inverse=True)
    items, item_index = np.unique(clicks[:, 1], return_inverse=True)
    X = sp.csr_matrix((np.ones(len(clicks), np.float32), (user_index, item_index)),
                      shape=(len(users), len(items)))
    X.sum_duplicates()
    X.data[:] = 1
    kept = np.flatnonzero(X.getnnz(axis=1) >= MIN_CLICKS)
    X = X[kept]
    stats = {"ratings": n_ratings, "users_rated": len(np.unique(table[:, 0])),
             "clicks": len(clicks), "users_clicking": len(users),
             "users_kept": X.shape[0], "items_clicked": len(items),
             "clicks_kept": int(X.nnz)}
    return X, stats


# Protocol -------------------------------------------------------------------

def fold_in_split(X, rng):
    """Split each row's clicks into fold-in (80%) and held-out (20%) parts."""
    X = X.tocsr()
    fold_in, heldout = X.tolil(copy=True), sp.lil_matrix(X.shape, dtype=X.dtype)
    for row in range(X.shape[0]):
        items = X.indices[X.indptr[row]:X.indptr[row + 1]]
        if len(items) < MIN_CLICKS:
            continue
        held = rng.choice(items, size=int(HELDOUT_FRACTION * len(items)), replace=False)
        fold_in[row, held] = 0
        heldout[row, held] = 1
    fold_in = fold_in.tocsr()
    fold_in.eliminate_zeros()
    return fold_in, heldout.tocsr()


def split_users(n_users, split):
    """Test users, training users and (rows of the training users) validation users."""
    order = np.random.default_rng(SEED).permutation(n_users)
    test = order[split * N_TEST_USERS:(split + 1) * N_TEST_USERS]
    train = np.setdiff1d(np.arange(n_users), test)
    validation = np.random.default_rng([SEED, split, 2]).choice(
        len(train), size=N_VALIDATION_USERS, replace=False)
    return test, train, validation


def tuning_users(n_users):
    """Every user that was a validation user of one of TUNING_SPLITS."""
    seen = set()
    for split in TUNING_SPLITS:
        _, train, validation = split_users(n_users, split)
        seen.update(train[validation].tolist())
    return seen


def make_split(X, split):
    """Training users, validation users and test users of one split."""
    test, train, validation = split_users(X.shape[0], split)
    items = np.flatnonzero(X[train].getnnz(axis=0) > 0)
    X_train = X[train][:, items]
    fit_rows = np.setdiff1d(np.arange(len(train)), validation)
    tuned = tuning_users(X.shape[0])
    return {
        "untuned": np.array([user not in tuned for user in test]),
        "train": X_train,
        "test": fold_in_split(X[test][:, items], np.random.default_rng([SEED, split, 1])),
        "fit": X_train[fit_rows],
        "validation": fold_in_split(X_train[validation], np.random.default_rng([SEED, split, 3])),
        "n_items": len(items),
    }


def evaluate(scores, fold_in, heldout, users=None):
    """Mean of each metric over the users with held-out items (among ``users``, a mask)."""
    evaluated = heldout.getnnz(axis=1) > 0
    if users is not None:
        evaluated &= users
    scores, fold_in, heldout = scores[evaluated], fold_in[evaluated], heldout[evaluated]
    ranking = top_n(scores, max(k for _, _, k in METRICS), exclude=fold_in)
    return {name: float(np.mean(metric(heldout, ranking, k, ranked=True)))
            for name, metric, k in METRICS}


# Models ---------------------------------------------------------------------

def recommendation_scores(model, X):
    """Scores of every item for the rows of X, higher is better."""
    if hasattr(model, "item_scores"):
        return model.item_scores(X)
    # The reconstruction inverse_transform(transform(X)); evaluate() excludes the
    # fold-in items.
    return item_scores(model, X, exclude_seen=False)


class Popularity:
    """Every user gets the items with the most training clicks."""

    def fit(self, X):
        self.counts_ = np.asarray(X.sum(axis=0)).ravel()
        return self

    def item_scores(self, X):
        return np.tile(self.counts_, (X.shape[0], 1))


class PureSVD:
    """Truncated SVD of the click matrix; a row x is scored x V V^T."""

    def __init__(self, rank=50):
        self.rank = rank

    def fit(self, X):
        _, _, vt = scipy.linalg.svd(X.toarray().astype(np.float64), full_matrices=False)
        self.components_ = vt[:self.rank]
        return self

    def item_scores(self, X):
        return np.asarray((X @ self.components_.T) @ self.components_)


class EASE:
    """Embarrassingly shallow autoencoder (Steck 2019), in closed form."""

    def __init__(self, lam=500.0):
        self.lam = lam

    def fit(self, X):
        gram = (X.T @ X).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.lam
        P = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        self.weights_ = -P / np.diag(P)
        np.fill_diagonal(self.weights_, 0.0)
        return self

    def item_scores(self, X):
        return np.asarray(X @ self.weights_)


# (name, class, name of its hyper-parameter, grid); an empty grid: nothing to tune.
BASELINES = [
    ("popularity", Popularity, None, ()),
    ("PureSVD", PureSVD, "rank", SVD_RANKS),
    ("EASE", EASE, "lam", EASE_LAMBDAS),
]

# skae models: (name, factory); factory(random_state) -> unfitted estimator. Add
# models here; each is fitted on the training users' click matrix (CSR) and
# scores fold-in rows with inverse_transform(transform(X)).
# Multinomial models (Liang et al. 2018): the encoder sees each row scaled to unit
# L2 norm (input_norm), corrupted in training; the likelihood scores the raw clicks.
MULT = {"likelihood": "multinomial", "input_norm": "l2", "batch_size": 500, "max_iter": 200}

SKAE_MODELS = [
    # Issue #14's model: masking noise, binary cross-entropy, 32 components, the
    # estimator's defaults otherwise (with this likelihood one hidden layer of 256
    # ReLUs, batches of 200, up to 200 epochs).
    ("DenoisingAE (masking 0.5, BCE, 32)", lambda random_state: DenoisingAE(
        n_components=32, noise="masking", noise_level=0.5, likelihood="bernoulli",
        random_state=random_state)),
    # Liang et al.'s Mult-DAE: [n_items -> 200 -> n_items], input dropout 0.5 (masking
    # noise), L2 penalty 0.01 on the weights, Adam at 1e-3, batches of 500, 200 epochs.
    # skae's code layer is linear (theirs is tanh; with no hidden layer, activation
    # is unused).
    ("Mult-DAE (Liang et al.)", lambda random_state: DenoisingAE(
        n_components=200, hidden_layer_sizes=(), activation="tanh", noise="masking",
        noise_level=0.5, weight_decay=0.01, n_iter_no_change=200, random_state=random_state,
        **MULT)),
    # Liang et al.'s Mult-VAE: [n_items -> 600 -> 200 -> 600 -> n_items], tanh, input
    # dropout 0.5, the KL weight annealed linearly to 0.2 (their schedule reaches the cap
    # after about 170 of 200 epochs on MovieLens-20M), 200 epochs.
    ("Mult-VAE (Liang et al.)", lambda random_state: VAETransformer(
        n_components=200, hidden_layer_sizes=(600,), activation="tanh", input_dropout=0.5,
        beta=0.2, kl_warmup=170, n_iter_no_change=200, random_state=random_state, **MULT)),
    # Settings for this small data set, chosen by hand on the validation users of
    # splits 0-2 (fitted on the other training users), never on test users: no hidden
    # layer, lighter corruption.
    ("Mult-DAE (100, masking 0.3)", lambda random_state: DenoisingAE(
        n_components=100, hidden_layer_sizes=(), noise="masking", noise_level=0.3,
        weight_decay=0.01, random_state=random_state, **MULT)),
    ("Mult-VAE (200, linear, dropout 0.3)", lambda random_state: VAETransformer(
        n_components=200, hidden_layer_sizes=(), input_dropout=0.3, beta=0.2,
        kl_warmup=200, random_state=random_state, **MULT)),
    # The estimators' defaults for a count likelihood, nothing else set: what a
    # multinomial likelihood brings on its own (see skae._recipes).
    ("VAETransformer defaults (multinomial)", lambda random_state: VAETransformer(
        likelihood="multinomial", random_state=random_state)),
    ("DenoisingAE defaults (multinomial)", lambda random_state: DenoisingAE(
        likelihood="multinomial", random_state=random_state)),
]


def run_baseline(cls, param, grid, data):
    """Choose the hyper-parameter on the validation users, refit on all training users."""
    chosen, validation = None, {}
    if grid:
        for value in grid:
            model = cls(**{param: value}).fit(data["fit"])
            fold_in, heldout = data["validation"]
            validation[value] = evaluate(recommendation_scores(model, fold_in),
                                         fold_in, heldout)[SELECTION_METRIC]
        chosen = max(validation, key=validation.get)
    model = cls(**({param: chosen} if grid else {})).fit(data["train"])
    return model, chosen, validation


def run_split(X, split, models, quick):
    data = make_split(X, split)
    fold_in, heldout = data["test"]
    row = {"split": split, "n_train_users": data["train"].shape[0], "n_items": data["n_items"],
           "n_test_users_evaluated": int((heldout.getnnz(axis=1) > 0).sum()),
           "n_untuned_users_evaluated": int(((heldout.getnnz(axis=1) > 0)
                                             & data["untuned"]).sum()),
           "n_heldout_clicks": int(heldout.nnz), "models": {}}
    for name, kind, spec in models:
        start = time.perf_counter()
        entry = {}
        if kind == "baseline":
            cls, param, grid = spec
            model, chosen, validation = run_baseline(cls, param, grid, data)
            if grid:
                entry.update({"parameter": param, "chosen": chosen,
                              "on_grid_edge": chosen in (grid[0], grid[-1]),
                              "validation_" + SELECTION_METRIC: validation})
        else:
            model = spec(split)
            if quick:
                model.set_params(max_iter=20)
            model.fit(data["train"])
            entry["n_iter"] = getattr(model, "n_iter_", None)
        fitted = time.perf_counter()
        scores = recommendation_scores(model, fold_in)
        entry["metrics"] = evaluate(scores, fold_in, heldout)
        entry["metrics_untuned_users"] = evaluate(scores, fold_in, heldout, data["untuned"])
        end = time.perf_counter()
        entry.update({"fit_s": fitted - start, "score_s": end - fitted, "total_s": end - start})
        row["models"][name] = entry
        print(f"split {split} {name:40s} " + "  ".join(
            f"{m} {v:.4f}" for m, v in entry["metrics"].items())
            + f"  ({entry['total_s']:.1f} s)"
            + (f"  {param}={chosen}" if kind == "baseline" and grid else ""), flush=True)
    return row


# Report ---------------------------------------------------------------------

# Means quoted in issue #14 (NDCG@100, Recall@20); the issue gives the DenoisingAE's
# noise, loss and code size only.
ISSUE = {"popularity": (0.272, 0.209), "PureSVD": (0.447, 0.377), "EASE": (0.461, 0.391),
         "DenoisingAE (masking 0.5, BCE, 32)": (0.320, 0.243)}


#: The selection metric on the test users that no choice of settings looked at.
UNTUNED = SELECTION_METRIC + ", untuned users"


def summarise(rows, names):
    summary = {}
    for name in names:
        per_split = {m: [r["models"][name]["metrics"][m] for r in rows] for m, _, _ in METRICS}
        per_split[UNTUNED] = [r["models"][name]["metrics_untuned_users"][SELECTION_METRIC]
                              for r in rows]
        times = [r["models"][name]["total_s"] for r in rows]
        summary[name] = {
            **{m: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1
                   else 0.0} for m, v in per_split.items()},
            "seconds_per_split": {"mean": float(np.mean(times)), "max": float(np.max(times))},
        }
    return summary


def markdown(summary, rows, meta, names, skae_names):
    columns = [m for m, _, _ in METRICS] + [UNTUNED]
    head = ["| model | " + " | ".join(columns) + " | time per split (s) |",
            "|---|" + "---:|" * (len(columns) + 1)]
    best = {m: max(summary[n][m]["mean"] for n in names) for m in columns}
    body = []
    for name in names:
        cells = []
        for m in columns:
            s = summary[name][m]
            cell = f"{s['mean']:.3f} ± {s['std']:.3f}"
            cells.append(f"**{cell}**" if s["mean"] == best[m] else cell)
        body.append(f"| {name} | " + " | ".join(cells)
                    + f" | {summary[name]['seconds_per_split']['mean']:.1f} |")
    per_split = ["| split | evaluated users (untuned) | " + " | ".join(names) + " |",
                 "|---:|---:|" + "---:|" * len(names)]
    for r in rows:
        per_split.append(
            f"| {r['split']} | {r['n_test_users_evaluated']} "
            f"({r['n_untuned_users_evaluated']}) | " + " | ".join(
                f"{r['models'][n]['metrics']['NDCG@100']:.3f}" for n in names) + " |")
    chosen = []
    for name, _, param, grid in BASELINES:
        if grid:
            values = [r["models"][name]["chosen"] for r in rows]
            edge = [r["split"] for r in rows if r["models"][name]["on_grid_edge"]]
            chosen.append(f"- {name}: {param} chosen per split {values} from {list(grid)}"
                          + (f"; on the grid's edge in split(s) {edge}" if edge else ""))
    issue = ["| model | NDCG@100 here | issue | Recall@20 here | issue |",
             "|---|---:|---:|---:|---:|"]
    for name, (ndcg, recall) in ISSUE.items():
        if name not in summary:
            continue
        issue.append(f"| {name} | {summary[name]['NDCG@100']['mean']:.3f} | {ndcg:.3f} | "
                     f"{summary[name]['Recall@20']['mean']:.3f} | {recall:.3f} |")
    ease = summary["EASE"]["NDCG@100"]["mean"]
    best_skae = max(skae_names, key=lambda n: summary[n]["NDCG@100"]["mean"])
    met = (summary[best_skae]["NDCG@100"]["mean"] >= ease
           and summary[best_skae]["seconds_per_split"]["max"] < 300)
    gaps = [r["models"][best_skae]["metrics"]["NDCG@100"]
            - r["models"]["EASE"]["metrics"]["NDCG@100"] for r in rows]
    gaps_untuned = [r["models"][best_skae]["metrics_untuned_users"][SELECTION_METRIC]
                    - r["models"]["EASE"]["metrics_untuned_users"][SELECTION_METRIC]
                    for r in rows]
    return "\n".join([
        "# Top-n recommendation on MovieLens-100K",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']['machine']}, {meta['machine']['cpu_count']} CPUs, "
        f"{meta['machine']['threads']} torch/BLAS thread(s); shared with other jobs while "
        "running, so times are indicative",
        f"- python {meta['machine']['python']}, numpy {meta['machine']['numpy']}, "
        f"scipy {meta['machine']['scipy']}, torch {meta['machine']['torch']}, "
        f"scikit-learn {meta['machine']['scikit-learn']}, skae {meta['machine']['skae']}",
        f"- command: `{meta['command']}`",
        f"- data: MovieLens-100K (Harper & Konstan 2015): {meta['data']['clicks']} ratings "
        f">= {CLICK_RATING} of {meta['data']['ratings']}, {meta['data']['users_kept']} users "
        f"with >= {MIN_CLICKS} clicks, {meta['data']['items_clicked']} clicked items",
        f"- protocol: strong generalisation (see the script's docstring); per split "
        f"{N_TEST_USERS} test users folded in at 80/20, {rows[0]['n_train_users']} training "
        f"users, {N_VALIDATION_USERS} of them set aside to choose the baselines' "
        "hyper-parameters",
        "",
        f"Mean ± standard deviation over {len(rows)} split(s) of the per-split averages over "
        "test users; time per split includes the hyper-parameter search, fit and scoring "
        "(bold: best in the column).",
        "",
        *head, *body,
        "",
        "NDCG@100 per split:",
        "",
        *per_split,
        "",
        "Hyper-parameters chosen on the validation users (by NDCG@100):",
        "",
        *chosen,
        "",
        "skae models: " + "; ".join(f"{n}: `{meta['skae_params'][n]}`" for n in skae_names),
        "",
        "Against the figures quoted in issue #14 (means):",
        "",
        *issue,
        "",
        "The issue does not give its draws of test users, fold-in seeds or hyper-parameters. "
        "The standard deviations above come from such draws (and the skae models' seeds): "
        "every split runs the same protocol on other test users, so differences of that size "
        "from the issue's figures are expected. For the DenoisingAE the issue states only the "
        "noise, loss and code size.",
        "",
        f"Target (the best skae model, {best_skae}, reaches EASE's NDCG@100 in under 5 "
        f"minutes per split): {'met' if met else 'NOT met'} "
        f"({summary[best_skae]['NDCG@100']['mean']:.3f} against {ease:.3f}, "
        f"{summary[best_skae]['seconds_per_split']['max']:.0f} s for its slowest split). "
        f"Its NDCG@100 minus EASE's, split by split: "
        + ", ".join(f"{g:+.3f}" for g in gaps)
        + f" (mean {np.mean(gaps):+.3f}); on the untuned users: "
        + ", ".join(f"{g:+.3f}" for g in gaps_untuned)
        + f" (mean {np.mean(gaps_untuned):+.3f}).",
        "",
        "How the skae settings were chosen: issue #14's DenoisingAE and Liang et al.'s "
        "Mult-DAE and Mult-VAE are taken as published. The two other multinomial models' "
        "settings were chosen by hand, once, from their NDCG@100 on the validation users of "
        f"splits {list(TUNING_SPLITS)} (models fitted on the other training users of the "
        "split), never from test scores. Those validation users include some test users of "
        "other splits (with other fold-in draws), so the column "
        f"'{UNTUNED}' scores every model on the test users outside them only; the number "
        "per split is in brackets in the per-split table.",
        "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5,
                        help="number of splits (disjoint sets of 100 test users; at most 9)")
    parser.add_argument("--quick", action="store_true",
                        help="one split and 20 epochs for skae models: a smoke run")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads, the same for every model")
    parser.add_argument("--cache-dir", default=None,
                        help="where the data are cached (default: $SKAE_CACHE or ~/.cache/skae)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    torch.set_num_threads(args.threads)

    X, stats = load_clicks(fetch_movielens(cache_dir(args.cache_dir)))
    n_splits = 1 if args.quick else args.splits
    if not 1 <= n_splits <= X.shape[0] // N_TEST_USERS:
        parser.error(f"--splits must be between 1 and {X.shape[0] // N_TEST_USERS}")
    models = ([(name, "baseline", (cls, param, grid)) for name, cls, param, grid in BASELINES]
              + [(name, "skae", factory) for name, factory in SKAE_MODELS])
    print(f"{X.shape[0]} users, {X.shape[1]} items, {X.nnz} clicks", flush=True)
    with threadpool_limits(args.threads):
        rows = [run_split(X, split, models, args.quick) for split in range(n_splits)]

    names = [name for name, _, _ in models]
    skae_names = [name for name, _ in SKAE_MODELS]
    summary = summarise(rows, names)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": ("python benchmarks/bench_recommendation.py " + " ".join(sys.argv[1:])).strip(),
        "machine": {"machine": platform.machine(), "cpu_count": os.cpu_count(),
                    "threads": args.threads, "python": platform.python_version(),
                    "numpy": np.__version__, "scipy": scipy.__version__,
                    "torch": torch.__version__, "scikit-learn": sklearn.__version__,
                    "skae": skae.__version__},
        "data": stats,
        "protocol": {"seed": SEED, "click_rating": CLICK_RATING, "min_clicks": MIN_CLICKS,
                     "test_users_per_split": N_TEST_USERS,
                     "validation_users_per_split": N_VALIDATION_USERS,
                     "heldout_fraction": HELDOUT_FRACTION,
                     "selection_metric": SELECTION_METRIC},
        "skae_params": {name: {k: v for k, v in factory(0).get_params().items()
                               if k != "random_state"} for name, factory in SKAE_MODELS},
    }
    report = markdown(summary, rows, meta, names, skae_names)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    stem = "recommendation_quick" if args.quick else "recommendation"
    (RESULTS / f"{stem}.md").write_text(report)
    (RESULTS / f"{stem}.json").write_text(json.dumps(
        {**meta, "summary": summary, "splits": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
