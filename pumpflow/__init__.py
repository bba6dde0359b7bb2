"""pumpflow wire contracts. pumpflow.v1 is generated from proto/pumpflow/v1 by `make proto`."""
