import Foundation
import OTPCore
import Synchronization

/// Custom templates in memory; a change makes a new version, as in the PostgreSQL store.
package final class InMemoryTemplateStore: TemplateStore {
    private let templates = Mutex<[CustomTemplate]>([])

    package init() {}

    package func create(appID: String, name: String, locale: String, body: String) async throws -> CustomTemplate {
        let now = Date()
        let template = CustomTemplate(
            id: "tpl_" + Identifiers.random(count: 20), appID: appID, name: name, locale: locale, body: body,
            version: 1, createdAt: now, updatedAt: now)
        templates.withLock { $0.append(template) }
        return template
    }

    package func template(id: String, appIDs: [String]) async throws -> CustomTemplate? {
        templates.withLock { $0.first { $0.id == id && appIDs.contains($0.appID) } }
    }

    package func list(appIDs: [String], limit: Int, cursor: String?) async throws -> Page<CustomTemplate> {
        let mine = templates.withLock { $0.filter { appIDs.contains($0.appID) }.reversed() }
        return try Page(paging: Array(mine), limit: limit, cursor: cursor)
    }

    package func update(id: String, appIDs: [String], name: String?, locale: String?, body: String?) async throws
        -> CustomTemplate?
    {
        templates.withLock { all in
            guard let index = all.firstIndex(where: { $0.id == id && appIDs.contains($0.appID) }) else { return nil }
            all[index].name = name ?? all[index].name
            all[index].locale = locale ?? all[index].locale
            all[index].body = body ?? all[index].body
            all[index].version += 1
            all[index].updatedAt = Date()
            return all[index]
        }
    }

    package func delete(id: String, appIDs: [String]) async throws -> Bool {
        templates.withLock { all in
            guard let index = all.firstIndex(where: { $0.id == id && appIDs.contains($0.appID) }) else { return false }
            all.remove(at: index)
            return true
        }
    }
}

extension Page {
    /// A page of `items` (newest first) after the position `cursor` names: the in-memory stores'
    /// cursors are positions, refused like the PostgreSQL ones when they are not a number.
    init(paging items: [Item], limit: Int, cursor: String?) throws(CursorError) {
        var start = 0
        if let cursor {
            guard let position = Int(cursor), position >= 0 else { throw CursorError.invalid }
            start = position
        }
        let end = min(items.count, start + limit)
        self.init(
            items: start < end ? Array(items[start..<end]) : [], nextCursor: end < items.count ? String(end) : nil)
    }
}
