"""Security proofs: generated cross-tenant/IDOR requests, canary crawl, hostile files."""
