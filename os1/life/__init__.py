"""Her life while he is away (issue 28): reasons to message him first, his rules for
when she may, the messages she starts, and what her own time costs.

Below the mind, so that her greeting can say what she wrote while he was away; above her
memory, whose dated plans and promises are her reasons.
"""
