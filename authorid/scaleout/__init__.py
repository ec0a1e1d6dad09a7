"""Past one machine: embedding, index building and the clustering kNN graph on Ray (`--engine ray`).

`local` (the default) runs everything in this process and needs no Ray. `ray` hands the same work to a Ray
cluster: a local one started for the job, or the one at `--ray-address`. The results are the ones `local`
gives (the same vectors within float error, the same links and neighbours): only where the work runs changes.

- `session`: choose the engine, connect to (or start) Ray, with a one-line error when the `ray` extra is not
  installed.
- `embed.embed_accounts_on_ray`: Ray Data reads the posts, groups them into shards of whole accounts, and
  actors that load the model once each embed their shards.
- `index.build_ivf_on_ray`: the IVF cells are trained once, shards of vectors are added in parallel tasks and
  the shards merged into one index.
- `knn.knn_on_ray`: each account's nearest accounts for clustering, by sharded batch searches.
"""

from authorid.scaleout.session import ENGINES, RayUnavailableError, check_engine, engine_session, ray_session

__all__ = ["ENGINES", "RayUnavailableError", "check_engine", "engine_session", "ray_session"]
