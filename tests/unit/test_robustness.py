"""Bad input never crashes: any array, any upload format, damaged files, concurrent builds."""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw

from mnist_knn.preprocess import EmptyDrawingError, ImageError, load_image, to_mnist
from mnist_knn.synthetic import SEVEN, stroke_image

DTYPES = st.sampled_from(
    [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, bool]
)


def _check(array) -> None:
    """The contract: a (28, 28) uint8 image, or ImageError with a message; nothing else."""
    try:
        out = to_mnist(array)
    except ImageError as exc:
        assert str(exc)
        return
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out.max() == 255


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        DTYPES,
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40),
        elements={"allow_nan": True, "allow_infinity": True},
    )
)
def test_any_array_gives_an_image_or_image_error(array):
    _check(array)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.uint8, np.float64, np.int32]),
        st.tuples(st.integers(1, 300), st.integers(1, 300), st.sampled_from([1, 2, 3, 4])).map(
            lambda s: s if s[2] != 1 else s[:2]
        ),
        elements=st.integers(0, 255),
    )
)
def test_any_image_shaped_array(array):
    _check(array)


@pytest.mark.parametrize(
    "value", [[], [[]], "a string", None, object(), [[1, 2], [3]], {"a": 1}, 3.5]
)
def test_non_arrays_raise_image_error(value):
    with pytest.raises(ImageError):
        to_mnist(value)


# ----------------------------------------------------------------------- uploads


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _seven(mode="RGB", background=(255, 255, 255), ink=(0, 0, 0)):
    return stroke_image(SEVEN, mode=mode, background=background, ink=ink)


def _classify(raw: bytes, name: str) -> np.ndarray:
    return to_mnist(load_image(raw, name))


@functools.cache
def _reference() -> np.ndarray:
    return to_mnist(_seven())


def _similar(out):
    assert out.shape == (28, 28)
    assert np.abs(out.astype(float) - _reference()).mean() < 10


