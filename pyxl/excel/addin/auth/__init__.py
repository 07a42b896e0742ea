"""Sign-in providers for the pyxl add-in (XLWINGS_AUTH_PROVIDERS)."""
