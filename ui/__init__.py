"""What the five pages share: cached models and data, the active model, the session's role, the canvas, charts, teaching, uploads. Widgets calling mnist_core; nothing computed here."""
