"""His letters, as a skill: a library with every version kept, her proofreading (two
grammar checkers and her model, merged into one list of edits he accepts or rejects), the
ones she thinks best, and the book made of them."""
