"""The static site of the course: ``python -m tests.site.build`` (``make site``)."""
