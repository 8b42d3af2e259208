CREATE TABLE "admin_audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"action" varchar(128) NOT NULL,
	"actor_id" varchar(600),
	"target_id" varchar(600),
	"details" jsonb DEFAULT '{}'::jsonb,
	"request_id" varchar(128),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"aid" varchar(512) PRIMARY KEY NOT NULL,
	"display_name" varchar(512) NOT NULL,
	"handshake_endpoint" text NOT NULL,
	"offered_caps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"manifest_json" text NOT NULL,
	"manifest_sha256" char(64) NOT NULL,
	"manifest_expires_at" timestamp with time zone,
	"status" varchar(32) DEFAULT 'active' NOT NULL,
	"namespace" varchar(128) DEFAULT 'default' NOT NULL,
	"registered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_enrolled_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"deregistered_at" timestamp with time zone,
	"org" varchar(128),
	"cloud" varchar(128),
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agents_status_ck" CHECK ("agents"."status" IN ('active', 'expired', 'deregistered')),
	CONSTRAINT "agents_deregistered_ck" CHECK (("agents"."status" = 'deregistered') = ("agents"."deregistered_at" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" varchar(128) NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"aid_a" varchar(512),
	"aid_b" varchar(512),
	"session_id" varchar(255),
	"run_id" varchar(255),
	"grants" jsonb,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source" varchar(128),
	"producer" varchar(64) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_events_seq_key" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "delegations" (
	"jti" uuid PRIMARY KEY NOT NULL,
	"parent_jti" uuid NOT NULL,
	"delegator_aid" varchar(512) NOT NULL,
	"delegatee_aid" varchar(512) NOT NULL,
	"scope" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"session_id" varchar(255),
	"revoked" boolean DEFAULT false NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" varchar(64),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delegations_revoked_reason_ck" CHECK ("delegations"."revoked_reason" IS NULL OR "delegations"."revoked_reason" IN ('explicit', 'parent_revoked'))
);
--> statement-breakpoint
CREATE TABLE "enrollment_jtis" (
	"jti" varchar(64) PRIMARY KEY NOT NULL,
	"aid" varchar(512) NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "handshake_sessions" (
	"session_id" varchar(255) PRIMARY KEY NOT NULL,
	"aid_a" varchar(512),
	"aid_b" varchar(512),
	"status" varchar(32) DEFAULT 'started' NOT NULL,
	"grants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"run_id" varchar(255),
	"boundary" varchar(32),
	"error" text,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "handshake_sessions_status_ck" CHECK ("handshake_sessions"."status" IN ('started', 'complete', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"scope" varchar(64) NOT NULL,
	"caller" varchar(600) NOT NULL,
	"key" varchar(255) NOT NULL,
	"request_hash" char(64) NOT NULL,
	"state" varchar(16) DEFAULT 'in_progress' NOT NULL,
	"locked_until" timestamp with time zone,
	"response_status" integer,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("scope","caller","key"),
	CONSTRAINT "idempotency_keys_state_ck" CHECK ("idempotency_keys"."state" IN ('in_progress', 'completed'))
);
--> statement-breakpoint
CREATE TABLE "issued_tcts" (
	"jti" uuid PRIMARY KEY NOT NULL,
	"issuer_aid" varchar(512) NOT NULL,
	"subject_aid" varchar(512) NOT NULL,
	"audience_aid" varchar(512) NOT NULL,
	"grants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"binding_cnf" varchar(128),
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"session_id" varchar(255),
	"revoked" boolean DEFAULT false NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pinned_keys" (
	"namespace" varchar(128) DEFAULT 'default' NOT NULL,
	"aid" varchar(512) NOT NULL,
	"pubkey" varchar(128) NOT NULL,
	"label" varchar(128),
	"added_by" varchar(600),
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pinned_keys_pkey" PRIMARY KEY("namespace","aid")
);
--> statement-breakpoint
CREATE TABLE "revocation_entries" (
	"jti" uuid PRIMARY KEY NOT NULL,
	"revoked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text,
	"revoked_by" varchar(600),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trust_anchors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"namespace" varchar(128) DEFAULT 'default' NOT NULL,
	"issuer_url" text NOT NULL,
	"jwks_url" text,
	"jwks_cache" jsonb,
	"jwks_cached_at" timestamp with time zone,
	"label" varchar(128),
	"added_by" varchar(600),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trust_anchors_namespace_issuer_uniq" UNIQUE("namespace","issuer_url")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"webhook_id" uuid NOT NULL,
	"event_id" uuid,
	"event_type" varchar(128) NOT NULL,
	"body" text NOT NULL,
	"status" varchar(32) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"status_code" integer,
	"error" text,
	"next_retry_at" timestamp with time zone,
	"lease_owner" varchar(128),
	"lease_until" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"redelivery_of" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_status_ck" CHECK ("webhook_deliveries"."status" IN ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"events" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"secret" varchar(255) NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by" varchar(600),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_redelivery_of_fk" FOREIGN KEY ("redelivery_of") REFERENCES "public"."webhook_deliveries"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_audit_created_at_idx" ON "admin_audit_log" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "admin_audit_actor_idx" ON "admin_audit_log" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "admin_audit_action_idx" ON "admin_audit_log" USING btree ("action");--> statement-breakpoint
CREATE INDEX "admin_audit_target_idx" ON "admin_audit_log" USING btree ("target_id");--> statement-breakpoint
CREATE INDEX "agents_status_idx" ON "agents" USING btree ("status");--> statement-breakpoint
CREATE INDEX "agents_registered_at_idx" ON "agents" USING btree ("registered_at","aid");--> statement-breakpoint
CREATE INDEX "agents_namespace_idx" ON "agents" USING btree ("namespace");--> statement-breakpoint
CREATE INDEX "agents_display_name_idx" ON "agents" USING btree ("display_name");--> statement-breakpoint
CREATE INDEX "agents_offered_caps_gin" ON "agents" USING gin ("offered_caps" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "agents_expiry_idx" ON "agents" USING btree ("manifest_expires_at") WHERE "agents"."status" = 'active' AND "agents"."manifest_expires_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "agents_deregistered_at_idx" ON "agents" USING btree ("deregistered_at") WHERE "agents"."status" = 'deregistered';--> statement-breakpoint
CREATE INDEX "audit_events_ts_idx" ON "audit_events" USING btree ("ts","seq");--> statement-breakpoint
CREATE INDEX "audit_events_type_ts_idx" ON "audit_events" USING btree ("type","ts");--> statement-breakpoint
CREATE INDEX "audit_events_session_ts_idx" ON "audit_events" USING btree ("session_id","ts","seq");--> statement-breakpoint
CREATE INDEX "audit_events_run_id_idx" ON "audit_events" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "audit_events_aid_a_idx" ON "audit_events" USING btree ("aid_a","ts");--> statement-breakpoint
CREATE INDEX "audit_events_aid_b_idx" ON "audit_events" USING btree ("aid_b","ts");--> statement-breakpoint
CREATE INDEX "audit_events_created_at_idx" ON "audit_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "delegations_parent_idx" ON "delegations" USING btree ("parent_jti");--> statement-breakpoint
CREATE INDEX "delegations_delegator_idx" ON "delegations" USING btree ("delegator_aid");--> statement-breakpoint
CREATE INDEX "delegations_delegatee_idx" ON "delegations" USING btree ("delegatee_aid");--> statement-breakpoint
CREATE INDEX "delegations_issued_at_idx" ON "delegations" USING btree ("issued_at","jti");--> statement-breakpoint
CREATE INDEX "enrollment_jtis_expires_at_idx" ON "enrollment_jtis" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "handshake_sessions_status_idx" ON "handshake_sessions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "handshake_sessions_aid_a_idx" ON "handshake_sessions" USING btree ("aid_a");--> statement-breakpoint
CREATE INDEX "handshake_sessions_aid_b_idx" ON "handshake_sessions" USING btree ("aid_b");--> statement-breakpoint
CREATE INDEX "handshake_sessions_run_id_idx" ON "handshake_sessions" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "handshake_sessions_created_at_idx" ON "handshake_sessions" USING btree ("created_at","session_id");--> statement-breakpoint
CREATE INDEX "handshake_sessions_updated_at_idx" ON "handshake_sessions" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "issued_tcts_issuer_idx" ON "issued_tcts" USING btree ("issuer_aid");--> statement-breakpoint
CREATE INDEX "issued_tcts_subject_idx" ON "issued_tcts" USING btree ("subject_aid");--> statement-breakpoint
CREATE INDEX "issued_tcts_audience_idx" ON "issued_tcts" USING btree ("audience_aid");--> statement-breakpoint
CREATE INDEX "issued_tcts_session_idx" ON "issued_tcts" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "issued_tcts_grants_gin" ON "issued_tcts" USING gin ("grants" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "issued_tcts_issued_at_idx" ON "issued_tcts" USING btree ("issued_at","jti");--> statement-breakpoint
CREATE INDEX "pinned_keys_aid_idx" ON "pinned_keys" USING btree ("aid");--> statement-breakpoint
CREATE INDEX "pinned_keys_created_at_idx" ON "pinned_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "revocation_entries_revoked_at_idx" ON "revocation_entries" USING btree ("revoked_at","jti");--> statement-breakpoint
CREATE INDEX "trust_anchors_namespace_idx" ON "trust_anchors" USING btree ("namespace");--> statement-breakpoint
CREATE INDEX "trust_anchors_created_at_idx" ON "trust_anchors" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_created_idx" ON "webhook_deliveries" USING btree ("webhook_id","created_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_retry_at","created_at") WHERE "webhook_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_status_created_idx" ON "webhook_deliveries" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_redelivery_idx" ON "webhook_deliveries" USING btree ("redelivery_of") WHERE "webhook_deliveries"."redelivery_of" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "webhooks_active_idx" ON "webhooks" USING btree ("active");--> statement-breakpoint
CREATE INDEX "webhooks_created_at_idx" ON "webhooks" USING btree ("created_at","id");