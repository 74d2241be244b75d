//! The OpenAPI 3.1 description of the JSON API, written by hand (served at
//! `/api/openapi.json`). Keep it in step with `api.rs`: the e2e tests check that every
//! API route is listed.

use serde_json::{Value, json};

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query_param(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": kind}})
}

fn csrf_header() -> Value {
    json!({"name": "X-CSRF-Token", "in": "header", "required": true, "description": "The session's CSRF token (`csrf` of the login answer).", "schema": {"type": "string"}})
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

/// A 200 answer with `schema`, and the refusals every route shares.
fn answers(schema: Value, role: &str, extra: &[(&str, &str)]) -> Value {
    let mut responses = json!({
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "401": {"description": "No session: sign in first.", "content": {"application/json": {"schema": schema_ref("Error")}}},
        "403": {"description": format!("The role may not do this (needs: {role}), or the CSRF token is missing or wrong."), "content": {"application/json": {"schema": schema_ref("Error")}}},
    });
    for (code, description) in extra {
        responses[*code] = json!({"description": description, "content": {"application/json": {"schema": schema_ref("Error")}}});
    }
    responses
}

fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": schema_ref(name)})
}

fn nullable(kind: &str) -> Value {
    json!({"type": [kind, "null"]})
}

pub fn document() -> Value {
    let candidate_filters = vec![
        query_param(
            "status",
            "string",
            "`open` (default), `confirmed`, `dismissed` or `all`.",
        ),
        query_param("severity", "string", "`high`, `medium` or `low`."),
        query_param("category", "string", "A rule category."),
        query_param("source", "string", "A source name, exactly."),
        query_param("assignee", "string", "An account name."),
        query_param(
            "mine",
            "string",
            "`1`: only the candidates assigned to the caller.",
        ),
        query_param(
            "limit",
            "integer",
            "At most this many (default 100, at most 500).",
        ),
        query_param("offset", "integer", "Skip this many."),
    ];
    let schemas: Vec<(&str, Value)> = vec![
        (
            "Error",
            json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}),
        ),
        (
            "Login",
            json!({"type": "object", "required": ["user", "password"], "properties": {"user": {"type": "string"}, "password": {"type": "string"}}}),
        ),
        (
            "Session",
            json!({"type": "object", "properties": {"user": {"type": "string"}, "role": {"type": "string", "enum": ["viewer", "reviewer", "admin", "liaison"]}, "csrf": {"type": "string", "description": "Send as `X-CSRF-Token` with every POST."}}}),
        ),
        (
            "Hit",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "url": {"type": "string"}, "title": {"type": "string"}, "source": nullable("string"),
                "published_at": nullable("string"), "score": {"type": "number"},
                "snippet": {"type": "string", "description": "HTML-escaped text; matched words in `<b>`."},
                "tags": {"type": "array", "items": {"type": "string"}}
            }}),
        ),
        (
            "Facets",
            json!({"type": "object", "properties": {
                "source": {"type": "object", "additionalProperties": {"type": "integer"}},
                "tag": {"type": "object", "additionalProperties": {"type": "integer"}},
                "kind": {"type": "object", "additionalProperties": {"type": "integer"}},
                "week": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "ISO week (`2023-W11`, Vietnam time) → documents."}
            }}),
        ),
        (
            "SearchResults",
            json!({"type": "object", "properties": {"total": {"type": "integer"}, "hits": array_of("Hit"), "facets": schema_ref("Facets")}}),
        ),
        (
            "DocumentSummary",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"}, "url": {"type": "string"}, "source": nullable("string"),
                "kind": {"type": "string"}, "published_at": nullable("string"), "fetched_at": {"type": "string", "format": "date-time"}
            }}),
        ),
        (
            "Match",
            json!({"type": "object", "properties": {
                "rule_id": {"type": "string"}, "category": {"type": "string"}, "severity": {"type": "string", "enum": ["high", "medium", "low"]},
                "terms": {"type": "array", "items": {"type": "string"}},
                "offsets": {"type": "array", "description": "`[field, start, end]`: byte span of a matched term in `title` or `text` (or `source`, `url`).", "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "integer"}]}},
                "rule_version_id": {"type": "integer"}
            }}),
        ),
        (
            "Candidate",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "document_id": {"type": "integer"},
                "status": {"type": "string", "enum": ["open", "confirmed", "dismissed"]},
                "severity": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}},
                "rules": {"type": "array", "items": {"type": "string"}}, "terms": {"type": "array", "items": {"type": "string"}},
                "assignee": nullable("string"), "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
                "document": schema_ref("DocumentSummary")
            }}),
        ),
        (
            "Document",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "url": {"type": "string"}, "canonical_url": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string"},
                "author": nullable("string"), "source": nullable("string"), "kind": {"type": "string"}, "lang": nullable("string"),
                "published_at": nullable("string"), "fetched_at": {"type": "string", "format": "date-time"}, "syndicated_from_url": nullable("string"),
                "capture": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                    "id": {"type": "integer"}, "status": {"type": "integer"}, "content_type": nullable("string"), "sha256": {"type": "string"},
                    "size": {"type": "integer"}, "captured_at": {"type": "string"}, "href": {"type": "string", "description": "The raw capture (`/documents/{id}/capture`)."}
                }}]},
                "matches": array_of("Match"),
                "candidate": {"oneOf": [{"type": "null"}, schema_ref("Candidate")]},
                "near_duplicates": {"type": "array", "items": {"allOf": [schema_ref("DocumentSummary"), {"type": "object", "properties": {"relation": {"type": "string", "enum": ["same_content", "syndicated_copy", "syndicated_from"]}}}]}}
            }}),
        ),
        (
            "Review",
            json!({"type": "object", "required": ["decision"], "properties": {"decision": {"type": "string", "enum": ["confirm", "dismiss"]}, "note": nullable("string")}}),
        ),
        (
            "Assign",
            json!({"type": "object", "properties": {"assignee": {"type": "string", "description": "A reviewer's account; absent: the caller."}, "unassign": {"type": "boolean"}}}),
        ),
        (
            "DigestSummary",
            json!({"type": "object", "properties": {
                "period": {"type": "string", "description": "`2023-W11` or `2023-03-01..2023-03-31`."}, "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                "built_at": {"type": "string", "format": "date-time"}, "total": {"type": "integer"}, "href": {"type": "string"}
            }}),
        ),
        (
            "Digest",
            json!({"allOf": [schema_ref("DigestSummary"), {"type": "object", "properties": {"content": {"type": "object", "description": "The digest as `diembao digest build --format json` writes it."}}}]}),
        ),
        (
            "Delivery",
            json!({"type": "object", "properties": {"recipient": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "sent", "failed"]}, "attempts": {"type": "integer"}, "already_sent": {"type": "boolean"}, "error": nullable("string")}}),
        ),
        (
            "Source",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string", "enum": ["rss", "sitemap", "html", "mastodon", "youtube"]},
                "url": {"type": "string"}, "every_secs": {"type": "integer"}, "link_selector": nullable("string"), "enabled": {"type": "boolean"},
                "last_run_at": nullable("string"), "last_success_at": nullable("string"), "last_error_at": nullable("string"), "last_error": nullable("string"),
                "consecutive_failures": {"type": "integer"}, "documents_total": {"type": "integer"}, "last_document_at": nullable("string"),
                "alert": {"type": ["string", "null"], "enum": ["failing", "silent", null]}
            }}),
        ),
        (
            "NewSource",
            json!({"type": "object", "required": ["name", "kind", "url"], "properties": {
                "name": {"type": "string"}, "kind": {"type": "string"}, "url": {"type": "string"},
                "every": {"type": "string", "description": "`30m`, `1h`, `1d` (default 30m)."}, "link_selector": {"type": "string", "description": "Needed for `html`."}
            }}),
        ),
        (
            "Upserted",
            json!({"type": "object", "properties": {"id": {"type": "integer"}, "outcome": {"type": "string", "enum": ["new", "updated", "unchanged"]}}}),
        ),
        (
            "RuleVersion",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "rule_set_id": {"type": "integer"}, "rule_set": {"type": "string"}, "version": {"type": "integer"}, "sha256": {"type": "string"},
                "imported_by": nullable("string"), "created_at": {"type": "string", "format": "date-time"}, "active": {"type": "boolean"}, "source_toml": {"type": "string"}
            }}),
        ),
        (
            "RuleTest",
            json!({"type": "object", "required": ["toml"], "properties": {"toml": {"type": "string", "description": "A rules.toml text (at most 64 KiB)."}}}),
        ),
        (
            "RuleTestResult",
            json!({"type": "object", "properties": {
                "documents": {"type": "integer", "description": "Documents looked at (the 200 most recent)."}, "rules": {"type": "integer"},
                "hits": {"type": "array", "items": {"type": "object", "properties": {
                    "document": schema_ref("DocumentSummary"), "rule": {"type": "string"}, "category": {"type": "string"}, "severity": {"type": "string"},
                    "terms": {"type": "array", "items": {"type": "string"}}
                }}}
            }}),
        ),
        (
            "Case",
            json!({"type": "object", "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"}, "summary": nullable("string"), "legal_basis": nullable("string"),
                "status": {"type": "string", "enum": ["draft", "approved", "handed_over", "acknowledged", "closed"]},
                "created_by": {"type": "string"}, "approved_by": nullable("string"), "handed_to": nullable("string"),
                "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
                "items": {"type": "integer"}, "download": {"type": "string"}
            }}),
        ),
        (
            "User",
            json!({"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "role": {"type": "string"}, "disabled": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}}}),
        ),
        (
            "NewUser",
            json!({"type": "object", "required": ["name", "role", "password"], "properties": {"name": {"type": "string"}, "role": {"type": "string", "enum": ["viewer", "reviewer", "admin", "liaison"]}, "password": {"type": "string", "minLength": 8}}}),
        ),
    ];
    let paths: Vec<(&str, Value)> = vec![
        (
            "/healthz",
            json!({"get": {"summary": "Liveness: 200 when the database answers.", "security": [], "responses": {"200": {"description": "ok", "content": {"text/plain": {}}}, "503": {"description": "The database is unreachable."}}}}),
        ),
        (
            "/metrics",
            json!({"get": {"summary": "Prometheus metrics: documents, candidates, jobs per queue, fetches per host and status (24 h).", "security": [], "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {}}}}}}),
        ),
        (
            "/api/login",
            json!({"post": {
                "summary": "Signs in: sets the session cookie; the answer carries the CSRF token.", "security": [],
                "requestBody": json_body(schema_ref("Login")),
                "responses": {
                    "200": {"description": "Signed in.", "content": {"application/json": {"schema": schema_ref("Session")}}},
                    "401": {"description": "Wrong user or password.", "content": {"application/json": {"schema": schema_ref("Error")}}},
                    "429": {"description": "Too many failed logins; try again later.", "content": {"application/json": {"schema": schema_ref("Error")}}}
                }
            }}),
        ),
        (
            "/logout",
            json!({"post": {"summary": "Ends the session.", "parameters": [csrf_header()], "responses": {"303": {"description": "Signed out; to `/login`."}, "403": {"description": "CSRF token missing or wrong."}}}}),
        ),
        (
            "/api/openapi.json",
            json!({"get": {"summary": "This document.", "responses": answers(json!({"type": "object"}), "any signed-in account", &[])}}),
        ),
        (
            "/api/search",
            json!({"get": {
                "summary": "Full-text search (Vietnamese, with or without diacritics).",
                "parameters": [
                    {"name": "q", "in": "query", "required": true, "description": "The query: words, \"phrases\", OR, -exclusions, field:term.", "schema": {"type": "string"}},
                    query_param("limit", "integer", "Hits per page (default 20, at most 100)."),
                    query_param("offset", "integer", "Skip this many hits (at most 10000)."),
                    query_param("source", "string", "Only this source."),
                    query_param("since", "string", "From this day (YYYY-MM-DD, Vietnam time) or instant (RFC 3339)."),
                    query_param("until", "string", "Up to this day, included, or instant."),
                    query_param("tag", "string", "Only documents with this rule id or category."),
                    query_param("sort", "string", "`relevance` (default) or `date`.")
                ],
                "responses": answers(schema_ref("SearchResults"), "viewer, reviewer or admin", &[("400", "Bad query or date.")])
            }}),
        ),
        (
            "/api/documents/{id}",
            json!({"get": {
                "summary": "A document: metadata, text, rule matches with offsets, its candidate, raw capture, near-duplicates.",
                "parameters": [path_param("id", "Document id.")],
                "responses": answers(schema_ref("Document"), "viewer, reviewer or admin", &[("404", "No such document.")])
            }}),
        ),
        (
            "/api/candidates",
            json!({"get": {
                "summary": "The review queue: violation candidates, most severe then newest first.",
                "parameters": candidate_filters,
                "responses": answers(json!({"type": "object", "properties": {"total": {"type": "integer"}, "candidates": array_of("Candidate")}}), "viewer, reviewer or admin", &[])
            }}),
        ),
        (
            "/api/candidates/{id}/review",
            json!({"post": {
                "summary": "Confirms or dismisses a candidate, with an optional note (audit-logged).",
                "parameters": [path_param("id", "Candidate id."), csrf_header()],
                "requestBody": json_body(schema_ref("Review")),
                "responses": answers(schema_ref("Candidate"), "reviewer or admin", &[("400", "Bad decision or body."), ("404", "No such candidate.")])
            }}),
        ),
        (
            "/api/candidates/{id}/assign",
            json!({"post": {
                "summary": "Assigns a candidate (to the caller when the body is empty).",
                "parameters": [path_param("id", "Candidate id."), csrf_header()],
                "requestBody": {"required": false, "content": {"application/json": {"schema": schema_ref("Assign")}}},
                "responses": answers(schema_ref("Candidate"), "reviewer or admin", &[("400", "Not a reviewer's account."), ("404", "No such candidate.")])
            }}),
        ),
        (
            "/api/digests",
            json!({"get": {"summary": "The digest archive, newest first.", "responses": answers(array_of("DigestSummary"), "viewer, reviewer or admin", &[])}}),
        ),
        (
            "/api/digests/{period}",
            json!({"get": {
                "summary": "One archived digest with its content.",
                "parameters": [path_param("period", "`2023-W11` or `2023-03-01..2023-03-31`.")],
                "responses": answers(schema_ref("Digest"), "viewer, reviewer or admin", &[("404", "No digest for this period.")])
            }}),
        ),
        (
            "/api/digests/{period}/send",
            json!({"post": {
                "summary": "Mails the digest of a period now to the recipients who do not have it yet.",
                "parameters": [path_param("period", "`2023-W11` or `2023-03-01..2023-03-31`."), csrf_header()],
                "responses": answers(json!({"type": "object", "properties": {"period": {"type": "string"}, "deliveries": array_of("Delivery")}}), "admin", &[("400", "Bad period."), ("502", "No recipients configured, or the mail server failed.")])
            }}),
        ),
        (
            "/api/sources",
            json!({
                "get": {"summary": "The sources and their health.", "responses": answers(array_of("Source"), "viewer, reviewer or admin", &[])},
                "post": {
                    "summary": "Adds a source, or updates the one with this URL (validated as in sources.toml).",
                    "parameters": [csrf_header()],
                    "requestBody": json_body(schema_ref("NewSource")),
                    "responses": answers(schema_ref("Upserted"), "admin", &[("400", "Invalid source.")])
                }
            }),
        ),
        (
            "/api/rules",
            json!({"get": {"summary": "Every rule version, newest first, with the active ones marked.", "responses": answers(array_of("RuleVersion"), "viewer, reviewer or admin", &[])}}),
        ),
        (
            "/api/rules/test",
            json!({"post": {
                "summary": "Evaluates a rules.toml text on the 200 most recent documents. Stores nothing.",
                "parameters": [csrf_header()],
                "requestBody": json_body(schema_ref("RuleTest")),
                "responses": answers(schema_ref("RuleTestResult"), "reviewer or admin", &[("400", "The rules do not parse (line, column and message).")])
            }}),
        ),
        (
            "/api/users",
            json!({
                "get": {"summary": "The accounts.", "responses": answers(array_of("User"), "admin", &[])},
                "post": {
                    "summary": "Creates an account, or sets its role and password.",
                    "parameters": [csrf_header()],
                    "requestBody": json_body(schema_ref("NewUser")),
                    "responses": answers(schema_ref("Upserted"), "admin", &[("400", "Bad name, role or password.")])
                }
            }),
        ),
        (
            "/api/cases",
            json!({"get": {
                "summary": "Case files: a liaison sees the cases handed over to them; reviewers and admins see all.",
                "responses": answers(array_of("Case"), "liaison, reviewer or admin", &[])
            }}),
        ),
        (
            "/api/cases/{id}/download",
            json!({"get": {
                "summary": "The case file (zip: items, captures, custody log); each download is recorded in the custody log.",
                "parameters": [path_param("id", "Case id.")],
                "responses": {
                    "200": {"description": "The case file.", "content": {"application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}}},
                    "401": {"description": "No session: sign in first.", "content": {"application/json": {"schema": schema_ref("Error")}}},
                    "403": {"description": "The role may not see cases.", "content": {"application/json": {"schema": schema_ref("Error")}}},
                    "404": {"description": "No such case (or not handed over to this liaison).", "content": {"application/json": {"schema": schema_ref("Error")}}}
                }
            }}),
        ),
    ];
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "diembao API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API of diembao, the press-monitoring system. Every route but `/healthz`, `/metrics` and `/api/login` needs the session cookie `diembao_session` (set by `POST /api/login`). Roles: `viewer` reads; `reviewer` reads and reviews; `admin` does everything; `liaison` only sees the cases handed over. Every POST needs the session's CSRF token in the `X-CSRF-Token` header."
        },
        "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "diembao_session"}}, "schemas": {}},
        "security": [{"session": []}],
        "paths": {}
    });
    for (name, schema) in schemas {
        doc["components"]["schemas"][name] = schema;
    }
    for (path, item) in paths {
        doc["paths"][path] = item;
    }
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_path_has_responses() {
        let doc = super::document();
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 15);
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("item") {
                assert!(op["responses"].is_object(), "{method} {path}");
            }
        }
    }
}
