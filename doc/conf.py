"""Sphinx configuration for skae's documentation."""

import os
import sys
from pathlib import Path

import skae

# The examples import their shared data helper, examples/_data.py.
sys.path.insert(0, str(Path(__file__).parent / "examples"))

project = "skae"
release = version = skae.__version__
copyright = "skae developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Copies MathJax into _static and points mathjax_path there, so that the
    # mathematics renders without a network connection.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
templates_path = ["_templates"]
# Document what skae defines or overrides; torch's and scikit-learn's own
# base-class methods are documented by those projects.
autodoc_default_options = {
    "members": True,
    "inherited-members": "Module,BaseEstimator,TransformerMixin,ClassifierMixin,"
    "ClassNamePrefixFeaturesOutMixin,_SetOutputMixin,_MetadataRequester",
    # scikit-learn generates these metadata-routing setters on every class
    # whose partial_fit or score takes extra arguments; it documents them.
    "exclude-members": "set_partial_fit_request,set_score_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# "fit()" rather than "AutoencoderTransformer.fit()" in each page's contents.
toc_object_entries_show_parents = "hide"

# The gallery runs every example at build time; examples read the real data
# sets from SKAE_DATA when they are there and fall back to digits otherwise.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"_data\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    # The timing summary pages load jQuery and DataTables from CDNs; each
    # example's page still states its own running time.
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skae {version}"
html_theme_options = {
    # Every page lists its own sections in the right-hand column.
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
# Pages without subpages get no (empty) section navigation on the left.
html_sidebars = {"index": [], "install": [], "user_guide": []}
# The reST behind a page is of no use to a reader (the examples offer their
# Python code for download); without it, pages with no sections of their own
# give the right-hand column to the text.
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["custom.css"]
exclude_patterns = ["_build", "_templates"]
os.environ.setdefault("MPLBACKEND", "Agg")
