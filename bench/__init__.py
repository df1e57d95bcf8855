"""The benchmark behind ``make bench``: a large synthetic catalogue, gunicorn, wrk (see README.md)."""
