CREATE TABLE "audit_log_bundles" (
	"bundle_index" bigint PRIMARY KEY NOT NULL,
	"entries" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log_checkpoints" (
	"size" bigint PRIMARY KEY NOT NULL,
	"root" "bytea" NOT NULL,
	"note" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log_state" (
	"id" smallint PRIMARY KEY NOT NULL,
	"size" bigint DEFAULT 0 NOT NULL,
	"watermark" bigint DEFAULT 0 NOT NULL,
	"partial_seq" bigint,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log_sweeps" (
	"kind" varchar(16) PRIMARY KEY NOT NULL,
	"swept_through" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log_tiles" (
	"level" smallint NOT NULL,
	"tile_index" bigint NOT NULL,
	"hashes" "bytea" NOT NULL,
	CONSTRAINT "audit_log_tiles_pkey" PRIMARY KEY("level","tile_index")
);
--> statement-breakpoint
ALTER TABLE "admin_audit_log" ADD COLUMN "txid" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "txid" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL;--> statement-breakpoint
CREATE INDEX "admin_audit_txid_idx" ON "admin_audit_log" USING btree ("txid");