"""Model versions in MLflow: tracking, the registry, the catalog, signatures, runs and cleaning."""
