"""The maths notation of step prose (templates.mathprint.prose): every construct in the three targets, the Typst
compiled by the Typst compiler and read back from the PDF, the LaTeX compiled by TeX where one is installed, and
malformed segments printed as plain text without breaking a document."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import typst
from pypdf import PdfReader

from solvers import solve
from templates.mathprint import NotationError, math_segment, name_text, plain, prose
from templates.render import render_solution

# notation -> (Typst maths, LaTeX maths, text), each construct of the notation at least once
CASES = {
    "w_1": ("w_(1)", "w_{1}", "w₁"),
    "x_ij": ("x_(i j)", "x_{ij}", "xᵢⱼ"),
    "delta^(1)": ("delta^((1))", r"\delta^{(1)}", "δ⁽¹⁾"),
    "a^(l-1)": ("a^((l-1))", "a^{(l-1)}", "a⁽ˡ⁻¹⁾"),
    "W^T": ("W^(T)", "W^{T}", "Wᵀ"),
    "G^-1": ("G^(-1)", "G^{-1}", "G⁻¹"),
    "g'": ("g'", "g'", "g'"),
    "sigma'(v)": ("sigma'(v)", r"\sigma'(v)", "σ'(v)"),
    "eta": ("eta", r"\eta", "η"),
    "Sigma": ("Sigma", r"\Sigma", "Σ"),
    "x_hat": ("hat(x)", r"\hat{x}", "x̂"),
    "mu_c": ("mu_(c)", r"\mu_{c}", "μ_c"),
    "s_(t-1)": ("s_(t-1)", "s_{t-1}", "sₜ₋₁"),
    "f^c_ij": ("f_(i j)^(c)", "f_{ij}^{c}", "fᵢⱼᶜ"),
    "log_det": ('"log-det"', r"\text{log-det}", "log-det"),
    "2.5 + 3 - 1": ("2.5 + 3 - 1", "2.5 + 3 - 1", "2.5 + 3 - 1"),
    "0.02*1.52": ("0.02 dot 1.52", r"0.02 \cdot 1.52", "0.02·1.52"),
    "w_i . x": ("w_(i) dot x", r"w_{i} \cdot x", "wᵢ · x"),
    "a*(-1)": ("a dot (-1)", r"a \cdot(-1)", "a·(-1)"),  # not Typst's dot accent dot(-1)
    "1/2": ("1 slash 2", "1/2", "1/2"),
    "(x - mu)^2": ("(x - mu)^(2)", r"(x - \mu)^{2}", "(x - μ)²"),
    "[1, 2; 3, 4]": ("[1, 2; 3, 4]", "[1, 2; 3, 4]", "[1, 2; 3, 4]"),
    "{1, 2}": ("{1, 2}", r"\{ 1, 2 \}", "{1, 2}"),
    "a = b != c": ("a = b != c", r"a = b \neq c", "a = b ≠ c"),
    "a < b > c": ("a < b > c", "a < b > c", "a < b > c"),
    "a <= b >= c": ("a <= b >= c", r"a \le b \ge c", "a ≤ b ≥ c"),
    "w <- w + eta y (x - w)": ("w <- w + eta y (x - w)", r"w \leftarrow w + \eta y (x - w)", "w ← w + η y (x - w)"),
    "x -> inf": ("x -> infinity", r"x \to \infty", "x → ∞"),
    "x |-> 2*x": ("x |-> 2 x", r"x \mapsto 2 x", "x ↦ 2x"),
    "z ~ p_enc(z | x)": ('z tilde.op p_("enc")(z bar.v x)', r"z \sim p_{\mathrm{enc}}(z \mid x)", "z ~ p_enc(z | x)"),
    "KL(p || q)": ('"KL"(p parallel q)', r"\mathrm{KL}(p \parallel q)", "KL(p ‖ q)"),
    "D^* = 1/2": ("D^* = 1 slash 2", "D^{*} = 1/2", "D* = 1/2"),
    "x in [0, inf)": ("x in [0, infinity)", r"x \in [0, \infty)", "x ∈ [0, ∞)"),
    "E|z|^2": ("EE abs(z)^(2)", r"\mathbb{E} \lvert z \rvert^{2}", "E|z|²"),
    "ell_prior": ('ell_("prior")', r"\ell_{\mathrm{prior}}", "ℓ_prior"),
    "sum_v' V_v'": ("sum_(v') V_(v')", r"\sum_{v'} V_{v'}", "Σ_(v') V_(v')"),
    "p approx 0.5": ("p approx 0.5", r"p \approx 0.5", "p ≈ 0.5"),
    "x in [0, 1]": ("x in [0, 1]", r"x \in [0, 1]", "x ∈ [0, 1]"),
    "z ~ N(mu, Sigma)": ("z tilde.op cal(N)(mu, Sigma)", r"z \sim \mathcal{N}(\mu, \Sigma)", "z ~ N(μ, Σ)"),
    "sqrt(1 - z)": ("sqrt(1 - z)", r"\sqrt{1 - z}", "√(1 - z)"),
    "sqrt(2)": ("sqrt(2)", r"\sqrt{2}", "√2"),
    "exp(-v)": ("exp(-v)", r"\exp(-v)", "exp(-v)"),
    "log(x)": ("log(x)", r"\log(x)", "log(x)"),
    "max(0, v)": ("max(0, v)", r"\max(0, v)", "max(0, v)"),
    "min(a, b)": ("min(a, b)", r"\min(a, b)", "min(a, b)"),
    "argmax_c y_c": ('op("arg max", limits: #true)_(c) y_(c)', r"\operatorname*{arg\,max}_{c} y_{c}",
                     "argmax_c y_c"),
    "argmin_k d_k": ('op("arg min", limits: #true)_(k) d_(k)', r"\operatorname*{arg\,min}_{k} d_{k}", "argminₖ dₖ"),
    "det(A)": ("det(A)", r"\det(A)", "det(A)"),
    "tr(A)": ("tr(A)", r"\operatorname{tr}(A)", "tr(A)"),
    "floor(n/2)": ("floor(n slash 2)", r"\lfloor n/2 \rfloor", "⌊n/2⌋"),
    "sum_i x_i": ("sum_(i) x_(i)", r"\sum_{i} x_{i}", "Σᵢ xᵢ"),
    "sum_ij x_ij": ("sum_(i j) x_(i j)", r"\sum_{ij} x_{ij}", "Σᵢⱼ xᵢⱼ"),
    "sum_(i,j) x_ij": ("sum_(i,j) x_(i j)", r"\sum_{i,j} x_{ij}", "Σ_(i,j) xᵢⱼ"),
    "prod_k p_k": ("product_(k) p_(k)", r"\prod_{k} p_{k}", "Πₖ pₖ"),
    "E[x]": ("EE[x]", r"\mathbb{E}[x]", "E[x]"),
    "P(G(Z) <= x) = F(x)": ("P(G(Z) <= x) = F(x)", r"P(G(Z) \le x) = F(x)", "P(G(Z) ≤ x) = F(x)"),
    "|x|": ("abs(x)", r"\lvert x \rvert", "|x|"),
    "||x - mu_c||^2": ("norm(x - mu_(c))^(2)", r"\lVert x - \mu_{c} \rVert^{2}", "‖x - μ_c‖²"),
    "dl/dw_c": ("partial l slash partial w_(c)", r"\partial  l / \partial  w_{c}", "∂l/∂w_c"),
    "dL/do_t": ("partial L slash partial o_(t)", r"\partial  L / \partial  o_{t}", "∂L/∂oₜ"),
    "d^2 L/dw^2": ("partial^(2) L slash partial w^(2)", r"\partial ^{2} L / \partial  w^{2}", "∂²L/∂w²"),
    "e^(-x^2/2)": ("e^(-x^(2)slash 2)", "e^{-x^{2}/2}", "e^(-x²/2)"),
}


@pytest.mark.parametrize("notation", list(CASES))
def test_every_construct_in_every_target(notation):
    for target, expected in zip(("typst", "latex", "text"), CASES[notation], strict=True):
        assert math_segment(notation, target) == expected, (notation, target)


def test_prose_sets_segments_per_target_and_escapes_the_rest():
    text = r"Update #1 (costs \$5): $w <- w + eta y (x - w)$, with *no* rounding."
    assert prose(text, "typst") == r"Update \#1 (costs \$5): $w <- w + eta y (x - w)$, with \*no\* rounding."
    assert prose(text, "latex") == r"Update \#1 (costs \$5): \(w \leftarrow w + \eta y (x - w)\), with *no* rounding."
    assert prose(text, "text") == "Update #1 (costs $5): w ← w + η y (x - w), with *no* rounding."


@pytest.mark.parametrize("text", ["odd $ dollar sign", "bad $(x - w$ brackets", "closing $x)]$ too many",
                                  "a stray $x^$ script", "$|x$ an open bar"])
def test_a_malformed_segment_prints_as_plain_text(text):
    assert "$" not in prose(text, "typst").replace(r"\$", "") and r"\(" not in prose(text, "latex")
    assert prose(text, "text") == (text if text.count("$") % 2 else text.replace("$", ""))
    if text.count("$") == 2:
        with pytest.raises(NotationError):
            math_segment(text.split("$")[1], "typst")


def _typst_pdf_text(body: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        main = Path(tmp) / "main.typ"
        main.write_text(body, encoding="utf-8")
        pdf = Path(tmp) / "out.pdf"
        pdf.write_bytes(typst.compile(str(main)))
        return "".join(page.extract_text() for page in PdfReader(str(pdf)).pages)


def test_typst_compiles_and_reads_back_as_mathematics():
    """The Typst compiler accepts every construct (and the malformed ones as text); the PDF holds the symbols."""
    body = "\n\n".join(prose(f"Case {i}: ${n}$.", "typst") for i, n in enumerate(CASES))
    body += "\n\n" + prose("plain: bad $(x - w$ and odd $ here", "typst")
    body += "\n\n" + prose("plain: bad $(x - w$ brackets", "typst")
    text = _typst_pdf_text(body)
    for glyph in "𝜕←→↦≈∈∼≤≥≠√∑∏𝔼⌊⌋‖∞𝜂Σ⋅":
        assert glyph in text, glyph
    assert "bad $(x - w$ and odd $ here" in text and "bad (x - w brackets" in text
    assert "eta" not in text and "sqrt" not in text and "<-" not in text


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX installed")
def test_latex_compiles():
    lines = "\n\n".join(prose(f"Case {i}: ${n}$.", "latex") for i, n in enumerate(CASES))
    lines += "\n\n" + prose("plain: bad $(x - w$ and odd $ here", "latex")
    source = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + lines
              + "\n\\end{document}\n")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "n.tex").write_text(source, encoding="utf-8")
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "n.tex"], cwd=tmp,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-2000:]
        assert (Path(tmp) / "n.pdf").exists()


def test_names_agree_with_name_text():
    for name in ("w_1", "x_ij", "delta^(1)", "W^T", "eta", "mu_c", "f^c_ij", "log_det", "g'"):
        for target in ("typst", "latex"):
            assert math_segment(name, target) == name_text(name, target), (name, target)


def test_json_steps_carry_readable_unicode():
    sol = solve("competitive", {"points": [[1, 0], [0, 1]], "initial_weights": [[1, 1], [0, 1]],
                                "learning_rate": 0.5, "epochs": 1})
    data = json.loads(render_solution(sol, "json"))

    def prose_of(step):
        yield step["title"]
        yield step.get("text", "")
        yield from step.get("table", {}).get("columns", [])
        for child in step.get("children", []):
            yield from prose_of(child)

    texts = [t for s in data["steps"] for t in prose_of(s)] + data["warnings"]
    assert texts and not any("$" in t for t in texts)
    assert plain("$w <- w + eta (x - w)$") == "w ← w + η (x - w)"


def test_names_in_the_terminal_read_as_unicode():
    assert [name_text(n, "text") for n in ("w_1", "eta", "delta^(1)", "dl/dw_1", "x_hat")] == \
        ["w₁", "η", "δ⁽¹⁾", "∂l/∂w₁", "x̂"]
    assert name_text("alpha_0,1", "text") == "alpha_0,1"  # not one name of the notation: as written
