"""The load benchmark's profile: py-spy's collapsed stacks summed per function."""

from bench.harness.server.profile import frame_name, top_functions


def test_samples_are_summed_per_function_inclusive_and_self(tmp_path):
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(
        "main (app.py:3);draw (pages/draw.py:10);explain (mnist_core/explain.py:80) 7\n"
        "main (app.py:3);draw (pages/draw.py:12) 2\n"
        "select (selectors.py:468) 1\n"
        "not a line of samples\n")
    total, inclusive, own = top_functions(collapsed, count=3)
    assert total == 10
    assert inclusive == [("main (app.py)", 9), ("draw (pages/draw.py)", 9), ("explain (mnist_core/explain.py)", 7)]
    assert own == [("explain (mnist_core/explain.py)", 7), ("draw (pages/draw.py)", 2), ("select (selectors.py)", 1)]
    assert frame_name("render (streamlit/elements/x.py:12)") == "render (streamlit/elements/x.py)"
