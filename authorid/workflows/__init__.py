"""The user's verbs, one module each: the plain keyword-only function a CLI command wraps and `authorid`
exports. A workflow reads a CORPUS or takes posts, loads a MODEL, runs the stages below it (data, encoders,
training, verification, index, clustering, attribution, evaluation) and writes the outputs a user asked for.

Stages never import a workflow or the CLI; the CLI imports only workflows (see docs/architecture.md).
"""
