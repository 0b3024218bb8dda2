"""Training: a recipe and a project in, an MLflow run and a version out (data, the loop, progress)."""
