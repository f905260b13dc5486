"""Thin drivers: parse options, build the pipeline from transforms/, run it, commit the output."""
