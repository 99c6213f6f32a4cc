"""
=================================================
Few labels and many: pretraining a classifier
=================================================

:class:`~skae.AutoencoderClassifier` trains an autoencoder on every row,
labelled or not, then fine-tunes its encoder with a softmax layer on the
labelled rows. Here it learns the digits from 1% to 100% of the training
labels, the other rows marked -1 as in :mod:`sklearn.semi_supervised`,
with pretraining and without, beside
:class:`~sklearn.semi_supervised.LabelSpreading` (which also uses the
unlabelled rows) and a logistic regression on the labelled rows alone.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading

from skae import AutoencoderClassifier
from skae.comparison import keep_labels

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.25,
                                                    stratify=y, random_state=0)
shares = [0.01, 0.02, 0.05, 0.1, 0.3, 1.0]
models = {
    "AutoencoderClassifier": lambda: AutoencoderClassifier(random_state=0),
    "AutoencoderClassifier(pretrain=None)": lambda: AutoencoderClassifier(
        pretrain=None, random_state=0),
    "LabelSpreading": LabelSpreading,
    "LogisticRegression, labelled rows": lambda: LogisticRegression(max_iter=2000),
}
accuracy = {name: [] for name in models}
n_labels = []
for share in shares:
    y_kept = keep_labels(y_train, share, random_state=0)
    labelled = y_kept != -1
    n_labels.append(labelled.sum())
    for name, make in models.items():
        if name.startswith("LogisticRegression"):
            model = make().fit(X_train[labelled], y_kept[labelled])
        else:
            model = make().fit(X_train, y_kept)
        accuracy[name].append(model.score(X_test, y_test))

# %%
for name, values in accuracy.items():
    plt.plot(n_labels, values, marker="o", label=name)
plt.xscale("log")
plt.xlabel("labelled training rows (of 1,347)")
plt.ylabel("test accuracy")
plt.legend()
plt.title("digits")

# %%
# On digits, neighbouring images nearly always share a label, which
# LabelSpreading's graph exploits: it leads by far with few labels. The
# autoencoder's pretraining adds little on data this small and simple: the
# pretrained and the randomly started network fine-tune to about the
# accuracy of a logistic regression. :class:`~skae.VAEClassifier` (M2),
# which explains every unlabelled row with the classes, does better with
# few labels (see ``benchmarks/results/classifier_digits.md``).
#
# The fine-tuned code is a feature map too: ``transform`` returns it.
clf = AutoencoderClassifier(random_state=0).fit(X_train, y_train)
print("codes:", clf.transform(X_test).shape, " accuracy:", round(clf.score(X_test, y_test), 3))
