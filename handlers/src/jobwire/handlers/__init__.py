"""The document processors shipped with jobwire: the job types `pdf`, `ocr` and `session`.

Each job type is a module of its own (`pdf.py`, `ocr.py`, `session.py`) published under the
`jobwire.handlers` entry-point group; the CPU-bound work they hand to the server's process
pool lives in the `*_extract.py` modules as module-level functions over plain data.
"""
