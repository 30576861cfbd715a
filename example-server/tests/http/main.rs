//! The black-box HTTP suites: each module drives the real example-server binary, started
//! on a free port over a temporary database (SQLite, or the backend named by
//! `RBAC_TEST_DATABASE`). One test binary rather than one per suite: the harness and its
//! dependencies are linked once, which keeps CI's build time and disk use down.

mod console_support;
mod gateway_support;
mod iam_support;

mod abandoned;
mod abuse;
mod admin_console;
mod admin_pages;
mod admin_security;
mod admin_step_up;
mod audit_retention;
mod bulk_import;
mod cloud;
mod consistency;
mod console;
mod console_scopes;
mod containment;
mod crash;
mod fuzz_bodies;
mod gateway;
mod gateway_api_keys;
mod gateway_project_scopes;
mod hardening;
mod hash_flood;
mod iam;
mod iam_manage;
mod iam_sessions;
mod identity;
mod large_listings;
mod login_throttle;
mod metrics;
mod multi_instance;
mod openapi;
mod operations;
mod passkeys;
mod platform_assignments;
mod platform_auth;
mod platform_bad_input;
mod platform_inclusion;
mod platform_oper_log;
mod platform_reset_password;
mod platform_revocation;
mod platform_role_queries;
mod platform_roles;
mod platform_users;
mod races;
mod second_factor;
mod second_factor_policy;
mod security_events;
mod session_cache;
mod slow_readers;
mod step_up_walk;
mod streamed_lists;
mod tokens;
mod upgrade;
mod user_sessions;
