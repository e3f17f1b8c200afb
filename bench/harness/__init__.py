"""What tests and benchmarks share: a streamlit server and Chromium, people drawing, hostile clients, test digits."""
