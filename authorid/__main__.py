"""`python -m authorid ...` (also what `torchrun -m authorid` runs)."""

from authorid.cli import main

main()
