"""Measured ideas for reading real drawings, not yet in the app (docs/real-drawings.md).

Two-sided tangent distance re-ranking (:mod:`.tangent`), training-set augmentation toward
drawn styles such as slashed zeros (:mod:`.augment`), and a three-signal "not sure"
verdict (:mod:`.verdict`): the pieces behind docs/real-drawings.md's recipe, which raised
held-out writers from 93.0-94.4% to 95.8-97.2% and MNIST's 5-fold CV from 98.64% to
99.06%. They are the starting point for moving that recipe into the library (issues 13, 14).
"""
