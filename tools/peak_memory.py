"""Peak memory (RSS above idle) of the worst upload and the worst import, each in a fresh process.

    python -m tools.peak_memory            # this checkout
    python -m tools.peak_memory --root DIR # another checkout (say, an older commit)

Each case runs in its own subprocess: it imports the library (the "idle" RSS, read from
ru_maxrss), builds its hostile input, then runs the upload's or the import's code path
(``load_image`` + ``preprocess_steps`` + the stored PNG; ``read_export``) and reports
ru_maxrss again. The difference is the peak the input cost. A refusal counts as handled.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = {
    "upload: 39 MP PNG (178 KB)": """
from PIL import Image
from mnist_knn.preprocess import load_image, preprocess_steps
buf = io.BytesIO(); Image.new("L", (6240, 6240), 255).save(buf, "PNG"); raw = buf.getvalue()
def run():
    img = load_image(raw, "big.png")
    preprocess_steps(np.asarray(img.convert("RGBA")))
""",
    "upload: 12 MP noisy JPEG": """
from PIL import Image
from mnist_knn.preprocess import load_image, preprocess_steps
noise = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
buf = io.BytesIO(); Image.fromarray(noise).save(buf, "JPEG", quality=95); raw = buf.getvalue()
del noise
def run():
    img = load_image(raw, "noise.jpg")
    out = io.BytesIO(); img.save(out, "PNG")
""",
    "import: IDX zip, 2 GiB of zeros inside": """
import zlib, zipfile
from mnist_knn.classroom.exchange import IDX_IMAGES, IDX_LABELS, read_export
comp = zlib.compressobj(9, zlib.DEFLATED, 31); n = 2_700_000
parts = [comp.compress(bytes([0, 0, 8, 3]) + b"".join(s.to_bytes(4, "big") for s in (n, 28, 28)))]
block = bytes(1 << 24)
for _ in range(128): parts.append(comp.compress(block))
parts.append(comp.flush()); gz = b"".join(parts); del parts
lab = zlib.compressobj(9, zlib.DEFLATED, 31)
labels = lab.compress(bytes([0, 0, 8, 1]) + n.to_bytes(4, "big"))
labels += lab.compress(bytes(n)) + lab.flush()
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as zf:
    zf.writestr(IDX_IMAGES, gz); zf.writestr(IDX_LABELS, labels)
raw = buf.getvalue(); del gz
def classify(images):
    n = len(images); return np.zeros(n, int), np.full((n, 10), 0.1), "default", 4
def run():
    read_export(raw, "bomb.zip", classify)
""",
    "import: npz, 100,000 drawings (compressed)": """
from mnist_knn.classroom.exchange import read_export
n = 100_000
buf = io.BytesIO()
np.savez_compressed(buf, format_version=np.array(1), uid=np.array([f"{i:032d}" for i in range(n)]),
    created=np.full(n, np.datetime64("2024-01-01", "us")), room=np.full(n, "5B"),
    session_id=np.full(n, "s"), images=np.zeros((n, 28, 28), np.uint8),
    true_label=np.zeros(n, np.uint8), predicted_label=np.zeros(n, np.uint8),
    proba=np.full((n, 10), 0.1), preset=np.full(n, "default"), k=np.full(n, 4),
    png_data=np.zeros(0, np.uint8), png_offsets=np.zeros(n + 1, np.int64))
raw = buf.getvalue()
def run():
    read_export(raw, "many.npz")
""",
    "import: npz, 5,000 noisy drawings + PNGs (the cap)": """
from mnist_knn.classroom.exchange import read_export
n = 5_000
buf = io.BytesIO()
np.savez_compressed(buf, format_version=np.array(1), uid=np.array([f"{i:032d}" for i in range(n)]),
    created=np.full(n, np.datetime64("2024-01-01", "us")), room=np.full(n, "5B"),
    session_id=np.full(n, "s"),
    images=np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8),
    true_label=np.zeros(n, np.uint8), predicted_label=np.zeros(n, np.uint8),
    proba=np.full((n, 10), 0.1), preset=np.full(n, "default"), k=np.full(n, 4),
    png_data=np.random.default_rng(1).integers(0, 256, n * 1500, dtype=np.uint8),
    png_offsets=np.arange(n + 1, dtype=np.int64) * 1500)
raw = buf.getvalue()
def run():
    read_export(raw, "many.npz")
""",
}

MAKER = """
import io, sys
import numpy as np
{make}
open(sys.argv[1], "wb").write(raw)
"""

RUNNER = """
import io, json, resource, sys
import numpy as np
import mnist_knn.classroom.exchange, mnist_knn.preprocess
from PIL import Image
{run}
raw = open(sys.argv[1], "rb").read()
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    run(); outcome = "accepted"
except Exception as exc:
    outcome = f"refused: {{type(exc).__name__}}: {{str(exc)[:110]}}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
above = (peak - idle) / 1024
print(json.dumps({{"idle_mb": idle / 1024, "above_idle_mb": above, "outcome": outcome}}))
"""


def measure(root: Path, setup: str) -> dict:
    at = min(i for i in (setup.find("\ndef run"), setup.find("\ndef classify")) if i >= 0)
    make, run = setup[:at], setup[at:]
    imports = "\n".join(line for line in make.splitlines() if line.startswith("from mnist_knn"))
    with tempfile.NamedTemporaryFile(suffix=".bin") as tmp:
        subprocess.run(
            [sys.executable, "-c", MAKER.format(make=make), tmp.name],
            cwd=root,
            check=True,
            timeout=900,
        )
        done = subprocess.run(
            [sys.executable, "-c", RUNNER.format(run=imports + "\n" + run), tmp.name],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=900,
        )
    if done.returncode:
        return {"outcome": f"crashed: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    for name, setup in CASES.items():
        result = measure(args.root, setup)
        above = result.get("above_idle_mb")
        figure = f"{above:8.0f} MB above idle" if above is not None else " " * 22
        print(f"{name:<45} {figure}  {result['outcome']}")


if __name__ == "__main__":
    main()
