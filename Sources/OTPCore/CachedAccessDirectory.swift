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
        var keys: [String: (key: StoredAPIKey, at: ContinuousClock.Instant)] = [:]
        var apps: [String: (app: App, at: ContinuousClock.Instant)] = [:]
        var appIDs: [Int64: (ids: [String], at: ContinuousClock.Instant)] = [:]
        /// Ids looked up and not found, kept apart (a flood of made-up ids must not reach the
        /// database each time) and bounded on their own: filling them empties only them, never
        /// the real keys and apps every genuine request is served from.
        var missing: [String: ContinuousClock.Instant] = [:]

        mutating func clear() {
            keys.removeAll()
            apps.removeAll()
            appIDs.removeAll()
            missing.removeAll()
            generation &+= 1
        }

        var foundCount: Int { keys.count + apps.count + appIDs.count }
    }

    /// What a lookup found in memory: a value, a remembered absence, or nothing usable.
    private enum Hit<Value> {
        case found(Value)
        case missing
        case none
    }

    private let base: any AccessDirectory
    private let lifetime: Duration
    private let capacity: Int
    private let missingCapacity: Int
    private let state = Mutex(State())

    package init(
        _ base: any AccessDirectory, lifetime: Duration = .seconds(5), capacity: Int = 50_000,
        missingCapacity: Int = 10_000
    ) {
        self.base = base
        self.lifetime = lifetime
        self.capacity = capacity
        self.missingCapacity = missingCapacity
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
        let name = "key|" + id
        let (hit, generation) = look(name) { $0.keys[id].map { ($0.key, $0.at) } }
        switch hit {
        case .found(let key): return key
        case .missing: return nil
        case .none: break
        }
        let key = try await base.apiKey(id: id)
        keep(generation, name, found: key) { state, key, now in state.keys[id] = (key, now) }
        return key
    }

    package func app(id: String, accountID: Int64) async throws -> App? {
        let name = "app|\(accountID)|\(id)"
        let (hit, generation) = look(name) { $0.apps[name].map { ($0.app, $0.at) } }
        switch hit {
        case .found(let app): return app
        case .missing: return nil
        case .none: break
        }
        let app = try await base.app(id: id, accountID: accountID)
        keep(generation, name, found: app) { state, app, now in state.apps[name] = (app, now) }
        return app
    }

    package func appIDs(accountID: Int64) async throws -> [String] {
        let name = "ids|\(accountID)"
        let (hit, generation) = look(name) { $0.appIDs[accountID].map { ($0.ids, $0.at) } }
        if case .found(let ids) = hit { return ids }
        let ids = try await base.appIDs(accountID: accountID)
        keep(generation, name, found: ids) { state, ids, now in state.appIDs[accountID] = (ids, now) }
        return ids
    }

    /// A fresh entry for `name` (found by `entry`, or remembered missing), and the generation a
    /// lookup starting now belongs to (nil while nothing may be served from memory).
    private func look<Value>(
        _ name: String, _ entry: (State) -> (Value, ContinuousClock.Instant)?
    ) -> (Hit<Value>, UInt64?) {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard state.synced else { return (.none, nil) }
            if let (value, at) = entry(state), now - at < lifetime { return (.found(value), state.generation) }
            if let at = state.missing[name], now - at < lifetime { return (.missing, state.generation) }
            return (.none, state.generation)
        }
    }

    /// Keeps what a lookup read, unless a change or a desync came while it was reading.
    private func keep<Value>(
        _ generation: UInt64?, _ name: String, found: Value?,
        _ store: (inout State, Value, ContinuousClock.Instant) -> Void
    ) {
        guard let generation else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            guard state.synced, state.generation == generation else { return }
            guard let found else {
                if state.missing.count >= missingCapacity { state.missing.removeAll(keepingCapacity: true) }
                state.missing[name] = now
                return
            }
            if state.foundCount >= capacity { state.clear() }
            state.missing[name] = nil
            store(&state, found, now)
        }
    }
}
