"""AppTest of the Class drawings page: filters, statistics, "use them", import, delete, errors."""

from __future__ import annotations

import socket

import pytest
from streamlit.testing.v1 import AppTest

from mnist_knn import load_artifact, ui
from mnist_knn.classroom.exchange import export_npz
from mnist_knn.classroom.store import DrawingStore, StoreError
from mnist_knn.synthetic import save_class
from tests.support.apptest import open_page

HOSTILE = "'; DROP TABLE drawings; -- [x](http://evil) **b**"


PASSWORD = "apple pie"


@pytest.fixture(autouse=True)
def teacher_password(monkeypatch):
    monkeypatch.setenv(ui.TEACHER_ENV, PASSWORD)


def open_class_page(room: str | None = None, teacher: bool = True) -> AppTest:
    """The page, by default as the teacher sees it (unlocked in session state)."""
    state = {} if room is None else {"class_room": room}
    if teacher:
        state[ui.TEACHER_KEY] = ui.teacher_token(PASSWORD)
    return open_page("class_drawings", 180, **state)


def gallery_captions(at: AppTest, which: int = 0) -> list[str]:
    galleries = at.get("image")
    return galleries[which].captions if len(galleries) > which else []


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    path = tmp_path / "class.sqlite"
    monkeypatch.setenv("MNIST_KNN_STORE", str(path))
    return DrawingStore(path)


@pytest.fixture
def class_store(empty_store):
    save_class(empty_store, load_artifact("default"), {"5B": 18, HOSTILE: 12}, seed=1)
    return empty_store


def test_empty_store_invites_to_draw(empty_store):
    at = open_class_page()
    assert at.title[0].value == "🏫 Class drawings"
    assert "No drawings yet" in at.info[0].value
    assert at.selectbox(key="class_drawings_filter_room").options == ["All rooms"]
    assert all(b.proto.disabled for b in at.get("download_button"))


def test_page_shows_the_class_and_its_statistics(class_store):
    at = open_class_page()
    assert at.selectbox(key="class_drawings_filter_room").options == [
        "All rooms",
        f"{HOSTILE} · 12",
        "5B · 18",
    ]
    every = class_store.query()
    shown = metrics(at)
    assert shown["Drawings"] == "30"
    assert shown["Read correctly"] == f"{every.correct.mean():.1%}"
    assert shown["Drawers (browser sessions)"] == "5"  # 3 pupils in 5B, 2 in the other room
    captions = gallery_captions(at)
    newest = every.subset(slice(None, None, -1))
    assert len(captions) == 30
    assert captions[0].startswith(f"{newest.true_labels[0]} → {newest.predicted[0]}")
    assert len(at.get("plotly_chart")) == 3  # per-digit accuracy, the two confusion matrices
    hardest = next(m.value for m in at.markdown if m.value.startswith("**Hardest digits"))
    assert "read right" in hardest or "none here" in hardest
    fooled = gallery_captions(at, 1)
    assert len(fooled) == int((~every.correct).sum())


def test_filters_narrow_the_gallery_and_the_statistics(class_store):
    at = open_class_page()
    at.selectbox(key="class_drawings_filter_room").select("5B").run()
    assert metrics(at)["Drawings"] == "18"
    assert len(gallery_captions(at)) == 18
    room_set = class_store.query(room="5B")
    digit = int(room_set.true_labels[0])
    at.selectbox(key="class_drawings_filter_true").select(digit).run()
    assert not at.exception
    captions = gallery_captions(at)
    assert len(captions) == int((room_set.true_labels == digit).sum())
    assert all(c.startswith(f"{digit} → ") for c in captions)
    assert metrics(at)["Drawings"] == "18"  # statistics stay on the whole room
    at.selectbox(key="class_drawings_filter_room").select(HOSTILE).run()
    assert metrics(at)["Drawings"] == "12"


def test_the_sidebar_room_is_the_first_filter(class_store):
    at = open_class_page(room="5B")
    assert at.selectbox(key="class_drawings_filter_room").value == "5B"
    assert metrics(at)["Drawings"] == "18"


def test_use_them_shows_before_and_after(class_store):
    at = open_class_page()
    at.selectbox(key="class_drawings_filter_room").select("5B").run()
    at.toggle(key="class_drawings_use").set_value(True).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    assert any("18 drawings, 5-fold cross-validation" in c.value for c in at.caption)


def test_delete_a_room_needs_the_confirmation(class_store):
    at = open_class_page()
    at.selectbox(key="class_drawings_filter_room").select(HOSTILE).run()
    go = at.button(key="class_drawings_delete_room_go")
    assert go.proto.disabled
    sure = at.checkbox(key="class_drawings_delete_room_sure")
    assert "12 drawings" in sure.label and "\\[x\\]\\(http" in sure.label  # shown literally
    sure.check().run()
    at.button(key="class_drawings_delete_room_go").click().run()
    assert not at.exception
    assert class_store.rooms() == {"5B": 18}
    assert "and its 12 drawings" in at.success[0].value
    assert at.selectbox(key="class_drawings_filter_room").value == "\0all"  # back to all rooms
    assert metrics(at)["Drawings"] == "18"


def test_delete_chosen_drawings(class_store):
    at = open_class_page()
    ids = class_store.query().ids.tolist()
    chosen = at.multiselect(key="class_drawings_delete_ids")
    chosen.select(ids[-1]).select(ids[0]).run()
    assert at.button(key="class_drawings_delete_ids_go").proto.disabled
    at.checkbox(key="class_drawings_delete_ids_sure").check().run()
    at.button(key="class_drawings_delete_ids_go").click().run()
    assert not at.exception
    assert class_store.count() == 28 and set(ids) - set(class_store.query().ids) == {
        ids[0],
        ids[-1],
    }
    assert at.success[0].value == "Deleted 2 drawings."
    assert at.multiselect(key="class_drawings_delete_ids").value == []


