"""What tests and benchmarks share: a streamlit server, headless Chromium, hostile clients, canvas-like digits."""
