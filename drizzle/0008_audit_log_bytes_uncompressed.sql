ALTER TABLE "audit_log_tiles" ALTER COLUMN "hashes" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "audit_log_tiles" ALTER COLUMN "interior" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "audit_log_bundles" ALTER COLUMN "entries" SET STORAGE EXTERNAL;
