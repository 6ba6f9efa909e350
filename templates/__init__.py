"""Documents, the floor above the solvers: everything that turns solver data into Typst, LaTeX or text.

- `mathprint`: values (numbers, arrays, sympy expressions, `solvers.Sym`) as math for each target.
- `render`: solutions and whole documents through the jinja2 templates of this package (`typst/`, `latex/`,
  `text/`, delimiters `<< >>` and `<% %>`), and Typst to PDF.
- `figures`: one drawer per `solvers.Figure` kind, and the plots of `nnexam train`.
"""
