"""Sphinx configuration of cyloss's documentation site.

    python -m pip install -r docs/requirements.txt      # with cyloss installed
    python -m sphinx -W -b html docs docs/_build/html

The API reference comes from the installed package's docstrings (NumPy style, read by
napoleon); the other pages are Markdown (MyST), shared with the repository's README links.
"""
import cyloss

project = "cyloss"
author = "cyloss developers"
copyright = "2026, cyloss developers"
version = release = cyloss.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "requirements.txt"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"       # the signatures carry the defaults; types are in the docstrings
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
html_static_path = []
