"""`handcalc serve`: the worksheet as a web page, graded live by the check engine."""
