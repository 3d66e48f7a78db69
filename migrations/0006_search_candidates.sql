CREATE INDEX "papers_title_lower_idx" ON "papers" USING hash (lower("title"));--> statement-breakpoint
-- pg_trgm declares its similarity functions as cheap as an integer comparison (COST 1), but a call takes
-- 1-6 µs (about 200 simple operators): priced like that, a sequential scan of every author or title looks
-- cheaper than the trigram index once the index has grown, and search then runs word_similarity on every
-- row. Tell the planner what they cost. Only the owner of the extension may; where that is another role
-- (an extension installed beforehand), this is left out, and the planner keeps its default guess.
DO $$
BEGIN
  ALTER FUNCTION word_similarity(text, text) COST 200;
  ALTER FUNCTION word_similarity_op(text, text) COST 200;
  ALTER FUNCTION word_similarity_commutator_op(text, text) COST 200;
EXCEPTION WHEN insufficient_privilege OR undefined_function THEN
  RAISE NOTICE 'pg_trgm function costs left as they are: %', SQLERRM;
END
$$;
