"""The Draw page's pieces: the canvas, the answer for a number, teaching a digit, uploaded pictures."""
