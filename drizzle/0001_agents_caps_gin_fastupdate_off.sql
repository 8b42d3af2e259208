DROP INDEX "agents_offered_caps_gin";--> statement-breakpoint
CREATE INDEX "agents_offered_caps_gin" ON "agents" USING gin ("offered_caps" jsonb_path_ops) WITH (fastupdate=false);