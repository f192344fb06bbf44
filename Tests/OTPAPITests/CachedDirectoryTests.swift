import Foundation
import OTPCore
import OTPTesting
import Synchronization
import Testing

/// The in-process cache of keys and apps: used only while changes are heard, emptied by each.
@Suite struct CachedDirectoryTests {
    /// Counts the lookups that reach the store, and can run something in the middle of one.
    final class CountingDirectory: AccessDirectory {
        let base: InMemoryDirectory
        let lookups = Atomic<Int>(0)
        let duringLookup = Mutex<(@Sendable () -> Void)?>(nil)

        init(_ base: InMemoryDirectory) { self.base = base }

        func apiKey(id: String) async throws -> StoredAPIKey? {
            lookups.add(1, ordering: .relaxed)
            let key = try await base.apiKey(id: id)
            duringLookup.withLock { $0 }?()
            return key
        }

        func app(id: String, accountID: Int64) async throws -> App? {
            lookups.add(1, ordering: .relaxed)
            return try await base.app(id: id, accountID: accountID)
        }

        func appIDs(accountID: Int64) async throws -> [String] {
            lookups.add(1, ordering: .relaxed)
            return try await base.appIDs(accountID: accountID)
        }

        var count: Int { lookups.load(ordering: .relaxed) }
    }

    @Test func nothingIsServedFromMemoryUntilChangesAreHeard() async throws {
        let world = try InMemoryWorld()
        let store = CountingDirectory(world.directory)
        let cache = CachedAccessDirectory(store)
        for _ in 0..<3 { _ = try await cache.apiKey(id: world.keyID) }
        #expect(store.count == 3)
        cache.listening()
        for _ in 0..<3 { _ = try await cache.apiKey(id: world.keyID) }
        #expect(store.count == 4, "one lookup, then memory")
        cache.deaf()
        _ = try await cache.apiKey(id: world.keyID)
        #expect(store.count == 5)
    }

    @Test func aFloodOfUnknownKeyIDsNeverEvictsTheRealKeys() async throws {
        let world = try InMemoryWorld()
        let store = CountingDirectory(world.directory)
        let cache = CachedAccessDirectory(store, lifetime: .seconds(3600), capacity: 1_000, missingCapacity: 100)
        cache.listening()
        _ = try await cache.apiKey(id: world.keyID)
        _ = try await cache.app(id: world.app.id, accountID: 1)
        for index in 0..<5_000 { #expect(try await cache.apiKey(id: "ak_flood\(index)") == nil) }
        let afterFlood = store.count
        #expect(try await cache.apiKey(id: world.keyID) != nil)
        #expect(try await cache.app(id: world.app.id, accountID: 1) != nil)
        #expect(store.count == afterFlood, "the real key and app are still served from memory")
        // An unknown id seen lately is answered from memory too, within its own bound.
        #expect(try await cache.apiKey(id: "ak_flood4999") == nil)
        #expect(store.count == afterFlood)
    }

    @Test func aChangeEmptiesTheCacheSoARevocationAppliesAtOnce() async throws {
        let world = try InMemoryWorld()
        let cache = CachedAccessDirectory(CountingDirectory(world.directory))
        cache.listening()
        #expect(try await cache.apiKey(id: world.keyID)?.revoked == false)
        _ = try await cache.app(id: world.app.id, accountID: 1)
        world.directory.revokeKey(id: world.keyID)
        #expect(try await cache.apiKey(id: world.keyID)?.revoked == false, "not heard yet: still the cached key")
        cache.changed()
        #expect(try await cache.apiKey(id: world.keyID)?.revoked == true)
    }

    @Test func aLookupThatAChangeOvertookIsNotKept() async throws {
        let world = try InMemoryWorld()
        let store = CountingDirectory(world.directory)
        let cache = CachedAccessDirectory(store)
        cache.listening()
        // The key is read, then revoked and announced before the lookup returns.
        store.duringLookup.withLock { action in
            action = { [directory = world.directory, keyID = world.keyID] in
                directory.revokeKey(id: keyID)
                cache.changed()
            }
        }
        #expect(try await cache.apiKey(id: world.keyID)?.revoked == false)
        store.duringLookup.withLock { $0 = nil }
        #expect(try await cache.apiKey(id: world.keyID)?.revoked == true, "the stale read was not kept")
    }

    @Test func anEntryLivesAtMostItsLifetime() async throws {
        let world = try InMemoryWorld()
        let store = CountingDirectory(world.directory)
        let cache = CachedAccessDirectory(store, lifetime: .milliseconds(50))
        cache.listening()
        _ = try await cache.apiKey(id: world.keyID)
        _ = try await cache.apiKey(id: world.keyID)
        #expect(store.count == 1)
        try await Task.sleep(for: .milliseconds(80))
        _ = try await cache.apiKey(id: world.keyID)
        #expect(store.count == 2)
    }

    @Test func unknownIdsAreBoundedByTheCapacity() async throws {
        let world = try InMemoryWorld()
        let store = CountingDirectory(world.directory)
        let cache = CachedAccessDirectory(store, capacity: 10)
        cache.listening()
        for index in 0..<25 { #expect(try await cache.apiKey(id: "ak_unknown\(index)") == nil) }
        _ = try await cache.apiKey(id: "ak_unknown24")
        #expect(store.count == 25, "the last unknown id was kept")
    }
}
