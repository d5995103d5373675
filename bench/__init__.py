"""Benchmarks of `python -m enrich run` against the loopback fake API (`tests/fakeapi`).

`python -m bench` (or `nox -s bench`) prints one table: cold, warm and revalidation refreshes
of the seed with and without a GitHub token, and a naive per-item baseline; `--scale` adds the
10,000-row list made by `bench.generate`.
"""
