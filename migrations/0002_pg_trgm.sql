-- Trigram matching for typo-tolerant search of titles and author names.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
