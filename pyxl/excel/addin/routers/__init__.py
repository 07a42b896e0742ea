"""The add-in's own routes, which xlwings Server includes from routers/custom.py."""
