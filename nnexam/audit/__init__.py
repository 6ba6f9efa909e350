"""Audit a hand-written solution key against the solvers, claim by claim.

A key is a YAML file::

    key: mock-final                    # a name for the report (default: the file's stem)
    questions:
      - id: Q1a                        # how findings name the question
        kind: lloyd                    # a registered problem kind (`nnexam kinds`) ...
        # check: kmeans_network_step   # ... or a check of a homework statement (nnexam/audit/checks.py)
        params: {points: [[-0.01, 1], [1, 1], [0.01, -1], [-1, -1]], initial_indices: [1, 2]}
        claims:
          - path: iterations[0].centers_after[0]     # where the claimed value lives in the solver's answer
            value: ["0.99/2", 1]                     # what the key says
            step: "Step 1, updated c1"               # optional: how the key labels this step
          - path: final_centers
            value: [[0.495, 1], [-0.495, -1]]
            final: true                              # a final answer (default: an intermediate step)

A claim's `path` addresses the answer of the solver (`solvers/CATALOG.md` lists every kind's fields): field names
joined by dots, list positions in brackets, counting from 0 (`iterations[0].centers_after[0]`,
`steps[2].weights[1]`, `deltas[0]`, `output[0][1]`, `iterates[2]`, `terms.latent`). A path may also reach what
a solver gives beyond the catalog's answer fields (its `Solution.details`): for `competitive`, each `steps[i]`
also has `point` (the data point presented) and `unrounded` (the winner's weights after the update, before
rounding); for `backprop`, the forward pass (`pre_activations`, `activations`, `output`).

What a claim can say (exactly one of `value` or `terms`):

- `value`: a number, a list, a bool, or a string that sympy parses.
  * A decimal (`0.645`, `1.67e-5`) is a rounded claim: it holds when the truth is within half a unit of its
    last written digit (0.6457 is not 0.645; 0.65 would be right to 2 decimals). Trailing zeros count
    (`0.50` claims two decimals). Integers and fractions (`3`, `"1/2"`, `"0.99/2"`) are exact claims.
    `tolerance: 0.01` overrides both.
  * A string is an expression. If the truth is an expression (a density, a generator, a gradient), the
    two are compared by symbolic equivalence: sympy simplifies the difference, and where that is slow or
    undecided the two are compared at sampled points (the variable's support when the problem has one).
    For densities the report also says where a wrong claim is negative or how much it integrates to.
  * `bind: {name: path}` names quantities for an expression: a path into the answer, or `params.<path>`
    into the question's parameters. Lists become indexable (`x[i, j]`), so an equation such as
    `Sum(u[0, i, j]*x[i, j]*dg(w[0]*x[i, j] + b[0]), (i, 0, 1), (j, 0, 1))` is evaluated on the
    question's numbers and compared with the solver. An index left free is reported as such.
  * `functions: {"phi(v)": "1/(1+exp(-5*v))", "dphi(v)": "5*phi(v)*(1-phi(v))"}` defines functions for
    the expression (in order, so later ones may use earlier ones).
- `terms: [latent, reconstruction, constant]`: the terms a derivation keeps. The terms that depend on what is
  optimized must all be there; the kind's registration names them (`Kind.required_terms`: for `elbo_gaussian`,
  latent, reconstruction and log_det; the constant may go).

A claim's role sets the severity of a finding: `final: true` (a final answer: `wrong_final`), `method: true`
(the method or the statement itself: `wrong_method`), otherwise an intermediate step (`slip`). The claims of
a question form a chain in the order written; each finding names the step where the key parts from the
truth: the first wrong claim of the chain up to it. A slip's explanation says whether the final answers
survive it. Optional `note` on a claim is carried into the report (keys keep their hand checks there).

A question whose kind is not registered is skipped with a message. A malformed key is refused with one line
naming the YAML path (`questions[2].claims[0].path: no field 'iterats' in the lloyd answer; fields: ...`).
Nothing in a key is evaluated as Python: expressions go through the guarded parser of the solvers' parameters
(`solvers.params.guarded_parse`), an attribute chain or `__import__` is refused with its YAML path before
anything is solved, and YAML aliases are refused.

The modules: `keys` (reading keys and paths), `driver` (solving and judging, claim by claim), `report` (the
findings), `document` (the report as text, Typst, PDF or LaTeX), `checks` (the statement checks); the
comparison of values is the public `nnexam.comparison`.
"""

from .driver import audit, check_claim
from .keys import Claim, Key, KeyFormatError, KeyLoader, Question, load_key, parse_key, parse_path, resolve
from .report import SEVERITIES, Finding, Report

__all__ = ["SEVERITIES", "Claim", "Finding", "Key", "KeyFormatError", "KeyLoader", "Question", "Report", "audit",
           "check_claim", "load_key", "parse_key", "parse_path", "resolve"]
