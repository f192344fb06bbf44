import Foundation
import Logging
import OTPCore
import PostgresNIO

/// Custom templates, versioned: every change is a new row in `otp.template_versions`. Writes run in
/// explicit transactions, answered after COMMIT: a lone statement commits at Sync, after its rows
/// arrived, so a connection lost in between could answer a write that was never committed.
package struct PostgresTemplateStore: TemplateStore {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    package func create(appID: String, name: String, locale: String, body: String) async throws -> CustomTemplate {
        return try await DatabaseFaults.mapping {
            let id = "tpl_" + Identifiers.random(count: 20)
            return try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    WITH t AS (
                        INSERT INTO otp.templates (id, app_id, name, locale, body) VALUES (\(id), \(appID), \(name), \(locale), \(body))
                        RETURNING id, app_id, name, locale, body, version, created_at, updated_at
                    ), v AS (
                        INSERT INTO otp.template_versions (template_id, version, body, locale)
                        SELECT id, version, body, locale FROM t
                    )
                    SELECT * FROM t
                    """, logger: logger)
                return try await Self.first(rows)
            }
        }
    }

    package func template(id: String, appIDs: [String]) async throws -> CustomTemplate? {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT id, app_id, name, locale, body, version, created_at, updated_at FROM otp.templates
                WHERE id = \(id) AND app_id = ANY(\(appIDs)) AND deleted_at IS NULL
                """, logger: logger)
            return try await Self.all(rows).first
        }
    }

    package func list(appIDs: [String], limit: Int, cursor: String?) async throws -> Page<CustomTemplate> {
        return try await DatabaseFaults.mapping {
            let after = try cursor.map { try Cursor.decode($0, parts: [.time, .id]) }
            let rows = try await client.query(
                """
                SELECT id, app_id, name, locale, body, version, created_at, updated_at, created_at::text AS cursor_time
                FROM otp.templates
                WHERE app_id = ANY(\(appIDs)) AND deleted_at IS NULL
                    AND (\(after?[0])::text IS NULL OR (created_at, id) < (\(after?[0])::timestamptz, \(after?[1])::text))
                ORDER BY otp.templates.created_at DESC, id DESC LIMIT \(limit + 1)
                """, logger: logger)
            var items: [CustomTemplate] = []
            var keys: [String] = []
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let template = try Self.template(columns)
                items.append(template)
                keys.append(Cursor.encode([try columns.value("cursor_time"), template.id]))
            }
            return PostgresManagementStore.page(items, keys: keys, limit: limit)
        }
    }

    package func update(id: String, appIDs: [String], name: String?, locale: String?, body: String?) async throws
        -> CustomTemplate?
    {
        return try await DatabaseFaults.mapping {
            return try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    WITH t AS (
                        UPDATE otp.templates SET name = coalesce(\(name)::text, name), locale = coalesce(\(locale)::text, locale),
                            body = coalesce(\(body)::text, body), version = version + 1, updated_at = now()
                        WHERE id = \(id) AND app_id = ANY(\(appIDs)) AND deleted_at IS NULL
                        RETURNING id, app_id, name, locale, body, version, created_at, updated_at
                    ), v AS (
                        INSERT INTO otp.template_versions (template_id, version, body, locale)
                        SELECT id, version, body, locale FROM t
                    )
                    SELECT * FROM t
                    """, logger: logger)
                return try await Self.all(rows).first
            }
        }
    }

    package func delete(id: String, appIDs: [String]) async throws -> Bool {
        return try await DatabaseFaults.mapping {
            return try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE otp.templates SET deleted_at = now()
                    WHERE id = \(id) AND app_id = ANY(\(appIDs)) AND deleted_at IS NULL RETURNING id
                    """, logger: logger)
                return try await rows.collect().count == 1
            }
        }
    }

    static func all(_ rows: PostgresRowSequence) async throws -> [CustomTemplate] {
        var templates: [CustomTemplate] = []
        for try await row in rows { templates.append(try template(row.makeRandomAccess())) }
        return templates
    }

    static func template(_ columns: PostgresRandomAccessRow) throws -> CustomTemplate {
        CustomTemplate(
            id: try columns.value("id"), appID: try columns.value("app_id"), name: try columns.value("name"),
            locale: try columns.value("locale"), body: try columns.value("body"), version: try columns.value("version"),
            createdAt: try columns.value("created_at"), updatedAt: try columns.value("updated_at"))
    }

    static func first(_ rows: PostgresRowSequence) async throws -> CustomTemplate {
        guard let template = try await all(rows).first else { throw PostgresStoreError.noRowReturned }
        return template
    }
}
