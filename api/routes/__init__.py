"""One router per resource: rings, accounts (linkage), identifiers, jobs, health, pages."""
