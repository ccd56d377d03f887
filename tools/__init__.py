"""Scripts for people: screenshots, load test, page timings, a demo class, the Draw page's
benchmarks. Run them from the project root as ``python -m tools.<name>``; they import the
library and each other, never the tests."""
