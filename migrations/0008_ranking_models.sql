CREATE TABLE "paper_neighbors" (
	"paper_id" integer NOT NULL,
	"signal" text NOT NULL,
	"neighbor_id" integer NOT NULL,
	"similarity" double precision NOT NULL,
	CONSTRAINT "paper_neighbors_paper_id_signal_neighbor_id_pk" PRIMARY KEY("paper_id","signal","neighbor_id")
);
--> statement-breakpoint
CREATE TABLE "ranking_models" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ranking_models_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"weights" jsonb NOT NULL,
	"validation" jsonb NOT NULL,
	"beats_trending" boolean NOT NULL,
	"validation_users" integer NOT NULL,
	"training_votes" integer NOT NULL,
	"fitted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "recommendation_dismissals" (
	"user_id" integer NOT NULL,
	"paper_id" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recommendation_dismissals_user_id_paper_id_pk" PRIMARY KEY("user_id","paper_id")
);
--> statement-breakpoint
ALTER TABLE "recommendations" ADD COLUMN "model_id" integer;--> statement-breakpoint
ALTER TABLE "recommendations" ADD COLUMN "reasons" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "paper_neighbors" ADD CONSTRAINT "paper_neighbors_paper_id_papers_id_fk" FOREIGN KEY ("paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "paper_neighbors" ADD CONSTRAINT "paper_neighbors_neighbor_id_papers_id_fk" FOREIGN KEY ("neighbor_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recommendation_dismissals" ADD CONSTRAINT "recommendation_dismissals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recommendation_dismissals" ADD CONSTRAINT "recommendation_dismissals_paper_id_papers_id_fk" FOREIGN KEY ("paper_id") REFERENCES "public"."papers"("id") ON DELETE cascade ON UPDATE no action;