import OTPCore
import OTPPostgres
import OTPTesting
import Synchronization
import Testing

@testable import OTPWorker

/// Where a worker's jobs run is the placement's choice, made for each job before its work starts
/// (`otp` spreads them over NIO's event loops: `EventLoopSpread`).
@Suite struct JobPlacementTests {
    @Test func everyJobIsPlacedBeforeItsProviderIsCalled() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                for index in 0..<5 { _ = try await world.send(client, recipient: "+551199977500\(index)") }
                let placed = Mutex(0)
                let placedAtCalls = Mutex<[Int]>([])
                let provider = CapturingProvider { message in
                    placedAtCalls.withLock { $0.append(placed.withLock { $0 }) }
                    return .accepted(messageID: "m-\(message.deliveryID)")
                }
                var configuration = DeliveryWorker.Configuration(pollInterval: .milliseconds(50))
                configuration.placement = JobPlacement { placed.withLock { $0 += 1 } }
                let worker = DeliveryWorker(
                    queue: PostgresDeliveryQueue(client: world.client, logger: quietLogger),
                    chains: ProviderChains([.sms: [provider]]), sealer: CodeSealer(keys: world.keys),
                    configuration: configuration, logger: quietLogger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await worker.run() }
                    defer { group.cancelAll() }
                    try await waitUntil {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 5
                    }
                }
                #expect(placed.withLock { $0 } == 5)
                let seen = placedAtCalls.withLock { $0 }
                #expect(seen.count == 5)
                for (call, placedThen) in seen.enumerated() {
                    #expect(placedThen >= call + 1, "the job of call \(call + 1) was placed before it ran")
                }
            }
        }
    }

    @Test func jobsSpreadOverTheEventLoopsAllGetDelivered() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                for index in 0..<40 {
                    _ = try await world.send(client, recipient: "+55119997751" + String(format: "%02d", index))
                }
                let provider = CapturingProvider()
                // The worker as `otp work` makes it: `Services.worker` sets `EventLoopSpread.jobs`.
                try await runWorker(world, provider: provider, configuration: .init(pollInterval: .milliseconds(50))) {
                    try await waitUntil {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state = 'sent'", as: Int.self) == 40
                    }
                }
                #expect(provider.messages.count == 40)
            }
        }
    }
}
