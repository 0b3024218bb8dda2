"""Networks: building them by name, the code a logged model carries, input kinds and losses."""
