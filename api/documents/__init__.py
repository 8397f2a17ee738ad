"""Documents rendered from the API's templates: case files, trend reports, inquiry packs.

Each is HTML first; its PDF is the same page printed (WeasyPrint), and its data ships as CSV
in a zip with a manifest of SHA-256 hashes. The API routes and the CLI's ``report`` and
``inquiry`` commands call the functions here.
"""
