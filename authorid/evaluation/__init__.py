"""Evaluation: the standard protocols (sybil linking, verification, clustering, attribution) and the HTML
report. The metrics they compute are pure functions in `authorid.metrics`; running protocols for a model on
a corpus and writing a run folder is the `evaluate` workflow (`authorid.workflows.evaluate`)."""
