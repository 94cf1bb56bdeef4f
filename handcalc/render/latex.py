"""A document as LaTeX source (article class, TikZ diagram), for teachers who keep LaTeX exams."""

from __future__ import annotations

import re

from handcalc.documents.paper import Box, Document, Layer, Matrix, edges, neuron_positions, segments
from handcalc.text import clean

SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "[": "{[}",  # never an optional argument of the command before it
    "]": "{]}",
}
UNICODE = {
    "σ": r"\sigma",
    "η": r"\eta",
    "⊙": r"\odot",
    "Σ": r"\Sigma",
    "→": r"\to",
    "δ": r"\delta",
    "Δ": r"\Delta",
    "ŷ": r"\hat{y}",
    "·": r"\cdot",
    "−": "-",
    "←": r"\leftarrow",
    "β": r"\beta",
    "ε": r"\varepsilon",
    "μ": r"\mu",
    "λ": r"\lambda",
    "θ": r"\theta",
    "√": r"\surd",
    "²": "^{2}",
    "ŝ": r"\hat{s}",
    "ᵀ": "^{T}",
}
COLUMNS = 7  # matrix columns per tabular: 7 of 1.9 cm and the row labels fit an A4 page
ACCENTS = re.compile("([A-Za-z])([\u0302\u0303])")  # a letter with a combining hat or tilde


def esc(text: str) -> str:
    r"""User text printed literally: every character LaTeX would read as a command escaped.

    >>> print(esc("\\input{x} [1cm] 50% \x1b"))
    \textbackslash{}input\{x\} {[}1cm{]} 50\% \textbackslash{}x1b
    """
    return ACCENTS.sub(_accent, "".join(SPECIAL.get(c, c) for c in clean(text)))


def _accent(m: re.Match[str]) -> str:
    return rf"\ensuremath{{\{'hat' if m.group(2) == chr(0x302) else 'tilde'}{{{m.group(1)}}}}}"


def lines(text: str) -> str:
    """Text of several lines, each escaped, with its line breaks kept (empty lines left out)."""
    kept = [esc(line) for line in clean(text, newlines=True).split("\n") if line.strip()]
    return "\\\\\n".join(kept)


def rich(notation: str) -> str:
    out = []
    for kind, text in segments(notation):
        body = esc(text)
        out.append(
            body
            if kind == "text"
            else rf"\text{'super' if kind == 'sup' else 'sub'}script{{{body}}}"
        )
    return "".join(out)


def _preamble(title: str) -> str:
    chars = "\n".join(rf"\newunicodechar{{{c}}}{{\ensuremath{{{m}}}}}" for c, m in UNICODE.items())
    return rf"""\documentclass[10pt,a4paper]{{article}}
\usepackage[T1]{{fontenc}}
\usepackage[utf8]{{inputenc}}
\usepackage{{lmodern,amssymb,newunicodechar,tikz,fancyhdr,array}}
\usepackage[margin=1.6cm,bottom=2cm]{{geometry}}
{chars}
\newcommand{{\stamp}}{{}}\newcommand{{\pagehead}}{{}}
\pagestyle{{fancy}}\fancyhf{{}}\renewcommand{{\headrulewidth}}{{0pt}}
\fancyfoot[L]{{\footnotesize {esc(title)}}}\fancyfoot[C]{{\footnotesize\stamp}}
\fancyfoot[R]{{\footnotesize page \thepage}}
\fancyhead[L]{{\footnotesize\ifnum\value{{page}}>1 \pagehead\fi}}
\setlength{{\parindent}}{{0pt}}
\begin{{document}}
"""


def _table(rows: list[list[str]], labels: list[str], empty: bool) -> str:
    """The matrix as tabulars of at most COLUMNS columns, one under another within the page."""
    cols = len(rows[0]) if rows else 1
    return "\\[4pt]\n".join(
        _block(rows, labels, empty, start, min(cols, start + COLUMNS))
        for start in range(0, cols, COLUMNS)
    )


def _block(rows: list[list[str]], labels: list[str], empty: bool, start: int, stop: int) -> str:
    spec = ("r|" if labels else "") + "|".join(["p{1.9cm}"] * (stop - start))
    head = " & ".join(([""] if labels else []) + [str(j + 1) for j in range(start, stop)])
    lines = [rf"\begin{{tabular}}{{|{spec}|}}\hline", head + r" \\ \hline"]
    for i, row in enumerate(rows):
        cells = [r"\rule{0pt}{1.4em}" if empty else r"\hfill " + esc(v) for v in row[start:stop]]
        rule = r"\hline " if labels and i and labels[i].endswith(", 1") else ""  # a new slice
        line = " & ".join(([esc(labels[i])] if labels else []) + cells) + r" \\ \hline"
        lines.append(rule + line)
    lines.append(r"\end{tabular}")
    return "\n".join(lines)


def _given(m: Matrix, key: bool) -> str:
    """A given matrix; the key names its step id for graders, a worksheet only its symbol."""
    name = rf"\quad{{\scriptsize [{esc(m.name)}]}}" if key else ""
    return (
        rf"\begin{{minipage}}[t]{{\linewidth}}{rich(m.symbol)}{name}"
        rf"\\[2pt]{_table(m.rows, m.row_labels, False)}\end{{minipage}}\par\medskip"
    )


