"""Reference implementations of the homework code questions. Imported by the grader only, never by a worker."""
