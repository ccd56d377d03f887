"""Classroom mode: the store of a class's drawings (:mod:`.store`), their export and import
formats (:mod:`.exchange`), and what they say about the model (:mod:`.analysis`)."""
