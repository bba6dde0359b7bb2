"""Ingest: from RPC notifications and transactions to stored rows and stream events.

`derive` (pure) turns decoded records into rows; `processor` applies batches of them to Postgres in
one transaction each (shared by live ingest and replay); `pipeline` is the live driver: subscriptions,
gap sweeps, transaction fetches, batching and back-pressure.
"""
