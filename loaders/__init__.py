"""Loaders: CDR and subscriber files in, validated, normalised, pseudonymised records out."""