def _box(b: Box) -> str:
    step = "" if b.values is None else f" · {esc(b.step_id)}"
    head = rf"\textbf{{{rich(b.symbol)}}}\quad{{\scriptsize {esc(b.shape)}{step}}}"
    if b.points:
        head += rf"\hfill {esc(b.points)} pt"
    formula = rf"\\{{\small {rich(b.formula)}}}" if b.formula else ""
    rows = b.values if b.values is not None else [[""] * b.cols for _ in range(b.rows)]
    table = _table(rows, b.row_labels, b.values is None)
    return (
        rf"\begin{{minipage}}{{\linewidth}}{head}{formula}\\[2pt]{table}\end{{minipage}}"
        r"\par\medskip"
    )


def _diagram(layers: list[Layer]) -> str:
    gap = 3.0
    positions = neuron_positions(layers, gap, 0.5)
    items = [
        rf"\draw[gray!50] ({x1:.2f},{y1:.2f}) -- ({x2:.2f},{y2:.2f});"
        for (x1, y1), (x2, y2) in edges(positions)
    ]
    for i, (layer, column) in enumerate(zip(layers, positions, strict=True)):
        items += [rf"\draw[fill=white] ({x:.2f},{y:.2f}) circle (0.18);" for x, y in column]
        items.append(
            rf"\node[align=center,font=\scriptsize] at ({i * gap:.2f},-2.6) "
            rf"{{$d_{i} = {layer.width}$\\{esc(layer.label)}}};"
        )
    return (
        "\\begin{center}\\begin{tikzpicture}\n"
        + "\n".join(items)
        + "\n\\end{tikzpicture}\\end{center}"
    )


def body(doc: Document) -> str:
    out = _top(doc)
    out.append(r"\section*{Given}")
    out += [_given(m, doc.header.key) for m in doc.given]
    out += [r"\section*{The network}", _diagram(doc.network), rich(doc.network_text) + r"\par"]
    for section in doc.sections:
        out.append(rf"\section*{{{esc(section.title)}}}")
        out += [_box(b) for b in section.boxes]
    if doc.expansions:
        out.append(r"\section*{Worked entries}")
        out += [
            "\\begin{verbatim}\n" + "\n".join(map(_verbatim, e)) + "\n\\end{verbatim}"
            for e in doc.expansions
        ]
    out += _chart(doc)
    return "\n".join(out) + "\n"


def _page_head(doc: Document) -> str:
    """What heads every page after the first: Name and ID lines, the variant, the total."""
    h = doc.header
    variant = f"variant {h.variant} · " if h.variant is not None else ""
    right = esc(f"{variant}total {doc.total} points")
    if h.key:
        return rf"Answer key\hspace{{2em}}{right}"
    return rf"Name: \rule{{6cm}}{{0.4pt}}\quad ID: \rule{{4cm}}{{0.4pt}}\hspace{{2em}}{right}"


def _verbatim(line: str) -> str:
    """A worked line for verbatim, which cannot carry combining accents: h̃ becomes h~."""
    return line.replace("\u0303", "~").replace("\u0302", "^")


def _top(doc: Document) -> list[str]:
    """Page stamp, title, name line, instructions, the rounding rule, the learning rate."""
    h = doc.header
    out = [
        rf"\renewcommand{{\stamp}}{{{esc(h.stamp)}}}\setcounter{{page}}{{1}}",
        rf"\renewcommand{{\pagehead}}{{{_page_head(doc)}}}",
        rf"{{\Large\bfseries {esc(h.title)}}}\par\medskip",
        rf"{esc(' · '.join(h.about))}\par\medskip",
    ]
    if not h.key:
        out.append(r"Name: \rule{7cm}{0.4pt}\hfill ID: \rule{5cm}{0.4pt}\par\medskip")
    if h.instructions:
        out.append(lines(h.instructions) + r"\par\medskip")
    out.append(
        rf"Rounding: {esc(doc.rule)}. For example, {esc(doc.rule_example)}.\\"
        rf"Learning rate: $\eta$ = {esc(doc.learning_rate)}.\\"
        + "".join(rf"{rich(s)}\\" for s in doc.settings)
        + rf"\textbf{{Total: {esc(doc.total)} points.}}\par"
    )
    return out


def _chart(doc: Document) -> list[str]:
    """The key's bars: each step's largest deviation in units."""
    if not doc.chart:
        return []
    top = max(u for _, _, u in doc.chart) or 1.0
    return [
        r"\section*{Rounding against float64}",
        "Largest $|$hand $-$ float64$|$ per step, in units of the last kept digit.\\par",
        r"\begin{tabular}{ll r}",
        *(
            rf"{rich(sym)} & \rule{{{7 * u / top:.3f}cm}}{{0.25cm}} & {u:.2f} \\"
            for _, sym, u in doc.chart
        ),
        r"\end{tabular}",
    ]


def document(doc: Document) -> str:
    return _preamble(doc.header.title) + body(doc) + "\\end{document}\n"


def combined(docs: list[Document], title: str) -> str:
    return _preamble(title) + "\\clearpage\n".join(body(d) for d in docs) + "\\end{document}\n"
