"""cyloss benchmark suite: ``python -m benchmarks [--quick] [--filter SUBSTR] ...``.

Modules: ``workloads`` (the registry), ``timer`` (interleaved min-of-rounds timing),
``report`` (tables, JSON, chart), ``run`` (command line).  See README.md.
"""
