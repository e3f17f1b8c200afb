"""What a visitor reads of an error: the file it names, not the server's folders.

The core's messages name whole paths, which helps at the command line; a visitor of a public
deployment has no use for the server's layout and should not learn it.
"""

import re

# The folders of an absolute path: a "/" that starts a word (so not "a/b", "../x" or a URL).
_FOLDERS = re.compile(r"(?<![\w.~:/])/(?:[^\s/'\"]+/)+")


def without_paths(error) -> str:
    """str(error) with absolute paths cut to their last part: "/srv/runs/a/model.onnx" → "model.onnx"."""
    return _FOLDERS.sub("", str(error))
