"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    test_command = next(b for b in _bash_blocks(readme) if "pytest" in b)
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_readme_app_command_runs_the_router():
    readme = (ROOT / "README.md").read_text()
    assert any("streamlit run streamlit_app.py" in block for block in _bash_blocks(readme))


def test_streamlit_shows_no_tracebacks_to_visitors():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_readme_documents_the_teacher_password_and_retention():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Classroom mode", 1)[1].split("\n## ", 1)[0]
    assert "MNIST_KNN_TEACHER_PASSWORD" in section and "MNIST_KNN_RETENTION_DAYS" in section
