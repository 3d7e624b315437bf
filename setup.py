"""Build shim: ship the top-level lessons/ folder inside the package as ``gradlab.lessons``.

All other project metadata lives in pyproject.toml. pyproject.toml alone cannot add a
package that lives outside gradlab/ to the automatically found ones, hence this file.
"""

from pathlib import Path

from setuptools import find_packages, setup

# git keeps no empty folders: map lessons/ only once it holds a notebook.
HAS_LESSONS = any(Path("lessons").glob("*.ipynb"))

setup(
    packages=[
        *find_packages(include=["gradlab", "gradlab.*"]),
        *(["gradlab.lessons"] if HAS_LESSONS else []),
    ],
    package_dir={"gradlab.lessons": "lessons"} if HAS_LESSONS else {},
    # the stepper's front end (plain ESM, no build step) ships beside its Python module
    package_data={
        "gradlab.widgets": ["*.js"],
        **({"gradlab.lessons": ["*.ipynb"]} if HAS_LESSONS else {}),
    },
)
