"""Evidence behind a link: a similarity split into per-feature contributions (`decompose`), features read as
the n-grams and habits of the two accounts' own texts (`terms`), and the page that shows them (`page`)."""
