-- A search term matches either as English-stemmed text or as written (names): the stemmed query,
-- or both OR'ed when they differ; nothing when the term is only a stop word in English.
CREATE FUNCTION search_either(stemmed tsquery, written tsquery) RETURNS tsquery
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN numnode(stemmed) = 0 THEN ''::tsquery WHEN stemmed = written THEN stemmed ELSE stemmed || written END $$;--> statement-breakpoint
-- The term as written when it is only a stop word in English (the surname "He"), else nothing.
CREATE FUNCTION search_stop_word(stemmed tsquery, written tsquery) RETURNS tsquery
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN numnode(stemmed) = 0 THEN written ELSE ''::tsquery END $$;--> statement-breakpoint
-- Organization names join the author names (D) in the search document (the same document as modules/search/search-documents.ts).
UPDATE "papers" p SET "search_vector" =
  setweight(to_tsvector('english', p.title), 'A')
  || setweight(to_tsvector('english', array_to_string(p.keywords, ' ')), 'B')
  || setweight(to_tsvector('english', p.abstract), 'C')
  || setweight(to_tsvector('simple', coalesce((SELECT string_agg(pa.name, ' ' ORDER BY pa.position) FROM paper_authors pa WHERE pa.paper_id = p.id), '')
       || ' ' || coalesce((SELECT o.name || ' ' || coalesce(o.full_name, '') FROM organizations o WHERE o.id = p.organization_id), '')), 'D')
  WHERE p.organization_id IS NOT NULL;