def test_animated_gif_uses_the_first_frame():
    first, second = _seven("L", 255, 0), Image.new("L", (280, 280), 255)
    raw = _save(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    _similar(_classify(raw, "anim.gif"))


def test_sixteen_bit_png():
    img16 = Image.fromarray(np.asarray(_seven("L", 255, 0), dtype=np.uint16) * 257)
    assert img16.mode.startswith("I")
    _similar(_classify(_save(img16, "PNG"), "deep.png"))


def test_palette_png_with_transparency():
    rgba = _seven("RGBA", (255, 255, 255, 0), (0, 0, 0, 255))
    palette = rgba.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    palette.info["transparency"] = palette.getpixel((0, 0))
    out = _classify(_save(palette, "PNG", transparency=palette.getpixel((0, 0))), "pal.png")
    _similar(out)


def test_cmyk_jpeg():
    _similar(_classify(_save(_seven().convert("CMYK"), "JPEG", quality=95), "cmyk.jpg"))


def test_exif_rotated_photo_is_turned_upright():
    rotated = _seven().rotate(90, expand=True)  # stored sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with "rotate 90 clockwise to display"
    out = _classify(_save(rotated, "JPEG", quality=95, exif=exif), "photo.jpg")
    _similar(out)


def test_empty_file():
    with pytest.raises(ImageError, match=r"empty\.png: the file is empty"):
        load_image(b"", "empty.png")


def test_text_with_an_image_extension():
    with pytest.raises(ImageError, match=r"fake\.jpg: not a readable image"):
        load_image(b"just some text, not a picture", "fake.jpg")
    # Text that happens to start with a GIF signature reads as an absurd header.
    with pytest.raises(ImageError, match=r"fake\.gif: too large"):
        load_image(b"GIF89a... just kidding, this is text", "fake.gif")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files(fmt):
    raw = _save(_seven(), fmt)
    with pytest.raises(ImageError, match=r"truncated or corrupt|not a readable image"):
        load_image(raw[: len(raw) // 3], f"cut.{fmt.lower()}")


def test_decompression_bomb_is_refused_from_the_header():
    raw = _save(Image.new("1", (20000, 20000)), "PNG")  # a few KB on disk, 400 MP decoded
    assert len(raw) < 200_000
    with pytest.raises(ImageError, match="too large"):
        load_image(raw, "bomb.png")


def test_blank_upload_is_the_empty_drawing_error():
    with pytest.raises(EmptyDrawingError):
        _classify(_save(Image.new("RGB", (100, 100), "white"), "PNG"), "blank.png")


# -------------------------------------------------------------- concurrent builds


def test_two_processes_starting_together_both_get_a_correct_artifact(models_dir):
    script = textwrap.dedent(
        """
        import sys, warnings
        from mnist_knn.trained import load_artifact
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            artifact = load_artifact("default")
        built = any("rebuilding" in str(w.message) for w in caught)
        print(f"{artifact.evaluation.accuracy:.6f} {'built' if built else 'loaded'}")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    accuracies = {acc for acc, _ in outputs}
    assert len(accuracies) == 1
    # The lock makes the second wait and load what the first built.
    assert sorted(how for _, how in outputs) == ["built", "loaded"]
    assert sorted(p.name for p in models_dir.iterdir()) == ["default.lock", "default.npz"]


# --------------------------------------------------------------------------- CLI

_FILE_CONTENT = st.one_of(
    st.binary(max_size=2000),
    hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 3, 4])),
    ).map(lambda a: _save(Image.fromarray(a[..., 0] if a.shape[2] == 1 else a), "PNG")),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_FILE_CONTENT, min_size=1, max_size=3))
def test_cli_predict_answers_every_file(tmp_path, capsys, contents):
    from mnist_knn.__main__ import main

    paths = []
    for i, content in enumerate(contents):
        path = tmp_path / f"input{i}.png"
        path.write_bytes(content)
        paths.append(str(path))
    code = main(["predict", "--json", *paths])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == paths
    for line in lines:
        if "error" in line:
            assert line["error"].startswith(line["file"])
        else:
            assert 0 <= line["label"] <= 9 and len(line["probabilities"]) == 10
    assert code == (1 if any("error" in line for line in lines) else 0)


# ------------------------------------------------------------------ issue 15: uploads


def _digit_seven(size: int = 200) -> np.ndarray:
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).line(
        [(size // 5, size // 5), (4 * size // 5, size // 5), (2 * size // 5, 6 * size // 7)],
        fill=0,
        width=size // 11,
    )
    return np.asarray(image)


def _odd_modes() -> dict[str, tuple[Image.Image, str]]:
    grey = _digit_seven()
    rgb = Image.fromarray(grey).convert("RGB")
    return {
        "16-bit.png": (Image.fromarray(grey.astype(np.uint16) * 257), "PNG"),
        "int32.tif": (Image.fromarray(grey.astype(np.int32) * 100_000), "TIFF"),
        "float.tif": (Image.fromarray(grey.astype(np.float32) / 255), "TIFF"),
        "lab.tif": (rgb.convert("LAB"), "TIFF"),
        "cmyk.tif": (rgb.convert("CMYK"), "TIFF"),
        "cmyk.jpg": (rgb.convert("CMYK"), "JPEG"),
        "ycbcr.tif": (rgb.convert("YCbCr"), "TIFF"),
    }


@pytest.mark.parametrize("name", list(_odd_modes()))
def test_any_picture_mode_becomes_8_bit_and_can_be_shown_and_stored(name):
    from mnist_knn.ui.classroom import as_png

    image, fmt = _odd_modes()[name]
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    loaded = load_image(buffer.getvalue(), name)
    assert loaded.mode in ("L", "RGB", "RGBA")
    expected = to_mnist(_digit_seven())
    got = to_mnist(loaded)
    assert np.abs(got.astype(int) - expected.astype(int)).mean() < 8  # the same digit
    png = as_png(loaded)
    assert Image.open(io.BytesIO(png)).size == (200, 200)
    jpeg = io.BytesIO()
    loaded.convert("RGB").save(jpeg, format="JPEG")  # what st.image does with it


def test_a_picture_over_4_megapixels_is_refused_from_its_header():
    raw = _save(Image.new("1", (3000, 2000), 1), "PNG")  # 6 MP: under the old 40 MP limit
    with pytest.raises(ImageError, match=r"3000x2000 pixels is too large \(at most 4 megapixels"):
        load_image(raw, "big.png")


def test_a_large_photo_is_decoded_at_a_reduced_scale():
    photo = Image.fromarray(_digit_seven(3000)).convert("RGB").resize((4000, 3000))
    raw = _save(photo, "JPEG")  # 12 MP, as a phone takes it
    loaded = load_image(raw, "photo.jpg")
    assert max(loaded.size) <= 1024 and loaded.size[0] > loaded.size[1]
    expected = to_mnist(photo)
    assert np.abs(to_mnist(loaded).astype(int) - expected.astype(int)).mean() < 10


def test_the_stored_picture_of_a_noisy_upload_stays_small(tmp_path):
    from mnist_knn.classroom.limits import MAX_PNG_BYTES
    from mnist_knn.classroom.store import DrawingStore
    from mnist_knn.ui.classroom import as_png

    noise = np.random.default_rng(0).integers(0, 256, (1800, 2000, 3), dtype=np.uint8)
    loaded = load_image(_save(Image.fromarray(noise), "JPEG"), "noise.jpg")
    png = as_png(loaded)
    assert len(png) <= MAX_PNG_BYTES and max(Image.open(io.BytesIO(png)).size) == 280
    store = DrawingStore(tmp_path / "d.sqlite")
    big = as_png(Image.fromarray(noise[:1024, :1024]).resize((1024, 1024)))
    assert len(big) <= MAX_PNG_BYTES
    with pytest.raises(ValueError, match="at most 524,288 are kept"):
        store.save(
            np.zeros((28, 28), np.uint8),
            true_label=1,
            predicted=1,
            proba=np.eye(10)[1],
            preset="default",
            k=4,
            canvas_png=bytes(MAX_PNG_BYTES + 1),
        )
