"""os1 as a server for many people (``os1 serve``): accounts, the HTTP and WebSocket API,
the OpenAI-compatible endpoint, and the gate that shares the model between them."""
