"""The project's promises about set-up: two commands, CI calls the test command, pins."""

import re

from gan_utils import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_gives_the_two_commands_and_ci_runs_the_test_command():
    assert "bash tools/book.sh" in README
    assert "bash tools/test.sh" in README
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec bash tools/test\.sh(\s+#.*)?$", ci, flags=re.MULTILINE)


def test_requirements_are_pinned():
    lines = [
        line.split(";")[0].strip()
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    unpinned = [line for line in lines if "==" not in line]
    assert not unpinned, f"unpinned requirements: {unpinned}"
    names = {line.split("==")[0].lower() for line in lines}
    for needed in ("torch", "numpy", "matplotlib", "nbval", "papermill", "jupyter-book"):
        assert needed in names
    assert "torch==2.13.0" in lines  # a looser pin downloads CUDA wheels
    assert any(re.fullmatch(r"jupyter-book==1\.[\d.]+(post\d+)?", line) for line in lines)  # v2 needs the internet


def test_framework_neutral_modules_import_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, gan_utils.profile, gan_utils.data, gan_utils.plot, gan_utils.toy, gan_utils.execute, gan_utils.build, gan_utils.metrics, gan_utils.minimax, gan_utils.exercises, gan_utils.exercises.discriminator_loss, gan_utils.exercises.background, gan_utils.exercises.minimax, gan_utils.exercises.dcgan, gan_utils.exercises.evaluation, gan_utils.exercises.instability, gan_utils.checksums, gan_utils.pretrained, gan_utils.checkpoint; "
        "print(sorted(m for m in ('torch', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
