"""Image work as plain functions of bytes and arrays: decoding and analysis of originals, the
operations presets are made of, and the engine that runs them. No models, no storage, no Django
apps: every layer above may use it, and it is tested without a database."""
