"""Demo-only parts: the embedded throwaway PostgreSQL (pgserver), the demo data, and compare
mode's naive reader. A server install never needs them to browse a database."""
