"""Recipes: the YAML schema a training reads, its reference page, and a lab's own nets and losses."""
