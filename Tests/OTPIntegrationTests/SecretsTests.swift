import Foundation
import HummingbirdTesting
import Logging
import OTPCore
import OTPPostgres
import OTPServices
import OTPTesting
import OTPWorker
import PostgresNIO
import Testing

/// The code exists in plaintext only in memory and at the provider: never in a table, a log line
/// or a response.
@Suite struct SecretsTests {
    @Test func theCodeIsNowhereButAtTheProvider() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            let code = "8264019375"
            let provider = CapturingProvider()
            try await world.test { client in
                let id = try await world.send(client, code: code, extra: ["code_length": 10])
                var responses = [String]()
                try await runWorker(world, provider: provider) {
                    try await waitUntil {
                        try await world.status(client, id).json["delivery_status"] as? String == "sent"
                    }
                }
                responses.append(String(buffer: try await world.status(client, id).body))
                responses.append(String(buffer: try await world.verify(client, id, code: "0000000000").body))
                responses.append(String(buffer: try await world.verify(client, id, code: code).body))

                #expect(provider.messages.first?.code == code)
                #expect(provider.messages.first?.body.contains(code) == true)
                for response in responses { #expect(!response.contains(code)) }
                for line in world.logs.all { #expect(!line.contains(code), "log line: \(line)") }
                let rows = try await everyRow(world.client)
                #expect(rows.count > 5)
                // bytea columns render as hex: a code stored as raw bytes would show as its hex.
                let codeHex = code.utf8.map { String(format: "%02x", $0) }.joined()
                for row in rows { #expect(!row.contains(code) && !row.contains(codeHex), "row: \(row)") }
                let sealed: Bool = try await world.scalar(
                    "SELECT bool_or(sealed_code IS NOT NULL) FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(!sealed, "the sealed code is erased once the delivery is sent")
            }
        }
    }

    /// Every row of every table in schema otp, as text (bytea as hex, so a code could be seen in it).
    func everyRow(_ client: PostgresClient) async throws -> [String] {
        var tables: [String] = []
        for try await name in try await client.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'otp'", logger: quietLogger
        ).decode(String.self) { tables.append(name) }
        var rows: [String] = []
        for table in tables {
            let query = PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text FROM otp.\(table) t")
            for try await row in try await client.query(query, logger: quietLogger).decode(String.self) {
                rows.append(row)
            }
        }
        return rows
    }
}

/// Runs a real delivery worker against the test database while `body` runs.
func runWorker(
    _ world: TestApp, provider: any MessageProvider, configuration: DeliveryWorker.Configuration = .init(),
    _ body: @Sendable () async throws -> Void
) async throws {
    try await runWorker(
        world, chains: ProviderChains([.sms: [provider], .whatsapp: [provider]]), configuration: configuration, body)
}

func runWorker(
    _ world: TestApp, chains: ProviderChains, configuration: DeliveryWorker.Configuration = .init(),
    _ body: @Sendable () async throws -> Void
) async throws {
    let worker = world.services.worker(chains: chains, configuration: configuration)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await worker.run() }
        defer { group.cancelAll() }
        try await body()
    }
}

/// Polls `condition` every 20 ms for up to `seconds`; fails the test when it never holds.
func waitUntil(seconds: Double = 10, _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition not met within \(seconds) s")
    throw TestFailure("timed out")
}
