"""Measured ideas for reading real drawings that are not (yet) in the app.

docs/real-drawings.md describes the recipe they were part of. Its tangent-distance
re-ranking and slashed zeros are now in the library (mnist_knn/tangent.py, styles.py: the
`best` preset); what is left here: the other drawn styles tried (:mod:`.augment`: European
ones, crossed sevens, stroke and elastic variants, none of which helped) and the
three-signal "not sure" verdict (:mod:`.verdict`), the starting point for issue 13's
verdict.
"""
