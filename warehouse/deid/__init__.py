"""Free-text de-identification (MIN-05): the pipeline, its gold corpus and its evaluation."""
