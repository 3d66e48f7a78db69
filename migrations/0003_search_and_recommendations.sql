CREATE TABLE "recommendations" (
	"user_id" integer NOT NULL,
	"rank" integer NOT NULL,
	"paper_id" integer NOT NULL,
	"score" double precision NOT NULL,
	"computed_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recommendations_user_id_rank_pk" PRIMARY KEY("user_id","rank")
);
--> statement-breakpoint
CREATE TABLE "similar_papers" (
	"paper_id" integer NOT NULL,
	"rank" integer NOT NULL,
	"similar_paper_id" integer NOT NULL,
	"score" double precision NOT NULL,
	CONSTRAINT "similar_papers_paper_id_rank_pk" PRIMARY KEY("paper_id","rank")
);
--> statement-breakpoint
ALTER TABLE "papers" ADD COLUMN "search_vector" "tsvector" DEFAULT ''::tsvector NOT NULL;--> statement-breakpoint
ALTER TABLE "recommendations" ADD CONSTRAINT "recommendations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recommendations" ADD CONSTRAINT "recommendations_paper_id_papers_id_fk" FOREIGN KEY ("paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "similar_papers" ADD CONSTRAINT "similar_papers_paper_id_papers_id_fk" FOREIGN KEY ("paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "similar_papers" ADD CONSTRAINT "similar_papers_similar_paper_id_papers_id_fk" FOREIGN KEY ("similar_paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "authors_name_trigram_idx" ON "authors" USING gin (lower("name") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "papers_search_idx" ON "papers" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "papers_title_trigram_idx" ON "papers" USING gin (lower("title") gin_trgm_ops);--> statement-breakpoint
-- Backfill the search documents of the papers stored so far (the same document as modules/search/search-documents.ts).
UPDATE "papers" p SET "search_vector" =
  setweight(to_tsvector('english', p.title), 'A')
  || setweight(to_tsvector('english', array_to_string(p.keywords, ' ')), 'B')
  || setweight(to_tsvector('english', p.abstract), 'C')
  || setweight(to_tsvector('simple', coalesce((SELECT string_agg(pa.name, ' ' ORDER BY pa.position) FROM paper_authors pa WHERE pa.paper_id = p.id), '')), 'D');
