"""One router per resource: rings, accounts (linkage), identifiers, jobs, settings, health,
pages."""
