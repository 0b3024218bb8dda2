"""The workbench for CT volumes: slice views, a projection, and the tools that label in 3-D.

``display`` (what the views show) is free of Qt; ``plane`` is one view, ``panel`` the whole workbench the
main window shows in place of its canvas when the open scan is a volume.
"""
