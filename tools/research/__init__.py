"""Measured ideas for reading real drawings, and the tools that chose what is in the app.

docs/real-drawings.md describes the recipe they were part of. Its tangent-distance
re-ranking and slashed zeros are in the library (mnist_knn/tangent.py, styles.py: the
`default` and `best` presets), and so is the verdict (mnist_knn/reading.py: share,
margin, near). What is here: the other drawn styles tried (:mod:`.augment`: European
ones, crossed sevens, stroke and elastic variants, none of which helped) and the verdict's
signals over a batch and the threshold search that chose SURE_SHARE and MARGIN
(:mod:`.verdict`).
"""
