"""The foundation below every domain: errors, translation, validation, pagination, batching.
It imports no domain and no web framework."""
