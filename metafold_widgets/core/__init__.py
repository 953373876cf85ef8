"""The headless engine: templates, answers, plans and project folders.

Nothing here imports widgets or network libraries, so the CLI, the notebook widgets,
the Voila apps and the integrations all share it and it tests fast.
"""
