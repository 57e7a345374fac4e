"""Exchange-agnostic connector framework (ExchangeBase, trackers, throttler, auth, persistence)."""
