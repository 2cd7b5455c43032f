"""Demo data for the sandbox account (`make run`): one module per feature, run in the order of ``SEEDERS``.

The sandbox imports production code to seed it; production code never imports the sandbox.
"""
