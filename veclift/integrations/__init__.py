"""Veclift models inside other libraries' pipelines: spaCy components (`veclift.integrations.spacy_component`)."""
