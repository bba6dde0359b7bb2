"""Generated from proto/pumpflow/v1 by `make proto`. Do not edit."""
