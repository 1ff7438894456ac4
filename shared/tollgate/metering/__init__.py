"""Neutral token arithmetic shared by pricing, budgets, billing and the provider adapters.

Nothing here imports a provider, a database or HTTP code: text and image token counts, the prompt
estimate of a whole request body, the output cap, and the billed-field rules.
"""
