"""Thin drivers: parse options, build the pipeline from transforms/, run it, commit the output."""

import logging


class _DropApitoolsWarning(logging.Filter):
    """Importing Beam logs "apitools not found, and bigquery client libraries are not available" on the root logger:
    Beam's GCP extras, which newsbeam does not use. Installed here, before any driver imports Beam."""

    def filter(self, record):
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_DropApitoolsWarning())
