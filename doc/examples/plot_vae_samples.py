"""
=======================================
Sampling from a variational autoencoder
=======================================

A :class:`~skae.VAETransformer` is a generative model: ``sample`` draws
latent codes from the prior N(0, I) and decodes them into new images. Its
``score`` is a bound on the held-out log-likelihood in nats, and
``importance_weighted_bound`` tightens that bound as it uses more draws.
"""

# %%
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import VAETransformer
from skae.plotting import plot_images

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
vae = VAETransformer(
    n_components=8, hidden_layer_sizes=(128,), likelihood="bernoulli",
    learning_rate_init=3e-3, batch_size=64, max_iter=150, random_state=0,
).fit(X_train)

# %%
# Held-out bounds on log p(x), nats per image: the ELBO, then the
# importance-weighted bound with 10 and 100 draws.
print(f"ELBO        {vae.score(X_test):8.2f}")
for k in (10, 100):
    bound = vae.importance_weighted_bound(X_test, k, random_state=0).mean()
    print(f"IWAE K={k:<4d}{bound:8.2f}")

# %%
# Decoder means of 30 codes drawn from the prior.
fig = plot_images(vae.sample(30, random_state=0, return_mean=True), (8, 8), n_cols=10)
