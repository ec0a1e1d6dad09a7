"""The files of authorid's artefacts (a model folder, an index folder), named once for every stage that
writes or reads them."""

from __future__ import annotations

#: A model folder: `authorid.json` (how it was made), `calibration.json` (cosine -> P(same person)).
METADATA_FILE = "authorid.json"
CALIBRATION_FILE = "calibration.json"
#: A trained model's loss head (class weights), its full split manifest and its training log.
LOSS_HEAD_FILE = "loss_head.safetensors"
SPLIT_MANIFEST_FILE = "split_manifest.json"

#: An evaluation run folder: metrics.json (every number), report.html, manifests/<protocol>.json.
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
MANIFEST_DIR = "manifests"