def test_import_an_export(class_store, tmp_path, monkeypatch):
    exported = export_npz(class_store.query(with_png=True))
    monkeypatch.setenv("MNIST_KNN_STORE", str(tmp_path / "other.sqlite"))
    at = open_class_page()
    at.file_uploader(key="class_drawings_import_file").set_value(
        ("class.npz", exported, "application/octet-stream")
    )
    at.run()
    at.button(key="class_drawings_import_go").click().run()
    assert not at.exception
    assert at.success[0].value == "Imported 30 drawings from class.npz."
    assert metrics(at)["Drawings"] == "30"
    at.button(key="class_drawings_import_go").click().run()
    assert at.success[0].value == "Imported 0 drawings from class.npz (30 were already here)."


def test_a_damaged_upload_is_a_message(empty_store):
    at = open_class_page()
    at.file_uploader(key="class_drawings_import_file").set_value(
        ("junk.csv", b"a,b\n1,2\n", "text/csv")
    )
    at.run()
    at.button(key="class_drawings_import_go").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("junk.csv: cannot import it")


def test_an_unreachable_database_is_a_message(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MNIST_KNN_STORE", f"postgresql://t:hunter2@127.0.0.1:{port}/class")
    at = open_class_page()
    message = at.error[0].value
    assert message.startswith("The class's drawings cannot be reached.")
    assert f"t:***@127.0.0.1:{port}/class" in message and "hunter2" not in message
    assert "MNIST_KNN_STORE" in message
    assert not at.get("image")


def test_a_database_failing_later_is_a_message(class_store, monkeypatch):
    at = open_class_page()

    def down(*args, **kwargs):
        raise StoreError("cannot read the drawings database sqlite:///x: disk I/O error. Check…")

    monkeypatch.setattr(DrawingStore, "delete_room", down)
    at.selectbox(key="class_drawings_filter_room").select("5B").run()
    at.checkbox(key="class_drawings_delete_room_sure").check().run()
    at.button(key="class_drawings_delete_room_go").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Nothing was deleted. cannot read the drawings database")
    assert class_store.count() == 30
    monkeypatch.setattr(DrawingStore, "rooms", down)
    at.run()
    assert not at.exception
    assert "disk I/O error" in at.error[0].value and not at.get("image")


def test_the_store_can_come_from_streamlit_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_KNN_STORE", raising=False)
    path = tmp_path / "from-secrets.sqlite"
    save_class(DrawingStore(path), load_artifact("default"), {"secret room": 3})
    at = open_page(
        "class_drawings",
        180,
        secrets={"MNIST_KNN_STORE": str(path)},
        class_teacher=ui.teacher_token(PASSWORD),
    )
    assert at.selectbox(key="class_drawings_filter_room").options == [
        "All rooms",
        "secret room · 3",
    ]


def test_without_a_teacher_password_the_teacher_actions_are_off(class_store, monkeypatch):
    monkeypatch.delenv(ui.TEACHER_ENV)
    at = open_class_page(room="5B", teacher=False)
    assert any(ui.TEACHER_ENV in i.value and "are off" in i.value for i in at.info)
    assert not at.get("download_button") and not at.get("file_uploader")
    assert not [b for b in at.button if "delete" in b.key] and not at.toggle
    assert metrics(at)["Drawings"] == "18"  # the sidebar's room only
    # A session that holds a token is still locked when no password is set.
    at = open_class_page(room="5B", teacher=True)
    assert not at.get("download_button")


def test_a_pupil_sees_only_their_own_room(class_store):
    at = open_class_page(room="5B", teacher=False)
    assert "class_drawings_filter_room" not in [s.key for s in at.selectbox]
    assert metrics(at)["Drawings"] == "18" and len(gallery_captions(at)) == 18
    assert not at.get("download_button") and not at.get("file_uploader")
    assert not at.toggle  # no "Use them"
    assert any("Only the teacher" in i.value for i in at.info)
    other = open_class_page(room=HOSTILE, teacher=False)
    assert metrics(other)["Drawings"] == "12"


def test_the_teacher_password_unlocks_and_lock_locks(class_store):
    at = open_class_page(room="5B", teacher=False)
    at.text_input(key="class_drawings_teacher_password").input("apple").run()
    at.button(key="class_drawings_teacher_unlock").click().run()
    assert at.error[0].value == "That is not the teacher password."
    assert not at.get("download_button")
    at.text_input(key="class_drawings_teacher_password").input(PASSWORD).run()
    at.button(key="class_drawings_teacher_unlock").click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 3 and at.get("file_uploader")
    assert at.selectbox(key="class_drawings_filter_room").options[0] == "All rooms"
    state = {key: at.session_state[key] for key in at.session_state}
    assert state[ui.TEACHER_KEY] == ui.teacher_token(PASSWORD)
    assert PASSWORD not in str(state)  # the unlock is kept, the password is not
    at.button(key="class_drawings_teacher_lock").click().run()
    assert not at.get("download_button")


def test_a_changed_password_locks_an_unlocked_session(class_store, monkeypatch):
    monkeypatch.setenv(ui.TEACHER_ENV, "a new one")
    at = open_class_page(room="5B")  # unlocked with the old password
    assert not at.get("download_button")
