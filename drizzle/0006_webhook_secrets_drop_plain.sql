ALTER TABLE "webhooks" ALTER COLUMN "sealed_secret" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "webhooks" DROP COLUMN "secret";