"""Pure draft logic: parsing Markdown into a clause tree, and matching clauses across versions."""
