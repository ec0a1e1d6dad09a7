"""The stylesheet every HTML page authorid writes shares (evaluation reports, the demo report, evidence
pages): one look, no network (no web fonts, no scripts)."""

REPORT_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid #2166ac; padding-bottom: .2rem;
       margin-top: 2.5rem; } h3 { margin-bottom: .3rem; }
.meta { color: #555; font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
td, th { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f6fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #cfd8e3; border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; background: #fafcff; }
.card .v { font-size: 1.5rem; font-weight: 600; } .card .k { color: #555; font-size: .8rem; }
.tables { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; max-width: 520px; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #444; }
details { margin: .5rem 0; } summary { cursor: pointer; color: #2166ac; }
"""
