"""Maintainer tools: bundle the default model, regenerate the MNIST sample, take the README's screenshot."""
