ALTER TABLE "papers" ADD COLUMN "categories" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "papers" ADD COLUMN "categories_checked_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "papers_categories_idx" ON "papers" USING gin ("categories");--> statement-breakpoint
CREATE INDEX "papers_categories_unchecked_idx" ON "papers" USING btree ("id") WHERE "papers"."categories_checked_at" is null;