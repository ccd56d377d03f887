"""Class drawings: what the class drew, how the model read it, and what learning from it changes."""

import streamlit as st

from mnist_knn import charts, ui
from mnist_knn.classroom import analysis as classroom
from mnist_knn.evaluation import confusion

GALLERY_MAX = 48
ALL_ROOMS, ANY = "\0all", -1  # no room name holds a control character
st.session_state.setdefault("class_drawings_filter_room", ui.current_room() or ALL_ROOMS)
st.session_state.setdefault("class_drawings_filter_true", ANY)
st.session_state.setdefault("class_drawings_filter_pred", ANY)
st.session_state.setdefault("class_drawings_use", False)

drawings_db = ui.get_store()
preset = ui.current_preset()
artifact = ui.get_artifact(preset)
evaluation = artifact.evaluation

st.title("🏫 Class drawings")
st.markdown(
    "The drawings people confirmed or corrected with **Right?** on the Draw page. MNIST's "
    "digits were written by American clerks and students around 1990: your class is a new "
    "**test set** the model has never seen. Does it read you as well as it reads MNIST?"
)
ui.flash_message()
teacher = ui.is_teacher()  # pupils see the sidebar's room only; the teacher every room

with ui.store_errors():
    rooms = drawings_db.rooms() if teacher else {}
if st.session_state.class_drawings_filter_room not in [ALL_ROOMS, *rooms]:
    st.session_state.class_drawings_filter_room = ALL_ROOMS  # its room was deleted
col_room, col_true, col_pred = st.columns([2, 1, 1])
if teacher:
    room = col_room.selectbox(
        "Room",
        [ALL_ROOMS, *rooms],
        key="class_drawings_filter_room",
        format_func=lambda r: "All rooms" if r == ALL_ROOMS else f"{r or '(no room)'} · {rooms[r]}",
    )
    room = None if room == ALL_ROOMS else room
else:
    room = ui.current_room()
    col_room.markdown(
        f"Room **{ui.md_escape(room or '(no room)')}**, the sidebar's *Class / room*: "
        "you see your room's drawings."
    )
true_digit = col_true.selectbox(
    "Drawn digit",
    [ANY, *range(10)],
    key="class_drawings_filter_true",
    format_func=lambda d: "any" if d == ANY else str(d),
)
read_digit = col_pred.selectbox(
    "Read as",
    [ANY, *range(10)],
    key="class_drawings_filter_pred",
    format_func=lambda d: "any" if d == ANY else str(d),
)

with ui.store_errors():
    class_set = drawings_db.query(room=room)  # what the statistics are about
shown = class_set.subset(
    ((class_set.true_labels == true_digit) if true_digit != ANY else True)
    & ((class_set.predicted == read_digit) if read_digit != ANY else True)
)
if not len(class_set):
    st.info(
        "No drawings yet. Draw on the **Draw** page and answer **Right?**: each answer saves "
        "the drawing here. Or a teacher imports an export under *Teacher*."
    )
else:
    accuracy = float(class_set.correct.mean())
    col1, col2, col3 = st.columns(3)
    col1.metric(
        "Read correctly",
        f"{accuracy:.1%}",
        f"{accuracy - evaluation.accuracy:+.1%} vs MNIST test ({evaluation.accuracy:.1%})",
    )
    col2.metric("Drawings", len(class_set))
    col3.metric("Drawers (browser sessions)", len(set(class_set.session_id)))

tabs = st.tabs(["Gallery", "How the model does", "Drawings that fooled it", "Use them", "Teacher"])
with tabs[0]:
    newest = shown.subset(slice(None, None, -1)).subset(slice(GALLERY_MAX))
    st.caption(
        f"{len(shown)} of the {len(class_set)} drawings match the filters; the newest "
        f"{len(newest)} are shown, each captioned *drawn → read*."
    )
    ui.drawing_gallery(newest)

with tabs[1]:
    if len(class_set):
        mnist_accuracy = classroom.mnist_per_digit_accuracy(evaluation)
        hardest = classroom.hardest_digits(class_set, mnist_accuracy)
        st.markdown(classroom.hardest_digits_markdown(hardest))
        by_digit, counts = classroom.per_digit_accuracy(class_set.true_labels, class_set.predicted)
        figure = charts.classroom.per_digit_accuracy_figure(by_digit, counts, mnist_accuracy)
        st.plotly_chart(figure, key="class_drawings_chart_digits")
        left, right = st.columns(2)
        cm_class = confusion(class_set.true_labels, class_set.predicted)
        cm_mnist = confusion(evaluation.y_true, evaluation.y_pred)
        title = f"The class's {len(class_set)} drawings"
        left.plotly_chart(
            charts.classroom.confusion_figure(cm_class, title, charts.classroom.CLASS_COLOUR),
            key="class_drawings_chart_cm_class",
        )
        title = f"MNIST's {len(evaluation.y_true):,} test digits"
        right.plotly_chart(
            charts.classroom.confusion_figure(cm_mnist, title), key="class_drawings_chart_cm_mnist"
        )

with tabs[2]:
    order = classroom.fooled(shown)
    st.caption(
        f"{len(order)} of these {len(shown)} drawings were misread; the most confidently wrong "
        "first, captioned *drawn → read (confidence)*."
    )
    ui.drawing_gallery(shown.subset(order[:GALLERY_MAX]), confidence=True)

with tabs[3]:
    st.markdown(
        "Add these drawings to MNIST's 60,000 training digits and refit the model. On the "
        "drawings themselves the accuracy is **cross-validated**: each drawing is read by a "
        "model that learned from the *other* drawings, never from itself."
    )
    if not teacher:
        st.info("Only the teacher can refit the model: unlock under *Teacher* (last tab).")
    elif st.toggle("Add the class's drawings to the training set", key="class_drawings_use"):
        if len(class_set) < 2:
            st.info("This needs at least two drawings.")
        elif (effect := ui.use_drawings_effect(preset, class_set)[1]) is not None:
            figure = charts.classroom.before_after_figure(
                effect.class_before, effect.class_after, effect.test_before, effect.test_after
            )
            st.markdown(classroom.use_effect_markdown(effect, class_set.true_labels))
            st.plotly_chart(figure, key="class_drawings_chart_use")
            st.caption(
                f"{effect.n_drawings} drawings, {effect.folds}-fold cross-validation. Refitted "
                f"in {effect.fit_seconds:.1f} s, measured in {effect.seconds:.1f} s in all."
            )

with tabs[4]:
    if not ui.teacher_login("class_drawings_teacher"):
        st.stop()
    ui.export_drawings(drawings_db, room, len(class_set), key="class_drawings_export")
    ui.import_drawings(drawings_db, artifact, key="class_drawings_import")
    ui.delete_drawings(drawings_db, shown, room, len(class_set), key="class_drawings_delete")
