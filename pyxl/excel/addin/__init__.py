"""The xlwings Server project directory of the pyxl add-in (XLWINGS_PROJECT_DIR).

xlwings Server imports `custom_functions`, `custom_scripts` and `auth.<provider>`
from here and serves `templates/` and `static/` ahead of its own files.
"""
