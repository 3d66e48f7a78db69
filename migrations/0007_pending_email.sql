-- Addresses already in "email" stay there: accounts from before email verification count as verified.
ALTER TABLE "users" ADD COLUMN "pending_email" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email_token_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_token_hash_key" ON "users" USING btree ("email_token_hash");