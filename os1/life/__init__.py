"""Her life while he is away (issue 28): reasons to message him first, his rules for
when she may, the messages she starts, and what her own time costs.

Above the mind, whose companion says what she wrote as he comes back; above her memory,
whose dated plans and promises are her reasons; below the faces that run her time.
"""
