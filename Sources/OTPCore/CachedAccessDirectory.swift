import Foundation
import Synchronization

/// The API key and app lookups of every request, kept in the process: a request with a cached key
/// makes no round trip for it. The cache is used only while a listener hears every change to keys
/// and apps (`synced`); any change empties it at once, so a revocation or a policy change applies
/// within the time its notification takes. While no listener hears (not started, or its
/// connection dropped) every lookup goes to the database. An entry also lives at most `lifetime`,
/// the bound on staleness should a notification ever be missed on a connection that died unseen.
package final class CachedAccessDirectory: AccessDirectory {
    private struct State {
        var synced = false
        /// Moves on every change and desync: a lookup that began before one is not kept.
        var generation: UInt64 = 0
        var keys: [String: (key: StoredAPIKey?, at: ContinuousClock.Instant)] = [:]
        var apps: [String: (app: App?, at: ContinuousClock.Instant)] = [:]
        var appIDs: [Int64: (ids: [String], at: ContinuousClock.Instant)] = [:]

        mutating func clear() {
            keys.removeAll()
            apps.removeAll()
            appIDs.removeAll()
            generation &+= 1
        }

        var count: Int { keys.count + apps.count + appIDs.count }
    }

    private let base: any AccessDirectory
    private let lifetime: Duration
    private let capacity: Int
    private let state = Mutex(State())

    package init(_ base: any AccessDirectory, lifetime: Duration = .seconds(5), capacity: Int = 50_000) {
        self.base = base
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The listener hears changes from now on: the cache may be used (and starts empty).
    package func listening() {
        state.withLock {
            $0.clear(); $0.synced = true
        }
    }

    /// The listener lost its connection: changes may go unheard, so nothing is served from memory.
    package func deaf() {
        state.withLock {
            $0.clear(); $0.synced = false
        }
    }

    /// A key or an app changed somewhere.
    package func changed() { state.withLock { $0.clear() } }

    package var isListening: Bool { state.withLock { $0.synced } }

    package func apiKey(id: String) async throws -> StoredAPIKey? {
        let now = ContinuousClock.now
        let (hit, generation): ((key: StoredAPIKey?, at: ContinuousClock.Instant)?, UInt64?) = state.withLock {
            guard $0.synced else { return (nil, nil) }
            return ($0.keys[id].flatMap { now - $0.at < lifetime ? $0 : nil }, $0.generation)
        }
        if let hit { return hit.key }
        let key = try await base.apiKey(id: id)
        keep(generation) { $0.keys[id] = (key, now) }
        return key
    }

    package func app(id: String, accountID: Int64) async throws -> App? {
        let now = ContinuousClock.now
        let name = "\(accountID)|\(id)"
        let (hit, generation): ((app: App?, at: ContinuousClock.Instant)?, UInt64?) = state.withLock {
            guard $0.synced else { return (nil, nil) }
            return ($0.apps[name].flatMap { now - $0.at < lifetime ? $0 : nil }, $0.generation)
        }
        if let hit { return hit.app }
        let app = try await base.app(id: id, accountID: accountID)
        keep(generation) { $0.apps[name] = (app, now) }
        return app
    }

    package func appIDs(accountID: Int64) async throws -> [String] {
        let now = ContinuousClock.now
        let (hit, generation): ((ids: [String], at: ContinuousClock.Instant)?, UInt64?) = state.withLock {
            guard $0.synced else { return (nil, nil) }
            return ($0.appIDs[accountID].flatMap { now - $0.at < lifetime ? $0 : nil }, $0.generation)
        }
        if let hit { return hit.ids }
        let ids = try await base.appIDs(accountID: accountID)
        keep(generation) { $0.appIDs[accountID] = (ids, now) }
        return ids
    }

    /// Keeps what a lookup read, unless a change or a desync came while it was reading.
    private func keep(_ generation: UInt64?, _ store: (inout State) -> Void) {
        guard let generation else { return }
        state.withLock { state in
            guard state.synced, state.generation == generation else { return }
            // Unknown ids are kept too (a flood of them must not reach the database each time),
            // so the size is bounded.
            if state.count >= capacity { state.clear() }
            store(&state)
        }
    }
}
