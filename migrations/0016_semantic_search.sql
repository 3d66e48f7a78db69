CREATE TABLE "paper_embeddings" (
	"paper_id" integer PRIMARY KEY NOT NULL,
	"model_id" integer NOT NULL,
	"bucket" integer NOT NULL,
	"vector" real[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "search_models" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "search_models_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"fitted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"dimensions" integer NOT NULL,
	"paper_count" integer NOT NULL,
	"vocabulary" text[] NOT NULL,
	"idf" real[] NOT NULL,
	"projection" "bytea" NOT NULL,
	"centroids" "bytea" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "paper_embeddings" ADD CONSTRAINT "paper_embeddings_paper_id_papers_id_fk" FOREIGN KEY ("paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "paper_embeddings" ADD CONSTRAINT "paper_embeddings_model_id_search_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."search_models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "paper_embeddings_bucket_idx" ON "paper_embeddings" USING btree ("model_id","bucket");--> statement-breakpoint
-- Accent folding: the search document and the queries go through unaccent() (modules/search/search-documents.ts, search-terms.ts),
-- so "Schrodinger" finds "Schrödinger" and "Sebastien" finds "Sébastien". PGlite ships the extension too.
CREATE EXTENSION IF NOT EXISTS unaccent;--> statement-breakpoint
UPDATE "papers" p SET "search_vector" =
  setweight(to_tsvector('english', unaccent(p.title)), 'A')
  || setweight(to_tsvector('english', unaccent(array_to_string(p.keywords, ' '))), 'B')
  || setweight(to_tsvector('english', unaccent(p.abstract)), 'C')
  || setweight(to_tsvector('simple', unaccent(coalesce((SELECT string_agg(pa.name, ' ' ORDER BY pa.position) FROM paper_authors pa WHERE pa.paper_id = p.id), '')
       || ' ' || coalesce((SELECT o.name || ' ' || coalesce(o.full_name, '') FROM organizations o WHERE o.id = p.organization_id), ''))), 'D');
