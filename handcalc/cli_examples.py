"""The example lines printed under each command's --help."""

EXAMPLES = """Examples:

\b
  handcalc run                       the notes' 5-3-4-3 network, 4 decimals
  handcalc run quiz.yaml --digits 3 --rule half_even
  handcalc run quiz.yaml --format json --output key.json
  handcalc init quiz.yaml            a commented starter config to edit
"""

CHECK_EXAMPLES = """Examples:

\b
  handcalc check --template > answers.yaml     a blank answers file to fill in
  handcalc check answers.yaml                  answers to the default config
  handcalc check quiz.yaml answers.yaml --carried-credit 0.5 --format json
  handcalc check quiz.yaml answers.yaml --only-answered     score the steps written

Exit code: 0 when every answer given is correct or carried, 1 when one is wrong,
2 for unreadable input.
"""

GRADE_EXAMPLES = """Examples:

\b
  handcalc grade exam answers/ --output grades              every .yaml file in answers/
  handcalc grade exam a.yaml b.yaml --output grades --feedback --lms

Each answers file names its variant: a `variant: 3` line, or the variant in its
name (variant-03-alice.yaml). Files that cannot be graded are listed with the reason.
"""
