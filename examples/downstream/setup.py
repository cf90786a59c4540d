"""A separate project built against an installed cyloss: nothing to link, only
cyloss.get_include() (for cyloss.h) on the include path.

    pip install cyloss            # or: pip install /path/to/cyloss
    python setup.py build_ext --inplace
    python -c "import fused_ce, capi_demo"
"""
from setuptools import Extension, setup
from Cython.Build import cythonize

import cyloss

inc = [cyloss.get_include()]
setup(
    name="cyloss-downstream-example",
    ext_modules=cythonize(
        [Extension("fused_ce", ["fused_ce.pyx"], include_dirs=inc)],
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False},
    ) + [Extension("capi_demo", ["capi_demo.c"], include_dirs=inc)],
)
